package engine_test

import (
	"strings"
	"testing"
	"time"

	"zonevet/engine"
)

// signedWithDelivery is a signed project whose agreement was signed 60 days
// ago and whose land was delivered 30 days ago (dates by hand).
func (w *world) signedWithDelivery() *engine.Project {
	w.t.Helper()
	p := w.drive("qingyuan", goodFigures(), engine.StateSigned)
	promoter := w.users["promoter-qingyuan"]
	today := w.svc.Today()
	ag, err := w.svc.AgreementDefaults(w.ctx, promoter, p.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	ag.SignedOn, ag.LandDeliveredOn = today.AddDate(0, 0, -60), today.AddDate(0, 0, -30)
	ag.StartBy, ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = ag.LandDeliveredOn.AddDate(0, 6, 0), ag.LandDeliveredOn.AddDate(2, 0, 0),
		ag.LandDeliveredOn.AddDate(2, 6, 0), ag.LandDeliveredOn.AddDate(3, 0, 0)
	if _, err := w.svc.SaveAgreement(w.ctx, promoter, p.ID, *ag); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// entriesOf is the project's log entries.
func (w *world) entriesOf(p *engine.Project) []engine.AuditEntry {
	w.t.Helper()
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID})
	if err != nil {
		w.t.Fatal(err)
	}
	return es
}

// TestStartConstructionOneStep: 开工 is one step wherever it is taken — the
// project page's button (start_construction with its date) and the tracking
// page's 开工 milestone each move the project, record the milestone on the
// date given and write one log entry; a date before land delivery is
// refused on the date field and changes nothing.
func TestStartConstructionOneStep(t *testing.T) {
	promoterStart := func(w *world, p *engine.Project, on time.Time) error {
		_, err := w.svc.Act(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Action{Event: engine.EventStartConstruction,
			Version: p.Version, DoneOn: on.Format(time.DateOnly)})
		return err
	}
	milestone := func(w *world, p *engine.Project, on time.Time) error {
		return w.svc.RecordMilestone(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Milestone{Kind: engine.MilestoneStart, DoneOn: on})
	}
	for name, start := range map[string]func(*world, *engine.Project, time.Time) error{"Button": promoterStart, "Milestone": milestone} {
		t.Run(name, func(t *testing.T) {
			w := mustWorld(t)
			p := w.signedWithDelivery()
			today := w.svc.Today()
			before := len(w.entriesOf(p))

			err := start(w, p, today.AddDate(0, 0, -45))
			var de *engine.Error
			if !asError(err, &de) || de.Field != "done_on" || de.ID != "err.start_before_land_delivery" {
				t.Fatalf("start before delivery: %v, want err.start_before_land_delivery on done_on", err)
			}
			if got, _ := w.svc.Project(w.ctx, w.users["promoter-qingyuan"], p.ID); got.State != engine.StateSigned || got.Version != p.Version {
				t.Fatalf("a refused start left the project %s v%d, want signed v%d", got.State, got.Version, p.Version)
			}

			on := today.AddDate(0, 0, -20)
			if err := start(w, p, on); err != nil {
				t.Fatal(err)
			}
			got, _ := w.svc.Project(w.ctx, w.users["promoter-qingyuan"], p.ID)
			if got.State != engine.StateUnderConstruction {
				t.Errorf("after 开工 the project is %s, want under_construction", got.State)
			}
			ms, err := w.db.Milestones(w.ctx, []int64{p.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 || ms[0].Kind != engine.MilestoneStart || !ms[0].DoneOn.Equal(on) {
				t.Errorf("milestones %+v, want one 开工 on %s", ms, on.Format(time.DateOnly))
			}
			es := w.entriesOf(p)[before:]
			if len(es) != 1 || es[0].Event != engine.EventStartConstruction || es[0].ToState != engine.StateUnderConstruction ||
				!strings.Contains(es[0].Payload, on.Format(time.DateOnly)) {
				t.Errorf("new entries %+v, want one start_construction naming %s", es, on.Format(time.DateOnly))
			}
		})
	}
}
