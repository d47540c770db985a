package store

import (
	"context"
	"database/sql"
	"io/fs"

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

// ProjectsPlan returns SQLite's query plans for the count and the page that
// Projects(f) would run, one line per step.
func (db *DB) ProjectsPlan(ctx context.Context, f engine.ProjectFilter) ([]string, error) {
	q, err := db.projectQuery(f)
	if err != nil {
		return nil, err
	}
	var plan []string
	for _, s := range []struct {
		sql  string
		args []any
	}{{q.count, q.args}, {q.page, q.pageArgs}} {
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
