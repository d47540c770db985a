package engine

import (
	"slices"
	"testing"
)

// TestEffectsAreOfLifecycleEvents: every row of the effects table names an
// event of the lifecycle table, so a misspelt or removed event cannot leave
// an effect that silently never runs. The events with effects are those of
// DESIGN.md's after-signature half (sign records the agreement, the
// construction and production starts their milestones, rectify, idle_land,
// resume_construction, rectified, exit and recover_land their orders),
// approve and reject at committee review (the meeting's decision) and
// pass and override into expert review (the draw from the expert pool).
func TestEffectsAreOfLifecycleEvents(t *testing.T) {
	var events []string
	for _, e := range lifecycle {
		events = append(events, e.Name)
	}
	want := []string{EventSign, EventStartConstruction, EventStartProduction, EventRectify, EventIdleLand,
		EventResumeConstruction, EventRectified, EventExit, EventRecoverLand, EventApprove, EventReject, EventPass, EventOverride}
	var got []string
	for ev := range effects {
		if !slices.Contains(events, ev) {
			t.Errorf("effect for %q, which is no lifecycle event", ev)
		}
		got = append(got, ev)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("events with effects = %v, want %v", got, want)
	}
}
