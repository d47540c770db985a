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
	// A backup taken from PostgreSQL is a SQLite database of its own, its
	// log verified; restored into a new PostgreSQL database by migrate.
	bdir := filepath.Join(dir, "backup")
	if out := c.ok("backup", "--db", pg, "--docs", c.db+".docs", bdir); !strings.Contains(out, "decision log intact") || !strings.Contains(out, "zonevet migrate --from") {
		t.Fatalf("backup from PostgreSQL: %s", out)
	}
	restored := storetest.PostgresURL(t)
	if out := c.ok("migrate", "--from", filepath.Join(bdir, "zonevet.db"), "--to", restored); !strings.Contains(out, "decision log verified on the copy") {
		t.Fatalf("restore the backup: %s", out)
	}
	for name, db := range map[string]string{"postgres": pg, "back": back, "backup": filepath.Join(bdir, "zonevet.db"), "restored": restored} {
		if got := export(db); got != want {
			t.Errorf("%s: export differs from the original's (%d bytes, want %d)", name, len(got), len(want))
		}
	}
}
