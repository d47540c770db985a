package engine_test

import (
	"testing"

	"zonevet/engine"
)

// TestStartNotBeforeSigningOrDelivery: 开工 is refused on a date before the
// agreement was signed or before the land was delivered, on the date field;
// on or after both it is recorded. Dates by hand: signed 60 days ago, land
// delivered 30 days ago.
func TestStartNotBeforeSigningOrDelivery(t *testing.T) {
	w := mustWorld(t)
	p := w.drive("qingyuan", goodFigures(), engine.StateSigned)
	promoter := w.users["promoter-qingyuan"]
	today := w.svc.Today()
	ag, err := w.svc.AgreementDefaults(w.ctx, promoter, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	ag.SignedOn, ag.LandDeliveredOn = today.AddDate(0, 0, -60), today.AddDate(0, 0, -30)
	ag.StartBy, ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = ag.LandDeliveredOn.AddDate(0, 6, 0), ag.LandDeliveredOn.AddDate(2, 0, 0),
		ag.LandDeliveredOn.AddDate(2, 6, 0), ag.LandDeliveredOn.AddDate(3, 0, 0)
	if _, err := w.svc.SaveAgreement(w.ctx, promoter, p.ID, *ag); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		daysAgo int
		refused bool
	}{
		{"BeforeSigning", 90, true},
		{"BetweenSigningAndDelivery", 45, true},
		{"OnDelivery", 30, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := w.svc.RecordMilestone(w.ctx, promoter, p.ID, engine.Milestone{Kind: engine.MilestoneStart, DoneOn: today.AddDate(0, 0, -tt.daysAgo)})
			var de *engine.Error
			switch {
			case tt.refused && (err == nil || !asError(err, &de) || de.Field != "done_on"):
				t.Fatalf("start %d days ago: %v, want refused on done_on", tt.daysAgo, err)
			case !tt.refused && err != nil:
				t.Fatalf("start %d days ago: %v, want recorded", tt.daysAgo, err)
			}
		})
	}
}
