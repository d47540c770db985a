package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
)

// TestCLIAuditProof is the auditor's story on the real binary: the public
// key, a signed checkpoint, an export verified offline (no database), and a
// history rewritten by someone with database access — every hash recomputed —
// caught by the checkpoint signed before it, and a cut tail by the latest.
func TestCLIAuditProof(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()

	pub := strings.TrimSpace(c.ok("audit", "pubkey"))
	if !strings.HasPrefix(pub, "ed25519:") {
		t.Fatalf("pubkey: %q", pub)
	}
	if _, err := os.Stat(c.db + ".signing-key.pem"); err != nil {
		t.Fatalf("signing key not beside the database: %v", err)
	}
	if out := c.ok("audit", "checkpoint"); !strings.Contains(out, "checkpoint #") {
		t.Fatalf("checkpoint: %s", out)
	}
	good := filepath.Join(dir, "good.jsonl")
	c.ok("audit", "export", "--out", good)
	// Offline: no database anywhere near.
	offline := &cli{t: t, bin: c.bin, db: filepath.Join(dir, "absent", "none.db"), dir: dir}
	if out := offline.ok("audit", "verify", "--export", good, "--pubkey", pub); !strings.Contains(out, "intact") {
		t.Fatalf("verify export: %s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "absent")); err == nil {
		t.Fatal("offline verification touched a database")
	}
	if _, errOut, code := offline.run("audit", "verify", "--export", good, "--pubkey", "ed25519:"+strings.Repeat("A", 43)+"="); code != 2 || !strings.Contains(errOut, "another key") {
		t.Fatalf("verify with a wrong key: exit %d %s", code, errOut)
	}

	// Rewrite history: change a reason in entry 3 and recompute every hash after it.
	raw, err := sql.Open("sqlite", c.db)
	if err != nil {
		t.Fatal(err)
	}
	rewrite(t, raw)
	raw.Close()
	if out := c.ok("audit", "export", "--signing-key", filepath.Join(dir, "no-such-key.pem"), "--out", filepath.Join(dir, "forged.jsonl")); out != "" {
		t.Fatal(out)
	}
	_, errOut, code := offline.run("audit", "verify", "--export", filepath.Join(dir, "forged.jsonl"), "--pubkey", pub)
	if code != 2 || !strings.Contains(errOut, "rewritten") {
		t.Fatalf("recomputed chain: exit %d\n%s", code, errOut)
	}
	_, errOut, code = c.run("audit", "verify")
	if code != 2 || !strings.Contains(errOut, "rewritten") {
		t.Fatalf("database verify after the rewrite: exit %d\n%s", code, errOut)
	}

	// A tail cut from the good export is caught against its latest checkpoint kept elsewhere.
	data, _ := os.ReadFile(good)
	lines := strings.SplitAfter(string(data), "\n")
	cut := filepath.Join(dir, "cut.jsonl")
	os.WriteFile(cut, []byte(strings.Join(lines[:len(lines)-4], "")), 0o600)
	_, errOut, code = offline.run("audit", "verify", "--export", cut, "--pubkey", pub, "--checkpoints", good)
	if code != 2 || !strings.Contains(errOut, "tail was cut") {
		t.Fatalf("cut export: exit %d\n%s", code, errOut)
	}
}

// rewrite edits entry 3 with the triggers dropped and recomputes the chain.
func rewrite(t *testing.T, raw *sql.DB) {
	t.Helper()
	for _, q := range []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_extend"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := raw.Query(`SELECT seq, time, actor, role, park, project_id, event, from_state, to_state, reason, rule_set_version, payload FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var es []engine.AuditEntry
	for rows.Next() {
		var e engine.AuditEntry
		var ts string
		if err := rows.Scan(&e.Seq, &ts, &e.Actor, &e.Role, &e.Park, &e.ProjectID, &e.Event, &e.FromState, &e.ToState, &e.Reason, &e.RuleSetVersion, &e.Payload); err != nil {
			t.Fatal(err)
		}
		e.Reason += map[bool]string{true: "(已核实)", false: ""}[e.Seq == 3]
		e.Time = mustTime(t, ts)
		es = append(es, e)
	}
	rows.Close()
	prev := engine.GenesisHash
	for i := range es {
		es[i].PrevHash = prev
		es[i].Hash = engine.ChainHash(prev, &es[i])
		prev = es[i].Hash
		if _, err := raw.Exec(`UPDATE audit_log SET reason = ?, prev_hash = ?, hash = ? WHERE seq = ?`, es[i].Reason, es[i].PrevHash, es[i].Hash, es[i].Seq); err != nil {
			t.Fatal(err)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
