package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRestoreWithoutKey is the operator's restore, step by step as the
// README tells it: a backup (which leaves the signing key out) restored into
// a new folder will not start without the key that signed its log; with
// that key it starts and verifies; with --new-signing-key it starts, logs the
// key change as an entry signed by nothing, and verifies under either key.
func TestRestoreWithoutKey(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t)
	live := filepath.Join(dir, "data", "zonevet.db")
	os.MkdirAll(filepath.Dir(live), 0o700)
	c := &cli{t: t, bin: bin, db: live, dir: dir}
	c.initDemo()
	// The recommended setup: the key outside the data directory, read-only.
	key := filepath.Join(dir, "keys", "signing-key.pem")
	oldPub := strings.TrimSpace(c.ok("audit", "pubkey", "--signing-key", key))
	if err := os.Chmod(key, 0o400); err != nil {
		t.Fatal(err)
	}
	c.ok("audit", "checkpoint", "--signing-key", key)
	if _, err := os.Stat(filepath.Join(dir, "keys", "signing-key.checkpoints.jsonl")); err != nil {
		t.Fatalf("no checkpoint file beside the key: %v", err)
	}
	bk := filepath.Join(dir, "backup")
	c.ok("backup", bk, "--signing-key", key)

	restore := func(name string) string {
		t.Helper()
		to := filepath.Join(dir, name)
		if err := os.MkdirAll(to, 0o700); err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(bk, "zonevet.db"), filepath.Join(to, "zonevet.db"))
		return filepath.Join(to, "zonevet.db")
	}

	t.Run("RefusedWithoutKey", func(t *testing.T) {
		db := restore("r1")
		s := startServe(t, bin, db)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if s.base != "" || s.waitExit(ctx) == nil {
			t.Fatalf("a restored log with checkpoints started without its key:\n%s", s.output())
		}
		if out := s.output(); !strings.Contains(out, "refusing to start") || !strings.Contains(out, "--new-signing-key") {
			t.Fatalf("refusal does not say what to do:\n%s", out)
		}
		if _, err := os.Stat(db + ".signing-key.pem"); err == nil {
			t.Fatal("a refused start made a key anyway")
		}
		// Nor does asking for the public key make one.
		if _, errOut, code := (&cli{t: t, bin: bin, db: db, dir: dir}).run("audit", "pubkey"); code == 0 || !strings.Contains(errOut, "refusing") {
			t.Fatalf("audit pubkey on the restored log: exit %d %s", code, errOut)
		}
	})
	t.Run("StartsWithItsKey", func(t *testing.T) {
		db := restore("r2")
		s := startServe(t, bin, db, "--signing-key", key)
		if s.base == "" {
			t.Fatalf("refused with its own key:\n%s", s.output())
		}
		s.stop()
		r := &cli{t: t, bin: bin, db: db, dir: dir}
		if out := r.ok("audit", "verify", "--signing-key", key); !strings.Contains(out, "intact") {
			t.Fatalf("verify: %s", out)
		}
	})
	t.Run("NewKeyIsLogged", func(t *testing.T) {
		db := restore("r3")
		s := startServe(t, bin, db, "--new-signing-key")
		if s.base == "" || !strings.Contains(s.output(), "signing key changed") {
			t.Fatalf("--new-signing-key: %s", s.output())
		}
		s.stop()
		r := &cli{t: t, bin: bin, db: db, dir: dir}
		r.ok("audit", "checkpoint") // under the new key, vouching for the change too
		log := r.ok("audit", "export", "--format", "jsonl")
		lines := strings.Split(strings.TrimSpace(log), "\n")
		var change string
		for _, l := range lines {
			if strings.Contains(l, `"event":"signing_key_change"`) {
				change = l
			}
		}
		if change == "" || !strings.Contains(change, "nothing signs this entry") || !strings.Contains(change, oldPub) {
			t.Fatalf("no signing_key_change entry naming the old key and saying nothing signs it:\n%s", change)
		}
		for _, args := range [][]string{{"audit", "verify"}, {"audit", "verify", "--pubkey", oldPub}} {
			out := r.ok(args...)
			if !strings.Contains(out, "intact") || !strings.Contains(out, "signing key changed") {
				t.Errorf("%v: %s", args, out)
			}
		}
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestServeSweepsOrphanDocuments: what a crash can leave in the documents
// folder — a half-written upload, a file whose row never committed — is
// cleared at start and reported with its counts; documents and other hidden
// files stay.
func TestServeSweepsOrphanDocuments(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.ok("init")
	docs := c.db + ".docs"
	os.MkdirAll(docs, 0o700)
	for _, name := range []string{".upload-123456", "NoRowNamesThisFile", ".import-1-x.xlsx"} {
		if err := os.WriteFile(filepath.Join(docs, name), []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := startServe(t, c.bin, c.db)
	if s.base == "" {
		t.Fatalf("serve: %s", s.output())
	}
	s.stop()
	out := s.output()
	if !strings.Contains(out, "documents left by an interrupted upload") || !strings.Contains(out, "partial_removed=1") || !strings.Contains(out, "orphans=1") {
		t.Fatalf("no report of the sweep:\n%s", out)
	}
	for name, want := range map[string]bool{".upload-123456": false, "NoRowNamesThisFile": false, ".import-1-x.xlsx": true,
		filepath.Join(".orphans", "NoRowNamesThisFile"): true} {
		if _, err := os.Stat(filepath.Join(docs, name)); (err == nil) != want {
			t.Errorf("%s: present %v, want %v", name, err == nil, want)
		}
	}
}
