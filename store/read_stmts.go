package store

import (
	"context"
	"database/sql"
	"errors"
)

// readRow runs a one-row read on the read pool through a statement
// prepared once per query text. Every request reads two or three such rows
// (its session or token, its user, the project it acts on), and parsing
// their SQL anew each time, with a transaction around a single statement,
// cost more than running them: a third of an act's CPU in the profile
// (BENCHMARKS.md, issue 16). database/sql prepares the statement on a
// pooled connection the first time that connection runs it and keeps it
// there. One statement reads one snapshot, so no transaction is needed.
func (db *DB) readRow(ctx context.Context, query string, args ...any) rowScanner {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// readRows is readRow for a read of several rows.
func (db *DB) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// eachPrepared is eachRow through readRows: for fixed query texts read on
// every decision (the expert pool and its load, a project's draw), where
// parsing the SQL and a transaction around one statement cost more than the
// read.
func (db *DB) eachPrepared(ctx context.Context, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.readRows(ctx, query, args...)
	return forEachRow(rows, err, fn)
}

// forEachRow hands every row of a query's result (rows, err) to fn, in
// order, and closes them.
func forEachRow(rows *sql.Rows, err error, fn func(*sql.Rows) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.reads.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.reads.LoadOrStore(query, st); loaded {
		st.Close() // prepared twice at once: keep the first
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// closeReadStmts closes the prepared reads, for Close.
func (db *DB) closeReadStmts() error {
	var errs []error
	db.reads.Range(func(k, st any) bool {
		errs = append(errs, st.(*sql.Stmt).Close())
		db.reads.Delete(k)
		return true
	})
	return errors.Join(errs...)
}

type rowScanner interface{ Scan(...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
