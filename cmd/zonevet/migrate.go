package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"zonevet/engine"
	"zonevet/store"
)

// runMigrate copies a whole database to a new one on either engine —
// `zonevet migrate --from zonevet.db --to postgres://…` and back, so a zone
// can leave — then verifies the copy's decision log. The target must be
// empty (a new file, or a new PostgreSQL database); documents' rows move
// with the database, their files stay in the --docs folder, which both
// sides share or which is copied beside.
func runMigrate(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	from := fs.String("from", "", "the database to copy: a SQLite file or a postgres:// URL")
	to := fs.String("to", "", "the new, empty database to copy into: a SQLite file or a postgres:// URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		return errors.New("migrate: give --from and --to, e.g. zonevet migrate --from zonevet.db --to postgres://zonevet@db/zonevet")
	}
	src, err := store.Open(*from)
	if err != nil {
		return fmt.Errorf("migrate: open %s: %w", *from, err)
	}
	defer src.Close()
	dst, err := store.Open(*to)
	if err != nil {
		return fmt.Errorf("migrate: open %s: %w", *to, err)
	}
	defer dst.Close()
	counts, err := src.CopyTo(ctx, dst)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	v, err := engine.VerifyLog(ctx, dst)
	if err != nil {
		return fmt.Errorf("migrate: verify the copy's log: %w", err)
	}
	if v.Bad != nil {
		return fmt.Errorf("migrate: the copy's log breaks at entry %d: %s", v.Bad.Seq, v.Bad.Reason)
	}
	if v.Count != counts["audit_log"] {
		return fmt.Errorf("migrate: the copy's log has %d entries, %d were copied", v.Count, counts["audit_log"])
	}
	tables := slices.Sorted(func(yield func(string) bool) {
		for t, n := range counts {
			if n > 0 && !yield(t) {
				return
			}
		}
	})
	var rows []string
	for _, t := range tables {
		rows = append(rows, fmt.Sprintf("%s %d", t, counts[t]))
	}
	fmt.Fprintf(out, "copied: %s\n", strings.Join(rows, ", "))
	fmt.Fprintf(out, "decision log verified on the copy: %d entries, head #%d %s\n", v.Count, v.HeadSeq, v.Head)
	return nil
}
