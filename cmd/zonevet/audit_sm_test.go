package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"zonevet/engine"
)

// TestCLIGuomiSuite is the auditor's story on the real binary for a log
// initialised with `init --crypto sm`: the suite is printed and kept, the
// signing key made is SM2 ("sm2:" public key), and the same commands —
// audit verify, verify --export offline, prove / verify-proof offline with
// the sm2 key, consistency — work on it; the suite cannot be changed later,
// and a rewritten history is caught.
func TestCLIGuomiSuite(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	if out := c.ok("init", "--demo", "--crypto", "sm"); !strings.Contains(out, "crypto suite: sm") {
		t.Fatalf("init: %s", out)
	}
	pub := strings.TrimSpace(c.ok("audit", "pubkey"))
	if !strings.HasPrefix(pub, "sm2:") {
		t.Fatalf("pubkey: %q", pub)
	}
	if out := c.ok("audit", "checkpoint"); !strings.Contains(out, "checkpoint #") {
		t.Fatalf("checkpoint: %s", out)
	}
	if out := c.ok("audit", "verify", "--pubkey", pub); !strings.Contains(out, "intact") {
		t.Fatalf("verify: %s", out)
	}
	offline := &cli{t: t, bin: c.bin, db: filepath.Join(dir, "absent", "none.db"), dir: dir}
	good := filepath.Join(dir, "good.jsonl")
	c.ok("audit", "export", "--out", good)
	if out := offline.ok("audit", "verify", "--export", good, "--pubkey", pub); !strings.Contains(out, "intact") {
		t.Fatalf("verify export: %s", out)
	}
	proof := filepath.Join(dir, "proof-3.json")
	os.WriteFile(proof, []byte(c.ok("audit", "prove", "3")), 0o600)
	if out := offline.ok("audit", "verify-proof", proof, "--pubkey", pub); !strings.Contains(out, "proof valid: entry #3") {
		t.Fatalf("verify-proof: %s", out)
	}
	// An Ed25519 key of the same bytes' length cannot stand in for the SM2 key.
	if _, errOut, code := offline.run("audit", "verify-proof", proof, "--pubkey", "ed25519:"+strings.Repeat("A", 43)+"="); code == 0 {
		t.Fatalf("verify-proof with an Ed25519 key passed: %s", errOut)
	}
	var doc engine.ProofDoc
	data, _ := os.ReadFile(proof)
	if err := json.Unmarshal(data, &doc); err != nil || !strings.Contains(doc.Checkpoint.Note, "\n\n— zonevet/decision-log/") {
		t.Fatalf("proof document %s: %v", data, err)
	}
	kept := filepath.Join(dir, "kept.checkpoint")
	os.WriteFile(kept, []byte(doc.Checkpoint.Note), 0o600)
	appendEntries(t, c.db, 3)
	cons := filepath.Join(dir, "consistency.json")
	os.WriteFile(cons, []byte(c.ok("audit", "consistency", kept)), 0o600)
	if out := offline.ok("audit", "verify-proof", cons, "--pubkey", pub, "--checkpoint", kept); !strings.Contains(out, "extends the one of") {
		t.Fatalf("consistency: %s", out)
	}

	if _, errOut, code := c.run("init", "--crypto", "ed25519"); code == 0 || !strings.Contains(errOut, "cannot change to “ed25519”") {
		t.Fatalf("suite changed after init: exit %d %s", code, errOut)
	}

	raw, err := sql.Open("sqlite", c.db)
	if err != nil {
		t.Fatal(err)
	}
	rewrite(t, raw)
	raw.Close()
	if _, errOut, code := c.run("audit", "verify", "--pubkey", pub); code != 2 {
		t.Fatalf("database verify after the rewrite: exit %d\n%s", code, errOut)
	}
}

// TestAuditPullGuomiLog: the reference puller pulls an SM log through the
// API of a real server on loopback, pinning its sm2 key, checking every
// page's SM3 links; the copy verifies offline with the sm2 key.
func TestAuditPullGuomiLog(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.ok("init", "--demo", "--crypto", "sm")
	pub := strings.TrimSpace(c.ok("audit", "pubkey"))
	c.ok("audit", "checkpoint")
	token := apiToken(t, c.db, "auditor1")
	srv := startServe(t, c.bin, c.db)
	if srv.base == "" {
		t.Fatalf("serve did not start:\n%s", srv.output())
	}
	into := filepath.Join(dir, "copy")
	out := c.ok("audit", "pull", "--from", srv.base, "--token", token, "--into", into, "--limit", "50")
	if !strings.Contains(out, "trusting the server's signing key "+pub) || !strings.HasPrefix(pub, "sm2:") {
		t.Fatalf("pull: %s", out)
	}
	offline := &cli{t: t, bin: c.bin, db: filepath.Join(dir, "absent", "none.db"), dir: dir}
	if v := offline.ok("audit", "verify", "--export", filepath.Join(into, "audit.jsonl"), "--pubkey", pub); !strings.Contains(v, "intact") {
		t.Fatalf("verify the pulled copy: %s", v)
	}
}
