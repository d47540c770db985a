package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// appendAudit chains e to the last entry and inserts it. It must run inside
// the write transaction: BEGIN IMMEDIATE holds the write lock from the start,
// so no other writer, in this process or another, can append between our read
// of the head and our insert, and seq/prev_hash cannot fork.
func (db *DB) appendAudit(ctx context.Context, tx *sql.Tx, e *engine.AuditEntry) error {
	var lastSeq int64
	lastHash := engine.GenesisHash
	err := tx.StmtContext(ctx, db.stmts.auditHead).QueryRowContext(ctx).Scan(&lastSeq, &lastHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err := db.chain(ctx, tx, e, lastSeq, lastHash); err != nil {
		return err
	}
	if err := db.appendTree(ctx, tx, e); err != nil {
		return err
	}
	_, err = tx.StmtContext(ctx, db.stmts.auditInsert).ExecContext(ctx, db.auditValues(e)...)
	return err
}

// chain makes e the entry after (lastSeq, lastHash): its seq, predecessor
// and hash, with its time in UTC as the hash covers it.
func (db *DB) chain(ctx context.Context, tx *sql.Tx, e *engine.AuditEntry, lastSeq int64, lastHash string) error {
	e.Seq, e.PrevHash = lastSeq+1, lastHash
	e.Time = e.Time.UTC()
	suite, err := db.suiteFor(ctx, tx, lastSeq, e)
	if err != nil {
		return err
	}
	e.Hash = engine.ChainHashWith(suite, e.PrevHash, e)
	return nil
}

// auditColumns are audit_log's columns, one per engine.EntryFields row, in
// its order; auditInsertSQL, scanAudit and auditValues follow the same.
var auditColumns = strings.Join(engine.EntryColumns(), ", ")

var auditInsertSQL = `INSERT INTO audit_log (` + auditColumns + `) VALUES (?` +
	strings.Repeat(", ?", len(engine.EntryFields)-1) + `)`

// auditValues are e's fields as the columns store them (times in the
// store's fixed-width layout; on PostgreSQL the chained texts as bytes).
func (db *DB) auditValues(e *engine.AuditEntry) []any {
	out := make([]any, len(engine.EntryFields))
	for i := range engine.EntryFields {
		f := &engine.EntryFields[i]
		switch f.Kind {
		case engine.FieldInt:
			out[i] = *f.Int(e)
		case engine.FieldTime:
			out[i] = fmtTime(*f.Time(e))
		default:
			out[i] = db.entryText(f, *f.Text(e))
		}
	}
	return out
}

// entryText is a text field's value as a query argument. On PostgreSQL the
// texts the chain hash covers are bytea (migrations_pg/00395: text cannot
// hold NUL or invalid UTF-8, SQLite's TEXT can), and pgx sends bytea only
// from []byte; the store's own ASCII (prev_hash, hash) stays text.
func (db *DB) entryText(f *engine.EntryField, s string) any {
	if db.dialect == postgresDialect && f.Chained {
		return []byte(s)
	}
	return s
}

// entryArgs is entryText for the filter values of the column named col.
func (db *DB) entryArgs(col string, vals []any) []any {
	for i := range engine.EntryFields {
		if f := &engine.EntryFields[i]; f.Name == col {
			for j, v := range vals {
				vals[j] = db.entryText(f, v.(string))
			}
		}
	}
	return vals
}

func scanAudit(s interface{ Scan(...any) error }, e *engine.AuditEntry) error {
	dst := make([]any, len(engine.EntryFields))
	for i := range engine.EntryFields {
		f := &engine.EntryFields[i]
		switch f.Kind {
		case engine.FieldInt:
			dst[i] = f.Int(e)
		case engine.FieldTime:
			dst[i] = timeCol{f.Time(e)}
		default:
			dst[i] = f.Text(e)
		}
	}
	return s.Scan(dst...)
}

// AuditEntries returns the entries matching f, oldest first (ascending seq).
// Oldest first makes AfterSeq a cursor: pass the last seq of one page to get
// the next, and an auditor's incremental pull never misses an entry. From is
// inclusive and To exclusive; Limit <= 0 means no limit.
func (db *DB) AuditEntries(ctx context.Context, f engine.AuditFilter) ([]engine.AuditEntry, error) {
	where, args := db.auditWhere(engine.AuditQuery{AuditFilter: f})
	q := `SELECT ` + auditColumns + ` FROM audit_log` + where + ` ORDER BY seq`
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}

	var out []engine.AuditEntry
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e engine.AuditEntry
			if err := scanAudit(rows, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, wrap("audit entries", err)
}

// EachAuditEntry calls fn for every entry in seq order, reading chunk by
// chunk (two connections at once, see eachAuditRow) or row by row, so memory
// stays constant however long the log. An error
// from fn stops the walk and is returned as is. The read transaction stays
// open while fn runs; in WAL mode that blocks no writer.
func (db *DB) EachAuditEntry(ctx context.Context, fn func(engine.AuditEntry) error) error {
	return db.EachAuditEntryHashed(ctx, nil, func(e *engine.AuditEntry, _ *tlog.Suite) error { return fn(*e) })
}

// EachAuditEntryHashed is EachAuditEntry with each entry's own hash checked
// by the connection's reader that read it (see engine.LogStore); newHash
// nil checks none.
func (db *DB) EachAuditEntryHashed(ctx context.Context, newHash func() engine.EntryHasher, fn func(*engine.AuditEntry, *tlog.Suite) error) error {
	err := db.view(ctx, func(tx *sql.Tx) error {
		return db.eachAuditRow(ctx, tx, newHash, fn)
	})
	var stop errStop
	if errors.As(err, &stop) {
		return stop.err // the caller's own error, unwrapped, e.g. a *engine.ChainBreak
	}
	return wrap("each audit entry", err)
}

// errStop carries fn's error out of the transaction helper untouched.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }
