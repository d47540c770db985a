package store

import (
	"context"
	"database/sql"
	"errors"

	"zonevet/engine"
)

var _ engine.CalendarStore = (*DB)(nil)

// CalendarInForce returns the newest loaded calendar with its source.
func (db *DB) CalendarInForce(ctx context.Context) (engine.CalendarRecord, error) {
	var rec engine.CalendarRecord
	err := db.read.QueryRowContext(ctx, `SELECT version, source, loaded_by, loaded_at FROM calendars ORDER BY id DESC LIMIT 1`).
		Scan(&rec.Version, &rec.Source, &rec.LoadedBy, timeCol{&rec.LoadedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return rec, notFound("工作日历", "Calendar")
	}
	rec.InForce = true
	return rec, wrap("calendar in force", err)
}

// Calendars lists the loaded versions, newest first, without their source.
func (db *DB) Calendars(ctx context.Context) ([]engine.CalendarRecord, error) {
	var out []engine.CalendarRecord
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT version, loaded_by, loaded_at FROM calendars ORDER BY id DESC`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rec engine.CalendarRecord
			if err := rows.Scan(&rec.Version, &rec.LoadedBy, timeCol{&rec.LoadedAt}); err != nil {
				return err
			}
			rec.InForce = len(out) == 0
			out = append(out, rec)
		}
		return rows.Err()
	})
	return out, wrap("calendars", err)
}

// LoadCalendar appends rec as the calendar in force and e, its log entry, in
// one transaction. It fills in e's Seq, Time and hashes.
func (db *DB) LoadCalendar(ctx context.Context, rec engine.CalendarRecord, e *engine.AuditEntry) error {
	entry := *e
	entry.Time = orNow(entry.Time, db.now())
	err := db.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendars (version, source, loaded_by, loaded_at) VALUES (?, ?, ?, ?)`,
			rec.Version, rec.Source, rec.LoadedBy, fmtTime(orNow(rec.LoadedAt, db.now()))); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &entry)
	})
	if err != nil {
		return wrap("load calendar", err)
	}
	*e = entry
	return nil
}
