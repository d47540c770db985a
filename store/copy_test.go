package store_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// TestCopyRoundTrip: SQLite → PostgreSQL → SQLite keeps every row of every
// table and every log entry, the copies' chains verify, the target's ids go
// on from the copied ones, and a non-empty target is refused.
func TestCopyRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := mustOpenPath(t, storetest.SQLitePath(t))
	reviewer := mustUser(t, src, "reviewer1")
	p := mustCreate(t, src, sampleProject("qingyuan", "高端电子信息制造项目"))
	if err := src.Apply(ctx, transition(p, 1, engine.EventSubmit, engine.StateScreening)); err != nil {
		t.Fatal(err)
	}
	score := &engine.Score{ProjectID: p.ID, Round: 0, ReviewerID: reviewer, Reviewer: "reviewer1", Items: map[string]float64{"tax": 15}, Total: 15}
	if err := src.Apply(ctx, &engine.Change{Score: score, Entry: engine.AuditEntry{Actor: "reviewer1", Event: engine.EventScore, ProjectID: p.ID}}); err != nil {
		t.Fatal(err)
	}
	// Bytes PostgreSQL's text cannot hold (NUL, invalid UTF-8) and a
	// backslash its bytea text input would read as an escape: every byte
	// goes over and back (the log's texts are bytea there, 00395).
	odd := engine.AuditEntry{Actor: "reviewer1", Event: "note", Reason: `a\x00b\\`, Payload: "\x00\xff非UTF-8\x00"}
	if err := src.Apply(ctx, &engine.Change{Entry: odd}); err != nil {
		t.Fatal(err)
	}

	pg := openEmpty(t, storetest.PostgresURL(t))
	counts, err := src.CopyTo(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	back := mustOpenPath(t, storetest.SQLitePath(t))
	if _, err := pg.CopyTo(ctx, back); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("copy into a target with parks: %v, want refused", err) // mustOpenPath seeded them
	}
	back = openEmpty(t, storetest.SQLitePath(t))
	again, err := pg.CopyTo(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(counts, again) || counts["audit_log"] != 5 || counts["scores"] != 1 {
		t.Fatalf("rows copied %v, then %v", counts, again)
	}
	want, _ := src.AuditEntries(ctx, engine.AuditFilter{})
	for name, db := range map[string]*store.DB{"postgres": pg, "sqlite": back} {
		got, err := db.AuditEntries(ctx, engine.AuditFilter{})
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s: log %v, %v; want %v", name, got, err, want)
		}
		verifyChain(t, db)
		if s, err := db.Scores(ctx, p.ID, 0); err != nil || len(s) != 1 || s[0].Total != 15 {
			t.Fatalf("%s: scores %+v, %v", name, s, err)
		}
		q := mustCreate(t, db, sampleProject("yingde", "新项目")) // ids go on past the copied ones
		if q.ID != p.ID+1 {
			t.Fatalf("%s: new project id %d, want %d", name, q.ID, p.ID+1)
		}
	}
}

// openEmpty opens path without seeding anything.
func openEmpty(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestCopyCoversEveryTable: a new table must be copied, or named as one the
// target derives, or a migration would silently drop it.
func TestCopyCoversEveryTable(t *testing.T) {
	db := mustOpenPath(t, storetest.SQLitePath(t))
	rows, err := db.Writer().Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'projects_fts%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	covered := append(slices.Clone(store.CopyTables), store.DerivedTables...)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(covered, name) {
			t.Errorf("table %s is neither copied nor derived (store/copy.go)", name)
		}
	}
}
