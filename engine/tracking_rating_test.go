package engine_test

import (
	"bytes"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/rules"
)

// installQingyuanVariant makes a variant of qingyuan's rule set the park's
// active one: each pair of edits replaces its first string by its second.
func (w *world) installQingyuanVariant(edits ...string) *rules.RuleSet {
	w.t.Helper()
	def, err := rules.Default("qingyuan")
	if err != nil {
		w.t.Fatal(err)
	}
	src := def.Source()
	for i := 0; i+1 < len(edits); i += 2 {
		edited := bytes.Replace(src, []byte(edits[i]), []byte(edits[i+1]), 1)
		if bytes.Equal(edited, src) {
			w.t.Fatalf("%q not in qingyuan's rule set", edits[i])
		}
		src = edited
	}
	rs, err := rules.Parse("variant.yaml", src)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.svc.InstallRuleSet(w.ctx, rs); err != nil {
		w.t.Fatal(err)
	}
	return rs
}

// TestRatingExitAfterDYears: with exit_after_d_years: 3, a firm rated D in
// three consecutive years is marked for exit in the third run and not
// before; a firm whose D years are broken by a better year is not.
// (The default of 2 is TestTrackingPath/DTwoYearsRunning.)
func TestRatingExitAfterDYears(t *testing.T) {
	w := mustWorld(t)
	// Grace of one year: the firms' land came five years ago, so all three
	// years are rated.
	w.installQingyuanVariant("exit_after_d_years: 2", "exit_after_d_years: 3", "grace_years: 3", "grace_years: 1")
	promoter, committee := w.users["promoter-qingyuan"], w.users["committee-qingyuan"]
	year := time.Now().Year() - 1
	good := w.firm(1, engine.StateInProduction, 0)
	always := w.firm(2, engine.StateInProduction, 0)
	broken := w.firm(3, engine.StateInProduction, 0)
	taxes := map[*engine.Project][3]float64{
		good:   {40, 40, 40},
		always: {2, 2, 2}, // below the 5 万元/亩 floor: D each year
		broken: {2, 40, 2},
	}
	var last *engine.RatingRun
	for i, y := range []int{year - 2, year - 1, year} {
		for p, tax := range taxes {
			if err := w.svc.SaveFigures(w.ctx, promoter, p.ID, figuresFor(y, tax[i], 4)); err != nil {
				t.Fatal(err)
			}
		}
		run, err := w.svc.RunRating(w.ctx, committee, "qingyuan", y)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range run.Results {
			if r.Action == engine.ActionExitDue && y != year {
				t.Errorf("%d: firm %d marked for exit after %d D years", y, r.ProjectID, i+1)
			}
		}
		last = run
	}
	actions := map[int64]string{}
	for _, r := range last.Results {
		actions[r.ProjectID] = r.Action
	}
	if actions[always.ID] != engine.ActionExitDue {
		t.Errorf("three D years: action %q, want exit_due", actions[always.ID])
	}
	if actions[broken.ID] == engine.ActionExitDue || actions[good.ID] != "" {
		t.Errorf("broken D years: %q; good firm: %q", actions[broken.ID], actions[good.ID])
	}
}

// TestRatingNotFiledD: under a rule set that rates a firm without figures D,
// that firm is D (not ranked), opens rectification as a D does, and the
// dashboard counts it; under qingyuan's own rule set it is class T, counted
// as T on the dashboard.
func TestRatingNotFiledD(t *testing.T) {
	w := mustWorld(t)
	promoter, committee := w.users["promoter-qingyuan"], w.users["committee-qingyuan"]
	year := time.Now().Year() - 1
	filer, silent := w.firm(1, engine.StateInProduction, 0), w.firm(2, engine.StateInProduction, 0)
	if err := w.svc.SaveFigures(w.ctx, promoter, filer.ID, figuresFor(year, 40, 4)); err != nil {
		t.Fatal(err)
	}
	run, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year)
	if err != nil {
		t.Fatal(err)
	}
	dash, err := w.svc.Dashboard(w.ctx, committee, "qingyuan", year)
	if err != nil {
		t.Fatal(err)
	}
	if run.Bands["T"] != 1 || dash.Bands["T"] != 1 || dash.Bands["D"] != 0 {
		t.Errorf("T: run bands %v dashboard %v", run.Bands, dash.Bands)
	}

	w.installQingyuanVariant("not_filed: T ", "not_filed: D ")
	run, err = w.svc.RunRating(w.ctx, committee, "qingyuan", year)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range run.Results {
		if r.ProjectID == silent.ID && (r.Band != "D" || r.Rated || r.Rank != 0 || r.Action != engine.ActionRectify) {
			t.Errorf("silent firm: class %s rated %v rank %d action %q", r.Band, r.Rated, r.Rank, r.Action)
		}
	}
	p, _ := w.db.Project(w.ctx, silent.ID)
	if p.State != engine.StateRectification {
		t.Errorf("silent firm in %s, want rectification", p.State)
	}
	dash, err = w.svc.Dashboard(w.ctx, committee, "qingyuan", year)
	if err != nil {
		t.Fatal(err)
	}
	if dash.Bands["D"] != 1 || dash.Bands["T"] != 0 {
		t.Errorf("dashboard bands %v, want the silent firm in D", dash.Bands)
	}
	v, err := w.svc.VerifyRun(w.ctx, w.users["auditor-qingyuan"], run.ID)
	if err != nil || !v.Same {
		t.Errorf("verify: %v %+v", err, v)
	}
}
