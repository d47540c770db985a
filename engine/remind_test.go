package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
)

func errID(err error) string {
	var e *engine.Error
	if errors.As(err, &e) {
		return e.ID
	}
	return ""
}

func (w *world) inbox(who string) []engine.Notification {
	w.t.Helper()
	ns, err := w.svc.Inbox(w.ctx, w.users[who], 100)
	if err != nil {
		w.t.Fatal(err)
	}
	return ns
}

func hasNotice(ns []engine.Notification, projectID int64, kind string) bool {
	for _, n := range ns {
		if n.ProjectID == projectID && n.Kind == kind {
			return true
		}
	}
	return false
}

// TestRemindGuards: a move notifies whoever the project now waits on; 催办
// is refused when nothing waits, to another promoter's project, and a second
// time the same day (also when two arrive at once); it does not block the
// promoter's recall.
func TestRemindGuards(t *testing.T) {
	w := mustWorld(t)
	p := w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	if !hasNotice(w.inbox("reviewer3-qingyuan"), p.ID, engine.NoticeWaiting) {
		t.Fatal("submit did not tell the park's reviewers")
	}
	if len(w.inbox("promoter-qingyuan")) != 0 || len(w.inbox("reviewer-yingde")) != 0 {
		t.Fatal("the actor or another park's reviewer was notified")
	}
	remind := func(who string, p *engine.Project) error {
		_, err := w.svc.Act(w.ctx, w.users[who], p.ID, engine.Action{Event: engine.EventRemind, Version: p.Version})
		return err
	}
	if err := remind("promoter-qingyuan", p); err != nil {
		t.Fatal(err)
	}
	if !hasNotice(w.inbox("reviewer-qingyuan"), p.ID, engine.NoticeRemind) {
		t.Fatal("the reminder did not reach the reviewers")
	}
	if err := remind("promoter-qingyuan", p); errID(err) != "err.remind_once_a_day" {
		t.Fatalf("second reminder the same day: %v", err)
	}
	if err := remind("reviewer-qingyuan", p); err == nil {
		t.Fatal("the reviewer the project waits on reminded")
	}
	w.user("promoterB-qingyuan", engine.RoleAssignment{Role: engine.RolePromoter, Park: "qingyuan"})
	if err := remind("promoterB-qingyuan", p); errID(err) != "err.remind_not_your_project" {
		t.Fatalf("another promoter's reminder: %v", err)
	}
	if err := remind("promoter-qingyuan", w.create("qingyuan", goodFigures())); errID(err) != "err.remind_nothing_waits" {
		t.Fatalf("reminder of a draft: %v", err)
	}
	// Two committee members' tabs at once: one reminder lands.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = remind("committee-qingyuan", p) }()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two reminders at once: %v, %v", errs[0], errs[1])
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventRemind}})
	if err != nil || len(es) != 2 {
		t.Fatalf("reminder entries = %d (%v), want 2", len(es), err)
	}
	if _, err := w.svc.Act(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Action{Event: engine.EventRecall, Version: p.Version, Reason: "补充材料"}); err != nil {
		t.Fatalf("recall after reminders: %v", err)
	}
}

// TestRemindSweep walks a fake clock day by day past a screening deadline:
// the sweep reminds once per overdue working day (the default interval),
// never twice a day, and escalates to the committee once, on the third
// overdue working day.
func TestRemindSweep(t *testing.T) {
	w := mustWorld(t)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, loc) // a Monday
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	svc, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	w.svc = svc
	p := w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	cal, err := svc.Calendar(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := svc.RemindSweep(w.ctx); r != (engine.SweepResult{}) {
		t.Fatalf("sweep before the deadline: %+v", r)
	}
	overdue, reminded, escalated := 0, 0, 0
	for day := p.DueAt.In(loc).Add(10 * time.Hour); overdue < 4; day = day.AddDate(0, 0, 1) {
		mu.Lock()
		now = day
		mu.Unlock()
		working := cal.WorkingDay(day)
		if working {
			overdue++
		}
		for range 2 { // a second run the same day writes nothing
			r, err := svc.RemindSweep(w.ctx)
			if err != nil {
				t.Fatal(err)
			}
			reminded += r.Reminded
			escalated += r.Escalated
		}
		if reminded != overdue {
			t.Fatalf("%s: %d reminders after %d overdue working days", day.Format(time.DateOnly), reminded, overdue)
		}
		if want := min(max(overdue-2, 0), 1); escalated != want {
			t.Fatalf("%s: %d escalations after %d overdue working days, want %d", day.Format(time.DateOnly), escalated, overdue, want)
		}
	}
	if !hasNotice(w.inbox("committee-qingyuan"), p.ID, engine.NoticeEscalate) || !hasNotice(w.inbox("reviewer2-qingyuan"), p.ID, engine.NoticeRemind) {
		t.Fatal("escalation or reminder not in the inboxes")
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Actor: engine.SystemActor})
	if len(es) != reminded+escalated {
		t.Fatalf("system entries = %d, want %d", len(es), reminded+escalated)
	}
}

// TestOutboxQueuedWithDecision: with channels configured, a move queues one
// message per channel in its own transaction; DeliverOutbox retries a
// failing channel with backoff and gives up after MaxAttempts, shown to admins.
func TestOutboxQueuedWithDecision(t *testing.T) {
	w := mustWorld(t)
	now := time.Now()
	svc, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return now },
		Outbound: engine.Outbound{Channels: []string{engine.ChannelWeCom, engine.ChannelEmail}, Events: []string{engine.EventSubmit}}})
	if err != nil {
		t.Fatal(err)
	}
	w.svc = svc
	w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	good := &recorder{}
	d := engine.Delivery{Senders: map[string]engine.Sender{engine.ChannelWeCom: good, engine.ChannelEmail: failing{}},
		Backoff: time.Minute, MaxAttempts: 2}
	sent, failed, err := svc.DeliverOutbox(w.ctx, d)
	if err != nil || sent != 1 || failed != 1 || len(good.got) != 1 {
		t.Fatalf("first round: sent %d failed %d err %v", sent, failed, err)
	}
	if sent, failed, _ = svc.DeliverOutbox(w.ctx, d); sent+failed != 0 {
		t.Fatal("retried before its backoff")
	}
	now = now.Add(2 * time.Minute)
	if _, failed, _ = svc.DeliverOutbox(w.ctx, d); failed != 1 {
		t.Fatal("not retried after its backoff")
	}
	items, err := svc.Outbox(w.ctx, w.users["admin-qingyuan"], 10)
	if err != nil || len(items) != 2 || !items[0].Dead || items[0].Attempts != 2 || items[0].LastError == "" {
		t.Fatalf("outbox = %+v, %v", items, err)
	}
	if _, err := svc.Outbox(w.ctx, w.users["promoter-qingyuan"], 10); err == nil {
		t.Fatal("a promoter read the outbox")
	}
	var _ engine.NotificationStore = (*store.DB)(nil)
}

type recorder struct{ got []engine.Message }

func (r *recorder) Send(_ context.Context, m engine.Message) error {
	r.got = append(r.got, m)
	return nil
}

type failing struct{}

func (failing) Send(context.Context, engine.Message) error { return errors.New("connection refused") }
