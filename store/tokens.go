package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"zonevet/engine"
)

// writeToken writes a token part inside tx and returns the token's id, and
// whether anything changed: a token revoked before, or an address a
// concurrent request recorded first, changes nothing and is not logged.
// It runs before the change's entry is built, for the entry names the id.
func writeToken(ctx context.Context, tx *sql.Tx, c *engine.TokenPart, now time.Time) (id int64, changed bool, err error) {
	if c.Entry == nil {
		return 0, false, engine.FieldFail("entry", "err.token_change_needs_log", nil)
	}
	switch {
	case c.Create != nil:
		t := c.Create
		if t.Hash == "" {
			return 0, false, engine.FieldFail("hash", "err.token_hash_required", nil)
		}
		t.CreatedAt = orNow(t.CreatedAt, now)
		err := tx.QueryRowContext(ctx, `
			INSERT INTO api_tokens (user_id, name, hash, created_at, revoked, scopes, parks, expires_at)
			VALUES (?, ?, ?, ?, 0, ?, ?, ?) RETURNING id`,
			t.UserID, t.Name, t.Hash, fmtTime(t.CreatedAt), strings.Join(t.Scopes, " "), strings.Join(t.Parks, " "), fmtTimePtr(t.ExpiresAt)).Scan(&id)
		switch {
		case isForeignKey(err):
			return 0, false, notFound("what.user")
		case isUnique(err):
			return 0, false, engine.Fail(engine.ECONFLICT, "err.token_already_exists", nil)
		case err != nil:
			return 0, false, err
		}
		t.ID = id
	case c.Revoke != 0:
		id = c.Revoke
		err := mustAffect(tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE id = ? AND user_id = ? AND revoked = 0`, id, c.UserID))
		if errors.Is(err, errNoRows) {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = ? AND user_id = ?)`, id, c.UserID).Scan(&exists); err != nil {
				return 0, false, err
			}
			if !exists {
				return 0, false, notFound("what.token")
			}
			return id, false, nil // revoked before: nothing changes, nothing to log
		}
		if err != nil {
			return 0, false, err
		}
	case c.Used != 0:
		id = c.Used
		at := fmtTime(orNow(c.UsedAt, now))
		res, err := tx.ExecContext(ctx, `INSERT INTO api_token_addrs (token_id, addr, first_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, c.UsedAddr, at)
		if isForeignKey(err) {
			return 0, false, notFound("what.token")
		}
		if err != nil {
			return 0, false, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ?, last_used_addr = ? WHERE id = ?`, at, c.UsedAddr, id); err != nil {
			return 0, false, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return id, false, err // known already (a concurrent request logged it)
		}
	default:
		return 0, false, engine.FieldFail("change", "err.empty_token_change", nil)
	}
	return id, true, nil
}

// TokenAddressKnown reports whether the token was used from addr before.
func (db *DB) TokenAddressKnown(ctx context.Context, id int64, addr string) (bool, error) {
	var known bool
	err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_token_addrs WHERE token_id = ? AND addr = ?)`, id, addr).Scan(&known)
	return known, wrap("token address known", err)
}
