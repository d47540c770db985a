package main

import (
	"context"
	"fmt"

	"zonevet/engine"
)

// seedReminders gives the demo its 催办: promoter1 reminds whoever its
// project under review due first waits on, and the sweep reminds of (and
// escalates) every project overdue by now, as the serve worker then does
// each hour, so the demo accounts' inboxes hold reminders beside the
// notices of every move. (The demo's history ends days before its first
// start, so which deadlines have passed depends on the day it is seeded.)
func seedReminders(ctx context.Context, a *app, users map[string]*engine.User) error {
	u := users["promoter1"]
	ps, _, err := a.svc.Projects(ctx, u, engine.ProjectFilter{States: []engine.State{engine.StateScreening, engine.StateExpertReview, engine.StateCommitteeReview}, Sort: "due", Limit: 20})
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.CreatedBy != u.ID {
			continue
		}
		if _, err := a.svc.Act(ctx, u, p.ID, engine.Action{Event: engine.EventRemind, Version: p.Version, Reason: "投资方催问进度,请尽快办理。"}); err != nil {
			return fmt.Errorf("demo reminder: %w", err)
		}
		break
	}
	_, err = a.svc.RemindSweep(ctx)
	return err
}
