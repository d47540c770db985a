package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"zonevet/engine"
)

// UpdateLoginCounts implements engine.AccountStore. It runs in update's
// write transaction (BEGIN IMMEDIATE on SQLite, the chain head's row lock
// on PostgreSQL), so two processes' attempts on the same keys are counted
// one after the other, never both from the same old count.
func (db *DB) UpdateLoginCounts(ctx context.Context, now time.Time, keys []string, change func([]*engine.LoginCount)) error {
	at := fmtTime(now)
	return wrap("login counts", db.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_counts WHERE expires_at <= ?`, at); err != nil {
			return err
		}
		counts := make([]*engine.LoginCount, len(keys))
		for i, key := range keys {
			c := &engine.LoginCount{}
			var attempts string
			err := tx.QueryRowContext(ctx, `SELECT failures, last_at, attempts, expires_at FROM login_counts WHERE key = ?`, key).
				Scan(&c.Failures, timeCol{&c.Last}, &attempts, timeCol{&c.Expires})
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			for _, s := range strings.Fields(attempts) {
				t, err := parseTime(s)
				if err != nil {
					return err
				}
				c.Attempts = append(c.Attempts, t)
			}
			counts[i] = c
		}
		change(counts)
		for i, c := range counts {
			if !c.Expires.After(now) {
				if _, err := tx.ExecContext(ctx, `DELETE FROM login_counts WHERE key = ?`, keys[i]); err != nil {
					return err
				}
				continue
			}
			attempts := make([]string, len(c.Attempts))
			for j, t := range c.Attempts {
				attempts[j] = fmtTime(t)
			}
			_, err := tx.ExecContext(ctx, `
				INSERT INTO login_counts (key, failures, last_at, attempts, expires_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at,
					attempts = excluded.attempts, expires_at = excluded.expires_at`,
				keys[i], c.Failures, fmtTime(c.Last), strings.Join(attempts, " "), fmtTime(c.Expires))
			if err != nil {
				return err
			}
		}
		return nil
	}))
}
