package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
)

func TestSessions(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	uid := mustUser(t, db, "alice")

	s := &engine.Session{ID: "h1", UserID: uid, CSRFToken: "csrf", RemoteAddr: "10.0.0.1"}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	t.Run("Get", func(t *testing.T) {
		got, err := db.Session(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if *got != *s || !got.LastSeenAt.Equal(t0) {
			t.Fatalf("session = %+v, want %+v", got, s)
		}
		withUser, u, err := db.SessionUser(ctx, "h1")
		if err != nil || *withUser != *got || u.ID != uid || u.Username != "alice" || u.Disabled {
			t.Fatalf("session with user = %+v, %+v, %v", withUser, u, err)
		}
		_, _, err = db.SessionUser(ctx, "nope")
		wantCode(t, err, engine.ENOTFOUND)
	})
	t.Run("Duplicate", func(t *testing.T) {
		wantCode(t, db.CreateSession(ctx, &engine.Session{ID: "h1", UserID: uid}), engine.ECONFLICT)
	})
	t.Run("UnknownUser", func(t *testing.T) {
		wantCode(t, db.CreateSession(ctx, &engine.Session{ID: "h9", UserID: 999}), engine.ENOTFOUND)
	})
	t.Run("Touch", func(t *testing.T) {
		at := t0.Add(time.Minute)
		if err := db.TouchSession(ctx, "h1", at); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Session(ctx, "h1")
		if !got.LastSeenAt.Equal(at) {
			t.Fatalf("last seen = %v, want %v", got.LastSeenAt, at)
		}
		wantCode(t, db.TouchSession(ctx, "nope", at), engine.ENOTFOUND)
	})
	t.Run("Delete", func(t *testing.T) {
		if err := db.DeleteSession(ctx, "h1"); err != nil {
			t.Fatal(err)
		}
		_, err := db.Session(ctx, "h1")
		wantCode(t, err, engine.ENOTFOUND)
		if err := db.DeleteSession(ctx, "h1"); err != nil {
			t.Fatalf("second delete: %v", err)
		}
	})
	t.Run("DeleteUserSessions", func(t *testing.T) {
		for _, id := range []string{"a", "b"} {
			if err := db.CreateSession(ctx, &engine.Session{ID: id, UserID: uid}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.DeleteUserSessions(ctx, uid); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"a", "b"} {
			_, err := db.Session(ctx, id)
			wantCode(t, err, engine.ENOTFOUND)
		}
	})
}

func TestAPITokens(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")

	tok := &engine.APIToken{UserID: alice, Name: "excel", Hash: "hash1"}
	if err := db.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if tok.ID == 0 || !tok.CreatedAt.Equal(t0) {
		t.Fatalf("written back %+v", tok)
	}
	t.Run("DuplicateHash", func(t *testing.T) {
		wantCode(t, db.CreateAPIToken(ctx, &engine.APIToken{UserID: bob, Hash: "hash1"}), engine.ECONFLICT)
	})
	t.Run("ByHash", func(t *testing.T) {
		got, err := db.APITokenByHash(ctx, "hash1")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tok.ID || got.UserID != alice || got.LastUsedAt != nil {
			t.Fatalf("token = %+v", got)
		}
		_, err = db.APITokenByHash(ctx, "nope")
		wantCode(t, err, engine.ENOTFOUND)
		withUser, u, err := db.APITokenUser(ctx, "hash1")
		if err != nil || withUser.ID != tok.ID || withUser.Name != "excel" || u.ID != alice || u.Username != "alice" {
			t.Fatalf("token with user = %+v, %+v, %v", withUser, u, err)
		}
	})
	t.Run("ScopesWithUser", func(t *testing.T) {
		scoped := &engine.APIToken{UserID: bob, Name: "pull", Hash: "hash2", Scopes: []string{"audit:read"}, Parks: []string{"yingde"}}
		if err := db.CreateAPIToken(ctx, scoped); err != nil {
			t.Fatal(err)
		}
		got, u, err := db.APITokenUser(ctx, "hash2")
		if err != nil || u.ID != bob || len(got.Scopes) != 1 || got.Scopes[0] != "audit:read" || len(got.Parks) != 1 || got.Parks[0] != "yingde" {
			t.Fatalf("token with user = %+v, %+v, %v", got, u, err)
		}
	})
	t.Run("Touch", func(t *testing.T) {
		at := t0.Add(time.Hour)
		if err := db.TouchAPIToken(ctx, tok.ID, at, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		got, _ := db.APITokenByHash(ctx, "hash1")
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(at) {
			t.Fatalf("last used = %v, want %v", got.LastUsedAt, at)
		}
	})
	t.Run("DisabledUser", func(t *testing.T) {
		yes, no := true, false
		if err := applyAccount(t, db, engine.EventUserDisable, engine.AccountPart{UserID: alice, Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		_, err := db.APITokenByHash(ctx, "hash1")
		wantCode(t, err, engine.ENOTFOUND)
		_, _, err = db.APITokenUser(ctx, "hash1")
		wantCode(t, err, engine.ENOTFOUND)
		if err := applyAccount(t, db, engine.EventUserEnable, engine.AccountPart{UserID: alice, Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		// Disabling revoked the token; re-enabling does not revive it.
		_, err = db.APITokenByHash(ctx, "hash1")
		wantCode(t, err, engine.ENOTFOUND)
		if list, err := db.APITokens(ctx, alice); err != nil || len(list) != 1 || !list[0].Revoked {
			t.Fatalf("tokens after disable and re-enable = %+v, %v; want revoked", list, err)
		}
	})
	t.Run("RevokeOthersTokenNotFound", func(t *testing.T) {
		wantCode(t, db.RevokeAPIToken(ctx, bob, tok.ID), engine.ENOTFOUND)
	})
	t.Run("Revoke", func(t *testing.T) {
		if err := db.RevokeAPIToken(ctx, alice, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err := db.APITokenByHash(ctx, "hash1")
		wantCode(t, err, engine.ENOTFOUND)
		list, err := db.APITokens(ctx, alice)
		if err != nil || len(list) != 1 || !list[0].Revoked {
			t.Fatalf("tokens = %+v, %v", list, err)
		}
	})
}

func TestIdempotency(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	uid := mustUser(t, db, "alice")
	r := engine.IdempotentResult{Key: "k1", UserID: uid, RequestHash: "req1", Status: 409, Body: []byte(`{"code":"conflict"}`)}

	t.Run("UnknownKey", func(t *testing.T) {
		_, err := db.IdempotentResult(ctx, uid, "k1")
		wantCode(t, err, engine.ENOTFOUND)
	})
	t.Run("RecordNew", func(t *testing.T) {
		got, err := db.RecordIdempotent(ctx, r)
		if err != nil || got != nil {
			t.Fatalf("first record = %+v, %v; want nil, nil", got, err)
		}
	})
	t.Run("FirstAnswerStands", func(t *testing.T) {
		again := r
		again.Status, again.Body = 200, []byte(`{}`)
		got, err := db.RecordIdempotent(ctx, again)
		if err != nil || got == nil || got.Status != 409 || string(got.Body) != `{"code":"conflict"}` || !got.CreatedAt.Equal(t0) {
			t.Fatalf("second record = %+v, %v; want the first answer", got, err)
		}
		if got, err := db.IdempotentResult(ctx, uid, "k1"); err != nil || got.Status != 409 {
			t.Fatalf("lookup = %+v, %v", got, err)
		}
	})
	t.Run("OtherRequestConflicts", func(t *testing.T) {
		_, err := db.RecordIdempotent(ctx, engine.IdempotentResult{Key: "k1", UserID: uid, RequestHash: "req2", Status: 200})
		wantCode(t, err, engine.ECONFLICT)
	})
	t.Run("KeysArePerUser", func(t *testing.T) {
		bob := mustUser(t, db, "bob")
		got, err := db.RecordIdempotent(ctx, engine.IdempotentResult{Key: "k1", UserID: bob, RequestHash: "other", Status: 200})
		if err != nil || got != nil {
			t.Fatalf("bob's record = %+v, %v; want nil, nil", got, err)
		}
	})
	t.Run("ConcurrentRecords", func(t *testing.T) {
		const n = 40
		// Half the records come through a second handle on the same file, as
		// from a second process.
		other := mustOpenPath(t, db.Path())
		k := engine.IdempotentResult{Key: "race", UserID: uid, RequestHash: "req", Status: 400}
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for i := range n {
			h := db
			if i%2 == 1 {
				h = other
			}
			wg.Go(func() {
				got, err := h.RecordIdempotent(ctx, k)
				if err != nil {
					t.Error(err)
					return
				}
				if got == nil {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("winners = %d, want 1", winners)
		}
	})
}

// TestRoleGeneration: every change to role assignments, whichever way it
// is made, raises the generation that AssignmentsAt reads with them and the
// token and session reads carry; other account changes leave it.
func TestRoleGeneration(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	alice := mustUser(t, db, "alice")
	if err := db.CreateSession(ctx, &engine.Session{ID: "s1", UserID: alice}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAPIToken(ctx, &engine.APIToken{UserID: alice, Name: "t", Hash: "th"}); err != nil {
		t.Fatal(err)
	}
	gen := func() int64 {
		t.Helper()
		g, _, err := db.AssignmentsAt(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, su, err := db.SessionUser(ctx, "s1")
		if err != nil || su.RoleGeneration != g {
			t.Fatalf("session read's generation %v (%v), AssignmentsAt's %d", su, err, g)
		}
		_, tu, err := db.APITokenUser(ctx, "th")
		if err != nil || tu.RoleGeneration != g {
			t.Fatalf("token read's generation %v (%v), AssignmentsAt's %d", tu, err, g)
		}
		return g
	}
	g0 := gen()
	roles := func(rs ...engine.Role) {
		t.Helper()
		if err := applyAccount(t, db, engine.EventUserRoles, engine.AccountPart{UserID: alice, Roles: []engine.ParkRoles{{Park: "qingyuan", Roles: rs}}}); err != nil {
			t.Fatal(err)
		}
	}
	roles(engine.RoleReviewer)
	g1 := gen()
	if g1 <= g0 {
		t.Fatalf("a role given: generation %d after %d", g1, g0)
	}
	if err := db.TouchSession(ctx, "s1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if g := gen(); g != g1 {
		t.Fatalf("a session touched: generation %d, was %d", g, g1)
	}
	roles()
	if g2 := gen(); g2 <= g1 {
		t.Fatalf("a role withdrawn: generation %d after %d", g2, g1)
	}
}
