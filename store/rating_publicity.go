package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"zonevet/engine"
)

var _ engine.PublicityStore = (*DB)(nil)

// applyPublicity writes a rating run's publicity step inside the caller's
// transaction (Apply, a Change's TrackingPart), beside its decision-log entry.
func applyPublicity(ctx context.Context, tx *sql.Tx, c *engine.PublicityChange) error {
	if c == nil {
		return nil
	}
	if p := c.Publicity; p != nil {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if c.ExpectedVersion == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO rating_publicity (run_id, park, year, status, version, body) VALUES (?, ?, ?, ?, ?, ?)`,
				p.RunID, p.Park, p.Year, p.Status, p.Version, string(b)); err != nil {
				if isUnique(err) {
					return engine.Fail(engine.ECONFLICT, "err.this_run_has_already_been_published", nil)
				}
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE rating_publicity SET status = ?, version = ?, body = ? WHERE run_id = ? AND version = ?`,
				p.Status, p.Version, string(b), p.RunID, c.ExpectedVersion)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return engine.Fail(engine.ECONFLICT, "err.run_publicity_changed_reload_and_try", nil)
			}
		}
	}
	if o := c.Objection; o != nil {
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if o.ID == 0 {
			// The body's id is left 0: reads take it from the column (json_set).
			return tx.QueryRowContext(ctx, `INSERT INTO rating_objections (run_id, project_id, outcome, body) VALUES (?, ?, ?, ?) RETURNING id`,
				o.RunID, o.ProjectID, o.Outcome, string(b)).Scan(&o.ID)
		}
		res, err := tx.ExecContext(ctx, `UPDATE rating_objections SET outcome = ?, body = ? WHERE id = ? AND outcome = ''`, o.Outcome, string(b), o.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return engine.Fail(engine.ECONFLICT, "err.objection_has_already_been_decided", nil)
		}
	}
	return nil
}

// Publicity returns a run's publicity record.
func (db *DB) Publicity(ctx context.Context, runID int64) (*engine.Publicity, error) {
	var p engine.Publicity
	err := db.view(ctx, func(tx *sql.Tx) error {
		var body string
		if err := tx.QueryRowContext(ctx, `SELECT body FROM rating_publicity WHERE run_id = ?`, runID).Scan(&body); err != nil {
			return err
		}
		return json.Unmarshal([]byte(body), &p)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, engine.Fail(engine.ENOTFOUND, "err.run_has_not_been", nil)
	}
	if err != nil {
		return nil, wrap("publicity", err)
	}
	return &p, nil
}

// Objections lists a run's objections, oldest first.
func (db *DB) Objections(ctx context.Context, runID int64) ([]engine.Objection, error) {
	return scanJSON[engine.Objection](ctx, db, "objections", `SELECT json_set(body, '$.id', id) FROM rating_objections WHERE run_id = ? ORDER BY id`, runID)
}

// Objection returns one objection.
func (db *DB) Objection(ctx context.Context, id int64) (*engine.Objection, error) {
	out, err := scanJSON[engine.Objection](ctx, db, "objection", `SELECT json_set(body, '$.id', id) FROM rating_objections WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, engine.Fail(engine.ENOTFOUND, "err.objection_not_found", nil)
	}
	return &out[0], nil
}
