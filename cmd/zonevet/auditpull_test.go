package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
)

// apiToken makes a bearer token for user straight in the database, as the
// tokens page would (only the SHA-256 is stored), and returns its secret.
func apiToken(t *testing.T, dbPath, user string) string {
	t.Helper()
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	u, err := db.UserByName(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	secret := fmt.Sprintf("zv_pull_%s_%d", user, time.Now().UnixNano())
	sum := sha256.Sum256([]byte(secret))
	if err := db.CreateAPIToken(ctx, &engine.APIToken{UserID: u.ID, Name: "nightly pull", Hash: hex.EncodeToString(sum[:]), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// TestAuditPullWholeDemoLog is the done-when: the reference puller
// pulls the whole demo log through the API of a real server on loopback in
// pages of 50 into an empty folder; the copy verifies offline and is, byte
// for byte, what `zonevet audit export --format jsonl` writes. A second run
// adds only what is new (its own record among it), and a run in a second
// folder with the operator's key given agrees.
func TestAuditPullWholeDemoLog(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	pub := strings.TrimSpace(c.ok("audit", "pubkey"))
	c.ok("audit", "checkpoint") // a checkpoint inside the range pulled, filed on its line
	token := apiToken(t, c.db, "auditor1")
	srv := startServe(t, c.bin, c.db)
	if srv.base == "" {
		t.Fatalf("serve did not start:\n%s", srv.output())
	}
	into := filepath.Join(dir, "copy")
	out := c.ok("audit", "pull", "--from", srv.base, "--token", token, "--into", into, "--limit", "50")
	if !strings.Contains(out, "trusting the server's signing key "+pub) || !strings.Contains(out, "latest checkpoint") {
		t.Fatalf("pull: %s", out)
	}
	got := filepath.Join(into, "audit.jsonl")
	offline := &cli{t: t, bin: c.bin, db: filepath.Join(dir, "absent", "none.db"), dir: dir}
	if v := offline.ok("audit", "verify", "--export", got, "--pubkey", pub); !strings.Contains(v, "intact") || strings.Contains(v, "warning") {
		t.Fatalf("verify the pulled copy: %s", v)
	}
	srv.stop() // the export reads the database the server wrote
	want := c.ok("audit", "export", "--format", "jsonl")
	data, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != want {
		t.Fatalf("the pulled copy differs from the export:\n%s", firstDiff(string(data), want))
	}
	lines := strings.Count(want, "\n")
	if lines < 120 {
		t.Fatalf("the demo log has only %d entries: pages of 50 were not exercised", lines)
	}
	// Each page is logged: ceil(lines/50) pages plus the final short one at most.
	if n := strings.Count(want, `"event":"audit_pull"`); n < lines/50 || n > lines/50+2 {
		t.Errorf("%d audit_pull entries for a %d-entry pull in pages of 50", n, lines)
	}

	// Again, later: only the new entries come, appended.
	srv = startServe(t, c.bin, c.db)
	out = c.ok("audit", "pull", "--from", srv.base, "--token", token, "--into", into, "--limit", "50")
	if !strings.Contains(out, "audit pull: 1 new entries") {
		t.Fatalf("second pull: %s", out)
	}
	if v := offline.ok("audit", "verify", "--export", got, "--pubkey", pub); !strings.Contains(v, "intact") {
		t.Fatalf("verify after the second pull: %s", v)
	}
	// A second folder given the operator's key directly agrees.
	other := filepath.Join(dir, "copy2")
	c.ok("audit", "pull", "--from", srv.base, "--token", token, "--into", other, "--pubkey", pub)
	if v := offline.ok("audit", "verify", "--export", filepath.Join(other, "audit.jsonl"), "--pubkey", pub); !strings.Contains(v, "intact") {
		t.Fatalf("verify the second folder: %s", v)
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(al), len(bl)); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines against %d", len(al), len(bl))
}

// TestAuditPullRefusesTamperedServer runs the puller against a real server
// whose database someone changed behind it: a history rewritten with every
// hash recomputed (a fork of what the puller holds), and a log whose tail
// was cut. Each time the puller refuses with exit 2 and leaves its copy as
// it was; a token of another park's auditor only, or a wrong key, are
// refused before anything is written.
func TestAuditPullRefusesTamperedServer(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	c.ok("user", "add", "audq", "--password", "an-auditor-password", "--role", "auditor@qingyuan")
	token := apiToken(t, c.db, "auditor1")
	oneParkToken := apiToken(t, c.db, "audq")
	srv := startServe(t, c.bin, c.db)
	into := filepath.Join(dir, "copy")
	c.ok("audit", "pull", "--from", srv.base, "--token", token, "--into", into)

	// An auditor of one park reads a filtered view: refused as a whole
	// log, pulled with --partial, and verifiable as a partial export.
	t.Run("OnePark", func(t *testing.T) {
		one := filepath.Join(dir, "qingyuan")
		_, errOut, code := c.run("audit", "pull", "--from", srv.base, "--token", oneParkToken, "--into", one)
		if code != 2 || !strings.Contains(errOut, "--partial") {
			t.Fatalf("a filtered view pulled as whole: exit %d %s", code, errOut)
		}
		c.ok("audit", "pull", "--from", srv.base, "--token", oneParkToken, "--into", one, "--partial", "--limit", "20")
		data, err := os.ReadFile(filepath.Join(one, "audit.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), `"park":"yingde"`) || !strings.Contains(string(data), `"park":"qingyuan"`) {
			t.Fatal("the one-park copy holds another park's entries, or none of its own")
		}
		pub, _ := os.ReadFile(filepath.Join(one, "pubkey"))
		if v := c.ok("audit", "verify", "--export", filepath.Join(one, "audit.jsonl"), "--pubkey", strings.TrimSpace(string(pub)), "--partial"); !strings.Contains(v, "intact") {
			t.Fatalf("verify the partial copy: %s", v)
		}
	})
	held, err := os.ReadFile(filepath.Join(into, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(when string) {
		t.Helper()
		now, err := os.ReadFile(filepath.Join(into, "audit.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if string(now) != string(held) {
			t.Fatalf("%s: the local copy changed", when)
		}
	}

	t.Run("WrongKey", func(t *testing.T) {
		_, errOut, code := c.run("audit", "pull", "--from", srv.base, "--token", token, "--into", filepath.Join(dir, "wrongkey"),
			"--pubkey", "ed25519:"+strings.Repeat("A", 43)+"=")
		if code != 2 || !strings.Contains(errOut, "another key") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})

	t.Run("Forked", func(t *testing.T) {
		raw, err := sql.Open("sqlite", c.db+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		rewrite(t, raw)
		raw.Close()
		_, errOut, code := c.run("audit", "pull", "--from", srv.base, "--token", token, "--into", into)
		if code != 2 || !strings.Contains(errOut, "REFUSED") || !strings.Contains(errOut, "rewritten") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		unchanged("after a refused fork")
	})

	t.Run("Cut", func(t *testing.T) {
		raw, err := sql.Open("sqlite", c.db+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"DROP TRIGGER IF EXISTS audit_log_no_delete", "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete", "DELETE FROM audit_log WHERE seq > 20", "DELETE FROM audit_checkpoints"} {
			if _, err := raw.Exec(q); err != nil {
				raw.Close()
				t.Fatalf("%s: %v", q, err)
			}
		}
		raw.Close()
		_, errOut, code := c.run("audit", "pull", "--from", srv.base, "--token", token, "--into", into)
		if code != 2 || !strings.Contains(errOut, "REFUSED") || !(strings.Contains(errOut, "cut") || strings.Contains(errOut, "rewritten")) {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		unchanged("after a refused cut")
	})
}
