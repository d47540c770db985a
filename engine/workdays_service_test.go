package engine_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
)

// TestCalendarLoadRecountsDeadlines: deadlines count with the calendar in
// force, not the one in force when the step began. A project screened on
// Thursday 2026-12-31 with one working day is due at the end of Monday
// 2027-01-04 (元旦 Friday, then the weekend); when a calendar is loaded that
// makes 2027-01-04 a day off, its deadline moves to the end of 2027-01-05 in
// the load's transaction, logged, its version untouched. Only an
// administrator loads calendars.
func TestCalendarLoadRecountsDeadlines(t *testing.T) {
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
	src := bytes.Replace(engine.DefaultCalendarSource(), []byte("  - year: 2027\n    published: false"), []byte("  - year: 2027\n    published: true"), 1)
	src = bytes.Replace(src, []byte("      - 2027-01-01 # 元旦\n"), []byte("      - 2027-01-01 # 元旦\n      - 2027-01-04\n"), 1)
	if _, err := svc.LoadCalendar(w.ctx, w.users["committee-qingyuan"], src); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Fatalf("committee loading a calendar: %v", err)
	}
	if _, err := svc.LoadCalendar(w.ctx, w.users["admin-qingyuan"], src); err != nil {
		t.Fatal(err)
	}
	after, err := w.db.Project(w.ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.DueAt == nil || !after.DueAt.Equal(endOf("2027-01-05")) || after.Version != p.Version {
		t.Errorf("after the load: due %v version %d, want the end of 2027-01-05, version %d", after.DueAt, after.Version, p.Version)
	}
	if svc.DueProvisional(w.ctx, after.State, after.DueAt) {
		t.Error("still provisional once 2027 is published")
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventCalendarLoad}})
	if len(es) != 1 || es[0].Actor != "admin-qingyuan" || !strings.Contains(es[0].Reason, "重算办理期限 1 项") {
		t.Fatalf("log %+v", es)
	}
	if _, err := svc.LoadCalendar(w.ctx, w.users["admin-qingyuan"], src); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("loading the version in force again: %v", err)
	}
}
