package main

import (
	"path/filepath"
	"strings"
	"testing"

	"zonevet/store/storetest"
)

// TestMigrateRoundTrip: the demo database copied SQLite → PostgreSQL →
// SQLite exports the same decision log, byte for byte, from all three, and
// a copy into a database that is not empty is refused.
func TestMigrateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	pg := storetest.PostgresURL(t)
	back := filepath.Join(dir, "back.db")
	if out := c.ok("migrate", "--from", c.db, "--to", pg); !strings.Contains(out, "decision log verified on the copy") {
		t.Fatalf("migrate to PostgreSQL: %s", out)
	}
	if out := c.ok("migrate", "--from", pg, "--to", back); !strings.Contains(out, "decision log verified on the copy") {
		t.Fatalf("migrate back: %s", out)
	}
	if _, errOut, code := c.run("migrate", "--from", c.db, "--to", back); code == 0 || !strings.Contains(errOut, "not empty") {
		t.Fatalf("migrate into a database in use: exit %d %s", code, errOut)
	}
	// No key at hand, so no export signs a new checkpoint of its own.
	export := func(db string) string {
		return c.ok("audit", "export", "--db", db, "--signing-key", filepath.Join(dir, "no-key.pem"))
	}
	want := export(c.db)
	if len(want) < 1000 {
		t.Fatalf("demo export of %d bytes", len(want))
	}
	for name, db := range map[string]string{"postgres": pg, "back": back} {
		if got := export(db); got != want {
			t.Errorf("%s: export differs from the original's (%d bytes, want %d)", name, len(got), len(want))
		}
	}
}
