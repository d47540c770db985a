package store_test

import (
	"context"
	"testing"
	"time"

	"zonevet/engine"
)

// TestLoginCountsSharedAndExpiring: two handles on one database (two
// processes) add to the same sign-in counts, and a count is gone once it
// expires, so a burst of failures leaves no rows behind.
func TestLoginCountsSharedAndExpiring(t *testing.T) {
	path := newDBPath(t)
	a, b := mustOpenPath(t, path), mustOpenPath(t, path)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	fail := func(db engine.AccountStore, key string, at time.Time) (failures int) {
		t.Helper()
		err := db.UpdateLoginCounts(ctx, at, []string{key}, func(c []*engine.LoginCount) {
			c[0].Failures++
			c[0].Last, c[0].Attempts, c[0].Expires = at, append(c[0].Attempts, at), at.Add(time.Minute)
			failures = c[0].Failures
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
	if err := a.Reader().QueryRow(`SELECT count(*) FROM login_counts`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows (%v), want 1", n, err)
	}
	// Long after: k1 expired; writing another key sweeps it.
	if got := fail(b, "k2", now.Add(time.Hour)); got != 1 {
		t.Fatalf("a new key starts at %d", got)
	}
	var keys []string
	rows, err := a.Reader().Query(`SELECT key FROM login_counts`)
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
