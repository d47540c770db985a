package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"zonevet/engine"
)

// auditUsage is the audit part of the usage text.
const auditUsage = `  zonevet audit export [--format jsonl|csv|xlsx] [--out FILE]
  zonevet audit verify [--pubkey KEY]                       # the database: chain and stored checkpoints
  zonevet audit verify --export FILE --pubkey KEY [--partial] [--checkpoints OLDER_EXPORT]...
  zonevet audit pubkey                                      # the checkpoint signing key's public half
  zonevet audit checkpoint                                  # sign the log's head now
`

// signingKeyFlag adds --signing-key: the Ed25519 key that signs checkpoints,
// in a file outside the database ($ZONEVET_SIGNING_KEY; default beside the
// database as <db>.signing-key.pem).
func signingKeyFlag(fs *flag.FlagSet) *string {
	return fs.String("signing-key", os.Getenv("ZONEVET_SIGNING_KEY"),
		"Ed25519 checkpoint signing key, a file outside the database ($ZONEVET_SIGNING_KEY; default <db>.signing-key.pem)")
}

func signingKeyPath(flagValue, dbPath string) string {
	if flagValue != "" {
		return flagValue
	}
	return filepath.Join(filepath.Dir(dbPath), filepath.Base(dbPath)+".signing-key.pem")
}

// checkpointFlags are serve's checkpoint settings.
type checkpointFlags struct {
	key      *string
	interval *time.Duration
}

// addCheckpointFlags registers serve's --signing-key and --checkpoint-interval.
func addCheckpointFlags(fs *flag.FlagSet) *checkpointFlags {
	def := time.Hour
	if v, err := time.ParseDuration(os.Getenv("ZONEVET_CHECKPOINT_INTERVAL")); err == nil {
		def = v
	}
	return &checkpointFlags{key: signingKeyFlag(fs),
		interval: fs.Duration("checkpoint-interval", def, "sign the decision log's head this often, 0 = only on demand ($ZONEVET_CHECKPOINT_INTERVAL)")}
}

// start loads (creating on first start) the signing key and runs periodic
// checkpoints until ctx ends. It returns the key for the web layer.
func (f *checkpointFlags) start(ctx context.Context, a *app, dbPath string, logger *slog.Logger) (ed25519.PrivateKey, error) {
	path := signingKeyPath(*f.key, dbPath)
	key, created, err := engine.LoadOrCreateSigningKey(path)
	if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	if created {
		fmt.Printf("zonevet: new checkpoint signing key %s — keep it (and a copy of the public key) away from the database\n", path)
	}
	fmt.Printf("zonevet: checkpoint public key %s (fingerprint %s)\n", engine.PublicKeyString(pub), engine.KeyFingerprint(pub))
	go a.svc.AuditLog(key).RunCheckpoints(ctx, *f.interval, func(err error) { logger.Error("checkpoint", "err", err) })
	return key, nil
}

func runAudit(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("audit: export, verify, pubkey or checkpoint\n" + auditUsage)
	}
	fs, db := newFlags("audit " + args[0])
	format := fs.String("format", "jsonl", "export format: jsonl, csv or xlsx")
	outFile := fs.String("out", "", "export: write to this file instead of standard output")
	keyFile := signingKeyFlag(fs)
	pubkey := fs.String("pubkey", "", `verify: trusted public key ("ed25519:…", PEM, or a file holding it)`)
	exportFile := fs.String("export", "", "verify: an export file (JSON Lines) to verify offline, without the database")
	partial := fs.Bool("partial", false, "verify: the export is of a filtered view (entries need not be contiguous)")
	var older stringList
	fs.Var(&older, "checkpoints", "verify: also check the checkpoints carried by this (older) export; repeatable")
	if _, err := parseInterspersed(fs, args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "verify":
		if *exportFile != "" {
			return verifyExportFile(*exportFile, *pubkey, *partial, older, out)
		}
	case "export", "pubkey", "checkpoint":
	default:
		return fmt.Errorf("audit: unknown command %q", args[0])
	}
	return withApp(ctx, *db, func(a *app) error {
		keyPath := signingKeyPath(*keyFile, *db)
		switch args[0] {
		case "export":
			// The operator's export signs the head first when the key is at
			// hand, so the file ends on a checkpoint; it never creates a key.
			key, _ := engine.LoadSigningKey(keyPath)
			w := out
			if *outFile != "" {
				f, err := os.Create(*outFile)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			aw, err := engine.NewAuditWriter(w, *format, a.svc.Location())
			if err != nil {
				return err
			}
			if err := a.svc.AuditLog(key).ExportAll(ctx, aw.Checkpoints, aw.Entry); err != nil {
				return err
			}
			return aw.Close()
		case "pubkey":
			key, _, err := engine.LoadOrCreateSigningKey(keyPath)
			if err != nil {
				return err
			}
			pub := key.Public().(ed25519.PublicKey)
			fmt.Fprintln(out, engine.PublicKeyString(pub))
			fmt.Fprintf(os.Stderr, "fingerprint %s (key file %s)\n", engine.KeyFingerprint(pub), keyPath)
			return nil
		case "checkpoint":
			key, err := engine.LoadSigningKey(keyPath)
			if err != nil {
				return err
			}
			c, _, err := a.svc.AuditLog(key).Checkpoint(ctx, true)
			if err != nil {
				return err
			}
			if c == nil {
				fmt.Fprintln(out, "the decision log is empty: nothing to sign")
				return nil
			}
			fmt.Fprintf(out, "checkpoint #%d %s signed %s\n", c.Seq, c.Hash, c.Time.Format(time.RFC3339))
			return nil
		}
		// verify, against the database
		var trusted ed25519.PublicKey
		if *pubkey != "" {
			k, err := engine.ParsePublicKey(*pubkey)
			if err != nil {
				return err
			}
			trusted = k
		} else if key, err := engine.LoadSigningKey(keyPath); err == nil {
			trusted = key.Public().(ed25519.PublicKey)
		}
		res, err := a.svc.AuditLog(nil).Verify(ctx, trusted)
		if err != nil {
			return err
		}
		return reportVerify(res, out)
	})
}

// verifyExportFile verifies an export offline: no database is opened.
func verifyExportFile(path, pubkey string, partial bool, older []string, out io.Writer) error {
	if pubkey == "" {
		return errors.New("audit verify --export: give the trusted public key with --pubkey (from `zonevet audit pubkey`, obtained independently of the export)")
	}
	trusted, err := engine.ParsePublicKey(pubkey)
	if err != nil {
		return err
	}
	var extra []engine.Checkpoint
	for _, o := range older {
		f, err := os.Open(o)
		if err != nil {
			return err
		}
		cps, err := engine.ReadExportCheckpoints(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", o, err)
		}
		extra = append(extra, cps...)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := engine.VerifyExport(f, trusted, partial, extra)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return reportVerify(res, out)
}

// reportVerify prints a verification and turns a failure into exit 2.
func reportVerify(res *engine.VerifyResult, out io.Writer) error {
	rate := ""
	if s := res.Duration.Seconds(); s > 0 {
		rate = fmt.Sprintf(", %.0f entries/s", float64(res.Entries)/s)
	}
	if res.OK {
		fmt.Fprintf(out, "decision log intact: %d entries, head #%d %s; %d checkpoint(s) valid and on the chain%s\n",
			res.Entries, res.HeadSeq, res.HeadHash, res.CheckpointsGood, rate)
		if res.Partial {
			fmt.Fprintln(out, "partial export: each entry's own hash was checked; completeness and order between entries cannot be, export the whole log for that")
		}
		if res.Checkpoints == 0 {
			fmt.Fprintln(out, "warning: no checkpoints — a rewritten or truncated log would go unnoticed; sign one with `zonevet audit checkpoint`")
		}
		return nil
	}
	msg := fmt.Sprintf("decision log BROKEN (%d entries read, %d of %d checkpoints good):", res.Entries, res.CheckpointsGood, res.Checkpoints)
	if res.Break != nil {
		msg += "\n  " + engine.EscapeText(res.Break.Error())
	}
	for _, p := range res.Problems {
		msg += "\n  " + engine.EscapeText(p)
	}
	if res.MoreProblems > 0 {
		msg += fmt.Sprintf("\n  … and %d more", res.MoreProblems)
	}
	return exitError{code: 2, msg: msg}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
