package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"zonevet/engine"
)

var _ engine.DelegationStore = (*DB)(nil)

// writeDelegation writes a Change's delegation part inside tx: a new
// delegation, or a revocation (once: revoking a revoked one is a conflict).
func writeDelegation(ctx context.Context, tx *sql.Tx, c *engine.DelegationPart, at time.Time) (func(), error) {
	var id int64
	if d := c.Create; d != nil {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO delegations (park, body) VALUES (?, ?) RETURNING id`, d.Park, string(b)).Scan(&id); err != nil {
			return nil, err
		}
	}
	if c.Revoke != 0 {
		stamp := at.UTC().Format(time.RFC3339Nano)
		// The CAST types the parameter: PostgreSQL's json_set takes anyelement
		// and cannot resolve an untyped one; SQLite stores the same text.
		res, err := tx.ExecContext(ctx, `UPDATE delegations SET revoked_at = ?, body = json_set(body, '$.revoked_at', CAST(? AS TEXT))
			WHERE id = ? AND revoked_at = ''`, stamp, stamp, c.Revoke)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, engine.Fail(engine.ECONFLICT, "err.delegation_revoked", nil)
		}
	}
	return func() {
		if c.Create != nil {
			c.Create.ID = id
		}
	}, nil
}

// Delegations lists a park's delegations, newest first.
func (db *DB) Delegations(ctx context.Context, park string) ([]engine.Delegation, error) {
	var out []engine.Delegation
	err := db.eachRow(ctx, `SELECT id, body FROM delegations WHERE park = ? ORDER BY id DESC`, []any{park}, func(rows *sql.Rows) error {
		var d engine.Delegation
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			return err
		}
		d.ID = id
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, wrap("delegations", err)
	}
	return out, nil
}
