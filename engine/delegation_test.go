package engine_test

import (
	"errors"
	"testing"
	"time"

	"zonevet/engine"
)

// day is a date n days from today in the zone's time zone.
func day(w *world, n int) string {
	return time.Now().In(w.svc.Location()).AddDate(0, 0, n).Format("2006-01-02")
}

// delegated gives qingyuan a deputy (a second promoter) to whom
// reviewer-qingyuan delegates the reviewer role from yesterday to next week.
func delegated(t *testing.T) (*world, *engine.User, *engine.Delegation) {
	w := mustWorld(t)
	deputy := w.user("deputy-qingyuan", engine.RoleAssignment{Role: engine.RolePromoter, Park: "qingyuan"})
	d, err := w.svc.Delegate(w.ctx, w.users["reviewer-qingyuan"], engine.DelegationInput{Park: "qingyuan", Role: engine.RoleReviewer,
		Delegate: deputy.Username, Starts: day(w, -1), Ends: day(w, 7), Reason: "出差"})
	if err != nil {
		t.Fatal(err)
	}
	return w, deputy, d
}

func wantErr(t *testing.T, what string, err error, code, id string) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != code || (id != "" && e.ID != id) {
		t.Fatalf("%s: err = %v, want %s %s", what, err, code, id)
	}
}

// TestDelegateActsOnBehalf: the delegate passes a screening on behalf of
// the reviewer; the entry names both, with the delegated role, and the log
// still verifies (the new field inside the chain). Without naming the
// delegator the same act is refused.
func TestDelegateActsOnBehalf(t *testing.T) {
	w, deputy, _ := delegated(t)
	p := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	if _, err := w.svc.Act(w.ctx, deputy, p.ID, engine.Action{Event: engine.EventPass, Version: p.Version}); err == nil {
		t.Fatal("a promoter passed a screening in their own name")
	}
	got, err := w.svc.Act(w.ctx, deputy, p.ID, engine.Action{Event: engine.EventPass, Version: p.Version, OnBehalfOf: "reviewer-qingyuan"})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != engine.StateExpertReview {
		t.Fatalf("state = %s", got.State)
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventPass}})
	if err != nil || len(es) != 1 {
		t.Fatalf("pass entries = %v, %v", es, err)
	}
	if e := es[0]; e.Actor != deputy.Username || e.OnBehalfOf != "reviewer-qingyuan" || e.Role != engine.RoleReviewer {
		t.Fatalf("entry actor %q on behalf of %q role %s", e.Actor, e.OnBehalfOf, e.Role)
	}
	res, err := w.svc.AuditLog(nil).Verify(w.ctx, nil)
	if err != nil || !res.OK {
		t.Fatalf("verify = %+v, %v", res, err)
	}
	// The field is in the chain: the same entry named for someone else hashes otherwise.
	e := es[0]
	e.OnBehalfOf = "reviewer2-qingyuan"
	if engine.ChainHash(e.PrevHash, &e) == es[0].Hash {
		t.Fatal("on_behalf_of is outside the chain hash")
	}
}

// TestDelegateRegisteredOrConflicted: on behalf of a reviewer, the delegate
// may not judge a project they registered, nor one the delegator or the
// delegate declared a conflict on.
func TestDelegateRegisteredOrConflicted(t *testing.T) {
	w, deputy, _ := delegated(t)
	own, err := w.svc.CreateProject(w.ctx, deputy, input("qingyuan", goodFigures()))
	if err != nil {
		t.Fatal(err)
	}
	own = w.act("deputy-qingyuan", own, engine.EventSubmit, "")
	_, err = w.svc.Act(w.ctx, deputy, own.ID, engine.Action{Event: engine.EventPass, Version: own.Version, OnBehalfOf: "reviewer-qingyuan"})
	wantErr(t, "registered", err, engine.EFORBIDDEN, "err.you_may_not_review_or_decide")

	p := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	if err := w.svc.DeclareConflict(w.ctx, w.users["reviewer-qingyuan"], p.ID, "投资方为亲属企业"); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Act(w.ctx, deputy, p.ID, engine.Action{Event: engine.EventPass, Version: p.Version, OnBehalfOf: "reviewer-qingyuan"})
	wantErr(t, "delegator conflicted", err, engine.EFORBIDDEN, "err.you_declared_conflict_of_interest_on")
}

// TestDelegationChainsRefused: a delegate cannot pass the role on, cannot
// delegate their own role while a delegate, and someone who has delegated
// cannot accept a delegation for the same time.
func TestDelegationChainsRefused(t *testing.T) {
	w, deputy, _ := delegated(t)
	in := engine.DelegationInput{Park: "qingyuan", Role: engine.RoleReviewer, Delegate: "reviewer2-qingyuan", Starts: day(w, 0), Ends: day(w, 3), Reason: "休假"}
	_, err := w.svc.Delegate(w.ctx, deputy, in)
	wantErr(t, "re-delegating the delegated role", err, engine.EINVALID, "err.delegation_role_not_yours")
	in.Role = engine.RolePromoter
	_, err = w.svc.Delegate(w.ctx, deputy, in)
	wantErr(t, "a delegate delegating", err, engine.EINVALID, "err.delegation_chain_you_are_delegate")
	_, err = w.svc.Delegate(w.ctx, w.users["committee-qingyuan"], engine.DelegationInput{Park: "qingyuan", Role: engine.RoleCommittee,
		Delegate: "reviewer-qingyuan", Starts: day(w, 2), Ends: day(w, 9), Reason: "出差"})
	wantErr(t, "delegating to one who delegated", err, engine.EINVALID, "err.delegation_chain_delegate_delegated")
	// After the reviewer's delegation ends, the same delegation is fine.
	if _, err := w.svc.Delegate(w.ctx, w.users["committee-qingyuan"], engine.DelegationInput{Park: "qingyuan", Role: engine.RoleCommittee,
		Delegate: "reviewer-qingyuan", Starts: day(w, 8), Ends: day(w, 9), Reason: "出差"}); err != nil {
		t.Fatal(err)
	}
}

// TestDelegationGuards: bad dates, another park's user, and a delegation
// expired or revoked refuse; each create and revoke is a logged event.
func TestDelegationGuards(t *testing.T) {
	w, deputy, d := delegated(t)
	rv := w.users["reviewer-qingyuan"]
	for _, c := range []struct {
		name, field string
		in          engine.DelegationInput
	}{
		{"not a date", "starts", engine.DelegationInput{Role: engine.RoleReviewer, Delegate: "promoter-qingyuan", Starts: "明天", Ends: day(w, 2), Reason: "r"}},
		{"ends before starts", "ends", engine.DelegationInput{Role: engine.RoleReviewer, Delegate: "promoter-qingyuan", Starts: day(w, 20), Ends: day(w, 19), Reason: "r"}},
		{"other park", "delegate", engine.DelegationInput{Role: engine.RoleReviewer, Delegate: "promoter-yingde", Starts: day(w, 20), Ends: day(w, 21), Reason: "r"}},
		{"to oneself", "delegate", engine.DelegationInput{Role: engine.RoleReviewer, Delegate: rv.Username, Starts: day(w, 20), Ends: day(w, 21), Reason: "r"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.in.Park = "qingyuan"
			_, err := w.svc.Delegate(w.ctx, rv, c.in)
			var e *engine.Error
			if !errors.As(err, &e) || e.Field != c.field {
				t.Fatalf("err = %v, want one naming %s", err, c.field)
			}
		})
	}
	p := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	later, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return time.Now().AddDate(0, 0, 9) }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = later.Act(w.ctx, deputy, p.ID, engine.Action{Event: engine.EventPass, Version: p.Version, OnBehalfOf: rv.Username})
	wantErr(t, "expired", err, engine.EFORBIDDEN, "err.delegation_not_in_force")

	if err := w.svc.RevokeDelegation(w.ctx, deputy, "qingyuan", d.ID); err == nil {
		t.Fatal("the delegate revoked the delegation")
	}
	if err := w.svc.RevokeDelegation(w.ctx, rv, "qingyuan", d.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "revoked twice", w.svc.RevokeDelegation(w.ctx, rv, "qingyuan", d.ID), engine.ECONFLICT, "err.delegation_revoked")
	_, err = w.svc.Act(w.ctx, deputy, p.ID, engine.Action{Event: engine.EventPass, Version: p.Version, OnBehalfOf: rv.Username})
	wantErr(t, "revoked", err, engine.EFORBIDDEN, "err.delegation_not_in_force")
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventDelegate, engine.EventRevokeDelegation}})
	if err != nil || len(es) != 2 || es[0].Actor != rv.Username || es[1].Event != engine.EventRevokeDelegation {
		t.Fatalf("delegation entries = %+v, %v", es, err)
	}
}

// TestDelegationMatrix: casbin grants exactly the delegation rows of
// testdata/authz/transitions.tsv, and the engine carries each out: every
// role listed delegates its role and revokes it; the others are refused.
func TestDelegationMatrix(t *testing.T) {
	w := mustWorld(t)
	want := map[string]bool{}
	for _, row := range readTable(t, "testdata/authz/transitions.tsv", 4) {
		if row[1] == "delegation" {
			want[row[0]+"/"+row[2]] = row[3] == "allowed"
		}
	}
	if len(want) == 0 {
		t.Fatal("no delegation rows in transitions.tsv")
	}
	for _, r := range engine.Roles {
		for _, ev := range []string{engine.EventDelegate, engine.EventRevokeDelegation} {
			if got := w.svc.Authorizer().Allowed(string(r)+"-qingyuan", "qingyuan", "delegation", ev); got != want[string(r)+"/"+ev] {
				t.Errorf("%s/%s: policy says %v, transitions.tsv %v", r, ev, got, want[string(r)+"/"+ev])
			}
		}
		u := w.users[string(r)+"-qingyuan"]
		d, err := w.svc.Delegate(w.ctx, u, engine.DelegationInput{Park: "qingyuan", Role: r, Delegate: "reviewer4-qingyuan",
			Starts: day(w, 30), Ends: day(w, 31), Reason: "休假"})
		if (err == nil) != want[string(r)+"/"+engine.EventDelegate] {
			t.Fatalf("%s delegates: %v", r, err)
		}
		if err == nil {
			if err := w.svc.RevokeDelegation(w.ctx, u, "qingyuan", d.ID); err != nil {
				t.Fatalf("%s revokes: %v", r, err)
			}
		}
	}
}
