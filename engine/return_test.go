package engine_test

import (
	"errors"
	"slices"
	"testing"

	"zonevet/engine"
)

// TestReturnWithTargets: a reviewer returns with a list of what to fix; the
// list is in the entry and the project's latest return; an unknown item or
// a list on another event is refused naming the field; after the promoter
// corrects a figure and resubmits, the note holds the figures as returned
// (before) and the project the new ones (after).
func TestReturnWithTargets(t *testing.T) {
	w := mustWorld(t)
	p := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	rv := w.users["reviewer-qingyuan"]
	for _, bad := range []engine.Action{
		{Event: engine.EventReturn, Version: p.Version, Reason: "补正", Fix: []string{"figure:no_such"}},
		{Event: engine.EventPass, Version: p.Version, Fix: []string{"figure:land_area"}},
	} {
		_, err := w.svc.Act(w.ctx, rv, p.ID, bad)
		var e *engine.Error
		if !errors.As(err, &e) || e.Field != "fix" {
			t.Fatalf("%s with %v: err = %v, want one naming fix", bad.Event, bad.Fix, err)
		}
	}
	fix := []string{"figure:land_area", "document:energy"}
	p, err := w.svc.Act(w.ctx, rv, p.ID, engine.Action{Event: engine.EventReturn, Version: p.Version, Reason: "用地面积与规划条件不符,补充节能报告", Fix: fix})
	if err != nil {
		t.Fatal(err)
	}
	n, err := w.svc.LatestReturn(w.ctx, p)
	if err != nil || n == nil || !slices.Equal(n.Fix, fix) || n.Actor != rv.Username || n.Resubmitted {
		t.Fatalf("latest return = %+v, %v", n, err)
	}
	before := *n.Returned.LandArea
	in := input("qingyuan", p.Figures)
	area := before + 10
	in.Figures.LandArea = &area
	if p, err = w.svc.UpdateProject(w.ctx, w.users["promoter-qingyuan"], p.ID, p.Version, in); err != nil {
		t.Fatal(err)
	}
	p = w.act("promoter-qingyuan", p, engine.EventResubmit, "")
	if n, err = w.svc.LatestReturn(w.ctx, p); err != nil || !n.Resubmitted || *n.Returned.LandArea != before || *p.Figures.LandArea != area {
		t.Fatalf("after resubmit: note %+v (%v), project land %v", n, err, *p.Figures.LandArea)
	}
}
