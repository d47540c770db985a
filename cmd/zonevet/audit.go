package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"zonevet/engine"
	"zonevet/engine/tlog"
	"zonevet/rules/catalog"
)

// auditUsage is the audit part of the usage text.
const auditUsage = `  zonevet audit export [--format jsonl|csv|xlsx] [--out FILE]
  zonevet audit verify [--pubkey KEY] [--checkpoints FILE]... [--witness-key NAME=KEY]... # the database: chain, stored checkpoints, and those kept outside it (the checkpoint file by default)
  zonevet audit verify --export FILE --pubkey KEY [--partial] [--checkpoints OLDER_EXPORT]...
  zonevet audit pubkey                                      # the checkpoint signing key's public half
  zonevet audit checkpoint                                  # sign the log's head now
  zonevet audit prove SEQ                                   # entry SEQ, its leaf hash, inclusion proof and signed checkpoint, as one JSON document
  zonevet audit consistency OLD_CHECKPOINT                  # prove the log now extends a checkpoint kept earlier (its note or JSON)
  zonevet audit verify-proof FILE --pubkey KEY [--checkpoint OLD_CHECKPOINT] # check a proof offline, no database
` + auditPullUsage

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
	return besideDB(dbPath, ".signing-key.pem")
}

// checkpointFileFlag adds --checkpoint-file: where each checkpoint is also
// appended, outside the database ($ZONEVET_CHECKPOINT_FILE; default beside
// the signing key).
func checkpointFileFlag(fs *flag.FlagSet) *string {
	return fs.String("checkpoint-file", os.Getenv("ZONEVET_CHECKPOINT_FILE"),
		"append every checkpoint to this file too, outside the database ($ZONEVET_CHECKPOINT_FILE; default beside the signing key)")
}

// checkpointFilePath is the flag's value, or <key without .pem>.checkpoints.jsonl
// beside the key: where the key is kept apart from the database, so is the file.
func checkpointFilePath(flagValue, keyPath string) string {
	if flagValue != "" {
		return flagValue
	}
	return strings.TrimSuffix(keyPath, ".pem") + ".checkpoints.jsonl"
}

// checkpointFlags are serve's checkpoint settings.
type checkpointFlags struct {
	key       *string
	file      *string
	interval  *time.Duration
	newKey    *bool
	witnesses *string
	push      *time.Duration
}

// addCheckpointFlags registers serve's --signing-key, --checkpoint-file,
// --checkpoint-interval and --new-signing-key.
func addCheckpointFlags(fs *flag.FlagSet) *checkpointFlags {
	def := time.Hour
	if v, err := time.ParseDuration(os.Getenv("ZONEVET_CHECKPOINT_INTERVAL")); err == nil {
		def = v
	}
	return &checkpointFlags{key: signingKeyFlag(fs), file: checkpointFileFlag(fs),
		interval: fs.Duration("checkpoint-interval", def, "sign the decision log's head this often, 0 = only on demand ($ZONEVET_CHECKPOINT_INTERVAL)"),
		newKey: fs.Bool("new-signing-key", false,
			"start although the signing key does not match the log's last checkpoint (or is missing): sign from now on with the key at --signing-key, made if missing, and log the change, unsigned"),
		witnesses: fs.String("witness", os.Getenv("ZONEVET_WITNESS"), "comma-separated URLs of independent witnesses (zonevet witness) to push each checkpoint to ($ZONEVET_WITNESS)"),
		push:      fs.Duration("witness-interval", 10*time.Second, "how often checkpoints not yet cosigned are pushed to the witnesses")}
}

// start loads the signing key (creating it only for a log without
// checkpoints, or when told --new-signing-key) and runs periodic checkpoints
// until ctx ends. It returns the key for the web layer.
func (f *checkpointFlags) start(ctx context.Context, a *app, dbPath string, logger *slog.Logger) (crypto.Signer, error) {
	path := signingKeyPath(*f.key, dbPath)
	a.svc.UseCheckpointFile(checkpointFilePath(*f.file, path))
	key, err := loadKeyForLog(ctx, a, path, *f.newKey, os.Stdout)
	if err != nil {
		return nil, err
	}
	pub := tlog.Public(key)
	fmt.Printf("zonevet: checkpoint public key %s (fingerprint %s); checkpoints also go to %s\n",
		engine.PublicKeyString(pub), engine.KeyFingerprint(pub), a.svc.CheckpointFile())
	go a.svc.AuditLog(key).RunCheckpoints(ctx, *f.interval, func(err error) {
		if errors.Is(err, engine.ErrSignerRefused) {
			logger.Error("decision log: the checkpoint signer REFUSED to sign; the log was cut or rewritten since its last checkpoint, or checkpoints were deleted (alarm on /audit/proof)", "err", err)
			return
		}
		logger.Error("checkpoint", "err", err)
	})
	if urls := splitList(*f.witnesses); len(urls) > 0 {
		go runWitnessPush(ctx, a.svc.AuditLog(key), urls, *f.push, logger)
	}
	return key, nil
}

// loadKeyForLog returns the key at path if it may sign this log. A log that
// has checkpoints needs the key that signed them: a missing or different key
// is refused unless newKey, which makes the key if missing and logs the
// change (engine.LogSigningKeyChange). Restoring a backup without its key
// would otherwise start a second key silently.
func loadKeyForLog(ctx context.Context, a *app, path string, newKey bool, notices io.Writer) (crypto.Signer, error) {
	key, err := engine.LoadSigningKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		cps, cerr := a.db.Checkpoints(ctx)
		if cerr != nil {
			return nil, cerr
		}
		if len(cps) > 0 && !newKey {
			last := cps[len(cps)-1]
			return nil, fmt.Errorf("refusing to start: the decision log has %d checkpoint(s), the last (#%d) signed by %s, but there is no signing key at %s.\n"+
				"Restore the key file kept apart from the backup and give it with --signing-key (README: Keys, backup and restore); "+
				"if it is lost, start once with --new-signing-key: a new key is made and the change is logged, signed by nothing", len(cps), last.Seq, last.Key, path)
		}
		var created bool
		if key, created, err = engine.LoadOrCreateSigningKeyFor(path, a.db.LogSuite()); err != nil {
			return nil, err
		}
		if created {
			fmt.Fprintf(notices, "zonevet: new checkpoint signing key %s — keep it (and a copy of the public key) away from the database\n", path)
		}
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub := tlog.Public(key)
	if err := a.svc.CheckKeySuite(ctx, pub); err != nil {
		return nil, fmt.Errorf("refusing to start: %w", err)
	}
	err = a.svc.CheckSigningKey(ctx, pub)
	if errors.Is(err, engine.ErrKeyMismatch) && newKey {
		if err := a.svc.LogSigningKeyChange(ctx, pub); err != nil {
			return nil, err
		}
		fmt.Fprintf(notices, "zonevet: WARNING: the checkpoint signing key changed to %s (fingerprint %s); the change is logged, and nothing signs it\n",
			engine.PublicKeyString(pub), engine.KeyFingerprint(pub))
		return key, nil
	}
	if errors.Is(err, engine.ErrKeyMismatch) {
		return nil, fmt.Errorf("refusing to start: %w.\nGive the key that signed the log with --signing-key, or start once with --new-signing-key to change keys (logged, signed by nothing)", err)
	}
	return key, err
}

func runAudit(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("audit: export, verify, pubkey, checkpoint, prove, consistency, verify-proof or pull\n" + auditUsage)
	}
	if args[0] == "pull" {
		return runAuditPull(ctx, args[1:], out)
	}
	fs, db := newFlags("audit " + args[0])
	format := fs.String("format", "jsonl", "export format: jsonl, csv or xlsx")
	outFile := fs.String("out", "", "export: write to this file instead of standard output")
	keyFile := signingKeyFlag(fs)
	cpFile := checkpointFileFlag(fs)
	pubkey := fs.String("pubkey", "", `verify: trusted public key ("ed25519:…", PEM, or a file holding it)`)
	exportFile := fs.String("export", "", "verify: an export file (JSON Lines) to verify offline, without the database")
	partial := fs.Bool("partial", false, "verify: the export is of a filtered view (entries need not be contiguous)")
	var older stringList
	fs.Var(&older, "checkpoints", "verify: also check the checkpoints in this file (an older export, or a checkpoint file); repeatable")
	var witnessKeys stringList
	fs.Var(&witnessKeys, "witness-key", "verify: require a cosignature by this witness (NAME=ed25519:…, as `zonevet witness` printed it); repeatable")
	var witnessURLs stringList
	fs.Var(&witnessURLs, "witness", "verify: also fetch this witness's latest cosigned checkpoint (URL of `zonevet witness`) and check the log against it; repeatable")
	keptFile := fs.String("checkpoint", "", "verify-proof: a checkpoint kept earlier that a consistency proof must start from")
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch args[0] {
	case "verify":
		if *exportFile != "" {
			return verifyExportFile(*exportFile, *pubkey, *partial, older, out)
		}
	case "verify-proof":
		if len(rest) != 1 {
			return errors.New("audit verify-proof: give the proof file (from `zonevet audit prove` or `audit consistency`)")
		}
		return verifyProofFile(rest[0], *pubkey, *keptFile, out)
	case "prove", "consistency":
		if len(rest) != 1 {
			return fmt.Errorf("audit %s: give one argument\n%s", args[0], auditUsage)
		}
	case "export", "pubkey", "checkpoint":
	default:
		return fmt.Errorf("audit: unknown command %q", args[0])
	}
	return withApp(ctx, *db, func(a *app) error {
		keyPath := signingKeyPath(*keyFile, *db)
		a.svc.UseCheckpointFile(checkpointFilePath(*cpFile, keyPath))
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
			// The operator's file is read in Chinese, like the web's default.
			labels, err := a.svc.ExportLabelsFor(ctx, catalog.ZH)
			if err != nil {
				return err
			}
			aw, err := engine.NewAuditWriter(w, *format, a.svc.Location(), labels)
			if err != nil {
				return err
			}
			if err := a.svc.AuditLog(key).ExportAll(ctx, aw.Checkpoints, aw.Entry); err != nil {
				return err
			}
			return aw.Close()
		case "pubkey":
			key, err := loadKeyForLog(ctx, a, keyPath, false, os.Stderr)
			if err != nil {
				return err
			}
			pub := tlog.Public(key)
			fmt.Fprintln(out, engine.PublicKeyString(pub))
			fmt.Fprintf(os.Stderr, "fingerprint %s (key file %s)\n", engine.KeyFingerprint(pub), keyPath)
			return nil
		case "prove", "consistency":
			// With the key at hand a head no checkpoint covers yet is signed
			// first; without it only stored checkpoints are used.
			key, _ := engine.LoadSigningKey(keyPath)
			l := a.svc.AuditLog(key)
			var doc *engine.ProofDoc
			if args[0] == "prove" {
				seq, err := strconv.ParseInt(rest[0], 10, 64)
				if err != nil || seq < 1 {
					return engine.FieldFail("seq", "err.entry_number_must_positive", nil)
				}
				if doc, err = l.Prove(ctx, seq); err != nil {
					return err
				}
			} else {
				data, err := os.ReadFile(rest[0])
				if err != nil {
					return err
				}
				var trusted crypto.PublicKey
				if key != nil {
					trusted = tlog.Public(key)
				}
				if *pubkey != "" {
					if trusted, err = engine.ParsePublicKey(*pubkey); err != nil {
						return err
					}
				}
				if trusted == nil {
					return errors.New("audit consistency: give the log's public key with --pubkey to read the kept checkpoint")
				}
				old, err := engine.ParseCheckpoint(data, trusted)
				if err != nil {
					return fmt.Errorf("%s: %w", rest[0], err)
				}
				if doc, err = l.Consistency(ctx, old); err != nil {
					return err
				}
			}
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(doc)
		case "checkpoint":
			key, err := engine.LoadSigningKey(keyPath)
			if err != nil {
				return err
			}
			c, _, err := a.svc.AuditLog(key).Checkpoint(ctx, true)
			if errors.Is(err, engine.ErrSignerRefused) {
				return exitError{code: 2, msg: "decision log: " + engine.EscapeText(err.Error())}
			}
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
		var trusted crypto.PublicKey
		if *pubkey != "" {
			k, err := engine.ParsePublicKey(*pubkey)
			if err != nil {
				return err
			}
			trusted = k
		} else if key, err := engine.LoadSigningKey(keyPath); err == nil {
			trusted = tlog.Public(key)
		}
		// Checkpoints kept outside the database: those named, and the
		// checkpoint file when it exists.
		var outside []engine.Checkpoint
		files := append([]string(nil), older...)
		if _, err := os.Stat(a.svc.CheckpointFile()); err == nil && !slices.Contains(files, a.svc.CheckpointFile()) {
			files = append(files, a.svc.CheckpointFile())
		}
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			cps, err := engine.ReadExportCheckpoints(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			fmt.Fprintf(os.Stderr, "checking %d checkpoint(s) kept outside the database in %s\n", len(cps), name)
			outside = append(outside, cps...)
		}
		if len(witnessKeys) > 0 {
			var ws []engine.WitnessKey
			for _, s := range witnessKeys {
				w, err := engine.ParseWitnessKey(s)
				if err != nil {
					return err
				}
				ws = append(ws, w)
			}
			cosigned, err := a.svc.AuditLog(nil).WitnessedCheckpoints(ctx, trusted, ws)
			var de *engine.Error
			if errors.As(err, &de) {
				return exitError{code: 2, msg: "decision log BROKEN: " + engine.EscapeText(de.Text("en"))}
			} else if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "checking %d checkpoint(s) cosigned by the witnesses\n", len(cosigned))
			outside = append(outside, cosigned...)
			for _, u := range witnessURLs {
				c, err := fetchWitnessed(ctx, a, u, trusted, ws)
				if err != nil {
					return exitError{code: 2, msg: "decision log BROKEN: witness " + u + ": " + engine.EscapeText(err.Error())}
				}
				fmt.Fprintf(os.Stderr, "witness %s last cosigned %d entries\n", u, c.Seq)
				outside = append(outside, *c)
			}
		}
		res, err := a.svc.AuditLog(nil).VerifyWith(ctx, trusted, outside)
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

// verifyProofFile checks a proof document offline: no database is opened.
func verifyProofFile(path, pubkey, keptPath string, out io.Writer) error {
	if pubkey == "" {
		return errors.New("audit verify-proof: give the trusted public key with --pubkey (from `zonevet audit pubkey`, obtained independently of the proof)")
	}
	trusted, err := engine.ParsePublicKey(pubkey)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc engine.ProofDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var kept *engine.Checkpoint
	if keptPath != "" {
		kdata, err := os.ReadFile(keptPath)
		if err != nil {
			return err
		}
		if kept, err = engine.ParseCheckpoint(kdata, trusted); err != nil {
			return fmt.Errorf("%s: %w", keptPath, err)
		}
	}
	if err := engine.VerifyProof(&doc, trusted, kept); err != nil {
		return exitError{code: 2, msg: "proof INVALID: " + engine.EscapeText(err.Error())}
	}
	c := doc.Checkpoint
	switch doc.Format {
	case engine.InclusionProofFormat:
		fmt.Fprintf(out, "proof valid: entry #%d (%s) is in the decision log of %d entries that checkpoint signed %s vouches for\n",
			doc.Entry.Seq, engine.EscapeText(doc.Entry.Event), c.Seq, c.Time.Format(time.RFC3339))
	default:
		if c.Seq == doc.Old.Seq {
			fmt.Fprintln(out, "warning: no checkpoint newer than the one kept: the proof says only that it is still the latest")
		}
		fmt.Fprintf(out, "proof valid: the decision log of %d entries (checkpoint signed %s) extends the one of %d entries (signed %s)\n",
			c.Seq, c.Time.Format(time.RFC3339), doc.Old.Seq, doc.Old.Time.Format(time.RFC3339))
	}
	return nil
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
		for _, kc := range res.KeyChanges {
			fmt.Fprintln(out, "warning: "+engine.EscapeText(kc))
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

// fetchWitnessed asks the witness at u for its latest cosigned checkpoint
// of this log and checks it.
func fetchWitnessed(ctx context.Context, a *app, u string, trusted crypto.PublicKey, ws []engine.WitnessKey) (*engine.Checkpoint, error) {
	origin, err := a.svc.AuditLog(nil).LogOriginOf(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(u, "/")+"/latest?origin="+url.QueryEscape(origin), nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("the witness has cosigned no checkpoint of this log (origin %s): its first entry differs from the one the witness saw, or it was never witnessed", origin)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("answered %d", resp.StatusCode)
	}
	return engine.WitnessedNote(string(body), trusted, ws)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
