package engine_test

import (
	"errors"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store/storetest"
)

// bureau adds an observer of qingyuan (or park) who works for department.
func (w *world) bureau(name, park, department string) *engine.User {
	w.t.Helper()
	u := &engine.User{Username: name, DisplayName: name, PasswordHash: testHash(), CreatedAt: time.Now(), Department: department}
	storetest.Account(w.t, w.ctx, w.db, u, engine.RoleAssignment{Role: engine.RoleObserver, Park: park})
	if err := w.svc.ReloadRoles(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	w.users[name] = u
	return u
}

// TestShareMatrix: casbin grants exactly the share rows of
// testdata/authz/transitions.tsv, and the engine carries each out on a
// project of the promoter: every role listed shares it, the others are refused.
func TestShareMatrix(t *testing.T) {
	w := mustWorld(t)
	want := map[string]bool{}
	for _, row := range readTable(t, "testdata/authz/transitions.tsv", 4) {
		if row[1] == "project" && row[2] == engine.EventShare {
			want[row[0]] = row[3] == "allowed"
		}
	}
	if len(want) == 0 {
		t.Fatal("no share rows in transitions.tsv")
	}
	for _, r := range engine.Roles {
		who := string(r) + "-qingyuan"
		if got := w.svc.Authorizer().Allowed(who, "qingyuan", "project", engine.EventShare); got != want[string(r)] {
			t.Errorf("%s shares: policy says %v, transitions.tsv %v", r, got, want[string(r)])
		}
		p := w.create("qingyuan", goodFigures())
		_, err := w.svc.ShareProject(w.ctx, w.users[who], p.ID, engine.ShareInput{Users: []string{"reviewer4-qingyuan"}})
		if (err == nil) != want[string(r)] {
			t.Errorf("%s shares: err = %v, want success %v", r, err, want[string(r)])
		}
	}
}

// TestShareGuards: who may not share, and what is not a target; a refusal
// writes nothing.
func TestShareGuards(t *testing.T) {
	w := mustWorld(t)
	w.bureau("natres-qingyuan", "qingyuan", "自然资源局")
	w.bureau("natres-yingde", "yingde", "生态环境局")
	other := w.user("promoter2-qingyuan", engine.RoleAssignment{Role: engine.RolePromoter, Park: "qingyuan"})
	p := w.create("qingyuan", goodFigures())
	to := func(users ...string) engine.ShareInput { return engine.ShareInput{Users: users} }
	for _, c := range []struct {
		name, who string
		in        engine.ShareInput
		code, id  string
	}{
		{"auditor", "auditor-qingyuan", to("reviewer-qingyuan"), engine.EFORBIDDEN, "err.not_allowed_in_park"},
		{"admin", "admin-qingyuan", to("reviewer-qingyuan"), engine.EFORBIDDEN, "err.not_allowed_in_park"},
		{"observer", "observer-qingyuan", to("reviewer-qingyuan"), engine.ENOTFOUND, "err.project_not_found"},
		{"other park", "committee-yingde", to("reviewer-qingyuan"), engine.ENOTFOUND, "err.project_not_found"},
		{"no target", "reviewer-qingyuan", engine.ShareInput{Note: "请阅"}, engine.EINVALID, "err.share_no_target"},
		{"user of another park", "reviewer-qingyuan", to("reviewer-yingde"), engine.EINVALID, "err.share_user_not_in_park"},
		{"oneself", "reviewer-qingyuan", to("reviewer-qingyuan"), engine.EINVALID, "err.share_user_not_in_park"},
		{"department of another park", "reviewer-qingyuan", engine.ShareInput{Departments: []string{"生态环境局"}}, engine.EINVALID, "err.share_department_unknown"},
	} {
		_, err := w.svc.ShareProject(w.ctx, w.users[c.who], p.ID, c.in)
		wantErr(t, c.name, err, c.code, c.id)
	}
	_, err := w.svc.ShareProject(w.ctx, other, p.ID, to("reviewer-qingyuan"))
	wantErr(t, "a colleague's project", err, engine.EFORBIDDEN, "err.share_not_your_project")
	if ss, _ := w.db.Shares(w.ctx, p.ID); len(ss) != 0 {
		t.Fatalf("refusals wrote shares: %+v", ss)
	}
	if _, err := w.svc.ShareProject(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.ShareInput{Departments: []string{"自然资源局"}}); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.ShareProject(w.ctx, w.users["committee-qingyuan"], p.ID, engine.ShareInput{Departments: []string{"自然资源局"}})
	wantErr(t, "twice", err, engine.EINVALID, "err.share_already")
}

// TestShareReadLogged: a department share lets the bureau's observer read
// the project (and nothing else), lists it as new in 抄送给我 with an inbox
// notice, and every read is a share_view entry that clears the marker; the
// same department in another park sees nothing.
func TestShareReadLogged(t *testing.T) {
	w := mustWorld(t)
	natres := w.bureau("natres-qingyuan", "qingyuan", "自然资源局")
	elsewhere := w.bureau("natres-yingde", "yingde", "自然资源局")
	p := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	if _, err := w.svc.ViewProject(w.ctx, natres, p.ID); err == nil {
		t.Fatal("an observer read a project not shared with them")
	}
	shares, err := w.svc.ShareProject(w.ctx, w.users["reviewer-qingyuan"], p.ID, engine.ShareInput{Departments: []string{"自然资源局"}, Note: "请核用地"})
	if err != nil || len(shares) != 1 || shares[0].ID == 0 || shares[0].Seq == 0 {
		t.Fatalf("share = %+v, %v", shares, err)
	}
	mine, err := w.svc.SharedWithMe(w.ctx, natres)
	if err != nil || len(mine) != 1 || !mine[0].New || mine[0].Note != "请核用地" || w.svc.NewShares(w.ctx, natres) != 1 {
		t.Fatalf("shared with me = %+v, %v", mine, err)
	}
	if n, _ := w.svc.Inbox(w.ctx, natres, 10); len(n) != 1 || n[0].Kind != engine.NoticeShare {
		t.Fatalf("inbox = %+v", n)
	}
	for i := 0; i < 2; i++ {
		if _, err := w.svc.ViewProject(w.ctx, natres, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if acts := w.svc.Actions(w.ctx, natres, p); len(acts) != 0 || w.svc.CanShare(natres, p) {
		t.Fatalf("a sharee may act: %v", acts)
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventShare, engine.EventShareView}})
	if err != nil || len(es) != 3 || es[0].Event != engine.EventShare || es[1].Actor != natres.Username || es[2].Role != engine.RoleObserver {
		t.Fatalf("entries = %+v, %v", es, err)
	}
	if mine, _ := w.svc.SharedWithMe(w.ctx, natres); mine[0].New || w.svc.NewShares(w.ctx, natres) != 0 {
		t.Fatalf("still new after reading: %+v", mine)
	}
	// The park's own staff read as before, unlogged.
	if _, err := w.svc.ViewProject(w.ctx, w.users["auditor-qingyuan"], p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ViewProject(w.ctx, elsewhere, p.ID); err == nil {
		t.Fatal("the department's staff of another park read the project")
	}
	if es2, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventShareView}}); len(es2) != 2 {
		t.Fatalf("share_view entries = %d, want 2", len(es2))
	}
}

// TestShareConcurrent: two people sharing one project with one department
// at once write one share; the other is told it is shared already.
func TestShareConcurrent(t *testing.T) {
	w := mustWorld(t)
	w.bureau("natres-qingyuan", "qingyuan", "自然资源局")
	p := w.create("qingyuan", goodFigures())
	errs := make(chan error, 2)
	for _, who := range []string{"reviewer-qingyuan", "committee-qingyuan"} {
		go func() {
			_, err := w.svc.ShareProject(w.ctx, w.users[who], p.ID, engine.ShareInput{Departments: []string{"自然资源局"}})
			errs <- err
		}()
	}
	failed := 0
	for range 2 {
		if err := <-errs; err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.ID != "err.share_already" {
				t.Fatalf("the loser's error: %v", err)
			}
			failed++
		}
	}
	if ss, _ := w.db.Shares(w.ctx, p.ID); failed != 1 || len(ss) != 1 {
		t.Fatalf("%d refused, %d shares; want 1 and 1", failed, len(ss))
	}
}
