package engine_test

import (
	"slices"
	"testing"

	"zonevet/engine"
)

// TestEveryAccountChangeIsLogged: each way the engine changes an account
// (the admin's pages and the operator's command line) appends exactly its
// own decision-log entries, by the acting user, and a refused or idle
// change appends none. With the store's unlogged writers gone these are the
// only ways to change users and roles (TestAccountTablesWrittenOnlyByAccountPart
// in store guards that side).
func TestEveryAccountChangeIsLogged(t *testing.T) {
	w := mustWorld(t)
	admin := w.users["admin-qingyuan"]
	seen := 0
	events := func() []engine.AuditEntry { // the entries appended since the last call
		var all []engine.AuditEntry
		if err := w.db.EachAuditEntry(w.ctx, func(e engine.AuditEntry) error { all = append(all, e); return nil }); err != nil {
			t.Fatal(err)
		}
		added := all[seen:]
		seen = len(all)
		return added
	}
	events()

	var id int64
	steps := []struct {
		name   string
		do     func() error
		actor  string
		events []string // what the step must append, in order
	}{
		{"CreateAccount", func() error {
			u, err := w.svc.CreateAccount(w.ctx, admin, engine.NewAccount{Username: "zhao.lei", DisplayName: "赵磊", Password: "initial-pass",
				Park: "qingyuan", Roles: []engine.Role{engine.RolePromoter}})
			if u != nil {
				id = u.ID
			}
			return err
		}, admin.Username, []string{engine.EventUserCreate}},
		{"SetRoles", func() error {
			return w.svc.SetRoles(w.ctx, admin, id, "qingyuan", []engine.Role{engine.RolePromoter, engine.RoleReviewer})
		}, admin.Username, []string{engine.EventUserRoles}},
		{"Disable", func() error { return w.svc.SetDisabled(w.ctx, admin, id, true) }, admin.Username, []string{engine.EventUserDisable}},
		{"DisableAgainChangesNothing", func() error { return w.svc.SetDisabled(w.ctx, admin, id, true) }, "", nil},
		{"Enable", func() error { return w.svc.SetDisabled(w.ctx, admin, id, false) }, admin.Username, []string{engine.EventUserEnable}},
		{"ResetPassword", func() error { return w.svc.ResetPassword(w.ctx, admin, id, "another-pass") }, admin.Username, []string{engine.EventUserPassword}},
		{"OperatorCreatesAcrossParks", func() error {
			_, err := w.svc.CreateUser(w.ctx, "qian.yu", "钱宇", "initial-pass", []engine.RoleAssignment{
				{Role: engine.RoleReviewer, Park: "qingyuan"}, {Role: engine.RoleReviewer, Park: "yingde"}})
			return err
		}, engine.OperatorActor, []string{engine.EventUserCreate, engine.EventUserRoles}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		added := events()
		var got []string
		for _, e := range added {
			got = append(got, e.Event)
			if e.Actor != s.actor {
				t.Errorf("%s: entry %s by %q, want %q", s.name, e.Event, e.Actor, s.actor)
			}
		}
		if !slices.Equal(got, s.events) {
			t.Errorf("%s: appended %v, want %v", s.name, got, s.events)
		}
	}

	refused := []struct {
		name string
		do   func() error
	}{
		{"ShortPassword", func() error { return w.svc.ResetPassword(w.ctx, admin, id, "short") }},
		{"UnknownRole", func() error { return w.svc.SetRoles(w.ctx, admin, id, "qingyuan", []engine.Role{"superuser"}) }},
		{"OtherParksAdmin", func() error { return w.svc.SetDisabled(w.ctx, w.users["admin-yingde"], id, true) }},
		{"TakenName", func() error {
			_, err := w.svc.CreateUser(w.ctx, "qian.yu", "钱宇", "initial-pass", nil)
			return err
		}},
	}
	for _, r := range refused {
		if err := r.do(); err == nil {
			t.Errorf("%s: accepted", r.name)
		}
		if added := events(); len(added) != 0 {
			t.Errorf("%s: refused change appended %+v", r.name, added)
		}
	}
	u, err := w.db.UserByID(w.ctx, id)
	if err != nil || u.Disabled {
		t.Fatalf("after the refused changes: %+v, %v; want enabled", u, err)
	}
	if _, err := w.svc.Authenticate(w.ctx, "zhao.lei", "another-pass"); err != nil {
		t.Errorf("the reset password does not sign in: %v", err)
	}
}

// TestCreateUserAcrossParksIsOneTransaction: the operator's account with
// roles in two parks is written whole or not at all. A second park that
// does not exist refuses the account; before, the user and its first
// park's roles had already been committed on their own.
func TestCreateUserAcrossParksIsOneTransaction(t *testing.T) {
	w := mustWorld(t)
	head := func() int64 {
		var seq int64
		if err := w.db.EachAuditEntry(w.ctx, func(e engine.AuditEntry) error { seq = e.Seq; return nil }); err != nil {
			t.Fatal(err)
		}
		return seq
	}
	before := head()
	_, err := w.svc.CreateUser(w.ctx, "half.made", "半成", "initial-pass", []engine.RoleAssignment{
		{Park: "qingyuan", Role: engine.RolePromoter}, {Park: "nowhere", Role: engine.RoleAuditor}})
	wantCode(t, err, engine.ENOTFOUND)
	if _, err := w.db.UserByName(w.ctx, "half.made"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("user after a refused account: %v; want not_found", err)
	}
	if got := head(); got != before {
		t.Fatalf("log head %d after a refused account, want %d", got, before)
	}

	u, err := w.svc.CreateUser(w.ctx, "both.parks", "两园", "initial-pass", []engine.RoleAssignment{
		{Park: "qingyuan", Role: engine.RolePromoter}, {Park: "yingde", Role: engine.RoleAuditor}})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	if err := w.db.EachAuditEntry(w.ctx, func(e engine.AuditEntry) error {
		if e.Seq > before {
			events = append(events, e.Event+"@"+e.Park)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"user_create@qingyuan", "user_roles@yingde"}; !slices.Equal(events, want) {
		t.Errorf("entries = %v, want %v", events, want)
	}
	if got := w.svc.Authorizer().RolesIn(u.Username, "yingde"); !slices.Equal(got, []engine.Role{engine.RoleAuditor}) {
		t.Errorf("roles in yingde = %v, want auditor", got)
	}
}
