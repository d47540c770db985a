package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"zonevet/engine"
	"zonevet/store"
)

// docsFlag adds --docs: the folder of uploaded documents, which live beside
// the database rather than in it.
func docsFlag(fs *flag.FlagSet) *string {
	return fs.String("docs", os.Getenv("ZONEVET_DOCS"), "folder for uploaded documents ($ZONEVET_DOCS; default: beside the database)")
}

// docsDir is the documents folder: the flag's value, or <db>.docs.
func docsDir(flagValue, dbPath string) string {
	if flagValue != "" {
		return flagValue
	}
	return besideDB(dbPath, ".docs")
}

// besideDB is the default path of a file kept beside the database: path +
// suffix. A PostgreSQL URL names no file, so its default is zonevet + suffix
// in the working directory; several processes on one database are given
// --docs on shared storage and --signing-key explicitly (README).
func besideDB(dbPath, suffix string) string {
	if store.IsPostgresURL(dbPath) {
		return "zonevet" + suffix
	}
	return filepath.Join(filepath.Dir(dbPath), filepath.Base(dbPath)+suffix)
}

// runBackup copies what a restore needs into a new folder, while the server
// keeps running: the database (one consistent snapshot) and the documents
// it lists, each file checked against the SHA-256 recorded at upload. Then it
// verifies the copy's decision log. The signing key is left out on purpose:
// it must not sit wherever the data sits.
func runBackup(ctx context.Context, args []string, out io.Writer) error {
	fs, db := newFlags("backup")
	docs := docsFlag(fs)
	keyFile := signingKeyFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("backup: name one new folder to write the backup to")
	}
	dir := pos[0]
	if _, err := os.Stat(*db); err != nil && !store.IsPostgresURL(*db) {
		return fmt.Errorf("backup: no database at %s: %w", *db, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("backup: %w (the folder must be new)", err)
	}
	// From PostgreSQL the backup is a SQLite file too (store.Backup): one
	// snapshot, restored with `zonevet migrate`.
	name := filepath.Base(*db)
	if store.IsPostgresURL(*db) {
		name = "zonevet.db"
	}
	copyPath := filepath.Join(dir, name)
	err = withApp(ctx, *db, func(a *app) error { return a.db.Backup(ctx, copyPath) })
	if err != nil {
		return err
	}

	copyDB, err := store.Open(copyPath)
	if err != nil {
		return fmt.Errorf("backup: open the copy: %w", err)
	}
	defer copyDB.Close()
	v, err := engine.VerifyLog(ctx, copyDB)
	if err != nil {
		return err
	}
	if v.Bad != nil {
		return exitError{2, fmt.Sprintf("backup written to %s, but its decision log does not verify: entry %d %s — the live database has the same fault; run `zonevet audit verify`", dir, v.Bad.Seq, v.Bad.Reason)}
	}
	documents, err := copyDB.AllDocuments(ctx)
	if err != nil {
		return err
	}
	var bad []string
	var size int64
	from, to := docsDir(*docs, *db), filepath.Join(dir, name+".docs")
	if len(documents) > 0 {
		if err := os.Mkdir(to, 0o700); err != nil {
			return err
		}
	}
	for _, d := range documents {
		n, err := copyChecked(filepath.Join(from, filepath.Base(d.StoredName)), filepath.Join(to, filepath.Base(d.StoredName)), d.SHA256)
		if err != nil {
			bad = append(bad, fmt.Sprintf("document %d (%s, project %d): %v", d.ID, d.FileName, d.ProjectID, err))
			continue
		}
		size += n
	}

	fmt.Fprintf(out, "backup written to %s\n  database %s: decision log intact, %d entries, head #%d %s\n  documents %s: %d of %d copied and checked against their SHA-256 (%d bytes)\n",
		dir, copyPath, v.Count, v.HeadSeq, v.Head, to, len(documents)-len(bad), len(documents), size)
	fmt.Fprintf(out, "  not included: the checkpoint signing key %s — keep its copy apart from this backup\n", signingKeyPath(*keyFile, *db))
	if store.IsPostgresURL(*db) {
		fmt.Fprintf(out, "restore: zonevet migrate --from %s --to postgres://… (a new, empty database), and %s as the --docs folder\n", copyPath, to)
	} else {
		fmt.Fprintf(out, "restore: stop the server, put %s back as the database and %s beside it as <database>.docs\n", filepath.Base(copyPath), filepath.Base(to))
	}
	if len(bad) > 0 {
		msg := fmt.Sprintf("backup: %d document(s) missing or changed in %s:", len(bad), from)
		for _, b := range bad {
			msg += "\n  " + b
		}
		return exitError{2, msg}
	}
	return nil
}

// copyChecked copies src to dst (which must not exist) and fails unless the
// bytes hash to wantSHA256.
func copyChecked(src, dst, wantSHA256 string) (int64, error) {
	in, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, errors.New("the file is missing")
	}
	if err != nil {
		return 0, err
	}
	defer in.Close()
	outFile, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(outFile, h), in)
	if cerr := outFile.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA256 {
		return n, fmt.Errorf("its SHA-256 is %s, not the %s recorded at upload", got, wantSHA256)
	}
	return n, nil
}
