package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"zonevet/engine"
)

// UpdateLimitCounts implements engine.AccountStore. change runs first on a
// plain read of the counts: a refusal changes nothing, so a flood the
// limits are refusing costs reads and never waits for (or holds) the
// single writer. Only when change reports a change does it run again, on
// counts read inside update's write transaction (BEGIN IMMEDIATE on SQLite,
// the chain head's row lock on PostgreSQL), so two processes' attempts on
// the same keys are counted one after the other, never both from the same
// old count.
func (db *DB) UpdateLimitCounts(ctx context.Context, now time.Time, keys []string, change func([]*engine.LimitCount) bool) error {
	at := fmtTime(now)
	counts, err := readLimitCounts(ctx, db.read, at, keys)
	if err != nil {
		return wrap("limit counts", err)
	}
	if !change(counts) {
		return nil
	}
	return wrap("limit counts", db.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM limit_counts WHERE expires_at <= ?`, at); err != nil {
			return err
		}
		counts, err := readLimitCounts(ctx, tx, at, keys)
		if err != nil {
			return err
		}
		if !change(counts) {
			return nil // another process's attempt came first and this one is refused
		}
		for i, c := range counts {
			if !c.Expires.After(now) {
				if _, err := tx.ExecContext(ctx, `DELETE FROM limit_counts WHERE key = ?`, keys[i]); err != nil {
					return err
				}
				continue
			}
			attempts := make([]string, len(c.Attempts))
			for j, t := range c.Attempts {
				attempts[j] = fmtTime(t)
			}
			_, err := tx.ExecContext(ctx, `
				INSERT INTO limit_counts (key, failures, last_at, attempts, expires_at) VALUES (?, ?, ?, ?, ?)
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

// readLimitCounts reads the counts under keys as of at (a stored time):
// a count expired by then reads as none, as if already swept.
func readLimitCounts(ctx context.Context, q queryRower, at string, keys []string) ([]*engine.LimitCount, error) {
	counts := make([]*engine.LimitCount, len(keys))
	for i, key := range keys {
		c := &engine.LimitCount{}
		var attempts string
		err := q.QueryRowContext(ctx, `SELECT failures, last_at, attempts, expires_at FROM limit_counts WHERE key = ? AND expires_at > ?`, key, at).
			Scan(&c.Failures, timeCol{&c.Last}, &attempts, timeCol{&c.Expires})
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		for _, s := range strings.Fields(attempts) {
			t, err := parseTime(s)
			if err != nil {
				return nil, err
			}
			c.Attempts = append(c.Attempts, t)
		}
		counts[i] = c
	}
	return counts, nil
}
