package engine_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
)

// TestCalendarApprovalRecountsDeadlines: deadlines count with the calendar
// in force, not the one in force when the step began. A project screened on
// Thursday 2026-12-31 with one working day is due at the end of Monday
// 2027-01-04 (元旦 Friday, then the weekend). A calendar making 2027-01-04 a
// day off is proposed by an administrator — nothing moves yet, the preview
// shows the day and the deadline it would move — and approved by the
// committee: the deadline moves to the end of 2027-01-05 in the approval's
// transaction, logged, the project's version untouched.
func TestCalendarApprovalRecountsDeadlines(t *testing.T) {
	w := mustWorld(t)
	sh := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 12, 31, 10, 0, 0, 0, sh)
	svc, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return at }, Location: sh})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateProject(w.ctx, w.users["promoter-qingyuan"], input("qingyuan", goodFigures()))
	if err != nil {
		t.Fatal(err)
	}
	if p, err = svc.Act(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	endOf := func(d string) time.Time {
		t, _ := time.ParseInLocation(time.DateOnly, d, sh)
		return t.AddDate(0, 0, 1)
	}
	if p.DueAt == nil || !p.DueAt.Equal(endOf("2027-01-04")) {
		t.Fatalf("due %v, want the end of 2027-01-04", p.DueAt)
	}
	if !svc.DueProvisional(w.ctx, p.State, p.DueAt) {
		t.Error("a deadline in unpublished 2027 is not provisional")
	}
	src := publishedWithDayOff(t, "2027-01-04")
	if _, err := svc.ProposeCalendar(w.ctx, w.users["committee-qingyuan"], src, "2027 年安排"); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Fatalf("committee proposing a calendar: %v", err)
	}
	ch, err := svc.ProposeCalendar(w.ctx, w.users["admin-qingyuan"], src, "国务院办公厅 2027 年部分节假日安排")
	if err != nil {
		t.Fatal(err)
	}
	if now, _ := w.db.Project(w.ctx, p.ID); !now.DueAt.Equal(*p.DueAt) {
		t.Fatal("a proposal moved a deadline")
	}
	pv, err := svc.PreviewCalendarChange(w.ctx, w.users["committee-qingyuan"], ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Moved) != 1 || pv.Moved[0].ProjectID != p.ID || !pv.Moved[0].Before.Equal(endOf("2027-01-04")) || !pv.Moved[0].After.Equal(endOf("2027-01-05")) {
		t.Errorf("preview moves %+v", pv.Moved)
	}
	if len(pv.Days) != 1 || pv.Days[0].Year != 2027 || !slices.Equal(pv.Days[0].HolidaysAdded, []string{"2027-01-04"}) || !pv.Days[0].PublishedChanged() {
		t.Errorf("preview days %+v", pv.Days)
	}
	if _, err := svc.ApproveCalendar(w.ctx, w.users["committee-qingyuan"], ch.ID, pv.BaseVersion, "同意"); err != nil {
		t.Fatal(err)
	}
	after, err := w.db.Project(w.ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.DueAt == nil || !after.DueAt.Equal(endOf("2027-01-05")) || after.Version != p.Version {
		t.Errorf("after the approval: due %v version %d, want the end of 2027-01-05, version %d", after.DueAt, after.Version, p.Version)
	}
	if svc.DueProvisional(w.ctx, after.State, after.DueAt) {
		t.Error("still provisional once 2027 is published")
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventCalendarPropose, engine.EventCalendarApprove}})
	if len(es) != 2 || es[0].Actor != "admin-qingyuan" || es[1].Actor != "committee-qingyuan" || es[1].Reason != "同意" ||
		!strings.Contains(es[1].Payload, `"deadlines_moved":[{"project_id":`+fmt.Sprint(p.ID)) {
		t.Fatalf("log %+v", es)
	}
	if _, err := svc.ProposeCalendar(w.ctx, w.users["admin-qingyuan"], src, "再次提交"); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("proposing the version in force again: %v", err)
	}
}

// publishedWithDayOff is the built-in calendar with 2027 published and day
// an extra holiday.
func publishedWithDayOff(t *testing.T, day string) []byte {
	t.Helper()
	src := bytes.Replace(engine.DefaultCalendarSource(), []byte("  - year: 2027\n    published: false"), []byte("  - year: 2027\n    published: true"), 1)
	out := bytes.Replace(src, []byte("      - 2027-01-01 # 元旦\n"), []byte("      - 2027-01-01 # 元旦\n      - "+day+"\n"), 1)
	if bytes.Equal(out, src) {
		t.Fatal("the built-in calendar no longer lists 2027-01-01")
	}
	return out
}

// TestCalendarFourEyes: the proposer never approves (not even holding the
// committee role too), an administrator never approves, refusing needs a
// reason, a decided proposal is not decided again, only the proposer's role
// withdraws, and an approval against a preview of a calendar no longer in
// force is refused.
func TestCalendarFourEyes(t *testing.T) {
	w := mustWorld(t)
	admin, committee := w.users["admin-qingyuan"], w.users["committee-qingyuan"]
	both := w.user("both-qingyuan", engine.RoleAssignment{Role: engine.RoleAdmin, Park: "qingyuan"}, engine.RoleAssignment{Role: engine.RoleCommittee, Park: "qingyuan"})
	a, err := w.svc.ProposeCalendar(w.ctx, both, publishedWithDayOff(t, "2027-01-04"), "甲")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ApproveCalendar(w.ctx, both, a.ID, "", ""); engine.ErrorCode(err) != engine.EFORBIDDEN || !strings.Contains(engine.ErrorMessage(err, "zh"), "四眼") {
		t.Errorf("the proposer approved: %v", err)
	}
	for _, u := range []*engine.User{admin, w.users["auditor-qingyuan"], w.users["reviewer-qingyuan"]} {
		if _, err := w.svc.ApproveCalendar(w.ctx, u, a.ID, "", ""); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("%s approved: %v", u.Username, err)
		}
	}
	if _, err := w.svc.RefuseCalendar(w.ctx, committee, a.ID, " "); engine.ErrorCode(err) != engine.EINVALID {
		t.Errorf("refused without a reason: %v", err)
	}
	if _, err := w.svc.WithdrawCalendar(w.ctx, committee, a.ID, ""); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("the committee withdrew: %v", err)
	}
	b, err := w.svc.ProposeCalendar(w.ctx, admin, publishedWithDayOff(t, "2027-01-05"), "乙")
	if err != nil {
		t.Fatal(err)
	}
	pvA, err := w.svc.PreviewCalendarChange(w.ctx, committee, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ApproveCalendar(w.ctx, committee, b.ID, "", "同意"); err != nil {
		t.Fatal(err)
	}
	// a's preview was against the built-in calendar, no longer in force.
	if _, err := w.svc.ApproveCalendar(w.ctx, committee, a.ID, pvA.BaseVersion, ""); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("approved against a stale preview: %v", err)
	}
	if _, err := w.svc.RefuseCalendar(w.ctx, committee, b.ID, "已施行"); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("refused an approved calendar: %v", err)
	}
	if _, err := w.svc.WithdrawCalendar(w.ctx, both, a.ID, "以乙为准"); err != nil {
		t.Fatal(err)
	}
	cs, err := w.svc.CalendarChanges(w.ctx, w.users["auditor-qingyuan"])
	if err != nil || len(cs) != 2 || cs[0].State != engine.RuleSetInForce || cs[1].State != engine.RuleSetWithdrawn {
		t.Errorf("changes %+v, %v", cs, err)
	}
	if _, err := w.svc.CalendarChanges(w.ctx, w.users["promoter-qingyuan"]); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("a promoter read calendar changes: %v", err)
	}
}
