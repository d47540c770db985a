package store_test

import (
	"context"
	"testing"
	"time"

	"zonevet/engine"
)

// TestDelegationRevoke: a revocation stamps the delegation's column and its
// body alike, on either store (PostgreSQL's json_set needs its value typed),
// and a second revocation is a conflict.
func TestDelegationRevoke(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	d := &engine.Delegation{Park: "qingyuan", Role: engine.RoleReviewer, Delegator: "reviewer1", Delegate: "reviewer2",
		Starts: "2025-03-01", Ends: "2025-03-31", Reason: "出差", CreatedAt: t0}
	entry := func(event string, at time.Time) engine.AuditEntry {
		return engine.AuditEntry{Time: at, Actor: "reviewer1", Park: "qingyuan", Event: event}
	}
	if err := db.Apply(ctx, &engine.Change{Entry: entry(engine.EventDelegate, t0), Delegation: &engine.DelegationPart{Create: d}}); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	revoke := &engine.Change{Entry: entry(engine.EventRevokeDelegation, at), Delegation: &engine.DelegationPart{Revoke: d.ID}}
	if err := db.Apply(ctx, revoke); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	ds, err := db.Delegations(ctx, "qingyuan")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != d.ID || ds[0].RevokedAt == nil || !ds[0].RevokedAt.Equal(at) || ds[0].Reason != d.Reason {
		t.Fatalf("delegations = %+v, want %d revoked at %v", ds, d.ID, at)
	}
	again := &engine.Change{Entry: entry(engine.EventRevokeDelegation, at), Delegation: &engine.DelegationPart{Revoke: d.ID}}
	wantCode(t, db.Apply(ctx, again), engine.ECONFLICT)
}
