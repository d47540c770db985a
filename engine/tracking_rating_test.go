package engine_test

import (
	"bytes"
	"errors"
	"slices"
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
// (The default of 2 is TestTrackingPath/DTwoYearsRunning.) Without
// publicity, so each run acts when it is made.
func TestRatingExitAfterDYears(t *testing.T) {
	w := mustWorld(t)
	// Grace of one year: the firms' land came five years ago, so all three
	// years are rated.
	w.installQingyuanVariant("exit_after_d_years: 2", "exit_after_d_years: 3", "grace_years: 3", "grace_years: 1",
		"publicity_days: 7", "publicity_days: 0")
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

	w.installQingyuanVariant("not_filed: T ", "not_filed: D ", "publicity_days: 7", "publicity_days: 0")
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

// TestRatingPublicity: under qingyuan's rule set (publicity_days: 7) a run
// acts on nothing when made; the committee publishes it (days 1–7 from
// today), a promoter objects with evidence within the period, the committee
// decides, and after the period the run is made final, which opens the
// rectification the run planned. Each step is a logged event with its guards.
func TestRatingPublicity(t *testing.T) {
	w := mustWorld(t)
	promoter, committee, reviewer := w.users["promoter-qingyuan"], w.users["committee-qingyuan"], w.users["reviewer-qingyuan"]
	year := time.Now().Year() - 1
	good, floor := w.firm(1, engine.StateInProduction, 0), w.firm(2, engine.StateInProduction, 0)
	for p, tax := range map[*engine.Project]float64{good: 40, floor: 2} {
		if err := w.svc.SaveFigures(w.ctx, promoter, p.ID, figuresFor(year, tax, 4)); err != nil {
			t.Fatal(err)
		}
	}
	run, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year)
	if err != nil {
		t.Fatal(err)
	}
	state := func(id int64) engine.State {
		p, _ := w.db.Project(w.ctx, id)
		return p.State
	}
	t.Run("RunActsOnNothing", func(t *testing.T) {
		for _, r := range run.Results {
			if r.ProjectID == floor.ID && (r.Band != "D" || r.Action != engine.ActionRectify) {
				t.Errorf("floor firm: class %s planned %q", r.Band, r.Action)
			}
		}
		if st := state(floor.ID); st != engine.StateInProduction {
			t.Errorf("floor firm in %s before the run is final", st)
		}
	})
	later := func(days int) *engine.Service {
		svc, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return time.Now().AddDate(0, 0, days) }})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	t.Run("Publish", func(t *testing.T) {
		if _, err := w.svc.PublishRun(w.ctx, promoter, run.ID); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("promoter publishing: %v", err)
		}
		pub, err := w.svc.PublishRun(w.ctx, committee, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Seven days with today as day one: the last is today + 6.
		if want := w.svc.Today().AddDate(0, 0, 6); !pub.EndsOn.Equal(want) || pub.Status != engine.PublicityPublished {
			t.Errorf("publicity %+v, want ending %s", pub, want)
		}
		if _, err := w.svc.PublishRun(w.ctx, committee, run.ID); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("publishing twice: %v", err)
		}
		if _, err := w.svc.FinalizeRun(w.ctx, committee, run.ID, pub.Version); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("final during the period: %v", err)
		}
	})
	doc := &engine.Document{Kind: "other", FileName: "2025年度完税证明.pdf", StoredName: "x", MediaType: "application/pdf", Size: 3, SHA256: "ab12"}
	if err := w.svc.AddDocument(w.ctx, promoter, floor.ID, doc); err != nil {
		t.Fatal(err)
	}
	var objection *engine.Objection
	t.Run("Object", func(t *testing.T) {
		in := engine.ObjectionInput{ProjectID: floor.ID, Text: "税收数据漏报了第四季度入库税款,实际亩均税收 6.1 万元。", Evidence: []int64{doc.ID}}
		for _, tc := range []struct {
			name  string
			edit  func(*engine.ObjectionInput)
			field string
		}{
			{"ShortText", func(in *engine.ObjectionInput) { in.Text = "数据有误" }, "text"},
			{"NoEvidence", func(in *engine.ObjectionInput) { in.Evidence = nil }, "evidence"},
			{"ForeignEvidence", func(in *engine.ObjectionInput) { in.Evidence = []int64{doc.ID + 1000} }, "evidence"},
			{"NotInRun", func(in *engine.ObjectionInput) { in.ProjectID = 99999 }, "project_id"},
		} {
			bad := in
			tc.edit(&bad)
			_, err := w.svc.FileObjection(w.ctx, promoter, run.ID, bad)
			var e *engine.Error
			if !errors.As(err, &e) || e.Field != tc.field {
				t.Errorf("%s: %v, want a field error on %s", tc.name, err, tc.field)
			}
		}
		if _, err := w.svc.FileObjection(w.ctx, committee, run.ID, in); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("committee objecting: %v", err)
		}
		if objection, err = w.svc.FileObjection(w.ctx, promoter, run.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := later(7).FileObjection(w.ctx, promoter, run.ID, in); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("objection after the period: %v", err)
		}
	})
	t.Run("Decide", func(t *testing.T) {
		if _, err := later(8).FinalizeRun(w.ctx, committee, run.ID, 1); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("final with an objection pending: %v", err)
		}
		if _, err := w.svc.DecideObjection(w.ctx, reviewer, objection.ID, engine.ObjectionDismissed, "经税务部门核实,第四季度税款已计入。"); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("reviewer deciding: %v", err)
		}
		if _, err := w.svc.DecideObjection(w.ctx, committee, objection.ID, engine.ObjectionDismissed, "不成立"); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("decision without grounds: %v", err)
		}
		o, err := w.svc.DecideObjection(w.ctx, committee, objection.ID, engine.ObjectionDismissed, "经税务部门核实,第四季度税款已计入年度数据。")
		if err != nil || o.Outcome != engine.ObjectionDismissed {
			t.Fatalf("decide: %v %+v", err, o)
		}
		if _, err := w.svc.DecideObjection(w.ctx, committee, objection.ID, engine.ObjectionUpheld, "重新核实后认为异议成立。"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("deciding twice: %v", err)
		}
	})
	t.Run("Final", func(t *testing.T) {
		svc := later(7) // the day after the last day of the period
		if _, err := svc.FinalizeRun(w.ctx, committee, run.ID, 9); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("final with a stale version: %v", err)
		}
		pub, err := svc.FinalizeRun(w.ctx, committee, run.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if pub.Status != engine.PublicityFinal || state(floor.ID) != engine.StateRectification || state(good.ID) != engine.StateInProduction {
			t.Errorf("after final: %s, floor firm %s", pub.Status, state(floor.ID))
		}
		if _, err := svc.FinalizeRun(w.ctx, committee, run.ID, 2); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("final twice: %v", err)
		}
		log, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{AfterSeq: run.AuditSeq - 1})
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		for _, e := range log {
			if e.Event != "upload" {
				events = append(events, e.Event)
			}
		}
		want := []string{"rate", engine.EventRatingPublish, engine.EventRatingObject, engine.EventRatingDecide, engine.EventRatingFinal, "rectify"}
		if !slices.Equal(events, want) {
			t.Errorf("log %v, want %v", events, want)
		}
		p, err := w.svc.RatingPublicity(w.ctx, w.users["auditor-qingyuan"], run.ID)
		if err != nil || !p.Final || len(p.Objections) != 1 || p.Objections[0].Evidence[0].SHA256 != "ab12" {
			t.Errorf("publicity as read: %v %+v", err, p)
		}
	})
	t.Run("UpheldBlocksFinal", func(t *testing.T) {
		again, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.PublishRun(w.ctx, committee, run.ID); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("publishing a superseded run: %v", err)
		}
		if _, err := w.svc.PublishRun(w.ctx, committee, again.ID); err != nil {
			t.Fatal(err)
		}
		o, err := w.svc.FileObjection(w.ctx, promoter, again.ID, engine.ObjectionInput{ProjectID: floor.ID, Text: "用地面积应为 40 亩而非 50 亩,附不动产权证。", Evidence: []int64{doc.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.DecideObjection(w.ctx, committee, o.ID, engine.ObjectionUpheld, "核对不动产权证,用地面积确为 40 亩。"); err != nil {
			t.Fatal(err)
		}
		if _, err := later(8).FinalizeRun(w.ctx, committee, again.ID, 1); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("final with an upheld objection: %v", err)
		}
	})
	v, err := engine.VerifyLog(w.ctx, w.db)
	if err != nil || v.Bad != nil {
		t.Fatalf("verify log: %v %v", err, v.Bad)
	}
}

// TestRatingBelowScaleFirms: a firm whose figures say it is below
// designated size is rated by the rule set's below-scale method and ranked
// among such firms only; its electricity is kept with the run's inputs.
func TestRatingBelowScaleFirms(t *testing.T) {
	w := mustWorld(t)
	promoter, committee := w.users["promoter-qingyuan"], w.users["committee-qingyuan"]
	year := time.Now().Year() - 1
	big, small := w.firm(1, engine.StateInProduction, 0), w.firm(2, engine.StateInProduction, 0)
	if err := w.svc.SaveFigures(w.ctx, promoter, big.ID, figuresFor(year, 40, 4)); err != nil {
		t.Fatal(err)
	}
	f := figuresFor(year, 12, 1)
	f.AboveScale, f.Electricity = false, 1000 // tax 600 万元 on 50 mu; 0.6 元/kWh
	if err := w.svc.SaveFigures(w.ctx, promoter, small.ID, f); err != nil {
		t.Fatal(err)
	}
	run, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range run.Results {
		switch r.ProjectID {
		case big.ID:
			if r.Group != "" || r.Rank != 1 || len(r.Indicators) != 6 {
				t.Errorf("above-scale firm: group %q rank %d, %d indicators", r.Group, r.Rank, len(r.Indicators))
			}
		case small.ID:
			// 12/15 × 70 = 56 and 0.6/0.6 × 30 = 30.
			if r.Group != "below_scale" || r.Rank != 1 || r.Total != 86 || len(r.Indicators) != 2 {
				t.Errorf("below-scale firm: group %q rank %d total %v, %d indicators", r.Group, r.Rank, r.Total, len(r.Indicators))
			}
		}
	}
	v, err := w.svc.VerifyRun(w.ctx, w.users["auditor-qingyuan"], run.ID)
	if err != nil || !v.Same {
		t.Errorf("verify: %v %+v", err, v)
	}
}

// TestRatingLandUsers: existing industrial land users, imported by code with
// their land and figures, are rated beside the projects (negated ids), the
// floor and classes apply to them, nothing is opened for them, and one
// without figures for a year is class T. A code of a project of this system
// is refused and the sheet imports nothing.
func TestRatingLandUsers(t *testing.T) {
	w := mustWorld(t)
	promoter, committee := w.users["promoter-qingyuan"], w.users["committee-qingyuan"]
	year := time.Now().Year() - 1
	project := w.firm(1, engine.StateInProduction, 0)
	if err := w.svc.SaveFigures(w.ctx, promoter, project.ID, figuresFor(year, 40, 4)); err != nil {
		t.Fatal(err)
	}
	granted := time.Date(year-6, 5, 1, 0, 0, 0, 0, time.UTC)
	strong, weak := usccFor(t, "9144180077000001"), usccFor(t, "9144180077000002")
	rows := []engine.LandUserRow{
		{Row: 2, USCC: strong, Name: "存量企业甲", LandArea: 50, GrantedOn: granted, Figures: figuresFor(year, 45, 4)},
		{Row: 3, USCC: weak, Name: "存量企业乙", LandArea: 50, GrantedOn: granted, Figures: figuresFor(year, 3, 1)},
	}
	bad := append(slices.Clone(rows), engine.LandUserRow{Row: 4, USCC: project.USCC, Name: "重复", LandArea: 10, GrantedOn: granted, Figures: figuresFor(year, 10, 1)})
	res, err := w.svc.ImportLandUsers(w.ctx, promoter, engine.LandUserImport{Park: "qingyuan", Year: year, Rows: bad, FileName: "存量.xlsx"})
	if err != nil || res.Imported != 0 || len(res.Errors) != 1 || res.Errors[0].Row != 4 {
		t.Fatalf("sheet with a project's code: %v %+v", err, res)
	}
	if _, err := w.svc.ImportLandUsers(w.ctx, committee, engine.LandUserImport{Park: "qingyuan", Year: year, Rows: rows}); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("committee importing: %v", err)
	}
	if res, err = w.svc.ImportLandUsers(w.ctx, promoter, engine.LandUserImport{Park: "qingyuan", Year: year, Rows: rows, FileName: "存量.xlsx"}); err != nil || res.Imported != 2 {
		t.Fatalf("import: %v %+v", err, res)
	}
	users, err := w.svc.LandUsers(w.ctx, w.users["auditor-qingyuan"], "qingyuan")
	if err != nil || len(users) != 2 {
		t.Fatalf("land users %v %d", err, len(users))
	}
	run, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year)
	if err != nil {
		t.Fatal(err)
	}
	by := map[int64]engine.RatingResult{}
	for _, r := range run.Results {
		by[r.ProjectID] = r
	}
	// Three rated: 甲 45/mu, the project 40/mu, 乙 3/mu (below the floor).
	if a, b := by[users[0].FirmID()], by[users[1].FirmID()]; len(run.Results) != 3 || a.Name != "存量企业甲" || a.Rank != 1 || b.Band != "D" || !b.Floor || b.Action != "" {
		t.Errorf("land users' lines: %+v / %+v", a, b)
	}
	// The year before: only 甲 reports, 乙 filed nothing: class T.
	if _, err := w.svc.ImportLandUsers(w.ctx, promoter, engine.LandUserImport{Park: "qingyuan", Year: year - 1, Rows: rows[:1]}); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.SaveFigures(w.ctx, promoter, project.ID, figuresFor(year-1, 40, 4)); err != nil {
		t.Fatal(err)
	}
	prev, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year-1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range prev.Results {
		if r.ProjectID == users[1].FirmID() && (r.Band != "T" || r.NotRated != "not_filed") {
			t.Errorf("乙 without figures: class %s %q", r.Band, r.NotRated)
		}
	}
	if v, err := w.svc.VerifyRun(w.ctx, w.users["auditor-qingyuan"], prev.ID); err != nil || !v.Same {
		t.Errorf("verify: %v %+v", err, v)
	}
}

// TestRatingExitCountsFinalRunsOnly: under publicity, last year's D counts
// towards exit only once last year's run is final. A firm below the floor
// two years running: while last year's run is only published, this year's
// run plans rectification; once last year's run is final (after its
// period), a new run of this year marks exit due.
func TestRatingExitCountsFinalRunsOnly(t *testing.T) {
	w := mustWorld(t)
	// Grace of one year, so both years are rated (the land came five years ago).
	w.installQingyuanVariant("grace_years: 3", "grace_years: 1")
	promoter, committee := w.users["promoter-qingyuan"], w.users["committee-qingyuan"]
	year := time.Now().Year() - 1
	d := w.firm(1, engine.StateInProduction, 0)
	for _, y := range []int{year - 1, year} {
		if err := w.svc.SaveFigures(w.ctx, promoter, d.ID, figuresFor(y, 2, 4)); err != nil {
			t.Fatal(err)
		}
	}
	prev, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year-1)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := w.svc.PublishRun(w.ctx, committee, prev.ID)
	if err != nil {
		t.Fatal(err)
	}
	action := func(svc *engine.Service) string {
		t.Helper()
		run, err := svc.RunRating(w.ctx, committee, "qingyuan", year)
		if err != nil {
			t.Fatal(err)
		}
		return run.Results[0].Action
	}
	if got := action(w.svc); got != engine.ActionRectify {
		t.Errorf("last year's run published, not final: action %q, want rectify", got)
	}
	later, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return time.Now().AddDate(0, 0, 8) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := later.FinalizeRun(w.ctx, committee, prev.ID, pub.Version); err != nil {
		t.Fatal(err)
	}
	// Last year's final put the firm in rectification; a D again this year is exit due.
	if got := action(later); got != engine.ActionExitDue {
		t.Errorf("last year's run final: action %q, want exit_due", got)
	}
}
