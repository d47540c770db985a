package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
)

// TestShareRevokeMatrix: casbin grants exactly the share_revoke rows of
// testdata/authz/transitions.tsv, and the engine carries each out: the
// roles that share revoke a share they made, an admin revokes one made by
// someone else; the others are refused.
func TestShareRevokeMatrix(t *testing.T) {
	w := mustWorld(t)
	want := map[string]bool{}
	for _, row := range readTable(t, "testdata/authz/transitions.tsv", 4) {
		if row[1] == "project" && row[2] == engine.EventShareRevoke {
			want[row[0]] = row[3] == "allowed"
		}
	}
	if len(want) == 0 {
		t.Fatal("no share_revoke rows in transitions.tsv")
	}
	for _, r := range engine.Roles {
		who := string(r) + "-qingyuan"
		if got := w.svc.Authorizer().Allowed(who, "qingyuan", "project", engine.EventShareRevoke); got != want[string(r)] {
			t.Errorf("%s revokes: policy says %v, transitions.tsv %v", r, got, want[string(r)])
		}
		p := w.create("qingyuan", goodFigures())
		sharer := who
		if !w.svc.Authorizer().Allowed(who, "qingyuan", "project", engine.EventShare) {
			sharer = "committee-qingyuan" // an admin (or a refused role) revokes someone else's share
		}
		ss, err := w.svc.ShareProject(w.ctx, w.users[sharer], p.ID, engine.ShareInput{Users: []string{"reviewer4-qingyuan"}})
		if err != nil {
			t.Fatalf("share by %s: %v", sharer, err)
		}
		_, err = w.svc.RevokeShare(w.ctx, w.users[who], p.ID, ss[0].ID)
		if (err == nil) != want[string(r)] {
			t.Errorf("%s revokes: err = %v, want success %v", r, err, want[string(r)])
		}
	}
}

// TestShareRevoke: the sharer revokes; the sharee's read is then refused
// as revoked (forbidden, not hidden) and their 抄送给我 list drops it; a
// colleague who did not share may not revoke, nor may another park's
// admin; a second revocation is a conflict; the park's admin revokes a
// department share; a revoked target can be shared with again. Every
// revocation is a share_revoke entry naming what it revoked.
func TestShareRevoke(t *testing.T) {
	w := mustWorld(t)
	natres := w.bureau("natres-qingyuan", "qingyuan", "自然资源局")
	env := w.bureau("env-qingyuan", "qingyuan", "生态环境局")
	p := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	rv := w.users["reviewer-qingyuan"]
	ss, err := w.svc.ShareProject(w.ctx, rv, p.ID, engine.ShareInput{Users: []string{natres.Username}, Departments: []string{"生态环境局"}})
	if err != nil || len(ss) != 2 {
		t.Fatalf("share = %+v, %v", ss, err)
	}
	byUser, byDep := ss[0], ss[1]
	if _, err := w.svc.ViewProject(w.ctx, natres, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.RevokeShare(w.ctx, w.users["committee-qingyuan"], p.ID, byUser.ID)
	wantErr(t, "a colleague's share", err, engine.EFORBIDDEN, "err.share_revoke_not_yours")
	_, err = w.svc.RevokeShare(w.ctx, w.users["admin-yingde"], p.ID, byUser.ID)
	wantErr(t, "another park's admin", err, engine.ENOTFOUND, "err.project_not_found")
	_, err = w.svc.RevokeShare(w.ctx, natres, p.ID, byUser.ID)
	wantErr(t, "the sharee", err, engine.EFORBIDDEN, "err.not_allowed_in_park")
	_, err = w.svc.RevokeShare(w.ctx, rv, p.ID, 999999)
	wantErr(t, "no such share", err, engine.ENOTFOUND, "err.share_not_found")

	got, err := w.svc.RevokeShare(w.ctx, rv, p.ID, byUser.ID)
	if err != nil || got.RevokedSeq == 0 || got.RevokedBy != rv.Username || got.RevokedAt == nil {
		t.Fatalf("revoke = %+v, %v", got, err)
	}
	_, err = w.svc.ViewProject(w.ctx, natres, p.ID)
	wantErr(t, "read after revocation", err, engine.EFORBIDDEN, "err.share_revoked")
	if mine, _ := w.svc.SharedWithMe(w.ctx, natres); len(mine) != 0 {
		t.Fatalf("抄送给我 still lists a revoked share: %+v", mine)
	}
	_, err = w.svc.RevokeShare(w.ctx, rv, p.ID, byUser.ID)
	wantErr(t, "revoked twice", err, engine.ECONFLICT, "err.share_already_revoked")

	if _, err := w.svc.RevokeShare(w.ctx, w.users["admin-qingyuan"], p.ID, byDep.ID); err != nil {
		t.Fatalf("the park's admin revokes: %v", err)
	}
	_, err = w.svc.ViewProject(w.ctx, env, p.ID)
	wantErr(t, "department read after revocation", err, engine.EFORBIDDEN, "err.share_revoked")

	if _, err := w.svc.ShareProject(w.ctx, rv, p.ID, engine.ShareInput{Users: []string{natres.Username}}); err != nil {
		t.Fatalf("share again after revocation: %v", err)
	}
	if _, err := w.svc.ViewProject(w.ctx, natres, p.ID); err != nil {
		t.Fatalf("read after sharing again: %v", err)
	}
	all, _ := w.svc.Shares(w.ctx, rv, p.ID)
	if len(all) != 3 || all[0].Live() || all[1].Live() || !all[2].Live() {
		t.Fatalf("shares = %+v", all)
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventShareRevoke}})
	if err != nil || len(es) != 2 || es[0].Actor != rv.Username || es[1].Role != engine.RoleAdmin ||
		!strings.Contains(es[0].Payload, `"user":"natres-qingyuan"`) || !strings.Contains(es[1].Payload, `"department":"生态环境局"`) {
		t.Fatalf("share_revoke entries = %+v, %v", es, err)
	}
}

// TestShareRevokeConcurrent: the sharer and the park's admin revoking one
// share at once revoke it once; the other is told it is revoked already.
func TestShareRevokeConcurrent(t *testing.T) {
	w := mustWorld(t)
	natres := w.bureau("natres-qingyuan", "qingyuan", "自然资源局")
	p := w.create("qingyuan", goodFigures())
	ss, err := w.svc.ShareProject(w.ctx, w.users["reviewer-qingyuan"], p.ID, engine.ShareInput{Users: []string{natres.Username}})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, who := range []string{"reviewer-qingyuan", "admin-qingyuan"} {
		go func() {
			_, err := w.svc.RevokeShare(w.ctx, w.users[who], p.ID, ss[0].ID)
			errs <- err
		}()
	}
	failed := 0
	for range 2 {
		if err := <-errs; err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.ID != "err.share_already_revoked" {
				t.Fatalf("the loser's error: %v", err)
			}
			failed++
		}
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventShareRevoke}})
	if failed != 1 || len(es) != 1 {
		t.Fatalf("%d refused, %d entries; want 1 and 1", failed, len(es))
	}
}

// TestShareOutbox: a share queues one outbound message per configured
// channel in its own transaction, beside the sharees' inbox notices; a
// deployment whose outbound events leave out share queues none.
func TestShareOutbox(t *testing.T) {
	for _, c := range []struct {
		name   string
		events []string
		want   int
	}{
		{"every event", nil, 2},
		{"share listed", []string{engine.EventSubmit, engine.EventShare}, 2},
		{"share left out", []string{engine.EventSubmit}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := mustWorld(t)
			svc, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: time.Now,
				Outbound: engine.Outbound{Channels: []string{engine.ChannelEmail, engine.ChannelDingTalk}, Events: c.events}})
			if err != nil {
				t.Fatal(err)
			}
			w.svc = svc
			natres := w.bureau("natres-qingyuan", "qingyuan", "自然资源局")
			p := w.create("qingyuan", goodFigures())
			ss, err := svc.ShareProject(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.ShareInput{Departments: []string{"自然资源局"}})
			if err != nil {
				t.Fatal(err)
			}
			items, err := w.db.OutboxItems(w.ctx, 10)
			if err != nil || len(items) != c.want {
				t.Fatalf("outbox = %+v, %v; want %d rows", items, err, c.want)
			}
			for _, it := range items {
				if it.Seq != ss[0].Seq || it.Event != engine.EventShare || it.Kind != engine.NoticeShare || it.ProjectID != p.ID {
					t.Errorf("outbox row = %+v, want the share entry %d", it, ss[0].Seq)
				}
			}
			if n, _ := svc.Inbox(w.ctx, natres, 10); len(n) != 1 || n[0].Seq != ss[0].Seq {
				t.Fatalf("inbox = %+v", n)
			}
		})
	}
}

// TestDepartmentMove: an admin moves a bureau's staff member from 自然资源局
// to 生态环境局. A department share is to the department, so membership at
// read time counts: the moved user no longer reads what was shared with
// the old department and reads what is shared with the new one. A form
// showing a department the account has left since is a conflict that
// writes nothing; another park's admin may not move them; the move is a
// user_department entry with before and after.
func TestDepartmentMove(t *testing.T) {
	w := mustWorld(t)
	mover := w.bureau("mover-qingyuan", "qingyuan", "自然资源局")
	w.bureau("env-qingyuan", "qingyuan", "生态环境局")
	toNatres := w.create("qingyuan", goodFigures())
	toEnv := w.create("qingyuan", goodFigures())
	rv := w.users["reviewer-qingyuan"]
	for p, dep := range map[*engine.Project]string{toNatres: "自然资源局", toEnv: "生态环境局"} {
		if _, err := w.svc.ShareProject(w.ctx, rv, p.ID, engine.ShareInput{Departments: []string{dep}}); err != nil {
			t.Fatal(err)
		}
	}
	reads := func(p *engine.Project) bool {
		u, err := w.db.UserByID(w.ctx, mover.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.ViewProject(w.ctx, u, p.ID)
		return err == nil
	}
	if !reads(toNatres) || reads(toEnv) {
		t.Fatal("before the move: reads the wrong project")
	}
	admin := w.users["admin-qingyuan"]
	err := w.svc.SetDepartment(w.ctx, w.users["admin-yingde"], mover.ID, "自然资源局", "生态环境局")
	wantErr(t, "another park's admin", err, engine.ENOTFOUND, "err.user_not_found")
	err = w.svc.SetDepartment(w.ctx, admin, mover.ID, "自然资源局", strings.Repeat("局", 65))
	wantErr(t, "too long", err, engine.EINVALID, "err.department_at_most_64")
	if err := w.svc.SetDepartment(w.ctx, admin, mover.ID, "自然资源局", " 生态环境局 "); err != nil {
		t.Fatal(err)
	}
	if reads(toNatres) || !reads(toEnv) {
		t.Fatal("after the move: the share did not follow the department")
	}
	err = w.svc.SetDepartment(w.ctx, admin, mover.ID, "自然资源局", "发展改革局")
	wantErr(t, "stale form", err, engine.ECONFLICT, "err.account_changed_since_you")
	if u, _ := w.db.UserByID(w.ctx, mover.ID); u.Department != "生态环境局" {
		t.Fatalf("a stale form wrote %q", u.Department)
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventUserDepartment}})
	if err != nil || len(es) != 1 || es[0].Actor != admin.Username ||
		!strings.Contains(es[0].Payload, `"before":"自然资源局"`) || !strings.Contains(es[0].Payload, `"department":"生态环境局"`) {
		t.Fatalf("user_department entries = %+v, %v", es, err)
	}
}

// TestShareRevokeNotices: a revocation tells, in the inbox, each person the
// share let read and nothing else still does: the named sharee; of a
// department, every member but one who still reads through a share of
// their own. The revoker is not told of their own act.
func TestShareRevokeNotices(t *testing.T) {
	w := mustWorld(t)
	natres := w.bureau("natres-qingyuan", "qingyuan", "自然资源局")
	env := w.bureau("env-qingyuan", "qingyuan", "生态环境局")
	env2 := w.bureau("env2-qingyuan", "qingyuan", "生态环境局")
	p := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	rv := w.users["reviewer-qingyuan"]
	ss, err := w.svc.ShareProject(w.ctx, rv, p.ID, engine.ShareInput{Users: []string{natres.Username, env.Username}, Departments: []string{"生态环境局"}})
	if err != nil || len(ss) != 3 {
		t.Fatalf("share = %+v, %v", ss, err)
	}
	revoked := func(u *engine.User) bool { return hasNotice(w.inbox(u.Username), p.ID, engine.NoticeShareRevoked) }
	if _, err := w.svc.RevokeShare(w.ctx, rv, p.ID, ss[0].ID); err != nil {
		t.Fatal(err)
	}
	if !revoked(natres) || revoked(env) || revoked(env2) || revoked(rv) {
		t.Fatalf("after revoking natres's share: told natres %v, env %v, env2 %v, the revoker %v", revoked(natres), revoked(env), revoked(env2), revoked(rv))
	}
	if _, err := w.svc.RevokeShare(w.ctx, w.users["admin-qingyuan"], p.ID, ss[2].ID); err != nil {
		t.Fatal(err)
	}
	if !revoked(env2) || revoked(env) {
		t.Fatalf("after revoking the department's share: told env2 %v, env (still shared by name) %v", revoked(env2), revoked(env))
	}
	if _, err := w.svc.ViewProject(w.ctx, env, p.ID); err != nil {
		t.Fatalf("env still reads through their own share: %v", err)
	}
}
