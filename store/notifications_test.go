package store_test

import (
	"context"
	"testing"

	"zonevet/engine"
)

// TestMarkRead: a user's notices marked read by id, then all of them, on
// either store; another user's stay unread.
func TestMarkRead(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	reader, other := mustUser(t, db, "reader"), mustUser(t, db, "other")
	p := mustCreate(t, db, sampleProject("qingyuan", "通知项目"))
	for range 3 { // three log entries, each noticed to both users
		c := &engine.Change{Entry: engine.AuditEntry{Actor: "promoter1", Event: engine.EventRemind, ProjectID: p.ID, Park: p.Park},
			Notify: &engine.NotifyPart{Notices: []engine.Notice{{Kind: engine.NoticeRemind, UserID: reader}, {Kind: engine.NoticeRemind, UserID: other}}}}
		if err := db.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	unread := func(user int64, want int) {
		t.Helper()
		if n, err := db.UnreadCount(ctx, user); err != nil || n != want {
			t.Fatalf("user %d: %d unread (%v), want %d", user, n, err, want)
		}
	}
	unread(reader, 3)
	ns, err := db.Notifications(ctx, reader, 10)
	if err != nil || len(ns) != 3 {
		t.Fatalf("notifications %+v (%v), want 3", ns, err)
	}
	if err := db.MarkRead(ctx, reader, []int64{ns[0].ID, ns[2].ID}, t0); err != nil {
		t.Fatal(err)
	}
	unread(reader, 1)
	if ns, _ = db.Notifications(ctx, reader, 10); ns[0].ReadAt == nil || ns[1].ReadAt != nil || ns[2].ReadAt == nil {
		t.Fatalf("after marking the first and last: %+v", ns)
	}
	if err := db.MarkRead(ctx, reader, nil, t0); err != nil { // all
		t.Fatal(err)
	}
	unread(reader, 0)
	unread(other, 3)
}
