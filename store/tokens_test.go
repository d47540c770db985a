package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
)

// TestApplyToken: through the one Apply, a token's making, its first use from each address and its
// revocation each write the change and one log entry together; a repeated
// use from a known address, a second revocation and another user's token
// write nothing; scopes, parks and expiry come back as stored.
func TestApplyToken(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	entries := func() int {
		es, err := db.AuditEntries(ctx, engine.AuditFilter{Events: []string{engine.EventTokenCreate, engine.EventTokenNewAddress, engine.EventTokenRevoke}})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	entry := func(event string) func(int64) engine.AuditEntry {
		return func(id int64) engine.AuditEntry {
			return engine.AuditEntry{Actor: "alice", Event: event, Payload: `{"token_id":` + strconv.FormatInt(id, 10) + `}`}
		}
	}
	exp := t0.Add(90 * 24 * time.Hour)
	tok := &engine.APIToken{UserID: alice, Name: "nightly", Hash: "h-nightly", Scopes: []string{engine.ScopeAuditRead}, Parks: []string{"yingde"}, ExpiresAt: &exp}
	if err := db.Apply(ctx, &engine.Change{Token: &engine.TokenPart{Create: tok, Entry: entry(engine.EventTokenCreate)}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.APITokenByHash(ctx, "h-nightly")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tok.ID || len(got.Scopes) != 1 || got.Scopes[0] != engine.ScopeAuditRead || len(got.Parks) != 1 || got.Parks[0] != "yingde" ||
		got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("stored %+v", got)
	}
	if n := entries(); n != 1 {
		t.Fatalf("%d entries after creation", n)
	}

	// The same new address from eight requests at once: logged once.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := db.Apply(ctx, &engine.Change{Token: &engine.TokenPart{Used: tok.ID, UsedAt: t0, UsedAddr: "198.51.100.7", Entry: entry(engine.EventTokenNewAddress)}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := entries(); n != 2 {
		t.Fatalf("%d entries after eight first uses from one address, want 2", n)
	}
	if known, err := db.TokenAddressKnown(ctx, tok.ID, "198.51.100.7"); err != nil || !known {
		t.Fatalf("address known %v %v", known, err)
	}
	if got, _ := db.APITokenByHash(ctx, "h-nightly"); got.LastUsedAddr != "198.51.100.7" || got.LastUsedAt == nil {
		t.Fatalf("last use %+v", got)
	}

	wantCode(t, db.Apply(ctx, &engine.Change{Token: &engine.TokenPart{Revoke: tok.ID, UserID: bob, Entry: entry(engine.EventTokenRevoke)}}), engine.ENOTFOUND)
	for range 2 {
		if err := db.Apply(ctx, &engine.Change{Token: &engine.TokenPart{Revoke: tok.ID, UserID: alice, Entry: entry(engine.EventTokenRevoke)}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := entries(); n != 3 {
		t.Fatalf("%d entries after revoking twice (and bob's attempt), want 3", n)
	}
	_, err = db.APITokenByHash(ctx, "h-nightly")
	wantCode(t, err, engine.ENOTFOUND)
	wantCode(t, db.Apply(ctx, &engine.Change{Token: &engine.TokenPart{Revoke: tok.ID, UserID: alice}}), engine.EINVALID)
}
