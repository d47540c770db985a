package store

import (
	"context"
	"database/sql"
	"encoding/json"
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
		return rec, notFound("what.calendar")
	}
	rec.InForce = true
	return rec, wrap("calendar in force", err)
}

// CalendarVersionInForce is the newest loaded calendar's version alone.
func (db *DB) CalendarVersionInForce(ctx context.Context) (string, error) {
	var version string
	err := db.readRow(ctx, `SELECT version FROM calendars ORDER BY id DESC LIMIT 1`).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("what.calendar")
	}
	return version, wrap("calendar version in force", err)
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
	// On PostgreSQL the log's states are bytes (migrations_pg/00395).
	toState := db.pick(`p.state`, `convert_to(p.state, 'UTF8')`)
	err := db.eachRow(ctx, `
			SELECT p.id, p.park, p.state, coalesce((SELECT json_extract(r.report, '$.rule_set_version') FROM project_reports r WHERE r.project_id = p.id), ''), p.due_at,
				(SELECT a.time FROM audit_log a WHERE a.project_id = p.id AND a.to_state = `+toState+` AND a.from_state <> a.to_state
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

const calendarChangeCols = `id, version, base_version, source, state, note, days, proposed_by, proposed_at,
	decided_by, decided_at, reason, row_version`

func scanCalendarChange(sc interface{ Scan(...any) error }) (engine.CalendarChange, error) {
	var c engine.CalendarChange
	var days, decidedAt string
	if err := sc.Scan(&c.ID, &c.Version, &c.BaseVersion, &c.Source, &c.State, &c.Note, &days, &c.ProposedBy, timeCol{&c.ProposedAt},
		&c.DecidedBy, &decidedAt, &c.Reason, &c.RowVersion); err != nil {
		return c, err
	}
	if decidedAt != "" {
		if err := (timeCol{&c.DecidedAt}).Scan(decidedAt); err != nil {
			return c, err
		}
	}
	return c, json.Unmarshal([]byte(days), &c.Days)
}

// CalendarChanges lists the calendar changes, newest first.
func (db *DB) CalendarChanges(ctx context.Context) ([]engine.CalendarChange, error) {
	var out []engine.CalendarChange
	err := db.eachRow(ctx, `SELECT `+calendarChangeCols+` FROM calendar_changes ORDER BY id DESC`, nil, func(rows *sql.Rows) error {
		c, err := scanCalendarChange(rows)
		out = append(out, c)
		return err
	})
	return out, wrap("calendar changes", err)
}

// CalendarChange returns one calendar change, with its file.
func (db *DB) CalendarChange(ctx context.Context, id int64) (engine.CalendarChange, error) {
	c, err := scanCalendarChange(db.readRow(ctx, `SELECT `+calendarChangeCols+` FROM calendar_changes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("what.calendar_proposal")
	}
	return c, wrap("calendar change", err)
}

// writeCalendar writes a Change's calendar part inside tx: a proposal, a
// decision on one (only while it is still proposed at the row version the
// decider read), and on approval the calendar in force — provided the one
// the approver's preview counted against still is — with the re-counted
// deadlines of projects still in the state they were counted for. It
// returns the write-back (the new id, the decided row version).
func writeCalendar(ctx context.Context, tx *sql.Tx, c *engine.CalendarPart, at time.Time) (func(), error) {
	var proposed int64
	if p := c.Propose; p != nil {
		days, err := json.Marshal(p.Days)
		if err != nil {
			return nil, err
		}
		err = tx.QueryRowContext(ctx, `
			INSERT INTO calendar_changes (version, base_version, source, state, note, days, proposed_by, proposed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			p.Version, p.BaseVersion, p.Source, string(p.State), p.Note, string(days), p.ProposedBy, fmtTime(orNow(p.ProposedAt, at))).Scan(&proposed)
		if isUnique(err) {
			return nil, engine.Fail(engine.ECONFLICT, "err.calendar_already_proposed", nil)
		}
		if err != nil {
			return nil, err
		}
	}
	if d := c.Decide; d != nil {
		res, err := tx.ExecContext(ctx, `
			UPDATE calendar_changes SET state = ?, decided_by = ?, decided_at = ?, reason = ?, row_version = row_version + 1
			WHERE id = ? AND row_version = ? AND state = 'proposed'`,
			string(d.State), d.DecidedBy, fmtTime(orNow(d.DecidedAt, at)), d.Reason, d.ID, d.RowVersion)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			return nil, engine.Fail(engine.ECONFLICT, "err.calendar_proposal_was_decided", nil)
		}
	}
	if rec := c.Record; rec != nil {
		if c.ExpectInForce != "" {
			var v string
			err := tx.QueryRowContext(ctx, `SELECT version FROM calendars ORDER BY id DESC LIMIT 1`).Scan(&v)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
			// No row: the built-in calendar is in force, and only it can be expected.
			if v != "" && v != c.ExpectInForce || v == "" && c.ExpectInForce != engine.BuiltinCalendarVersion() {
				return nil, engine.Fail(engine.ECONFLICT, "err.calendar_in_force_changed", nil)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendars (version, source, loaded_by, loaded_at) VALUES (?, ?, ?, ?)`,
			rec.Version, rec.Source, rec.LoadedBy, fmtTime(orNow(rec.LoadedAt, at))); err != nil {
			return nil, err
		}
		for _, d := range c.Moved {
			if _, err := tx.ExecContext(ctx, `UPDATE projects SET due_at = ? WHERE id = ? AND state = ?`,
				fmtTimePtr(d.DueAt), d.ProjectID, string(d.State)); err != nil {
				return nil, err
			}
		}
	}
	return func() {
		if c.Propose != nil {
			c.Propose.ID = proposed
		}
		if c.Decide != nil {
			c.Decide.RowVersion++
		}
	}, nil
}
