package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// TestLimitCountsSharedAndExpiring: two handles on one database (two
// processes) add to the same counts, and a count is gone once it
// expires, so a burst of failures leaves no rows behind.
func TestLimitCountsSharedAndExpiring(t *testing.T) {
	path := newDBPath(t)
	a, b := mustOpenPath(t, path), mustOpenPath(t, path)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	fail := func(db engine.AccountStore, key string, at time.Time) (failures int) {
		t.Helper()
		err := db.UpdateLimitCounts(ctx, at, []string{key}, func(c []*engine.LimitCount) bool {
			c[0].Failures++
			c[0].Last, c[0].Attempts, c[0].Expires = at, append(c[0].Attempts, at), at.Add(time.Minute)
			failures = c[0].Failures
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		return failures
	}
	for i, db := range []engine.AccountStore{a, b, a, b} {
		if got := fail(db, "k1", now.Add(time.Duration(i)*time.Second)); got != i+1 {
			t.Fatalf("failure %d counted as %d", i+1, got)
		}
	}
	var n int
	if err := a.Reader().QueryRow(`SELECT count(*) FROM limit_counts`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows (%v), want 1", n, err)
	}
	// Long after: k1 expired; writing another key sweeps it.
	if got := fail(b, "k2", now.Add(time.Hour)); got != 1 {
		t.Fatalf("a new key starts at %d", got)
	}
	var keys []string
	rows, err := a.Reader().Query(`SELECT key FROM limit_counts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if len(keys) != 1 || keys[0] != "k2" {
		t.Errorf("rows after expiry: %v, want only k2", keys)
	}
}

// TestLimitCountRefusalWritesNothing: a change that reports none (a
// refusal) is answered from a read: it answers while another process
// holds the writer, and it leaves no trace of a write: on SQLite
// no commit (data_version, which moves with every other connection's
// commit, stays put) and on PostgreSQL neither the chain head's row lock
// (its xmax) nor the count's row version (its xmin) moves. A change that
// counts does move them, so the probe sees writes. And a change the read
// let through but the write transaction's own read refuses (another
// process counted first) stores nothing either.
func TestLimitCountRefusalWritesNothing(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	probe := writeProbe(t, db)
	count := func(limit int) (counted bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second) // a write waiting on holdWriter fails instead of hanging
		defer cancel()
		err := db.UpdateLimitCounts(ctx, now, []string{"k"}, func(c []*engine.LimitCount) bool {
			if counted = c[0].Failures < limit; counted {
				c[0].Failures++
				c[0].Last, c[0].Expires = now, now.Add(time.Minute)
			}
			return counted
		})
		if err != nil {
			t.Fatal(err)
		}
		return counted
	}
	before := probe()
	if !count(1) {
		t.Fatal("the first attempt was refused")
	}
	if probe() == before {
		t.Fatalf("a counted attempt left the probe at %q: it sees no writes", before)
	}
	// Another process holds the writer (SQLite's write lock, PostgreSQL's
	// chain head) throughout: refusals need neither, so they still answer.
	release := storetest.HoldWriter(t, db)
	held := probe()
	for range 3 {
		if count(1) {
			t.Fatal("an attempt over the limit was counted")
		}
	}
	if got := probe(); got != held {
		t.Errorf("refused attempts wrote: probe %q, was %q", got, held)
	}
	release()

	// Let through on the read, refused on the write transaction's read:
	// the first run of change sees the count before it was taken.
	runs := 0
	err := db.UpdateLimitCounts(ctx, now, []string{"k"}, func(c []*engine.LimitCount) bool {
		runs++
		if runs == 1 {
			c[0].Failures = 0
		}
		if c[0].Failures >= 1 {
			return false
		}
		c[0].Failures = 99
		return true
	})
	if err != nil || runs != 2 {
		t.Fatalf("runs %d, %v; want the read's run and the transaction's", runs, err)
	}
	var failures int
	if err := db.Reader().QueryRow(`SELECT failures FROM limit_counts WHERE key = 'k'`).Scan(&failures); err != nil || failures != 1 {
		t.Errorf("failures %d (%v) after a refusal in the transaction, want 1", failures, err)
	}
}

// writeProbe returns a function whose answer changes when a write
// transaction of db commits: SQLite's data_version seen from one pinned
// connection, or PostgreSQL's row versions of the chain head (which every
// write transaction locks) and of the limit counts.
func writeProbe(t *testing.T, db *store.DB) func() string {
	t.Helper()
	conn, err := db.Reader().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	q := `PRAGMA data_version`
	if storetest.OnPostgres() {
		q = `SELECT (SELECT xmin::text || ' ' || xmax::text FROM chain_head WHERE id = 1) || ' ' ||
			coalesce((SELECT string_agg(key || ':' || xmin::text, ',' ORDER BY key) FROM limit_counts), '')`
	}
	return func() string {
		t.Helper()
		var v sql.NullString
		if err := conn.QueryRowContext(context.Background(), q).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v.String
	}
}
