package engine_test

import (
	"context"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
)

// interleaved is the real store with one command of another user slipped in
// between a rating run's reads and its write: the run has read the projects'
// versions, and the other command commits before the run's transaction.
type interleaved struct {
	*store.DB
	between func()
}

func (s *interleaved) Apply(ctx context.Context, c *engine.Change) error {
	if f := s.between; f != nil {
		s.between = nil
		f()
	}
	return s.DB.Apply(ctx, c)
}

// TestRatingRunConflictsWithConcurrentExit: a rating run that would order a D
// firm into rectification finds that the committee made the firm exit after
// the run read it. The run is a conflict and writes nothing: the firm stays
// exited, no run, no rectification order and no rate entry is stored.
func TestRatingRunConflictsWithConcurrentExit(t *testing.T) {
	w := mustWorld(t)
	w.installQingyuanVariant("grace_years: 3", "grace_years: 1", "publicity_days: 7", "publicity_days: 0")
	year := time.Now().Year() - 1
	firm := w.firm(1, engine.StateInProduction, 0)
	// 2 万元/亩 is below the 5 万元/亩 floor: rated D, so the run orders rectification.
	if err := w.svc.SaveFigures(w.ctx, w.users["promoter-qingyuan"], firm.ID, figuresFor(year, 2, 0)); err != nil {
		t.Fatal(err)
	}
	before, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var exited *engine.Project
	ts := &interleaved{DB: w.db, between: func() {
		cur, err := w.db.Project(w.ctx, firm.ID)
		if err != nil {
			t.Fatal(err)
		}
		exited = w.act("committee-qingyuan", cur, engine.EventExit, "企业主动申请退出,管委会同意")
	}}
	racing, err := engine.NewService(w.ctx, engine.Config{Store: ts})
	if err != nil {
		t.Fatal(err)
	}
	_, err = racing.RunRating(w.ctx, w.users["committee-qingyuan"], "qingyuan", year)
	wantCode(t, err, engine.ECONFLICT)
	if exited == nil {
		t.Fatal("the concurrent exit did not run")
	}

	after, err := w.db.Project(w.ctx, firm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.State != engine.StateExited || after.Version != exited.Version {
		t.Fatalf("firm %s v%d after the run, want exited v%d as the committee left it", after.State, after.Version, exited.Version)
	}
	if runs, err := w.db.RatingRuns(w.ctx, []string{"qingyuan"}); err != nil || len(runs) != 0 {
		t.Fatalf("rating runs = %v, %v; want none", runs, err)
	}
	rects, err := w.db.Rectifications(w.ctx, firm.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rects {
		if r.Cause == engine.CauseRatingD {
			t.Fatalf("a rectification order of the conflicted run was stored: %+v", r)
		}
	}
	entries, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{AfterSeq: before[len(before)-1].Seq})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Event != engine.EventExit {
		var got []string
		for _, e := range entries {
			got = append(got, e.Event)
		}
		t.Fatalf("entries since the run began: %v, want only the exit", got)
	}
}
