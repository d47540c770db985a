package main

import (
	"context"
	"path/filepath"
	"testing"
)

// TestDemoRatingShowsConventions: the demo's rating run has a firm that
// filed nothing in class T, a firm without emissions data scored by the
// average policy, energy points that separate the firms, a firm flagged for
// R&D support, two existing land users (one below designated size, rated on
// its own method), and is open for objections.
func TestDemoRatingShowsConventions(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "demo.db")
	demoDatabase(t, db) // seedDemo, run by the real binary's init --demo
	a, err := openApp(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	auditor, err := a.db.UserByName(ctx, "auditor1")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := a.svc.RatingRuns(ctx, auditor)
	if err != nil || len(runs) != 1 {
		t.Fatalf("demo runs %d, %v", len(runs), err)
	}
	run, err := a.svc.RatingRun(ctx, auditor, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var t1, average, support, landUsers, belowScale int
	energy := map[float64]bool{}
	for _, r := range run.Results {
		if r.Band == "T" && r.NotRated == "not_filed" && r.Name == demoNotFiled {
			t1++
		}
		if r.RDSupport {
			support++
		}
		if r.ProjectID < 0 {
			landUsers++
		}
		if r.Group == "below_scale" {
			belowScale++
		}
		for _, s := range r.Indicators {
			if s.Missing == "average" {
				average++
			}
			if s.ID == "value_added_per_energy" && r.Rated {
				energy[s.Points] = true
			}
		}
	}
	if t1 != 1 || average != 1 || support == 0 || run.Bands["T"] != 1 {
		t.Errorf("T %d, average-scored %d, R&D support %d, bands %v", t1, average, support, run.Bands)
	}
	if landUsers != 2 || belowScale != 1 {
		t.Errorf("%d land users, %d below-scale lines, want 2 and 1", landUsers, belowScale)
	}
	p, err := a.svc.RatingPublicity(ctx, auditor, run.ID)
	if err != nil || p.Publicity == nil || !p.Open {
		t.Errorf("the demo run is not open for objections: %v %+v", err, p)
	}
	if rated := len(run.Results) - 1; len(energy) < rated-2 {
		t.Errorf("energy points %v separate too few of %d rated firms", energy, rated)
	}
}
