package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"zonevet/engine"
	"zonevet/store"
)

// TestCloseLeavesPlannerStatistics guards the planner's statistics: the
// product, not only the benchmark, must keep sqlite_stat1 (PRAGMA optimize on
// open and close), or the filtered project lists lose their indexes' costs.
func TestCloseLeavesPlannerStatistics(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "zonevet.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutPark(ctx, engine.Park{ID: "qingyuan", NameZH: "清远"}); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		p := sampleProject("qingyuan", fmt.Sprintf("项目%d", i))
		p.USCC = fmt.Sprintf("91441800%010d", i)
		mustCreate(t, db, p)
	}
	// The list filters on park and state: the planner weighs those indexes by
	// what they return, so it needs one row saying so.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'projects'`).Scan(&n); err != nil {
		t.Fatalf("sqlite_stat1 after close: %v", err)
	}
	if n == 0 {
		t.Fatal("no planner statistics for projects after close: PRAGMA optimize did not run")
	}
}
