package engine_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
)

// lastEntry is the newest entry of the decision log.
func (w *world) lastEntry() engine.AuditEntry {
	w.t.Helper()
	var last engine.AuditEntry
	if err := w.db.EachAuditEntry(w.ctx, func(e engine.AuditEntry) error { last = e; return nil }); err != nil {
		w.t.Fatal(err)
	}
	return last
}

func TestAccountAdministration(t *testing.T) {
	w := mustWorld(t)
	admin, other := w.users["admin-qingyuan"], w.users["admin-yingde"]
	// "both" holds roles in both parks, as the demo's shared reviewers do.
	both := w.user("both", engine.RoleAssignment{Role: engine.RoleReviewer, Park: "qingyuan"}, engine.RoleAssignment{Role: engine.RoleReviewer, Park: "yingde"})

	t.Run("CreateLogsAndGrants", func(t *testing.T) {
		u, err := w.svc.CreateAccount(w.ctx, admin, engine.NewAccount{Username: "li.ping", DisplayName: "李平", Password: "initial-pass",
			Park: "qingyuan", Roles: []engine.Role{engine.RoleReviewer}})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := w.svc.Authenticate(w.ctx, "li.ping", "initial-pass"); err != nil || got.ID != u.ID {
			t.Fatalf("new user cannot sign in: %v", err)
		}
		if !w.svc.Authorizer().Allowed("li.ping", "qingyuan", "screening", "pass") || w.svc.Authorizer().Allowed("li.ping", "yingde", "screening", "pass") {
			t.Error("roles not effective at once, or leaked into the other park")
		}
		e := w.lastEntry()
		if e.Event != engine.EventUserCreate || e.Actor != admin.Username || e.Park != "qingyuan" || strings.Contains(e.Payload, "initial-pass") {
			t.Errorf("log entry %+v", e)
		}
	})
	t.Run("ErrTakenName", func(t *testing.T) {
		_, err := w.svc.CreateAccount(w.ctx, admin, engine.NewAccount{Username: "li.ping", DisplayName: "x", Password: "initial-pass", Park: "qingyuan"})
		if engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("got %v, want conflict", err)
		}
	})
	t.Run("ErrInvalidInput", func(t *testing.T) {
		for _, in := range []engine.NewAccount{
			{Username: "bad name", DisplayName: "x", Password: "long-enough", Park: "qingyuan"},
			{Username: "ok", DisplayName: "", Password: "long-enough", Park: "qingyuan"},
			{Username: "ok", DisplayName: "x", Password: "short", Park: "qingyuan"},
			{Username: "ok", DisplayName: "x", Password: "long-enough", Park: "qingyuan", Roles: []engine.Role{"superuser"}},
			{Username: "ok", DisplayName: "x", Password: "long-enough", Park: "qingyuan", Department: strings.Repeat("局", 65)},
		} {
			if _, err := w.svc.CreateAccount(w.ctx, admin, in); engine.ErrorCode(err) != engine.EINVALID {
				t.Errorf("%+v: got %v, want invalid", in, err)
			}
		}
		if _, err := w.db.UserByName(w.ctx, "ok"); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("a refused account was stored: %v", err)
		}
	})
	t.Run("ErrNotAdmin", func(t *testing.T) {
		_, err := w.svc.CreateAccount(w.ctx, w.users["committee-qingyuan"], engine.NewAccount{Username: "x1", DisplayName: "x", Password: "long-enough", Park: "qingyuan"})
		if engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("committee created a user: %v", err)
		}
		_, err = w.svc.CreateAccount(w.ctx, other, engine.NewAccount{Username: "x2", DisplayName: "x", Password: "long-enough", Park: "qingyuan"})
		if engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("yingde's admin created a qingyuan user: %v", err)
		}
	})

	li, err := w.db.UserByName(w.ctx, "li.ping")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("SetRoles", func(t *testing.T) {
		if err := w.svc.SetRoles(w.ctx, admin, li.ID, "qingyuan", []engine.Role{engine.RoleCommittee, engine.RoleReviewer}); err != nil {
			t.Fatal(err)
		}
		acc, err := w.svc.Account(w.ctx, admin, li.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := acc.Roles["qingyuan"], []engine.Role{engine.RoleReviewer, engine.RoleCommittee}; !slices.Equal(got, want) {
			t.Errorf("roles %v, want %v", got, want)
		}
		if !w.svc.Authorizer().Allowed("li.ping", "qingyuan", "committee_review", "approve") {
			t.Error("new role not effective")
		}
		if e := w.lastEntry(); e.Event != engine.EventUserRoles || !strings.Contains(e.Payload, `"before":["reviewer"]`) {
			t.Errorf("log entry %+v", e)
		}
		if err := w.svc.SetRoles(w.ctx, other, li.ID, "qingyuan", nil); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("yingde's admin changed qingyuan roles: %v", err)
		}
		if err := w.svc.SetRoles(w.ctx, admin, admin.ID, "qingyuan", []engine.Role{engine.RoleAuditor}); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("admin removed their own admin role: %v", err)
		}
	})
	t.Run("OtherParksPeopleHidden", func(t *testing.T) {
		accs, err := w.svc.Accounts(w.ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, a := range accs {
			names[a.User.Username] = true
		}
		if !names["li.ping"] || !names["both"] || names["promoter-yingde"] {
			t.Errorf("accounts shown to qingyuan's admin: %v", names)
		}
		if _, err := w.svc.Account(w.ctx, admin, w.users["promoter-yingde"].ID); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("another park's user: %v", err)
		}
	})
	t.Run("DisableEndsSessions", func(t *testing.T) {
		s := &engine.Session{ID: "s-li", UserID: li.ID, CSRFToken: "c", CreatedAt: time.Now(), LastSeenAt: time.Now()}
		if err := w.db.CreateSession(w.ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.SetDisabled(w.ctx, admin, li.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.Session(w.ctx, "s-li"); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("session survived: %v", err)
		}
		if _, err := w.svc.Authenticate(w.ctx, "li.ping", "initial-pass"); engine.ErrorCode(err) != engine.EUNAUTHORIZED {
			t.Errorf("disabled user signed in: %v", err)
		}
		seq := w.lastEntry().Seq
		if err := w.svc.SetDisabled(w.ctx, admin, li.ID, true); err != nil || w.lastEntry().Seq != seq {
			t.Errorf("second disable: %v, logged again: %v", err, w.lastEntry().Seq != seq)
		}
		if err := w.svc.SetDisabled(w.ctx, admin, li.ID, false); err != nil {
			t.Fatal(err)
		}
		if e := w.lastEntry(); e.Event != engine.EventUserEnable || e.Park != "" {
			t.Errorf("log entry %+v", e)
		}
		if err := w.svc.SetDisabled(w.ctx, admin, admin.ID, true); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("admin disabled themselves: %v", err)
		}
		// The account is zone-wide: qingyuan's admin alone may not lock out a
		// reviewer who also works in yingde.
		if err := w.svc.SetDisabled(w.ctx, admin, both.ID, true); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("disabled a user of a park the admin does not manage: %v", err)
		}
	})
	t.Run("ResetPassword", func(t *testing.T) {
		s := &engine.Session{ID: "s-li-2", UserID: li.ID, CSRFToken: "c", CreatedAt: time.Now(), LastSeenAt: time.Now()}
		if err := w.db.CreateSession(w.ctx, s); err != nil {
			t.Fatal(err)
		}
		tok := &engine.APIToken{UserID: li.ID, Name: "脚本", Hash: strings.Repeat("ab", 32)}
		if err := w.db.CreateAPIToken(w.ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.ResetPassword(w.ctx, admin, li.ID, "short"); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("short password: %v", err)
		}
		if _, err := w.db.APITokenByHash(w.ctx, tok.Hash); err != nil {
			t.Errorf("a refused reset revoked the token: %v", err)
		}
		if err := w.svc.ResetPassword(w.ctx, admin, li.ID, "a-new-password"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.Session(w.ctx, "s-li-2"); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("session survived the reset: %v", err)
		}
		if _, err := w.db.APITokenByHash(w.ctx, tok.Hash); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("API token survived the reset: %v", err)
		}
		if _, err := w.svc.Authenticate(w.ctx, "li.ping", "initial-pass"); err == nil {
			t.Error("old password still works")
		}
		if _, err := w.svc.Authenticate(w.ctx, "li.ping", "a-new-password"); err != nil {
			t.Errorf("new password: %v", err)
		}
		if e := w.lastEntry(); e.Event != engine.EventUserPassword || strings.Contains(e.Payload+e.Reason, "a-new-password") {
			t.Errorf("log entry %+v", e)
		}
	})
	t.Run("LogIntact", func(t *testing.T) {
		v, err := engine.VerifyLog(w.ctx, w.db)
		if err != nil || v.Bad != nil {
			t.Fatalf("verify: %v %v", err, v.Bad)
		}
	})
}

// TestAccountCreateConcurrent: two admins creating the same name at once
// get one account and one log entry; the other gets a conflict.
func TestAccountCreateConcurrent(t *testing.T) {
	w := mustWorld(t)
	admins := []*engine.User{w.users["admin-qingyuan"], w.user("admin2", engine.RoleAssignment{Role: engine.RoleAdmin, Park: "qingyuan"})}
	if err := w.svc.ReloadRoles(w.ctx); err != nil {
		t.Fatal(err)
	}
	before := w.lastEntry().Seq
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.svc.CreateAccount(w.ctx, admins[i%2], engine.NewAccount{Username: "zhou", DisplayName: "周", Password: "long-enough", Park: "qingyuan",
				Roles: []engine.Role{engine.RolePromoter}})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch engine.ErrorCode(err) {
		case "":
			ok++
		case engine.ECONFLICT:
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 || w.lastEntry().Seq != before+1 {
		t.Errorf("%d creations, %d log entries; want 1 and 1", ok, w.lastEntry().Seq-before)
	}
}
