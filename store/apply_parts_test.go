package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"zonevet/engine"
)

// TestApplyWritesEveryPartOrNone guards the one write path: a Change whose
// project part fails (a stale version) writes none of its other parts. The
// milestone, the new account and the rule set it carries are all absent
// afterwards, and the log holds nothing new. Before the write paths were one,
// the parts went through separate store methods and transactions.
func TestApplyWritesEveryPartOrNone(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	p := mustCreate(t, db, sampleProject("qingyuan", "全部或全无"))
	before := lastAuditEntry(t, db).Seq

	c := transition(p, p.Version+1, engine.EventSign, engine.StateSigned) // a version nobody saw
	c.Tracking = &engine.TrackingPart{Milestones: []engine.Milestone{{ProjectID: p.ID, Kind: engine.MilestoneStart}}}
	c.Account = &engine.AccountPart{NewUser: &engine.User{Username: "stowaway"}}
	c.Rules = &engine.RulesPart{Text: &engine.RuleSetRecord{Park: "qingyuan", Version: "v-stowaway", Source: []byte("x")}}
	err := db.Apply(ctx, c)
	wantCode(t, err, engine.ECONFLICT)
	// One stale-version error: the store's refusal is the engine's, word for word.
	var got, want *engine.Error
	if !errors.As(err, &got) || !errors.As(engine.ErrStale(), &want) || got.ID == "" || got.ID != want.ID || got.Text("zh-CN") != want.Text("zh-CN") {
		t.Errorf("stale version: %v; want engine.ErrStale", err)
	}

	if ms, err := db.Milestones(ctx, []int64{p.ID}); err != nil || len(ms) != 0 {
		t.Errorf("milestones after a failed change = %v, %v; want none", ms, err)
	}
	if _, err := db.UserByName(ctx, "stowaway"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("user after a failed change: %v; want not_found", err)
	}
	if _, err := db.RuleSet(ctx, "v-stowaway"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("rule set after a failed change: %v; want not_found", err)
	}
	if got := lastAuditEntry(t, db).Seq; got != before {
		t.Errorf("log head after a failed change = %d, want %d", got, before)
	}

	// The same parts with the right version land together, after the entry.
	c = transition(p, p.Version, engine.EventSign, engine.StateSigned)
	c.Tracking = &engine.TrackingPart{Milestones: []engine.Milestone{{ProjectID: p.ID, Kind: engine.MilestoneStart}}}
	c.Account = &engine.AccountPart{NewUser: &engine.User{Username: "passenger"}, Roles: []engine.ParkRoles{{Park: "qingyuan", Roles: []engine.Role{engine.RoleAuditor}}}}
	if err := db.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	if ms, err := db.Milestones(ctx, []int64{p.ID}); err != nil || len(ms) != 1 {
		t.Errorf("milestones = %v, %v; want the one written", ms, err)
	}
	if c.Account.NewUser.ID == 0 {
		t.Error("the new user's id was not written back")
	}
	if c.Entry.Seq != before+1 || c.Project.Version != p.Version+1 {
		t.Errorf("entry seq %d, version %d; want %d, %d", c.Entry.Seq, c.Project.Version, before+1, p.Version+1)
	}
}

// TestGroupCommitUndoesAFailedChangesPartsAlone: changes with parts share a
// batch with the others queued behind the writer (a tracking write used to
// run its own transaction). One whose account part fails after its
// milestone was written is undone whole, milestone included; the changes
// around it land in the same commit.
func TestGroupCommitUndoesAFailedChangesPartsAlone(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	p := mustCreate(t, db, sampleProject("qingyuan", "分批写入项目"))
	hold, err := db.Writer().Conn(ctx) // the leader waits for the one write connection
	if err != nil {
		t.Fatal(err)
	}
	queued := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if busy, w := db.ApplyQueue(); busy && w == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("queue never reached %d waiting", n)
			}
		}
	}
	milestone := func(kind, user string) *engine.Change {
		return &engine.Change{Entry: engine.AuditEntry{Actor: "promoter1", Park: "qingyuan", ProjectID: p.ID, Event: engine.EventMilestone},
			Tracking: &engine.TrackingPart{Milestones: []engine.Milestone{{ProjectID: p.ID, Kind: kind}}},
			Account:  &engine.AccountPart{NewUser: &engine.User{Username: user}}}
	}
	leader := make(chan error, 1)
	go func() {
		leader <- db.Apply(ctx, &engine.Change{Entry: engine.AuditEntry{Actor: "leader", Event: "login"}})
	}()
	queued(0)
	commits0, _ := db.CommitStats()
	changes := []*engine.Change{
		milestone(engine.MilestoneStart, "first"),
		milestone(engine.MilestoneCompletion, "first"), // the user name is taken by the change before it
		milestone(engine.MilestoneProduction, "third"),
	}
	errs := make([]chan error, len(changes))
	for i, c := range changes {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- db.Apply(ctx, c) }()
		queued(i + 1)
	}
	hold.Close()
	if err := <-leader; err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"", engine.ECONFLICT, ""} {
		wantCode(t, <-errs[i], want)
	}
	// PostgreSQL's leader drains the queue once it holds the chain-head
	// lock, so the queued changes commit with it.
	if commits, _ := db.CommitStats(); commits-commits0 != leaderCommits() {
		t.Errorf("commits = %d, want %d (the leader, then the batch; one on PostgreSQL, which drains after the lock)", commits-commits0, leaderCommits())
	}
	ms, err := db.Milestones(ctx, []int64{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range ms {
		kinds = append(kinds, m.Kind)
	}
	slices.Sort(kinds)
	want := []string{engine.MilestoneStart, engine.MilestoneProduction}
	slices.Sort(want)
	if !slices.Equal(kinds, want) {
		t.Errorf("milestones = %v, want %v (the failed change's undone)", kinds, want)
	}
}
