package store

import (
	"context"
	"database/sql"
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"

	"zonevet/engine"
)

// Writer exposes the raw writer pool to tests that must bypass the store:
// tampering with the log, checking triggers, the baseline benchmark.
func (db *DB) Writer() *sql.DB { return db.write }

// Reader exposes the read pool so tests can check each connection's pragmas.
func (db *DB) Reader() *sql.DB { return db.read }

// Migrate runs the migrations again, to prove a second run is a no-op.
func (db *DB) Migrate(ctx context.Context) error { return db.migrate(ctx) }

// ProjectsPlan returns SQLite's query plans for the statements Projects(f)
// may run: the total, each segment's page forwards and backwards and its
// count, one line per step; for a search, read both from its hits and by
// the index.
func (db *DB) ProjectsPlan(ctx context.Context, f engine.ProjectFilter) ([]string, error) {
	var plan []string
	for _, hits := range []hitList{{}, {ids: "[1, 2, 3]", n: 3}} {
		q, err := db.projectQuery(f, hits)
		if err != nil {
			return nil, err
		}
		p, err := db.queryPlan(ctx, q)
		if err != nil {
			return nil, err
		}
		plan = append(plan, p...)
	}
	return plan, nil
}

func (db *DB) queryPlan(ctx context.Context, q projectQuery) ([]string, error) {
	type stmt struct {
		sql  string
		args []any
	}
	stmts := []stmt{{q.count, q.countArgs}}
	for _, s := range q.segs {
		page := append(append([]any{}, q.args...), 50, 0)
		stmts = append(stmts, stmt{q.segmentPage(s, false), page}, stmt{q.segmentPage(s, true), page}, stmt{q.segmentCount(s), q.args})
	}
	var plan []string
	for _, s := range stmts {
		rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+s.sql, s.args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				rows.Close()
				return nil, err
			}
			plan = append(plan, detail)
		}
		rows.Close()
	}
	return plan, nil
}

// SetMaxHits lowers the number of search hits up to which lists are read
// from the hits, for the length of a test.
func SetMaxHits(t testing.TB, n int) {
	old := maxHits
	maxHits = n
	t.Cleanup(func() { maxHits = old })
}

// OpenAtVersion creates a database at path migrated only up to version and
// returns it raw, so a test can put data in the old shape before Open
// migrates the rest. Versions in skip are left out.
func OpenAtVersion(ctx context.Context, path string, version int64, skip ...int64) (*sql.DB, error) {
	raw, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, err
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, fsys, goose.WithDisableGlobalRegistry(true),
		goose.WithExcludeVersions(skip))
	if err != nil {
		return nil, err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return nil, err
	}
	return raw, nil
}

// ApplyQueue reports whether an Apply is running a batch and how many wait
// behind it.
func (db *DB) ApplyQueue() (busy bool, waiting int) {
	db.queue.mu.Lock()
	defer db.queue.mu.Unlock()
	return db.queue.busy, len(db.queue.waiting)
}
