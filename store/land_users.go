package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"zonevet/engine"
)

var _ engine.LandUserStore = (*DB)(nil)

// writeLandUsers upserts a Change's land users and their figures of a year
// inside tx, and returns the write-back of the users' ids.
func writeLandUsers(ctx context.Context, tx *sql.Tx, c *engine.LandUsersPart) (func(), error) {
	ids := make([]int64, len(c.Users))
	for i := range c.Users {
		l := c.Users[i]
		// The id comes from the row: keep the existing one on a re-import.
		if err := tx.QueryRowContext(ctx, `INSERT INTO land_users (park, uscc, body) VALUES (?, ?, '{}')
			ON CONFLICT (park, uscc) DO UPDATE SET park = excluded.park RETURNING id`, l.Park, l.USCC).Scan(&l.ID); err != nil {
			return nil, err
		}
		ids[i] = l.ID
		b, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE land_users SET body = ? WHERE id = ?`, string(b), l.ID); err != nil {
			return nil, err
		}
		f := c.Figures[i]
		f.ProjectID = l.FirmID()
		fb, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO land_user_figures (land_user_id, year, park, body) VALUES (?, ?, ?, ?)
			ON CONFLICT (land_user_id, year) DO UPDATE SET park = excluded.park, body = excluded.body`, l.ID, f.Year, f.Park, string(fb)); err != nil {
			return nil, err
		}
	}
	return func() {
		for i := range c.Users {
			c.Users[i].ID = ids[i]
		}
	}, nil
}

// LandUsers lists a park's land users by code.
func (db *DB) LandUsers(ctx context.Context, park string) ([]engine.LandUser, error) {
	return scanJSON[engine.LandUser](ctx, db, "land users", `SELECT json_set(body, '$.id', id) FROM land_users WHERE park = ? ORDER BY uscc`, park)
}

// LandUserFigures lists a park's land users' figures of a year.
func (db *DB) LandUserFigures(ctx context.Context, park string, year int) ([]engine.AnnualFigures, error) {
	return scanJSON[engine.AnnualFigures](ctx, db, "land user figures", `SELECT body FROM land_user_figures WHERE park = ? AND year = ? ORDER BY land_user_id`, park, year)
}
