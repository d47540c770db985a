package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLISignerRefusesCutLog: someone with the database deletes its
// checkpoints and cuts the log's tail. `audit verify` finds both against the
// checkpoint file kept beside the key, and `audit checkpoint` refuses to
// sign the cut log, exiting non-zero; without the file the cut would pass.
func TestCLISignerRefusesCutLog(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	c.ok("audit", "pubkey")
	c.ok("audit", "checkpoint")

	raw, err := sql.Open("sqlite", c.db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"DROP TRIGGER audit_checkpoints_no_delete", "DELETE FROM audit_checkpoints",
		"DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 3 FROM audit_log)",
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	out, errOut, code := c.run("audit", "verify")
	if code != 2 || !strings.Contains(errOut, "not in the database") || !strings.Contains(errOut, "the tail was cut") {
		t.Fatalf("verify with the checkpoint file: exit %d\n%s%s", code, out, errOut)
	}
	if out := c.ok("audit", "verify", "--checkpoint-file", filepath.Join(dir, "elsewhere.jsonl")); !strings.Contains(out, "intact") {
		t.Fatalf("without the file the cut log looks whole (which is why the file exists): %s", out)
	}
	_, errOut, code = c.run("audit", "checkpoint")
	if code == 0 || !strings.Contains(errOut, "refused to sign") || !strings.Contains(errOut, "deleted from the database") {
		t.Fatalf("checkpoint of a cut log: exit %d %s", code, errOut)
	}
}
