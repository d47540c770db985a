package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

var _ engine.CheckpointStore = (*DB)(nil)

// AuditCountCap is where AuditPage stops counting: past it the page says
// "more than". Counting a filtered million-entry log exactly would scan it
// whole on every page view.
const AuditCountCap = 10000

// AddCheckpoint stores a signed checkpoint.
func (db *DB) AddCheckpoint(ctx context.Context, c *engine.Checkpoint) error {
	err := db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, time, public_key, signature, root, note) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.Seq, c.Hash, fmtTime(c.Time), c.Key, c.Signature, c.Root, c.Note)
		return err
	})
	return wrap("add checkpoint", err)
}

// Checkpoints lists every checkpoint, ascending by seq, then time.
func (db *DB) Checkpoints(ctx context.Context) ([]engine.Checkpoint, error) {
	var out []engine.Checkpoint
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		out, err = checkpoints(ctx, tx)
		return err
	})
	return out, wrap("checkpoints", err)
}

func checkpoints(ctx context.Context, tx *sql.Tx) ([]engine.Checkpoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, hash, time, public_key, signature, root, note FROM audit_checkpoints ORDER BY seq, time, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Checkpoint
	for rows.Next() {
		var c engine.Checkpoint
		if err := rows.Scan(&c.Seq, &c.Hash, timeCol{&c.Time}, &c.Key, &c.Signature, &c.Root, &c.Note); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AuditHead returns the last entry's seq and hash.
func (db *DB) AuditHead(ctx context.Context) (int64, string, error) {
	seq, hash := int64(0), engine.GenesisHash
	err := db.read.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, engine.GenesisHash, nil
	}
	return seq, hash, wrap("audit head", err)
}

// AuditEntry returns the entry with that seq.
func (db *DB) AuditEntry(ctx context.Context, seq int64) (*engine.AuditEntry, error) {
	var e engine.AuditEntry
	err := scanAudit(db.read.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq = ?`, seq), &e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("what.log_entry")
	}
	if err != nil {
		return nil, wrap("audit entry", err)
	}
	return &e, nil
}

// auditWhere builds the WHERE clause of q.
func (db *DB) auditWhere(q engine.AuditQuery) (string, []any) {
	var where []string
	var args []any
	if len(q.Parks) > 0 {
		in, a := inList(q.Parks)
		cond := `park IN (` + in + `)`
		if q.System {
			cond = `(` + cond + ` OR park = '')`
		}
		where, args = append(where, cond), append(args, db.entryArgs("park", a)...)
	}
	if q.ProjectID != 0 {
		where, args = append(where, `project_id = ?`), append(args, q.ProjectID)
	}
	if q.Actor != "" {
		where, args = append(where, `actor = ?`), append(args, db.entryArgs("actor", []any{q.Actor})...)
	}
	if q.Role != "" {
		where, args = append(where, `role = ?`), append(args, db.entryArgs("role", []any{string(q.Role)})...)
	}
	if len(q.Events) > 0 {
		in, a := inList(q.Events)
		where, args = append(where, `event IN (`+in+`)`), append(args, db.entryArgs("event", a)...)
	}
	if !q.From.IsZero() {
		where, args = append(where, `time >= ?`), append(args, fmtTime(q.From))
	}
	if !q.To.IsZero() {
		where, args = append(where, `time < ?`), append(args, fmtTime(q.To))
	}
	if q.AfterSeq > 0 {
		where, args = append(where, `seq > ?`), append(args, q.AfterSeq)
	}
	if len(where) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(where, " AND "), args
}

// AuditPage returns the page of entries matching q (q.Limit of them from
// q.Offset, newest first if q.Desc) and how many match, counted up to
// AuditCountCap+1, from one snapshot.
func (db *DB) AuditPage(ctx context.Context, q engine.AuditQuery) ([]engine.AuditEntry, int, error) {
	where, args := db.auditWhere(q)
	order := ` ORDER BY seq`
	if q.Desc {
		order += ` DESC`
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	var out []engine.AuditEntry
	total := 0
	err := db.view(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM audit_log`+where+` LIMIT ?) AS hits`,
			append(append([]any(nil), args...), AuditCountCap+1)...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log`+where+order+` LIMIT ? OFFSET ?`,
			append(args, limit, max(q.Offset, 0))...)
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
	return out, total, wrap("audit page", err)
}

// ExportAudit hands over the checkpoints and then streams the entries
// matching q, oldest first, from one read snapshot (for the whole log, rows
// read by the scan's own connections are capped at that snapshot's head;
// entries below it never change, see audit_scan.go). Entries are reused: the
// callback must not keep one.
func (db *DB) ExportAudit(ctx context.Context, q engine.AuditQuery, cps func([]engine.Checkpoint) error, fn func(*engine.AuditEntry) error) error {
	where, args := db.auditWhere(q)
	err := db.view(ctx, func(tx *sql.Tx) error {
		all, err := checkpoints(ctx, tx)
		if err != nil {
			return err
		}
		if err := cps(all); err != nil {
			return errStop{err}
		}
		if where == "" {
			// The whole log: read by two connections at once while its seqs
			// are the contiguous ones the triggers keep (audit_scan.go).
			return db.eachAuditRow(ctx, tx, nil, func(e *engine.AuditEntry, _ *tlog.Suite) error { return fn(e) })
		}
		return eachAuditQuery(ctx, tx, where, args, fn)
	})
	var stop errStop
	if errors.As(err, &stop) {
		return stop.err
	}
	return wrap("export audit", err)
}

var _ engine.CosignatureStore = (*DB)(nil)

// AddCosignature stores a witness's cosignature of a checkpoint.
func (db *DB) AddCosignature(ctx context.Context, c *engine.Cosignature) error {
	err := db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_cosignatures (witness_url, name, seq, time, note) VALUES (?, ?, ?, ?, ?)`,
			c.WitnessURL, c.Name, c.Seq, fmtTime(c.Time), c.Note)
		return err
	})
	return wrap("add cosignature", err)
}

// Cosignatures lists every stored cosignature, oldest first.
func (db *DB) Cosignatures(ctx context.Context) ([]engine.Cosignature, error) {
	var out []engine.Cosignature
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT witness_url, name, seq, time, note FROM audit_cosignatures ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c engine.Cosignature
			if err := rows.Scan(&c.WitnessURL, &c.Name, &c.Seq, timeCol{&c.Time}, &c.Note); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, wrap("cosignatures", err)
}
