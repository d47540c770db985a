package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"zonevet/engine"
)

var _ engine.CalendarStore = (*DB)(nil)

// CalendarInForce returns the newest loaded calendar with its source.
func (db *DB) CalendarInForce(ctx context.Context) (engine.CalendarRecord, error) {
	var rec engine.CalendarRecord
	// Read for every deadline a page shows (the list's 50 rows): a prepared read.
	err := db.readRow(ctx, `SELECT version, source, loaded_by, loaded_at FROM calendars ORDER BY id DESC LIMIT 1`).
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
	err := db.eachRow(ctx, `SELECT version, loaded_by, loaded_at FROM calendars ORDER BY id DESC`, nil, func(rows *sql.Rows) error {
		var rec engine.CalendarRecord
		if err := rows.Scan(&rec.Version, &rec.LoadedBy, timeCol{&rec.LoadedAt}); err != nil {
			return err
		}
		rec.InForce = len(out) == 0
		out = append(out, rec)
		return nil
	})
	return out, wrap("calendars", err)
}

// OpenDeadlines lists the projects in states whose deadline is set, each
// with the time of the entry that moved it into its state (the latest entry
// to that state from another one; the audit_log_project index finds it).
func (db *DB) OpenDeadlines(ctx context.Context, states []engine.State) ([]engine.OpenDeadline, error) {
	ss := make([]string, len(states))
	for i, s := range states {
		ss[i] = string(s)
	}
	in, args := inList(ss)
	var out []engine.OpenDeadline
	err := db.eachRow(ctx, `
			SELECT p.id, p.park, p.state, coalesce((SELECT json_extract(r.report, '$.rule_set_version') FROM project_reports r WHERE r.project_id = p.id), ''), p.due_at,
				(SELECT a.time FROM audit_log a WHERE a.project_id = p.id AND a.to_state = p.state AND a.from_state <> a.to_state
				 ORDER BY a.seq DESC LIMIT 1)
			FROM projects p WHERE p.due_at IS NOT NULL AND p.state IN (`+in+`) ORDER BY p.id`, args, func(rows *sql.Rows) error {
		var d engine.OpenDeadline
		var state, due string
		var since sql.NullString
		if err := rows.Scan(&d.ProjectID, &d.Park, &state, &d.RuleSetVersion, &due, &since); err != nil {
			return err
		}
		if !since.Valid {
			return nil // no entry into the state: nothing to count from
		}
		d.State = engine.State(state)
		var t, s time.Time
		if err := (timeCol{&t}).Scan(due); err != nil {
			return err
		}
		if err := (timeCol{&s}).Scan(since.String); err != nil {
			return err
		}
		d.DueAt, d.Since = &t, s
		out = append(out, d)
		return nil
	})
	return out, wrap("open deadlines", err)
}

// writeCalendar appends a Change's calendar as the one in force (loaded at
// at, when the record has no time) and writes the re-counted deadlines of
// projects still in the state they were counted for, inside tx. A deadline
// is derived data: the projects' versions do not change.
func writeCalendar(ctx context.Context, tx *sql.Tx, c *engine.CalendarPart, at time.Time) error {
	rec := c.Record
	if _, err := tx.ExecContext(ctx, `INSERT INTO calendars (version, source, loaded_by, loaded_at) VALUES (?, ?, ?, ?)`,
		rec.Version, rec.Source, rec.LoadedBy, fmtTime(orNow(rec.LoadedAt, at))); err != nil {
		return err
	}
	for _, d := range c.Moved {
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET due_at = ? WHERE id = ? AND state = ?`,
			fmtTimePtr(d.DueAt), d.ProjectID, string(d.State)); err != nil {
			return err
		}
	}
	return nil
}
