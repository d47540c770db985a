package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
)

// appendEntries logs n sign-ins through the store, as the server would.
func appendEntries(t *testing.T, path string, n int) {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range n {
		e := engine.AuditEntry{Time: time.Now().UTC(), Actor: "reviewer1", Event: engine.EventLogin}
		if err := db.Apply(context.Background(), &engine.Change{Entry: e}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCLIInclusionAndConsistencyProofs is the auditor's story with proofs
// on the real binary: one entry proved and checked offline with nothing but
// the public key; an edited proof refused; the checkpoint kept from it
// proved extended by the grown log; and a history rewritten with its tree
// rebuilt refused by the consistency proof from the kept checkpoint.
func TestCLIInclusionAndConsistencyProofs(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	pub := strings.TrimSpace(c.ok("audit", "pubkey"))
	offline := &cli{t: t, bin: c.bin, db: filepath.Join(dir, "absent", "none.db"), dir: dir}

	proof := filepath.Join(dir, "proof-3.json")
	os.WriteFile(proof, []byte(c.ok("audit", "prove", "3")), 0o600)
	if out := offline.ok("audit", "verify-proof", proof, "--pubkey", pub); !strings.Contains(out, "proof valid: entry #3") {
		t.Fatalf("verify-proof: %s", out)
	}
	var doc engine.ProofDoc
	data, _ := os.ReadFile(proof)
	if err := json.Unmarshal(data, &doc); err != nil || doc.Entry.Seq != 3 || doc.Checkpoint.Note == "" || len(doc.Proof) == 0 {
		t.Fatalf("proof document %s: %v", data, err)
	}
	edited := filepath.Join(dir, "edited.json")
	doc.Entry.Reason += "(改)"
	ed, _ := json.Marshal(doc)
	os.WriteFile(edited, ed, 0o600)
	if _, errOut, code := offline.run("audit", "verify-proof", edited, "--pubkey", pub); code != 2 || !strings.Contains(errOut, "entry altered") {
		t.Fatalf("edited proof: exit %d %s", code, errOut)
	}

	// The auditor keeps the checkpoint (the signed note) and comes back later.
	kept := filepath.Join(dir, "kept.checkpoint")
	os.WriteFile(kept, []byte(doc.Checkpoint.Note), 0o600)
	appendEntries(t, c.db, 5)
	cons := filepath.Join(dir, "consistency.json")
	os.WriteFile(cons, []byte(c.ok("audit", "consistency", kept)), 0o600)
	if out := offline.ok("audit", "verify-proof", cons, "--pubkey", pub, "--checkpoint", kept); !strings.Contains(out, "extends the one of") {
		t.Fatalf("consistency: %s", out)
	}

	// Someone with the database rewrites entry 3, recomputes the chain and
	// rebuilds the tree from it (the store rebuilds a missing tree on open).
	raw, err := sql.Open("sqlite", c.db)
	if err != nil {
		t.Fatal(err)
	}
	rewrite(t, raw)
	if _, err := raw.Exec(`DROP TRIGGER audit_tree_no_delete; DELETE FROM audit_tree`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	appendEntries(t, c.db, 1)
	forged := filepath.Join(dir, "forged.json")
	out, errOut, code := c.run("audit", "consistency", kept, "--signing-key", filepath.Join(dir, "no-key.pem"), "--pubkey", pub)
	if code != 0 {
		t.Fatalf("consistency after the rewrite: exit %d %s", code, errOut)
	}
	os.WriteFile(forged, []byte(out), 0o600)
	if _, errOut, code := offline.run("audit", "verify-proof", forged, "--pubkey", pub, "--checkpoint", kept); code != 2 || !strings.Contains(errOut, "does not extend") {
		t.Fatalf("forged consistency: exit %d %s", code, errOut)
	}
}
