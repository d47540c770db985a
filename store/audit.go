package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"zonevet/engine"
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
	e.Seq, e.PrevHash = lastSeq+1, lastHash
	e.Time = e.Time.UTC()
	e.Hash = engine.ChainHash(e.PrevHash, e)
	_, err = tx.StmtContext(ctx, db.stmts.auditInsert).ExecContext(ctx,
		e.Seq, fmtTime(e.Time), e.Actor, string(e.Role), e.Park, e.ProjectID, e.Event, string(e.FromState), string(e.ToState),
		e.Reason, e.RuleSetVersion, e.Payload, e.PrevHash, e.Hash)
	return err
}

const auditColumns = `seq, time, actor, role, park, project_id, event, from_state, to_state, reason, rule_set_version, payload, prev_hash, hash`

func scanAudit(s interface{ Scan(...any) error }, e *engine.AuditEntry) error {
	return s.Scan(&e.Seq, timeCol{&e.Time}, &e.Actor, &e.Role, &e.Park, &e.ProjectID, &e.Event, &e.FromState, &e.ToState,
		&e.Reason, &e.RuleSetVersion, &e.Payload, &e.PrevHash, &e.Hash)
}

// AuditEntries returns the entries matching f, oldest first (ascending seq).
// Oldest first makes AfterSeq a cursor: pass the last seq of one page to get
// the next, and an auditor's incremental pull never misses an entry. From is
// inclusive and To exclusive; Limit <= 0 means no limit.
func (db *DB) AuditEntries(ctx context.Context, f engine.AuditFilter) ([]engine.AuditEntry, error) {
	var where []string
	var args []any
	if len(f.Parks) > 0 {
		in, a := inList(f.Parks)
		where, args = append(where, `park IN (`+in+`)`), append(args, a...)
	}
	if f.ProjectID != 0 {
		where, args = append(where, `project_id = ?`), append(args, f.ProjectID)
	}
	if f.Actor != "" {
		where, args = append(where, `actor = ?`), append(args, f.Actor)
	}
	if f.Role != "" {
		where, args = append(where, `role = ?`), append(args, string(f.Role))
	}
	if len(f.Events) > 0 {
		in, a := inList(f.Events)
		where, args = append(where, `event IN (`+in+`)`), append(args, a...)
	}
	if !f.From.IsZero() {
		where, args = append(where, `time >= ?`), append(args, fmtTime(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, `time < ?`), append(args, fmtTime(f.To))
	}
	if f.AfterSeq > 0 {
		where, args = append(where, `seq > ?`), append(args, f.AfterSeq)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY seq`
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
	err := db.view(ctx, func(tx *sql.Tx) error {
		return db.eachAuditRow(ctx, tx, func(e *engine.AuditEntry) error { return fn(*e) })
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
