package store

import (
	"context"
	"database/sql"
	"errors"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// The log's crypto suite (engine.EventLogSuite) is fixed by its first entry:
// appendAudit hashes every entry, and appendTree every node, with it. It is
// read once, at Open or at the first append that finds it unknown (the log
// was empty at Open and another process wrote its first entry since).

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// loadSuite reads the suite from the log's first entry; an empty log leaves it unknown.
func (db *DB) loadSuite(ctx context.Context, q queryRower) error {
	var e engine.AuditEntry
	err := q.QueryRowContext(ctx, `SELECT event, payload FROM audit_log WHERE seq = 1`).Scan(&e.Event, &e.Payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return wrap("log suite", err)
	}
	db.suite.Store(engine.SuiteOf(&e))
	return nil
}

// logSuite is the log's suite, the default while the log is empty.
func (db *DB) logSuite() *tlog.Suite {
	if s := db.suite.Load(); s != nil {
		return s
	}
	return tlog.Default
}

// LogSuite is the log's crypto suite (the default for an empty log).
func (db *DB) LogSuite() *tlog.Suite { return db.logSuite() }

// suiteFor returns the suite of the entry e about to be appended after
// lastSeq: its own record if it is the first, the log's otherwise.
func (db *DB) suiteFor(ctx context.Context, tx *sql.Tx, lastSeq int64, e *engine.AuditEntry) (*tlog.Suite, error) {
	if lastSeq == 0 {
		s := engine.SuiteOf(e)
		db.suite.Store(s)
		return s, nil
	}
	if db.suite.Load() == nil {
		if err := db.loadSuite(ctx, tx); err != nil {
			return nil, err
		}
	}
	return db.logSuite(), nil
}
