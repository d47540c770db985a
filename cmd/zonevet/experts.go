package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"zonevet/engine"
)

// runExperts handles "experts verify-draw --log FILE.jsonl SEQ": it
// recomputes the draw logged at entry SEQ from an exported log alone, with
// no database, and prints its inputs and the experts drawn.
func runExperts(_ context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "verify-draw" {
		return errors.New("experts: verify-draw --log FILE.jsonl SEQ")
	}
	fs := flag.NewFlagSet("experts verify-draw", flag.ContinueOnError)
	logPath := fs.String("log", "", "the exported decision log (JSONL)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if *logPath == "" || len(pos) != 1 {
		return errors.New("experts verify-draw: --log FILE.jsonl and one entry number")
	}
	seq, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return fmt.Errorf("experts verify-draw: entry number %q: %w", pos[0], err)
	}
	f, err := os.Open(*logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := engine.VerifyDrawInExport(f, seq)
	if err != nil {
		return exitError{code: 1, msg: "draw NOT verified: " + err.Error()}
	}
	fmt.Fprintf(out, "draw at entry %d verified: project %d round %d\nseed entry %d hash %s\nseed %s\n",
		seq, d.ProjectID, d.Round, d.SeedSeq, d.SeedHash, d.Seed)
	fmt.Fprintf(out, "eligible %d, excluded %d, n %d, min_field %d\ndrawn %v\n", len(d.Eligible), len(d.Excluded), d.N, d.MinField, d.Drawn)
	if d.Replaces != 0 {
		fmt.Fprintf(out, "replaces expert %d (recused)\n", d.Replaces)
	}
	return nil
}
