package engine_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/rules/catalog"
)

// usccFor completes a 16-character prefix into a valid unified social credit
// code: the organisation code's check digit, then the check character.
func usccFor(t testing.TB, prefix string) string {
	for _, o := range "0123456789X" {
		for _, c := range "0123456789ABCDEFGHJKLMNPQRTUWXY" {
			if code := prefix + string(o) + string(c); engine.ValidUSCC(code) {
				return code
			}
		}
	}
	t.Fatalf("no check character for %s", prefix)
	return ""
}

// firm drives a qingyuan project with its own USCC to state to, through the
// engine, and back-dates its agreement so it is past the rating's grace
// period (land delivered five years ago) with an R&D commitment of rd %.
func (w *world) firm(n int, to engine.State, rd float64) *engine.Project {
	w.t.Helper()
	in := input("qingyuan", goodFigures())
	in.Name, in.USCC = fmt.Sprintf("企业 %d", n), usccFor(w.t, fmt.Sprintf("9144180%09d", n))
	p, err := w.svc.CreateProject(w.ctx, w.users["promoter-qingyuan"], in)
	if err != nil {
		w.t.Fatal(err)
	}
	steps := []string{"promoter:submit", "reviewer:pass", "scores", "committee:approve", "promoter:sign"}
	if to != engine.StateSigned {
		steps = append(steps, "promoter:start_construction", "promoter:start_production")
	}
	for _, st := range steps {
		if st == "scores" {
			p = w.scoreAll(p, 0.8, "reviewer-qingyuan", "reviewer2-qingyuan", "reviewer3-qingyuan")
			continue
		}
		role, ev, _ := splitStep(st)
		if ev == engine.EventApprove {
			p = w.decide(p, ev) // a decision of a committee meeting (issue 14)
			continue
		}
		p = w.act(role+"-qingyuan", p, ev, "")
	}
	ag, err := w.svc.AgreementDefaults(w.ctx, w.users["promoter-qingyuan"], p.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	five := time.Date(time.Now().Year()-5, 3, 1, 0, 0, 0, 0, time.UTC)
	ag.SignedOn, ag.LandDeliveredOn, ag.RDIntensity = five, five, rd
	ag.StartBy, ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if _, err := w.svc.SaveAgreement(w.ctx, w.users["promoter-qingyuan"], p.ID, *ag); err != nil {
		w.t.Fatal(err)
	}
	return p
}

func splitStep(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// figuresFor gives a firm on 50 mu (goodFigures) per-mu tax taxPerMu and R&D intensity rd %.
func figuresFor(year int, taxPerMu, rd float64) engine.AnnualFigures {
	return engine.AnnualFigures{Year: year, Revenue: 40000, Output: 42000, ValueAdded: 10000, Tax: taxPerMu * 50,
		RDExpense: 40000 * rd / 100, EnergyUse: 9000, Emissions: 5, Employees: 300, HighTech: rd >= 3, AboveScale: true}
}

// TestTrackingPath: signing records the agreement; construction and
// production record milestones; a rating run orders rectification for a D
// and for R&D below the commitment, is logged and reproducible; the
// committee decides one rectified (plan required) and one failed (exit with
// a clause); a D two years running is marked for exit.
func TestTrackingPath(t *testing.T) {
	w := mustWorld(t)
	// Runs that act when they are made (no publicity): TestRatingPublicity
	// has the path through 公示 and 异议.
	w.installQingyuanVariant("publicity_days: 7", "publicity_days: 0")
	promoter, committee := w.users["promoter-qingyuan"], w.users["committee-qingyuan"]
	year := time.Now().Year() - 1

	good := w.firm(1, engine.StateInProduction, 3)
	floor := w.firm(2, engine.StateInProduction, 3)
	lowRD := w.firm(3, engine.StateInProduction, 5)
	missing := w.firm(4, engine.StateInProduction, 3)

	t.Run("AgreementDefaultsAtSigning", func(t *testing.T) {
		p := w.drive("qingyuan", goodFigures(), engine.StateSigned)
		_, tr, err := w.svc.Tracking(w.ctx, promoter, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		ag := tr.Agreement
		if ag == nil || ag.FixedAssetInvestment != 20000 || ag.TaxPerMu != 44 || ag.OutputPerMu != 1200 {
			t.Fatalf("agreement %+v", ag)
		}
		if got, want := ag.StartBy, ag.LandDeliveredOn.AddDate(0, 6, 0); !got.Equal(want) && got.Day() == want.Day() {
			t.Errorf("start by %v, want 6 months after delivery %v", got, want)
		}
		if got, want := ag.FullProductionBy, ag.LandDeliveredOn.AddDate(0, 36, 0); got.Year() != want.Year() || got.Month() != want.Month() {
			t.Errorf("full production by %v, want %v", got, want)
		}
		if len(tr.Milestones) != 4 || tr.Milestones[0].Done != nil || tr.Milestones[0].Overdue {
			t.Errorf("milestones %+v", tr.Milestones)
		}
	})
	t.Run("MilestonesRecordedByTransitions", func(t *testing.T) {
		_, tr, err := w.svc.Tracking(w.ctx, promoter, good.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range []string{engine.MilestoneStart, engine.MilestoneCompletion, engine.MilestoneProduction} {
			if tr.Milestones[i].Kind != k || tr.Milestones[i].Done == nil {
				t.Errorf("milestone %s not recorded: %+v", k, tr.Milestones[i])
			}
		}
	})

	for _, f := range []struct {
		p   *engine.Project
		fig engine.AnnualFigures
	}{{good, figuresFor(year, 40, 4)}, {floor, figuresFor(year, 3, 4)}, {lowRD, figuresFor(year, 40, 3.5)}} {
		if err := w.svc.SaveFigures(w.ctx, promoter, f.p.ID, f.fig); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.svc.SaveFigures(w.ctx, committee, good.ID, figuresFor(year, 40, 4)); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("committee entering figures: %v, want forbidden", err)
	}
	if _, err := w.svc.RunRating(w.ctx, promoter, "qingyuan", year); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("promoter running the rating: %v, want forbidden", err)
	}

	run, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]engine.RatingResult{}
	for _, r := range run.Results {
		byID[r.ProjectID] = r
	}
	t.Run("Run", func(t *testing.T) {
		// The firm that filed nothing is class T under qingyuan's not_filed,
		// with a line of its own, and still listed as missing.
		if len(run.Results) != 4 || !slices.Equal(run.Missing, []int64{missing.ID}) {
			t.Fatalf("%d results, missing %v", len(run.Results), run.Missing)
		}
		if r := byID[missing.ID]; r.Band != "T" || r.Rated || r.NotRated != rules.NotRatedNotFiled || r.Action != "" || run.Bands["T"] != 1 {
			t.Errorf("firm without figures: class %s rated %v not rated %q action %q, bands %v", r.Band, r.Rated, r.NotRated, r.Action, run.Bands)
		}
		if r := byID[floor.ID]; r.Band != "D" || !r.Floor || r.Action != engine.ActionRectify {
			t.Errorf("floor firm: band %s floor %v action %q", r.Band, r.Floor, r.Action)
		}
		if r := byID[lowRD.ID]; !r.RDBelowCommitment || r.RDCommitted != 5 || r.Action != engine.ActionRectify {
			t.Errorf("low R&D firm: %+v", r)
		}
		if r := byID[good.ID]; r.Action != "" || r.RDBelowCommitment || r.RDBracket == "" {
			t.Errorf("good firm: %+v", r)
		}
		// Revenue 4 亿 > 2 亿: the bracket is 3 %; 3.5 % passes it.
		if r := byID[lowRD.ID]; r.RDBelowBracket || r.RDBracket != "≥ 3.00" {
			t.Errorf("bracket of low R&D firm: %q below %v", r.RDBracket, r.RDBelowBracket)
		}
		for _, id := range []int64{floor.ID, lowRD.ID} {
			p, _ := w.db.Project(w.ctx, id)
			if p.State != engine.StateRectification || p.DueAt == nil {
				t.Errorf("project %d: state %s due %v", id, p.State, p.DueAt)
			}
		}
		log, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{AfterSeq: run.AuditSeq - 1})
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		for _, e := range log {
			events = append(events, e.Event)
		}
		if !slices.Equal(events, []string{"rate", "rectify", "rectify"}) || log[0].RuleSetVersion != run.RuleSetVersion {
			t.Errorf("log after run: %v", events)
		}
	})
	t.Run("Reproducible", func(t *testing.T) {
		v, err := w.svc.VerifyRun(w.ctx, w.users["auditor-qingyuan"], run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Same || len(v.Differ) > 0 || v.Recomputed != run.ResultsSHA256 {
			t.Errorf("verify: same %v differ %v", v.Same, v.Differ)
		}
		again, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year)
		if err != nil {
			t.Fatal(err)
		}
		if again.ResultsSHA256 != run.ResultsSHA256 || again.InputsSHA256 != run.InputsSHA256 || again.ID == run.ID {
			t.Errorf("re-run: %s vs %s", again.ResultsSHA256, run.ResultsSHA256)
		}
		for _, r := range again.Results {
			if r.ProjectID != good.ID && r.ProjectID != missing.ID && r.Action != engine.ActionInRectification {
				t.Errorf("re-run acts again on %d: %q", r.ProjectID, r.Action)
			}
		}
		if _, err := w.svc.VerifyRun(w.ctx, w.users["auditor-yingde"], run.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("other park's auditor: %v", err)
		}
	})
	t.Run("RectifiedNeedsPlan", func(t *testing.T) {
		p, _ := w.db.Project(w.ctx, lowRD.ID)
		_, err := w.svc.DecideRectification(w.ctx, committee, p.ID, engine.Decision{Version: p.Version, Outcome: engine.OutcomeRectifed, Reason: "已整改"})
		wantCode(t, err, engine.EINVALID)
		if err := w.svc.SubmitPlan(w.ctx, committee, p.ID, "方案"); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("committee submitting the plan: %v", err)
		}
		if err := w.svc.SubmitPlan(w.ctx, promoter, p.ID, "追加研发投入 800 万元,新建省级工程技术研究中心。"); err != nil {
			t.Fatal(err)
		}
		// A plan alone is not enough: a short reason is no finding, and
		// re-measured figures still below the 5 % commitment are refused.
		_, err = w.svc.DecideRectification(w.ctx, committee, p.ID, engine.Decision{Version: p.Version, Outcome: engine.OutcomeRectifed, Reason: "研发投入已达承诺"})
		wantCode(t, err, engine.EINVALID)
		if err := w.svc.SaveFigures(w.ctx, promoter, p.ID, figuresFor(year+1, 40, 4.5)); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.DecideRectification(w.ctx, committee, p.ID, engine.Decision{Version: p.Version, Outcome: engine.OutcomeRectifed, Reason: "复测",
			Evidence: &engine.RectifiedEvidence{Year: year + 1}})
		wantCode(t, err, engine.EINVALID)
		if err := w.svc.SaveFigures(w.ctx, promoter, p.ID, figuresFor(year+1, 40, 5)); err != nil {
			t.Fatal(err)
		}
		p, err = w.svc.DecideRectification(w.ctx, committee, p.ID, engine.Decision{Version: p.Version, Outcome: engine.OutcomeRectifed, Reason: "复测研发投入强度 5.00%,达到承诺",
			Evidence: &engine.RectifiedEvidence{Year: year + 1}})
		if err != nil {
			t.Fatal(err)
		}
		rs, _ := w.db.Rectifications(w.ctx, p.ID)
		if p.State != engine.StateInProduction || len(rs) != 1 || rs[0].Outcome != engine.OutcomeRectifed || rs[0].Cause != engine.CauseRDBelow {
			t.Errorf("after rectified: %s %+v", p.State, rs)
		}
	})
	t.Run("FailedMovesToExit", func(t *testing.T) {
		p, _ := w.db.Project(w.ctx, floor.ID)
		_, err := w.svc.DecideRectification(w.ctx, committee, p.ID, engine.Decision{Version: p.Version, Outcome: engine.OutcomeFailed, Reason: "逾期未整改"})
		wantCode(t, err, engine.EINVALID) // no clause
		p, err = w.svc.DecideRectification(w.ctx, committee, p.ID, engine.Decision{Version: p.Version, Outcome: engine.OutcomeFailed,
			Reason: "整改期满亩均税收仍低于底线", Clauses: []string{engine.ClauseBuyBack, engine.ClauseRepayment}})
		if err != nil {
			t.Fatal(err)
		}
		_, tr, err := w.svc.Tracking(w.ctx, committee, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != engine.StateExited || !p.State.Terminal() || tr.Exit == nil || len(tr.Exit.Clauses) != 2 ||
			tr.Rectifications[0].Outcome != engine.OutcomeFailed {
			t.Errorf("after failed: %s exit %+v", p.State, tr.Exit)
		}
	})
	t.Run("DTwoYearsRunning", func(t *testing.T) {
		d := w.firm(5, engine.StateInProduction, 0)
		for _, y := range []int{year - 1, year} {
			if err := w.svc.SaveFigures(w.ctx, promoter, d.ID, figuresFor(y, 2, 4)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year-1); err != nil {
			t.Fatal(err)
		}
		p, _ := w.db.Project(w.ctx, d.ID)
		p, err := w.svc.DecideRectification(w.ctx, committee, p.ID, engine.Decision{Version: p.Version, Outcome: engine.OutcomeRectifed, Reason: "x"})
		if err == nil || p != nil {
			t.Fatal("rectified without a plan")
		}
		p, _ = w.db.Project(w.ctx, d.ID)
		_ = w.svc.SubmitPlan(w.ctx, promoter, d.ID, "计划")
		if _, err := w.svc.DecideRectification(w.ctx, committee, p.ID, engine.Decision{Version: p.Version, Outcome: engine.OutcomeRectifed, Reason: "管委会认定:企业已缴清欠税并完成技改,暂时达标。"}); err != nil {
			t.Fatal(err)
		}
		run2, err := w.svc.RunRating(w.ctx, committee, "qingyuan", year)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range run2.Results {
			if r.ProjectID == d.ID && r.Action != engine.ActionExitDue {
				t.Errorf("D twice: action %q", r.Action)
			}
		}
		dash, err := w.svc.Dashboard(w.ctx, committee, "qingyuan", year)
		if err != nil {
			t.Fatal(err)
		}
		if len(dash.ExitDue) != 1 || dash.Bands["D"] == 0 || len(dash.Exited) != 1 || dash.States[engine.StateExited] != 1 {
			t.Errorf("dashboard: exit due %d bands %v exited %d", len(dash.ExitDue), dash.Bands, len(dash.Exited))
		}
	})
	v, err := engine.VerifyLog(w.ctx, w.db)
	if err != nil || v.Bad != nil {
		t.Fatalf("verify log: %v %v", err, v.Bad)
	}
}

// TestMilestoneAlerts: an overdue milestone shows on the registering
// promoter's list, escalates to the committee after the grace period; land
// not built on a year past the agreed start is idle land, two years liable
// for recovery.
func TestMilestoneAlerts(t *testing.T) {
	w := mustWorld(t)
	promoter, committee := w.users["promoter-qingyuan"], w.users["committee-qingyuan"]
	set := func(p *engine.Project, delivered time.Time) {
		ag, err := w.svc.AgreementDefaults(w.ctx, promoter, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		ag.SignedOn, ag.LandDeliveredOn = delivered, delivered
		ag.StartBy, ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if _, err := w.svc.SaveAgreement(w.ctx, promoter, p.ID, *ag); err != nil {
			t.Fatal(err)
		}
	}
	today := w.svc.Today()
	recent := w.drive("qingyuan", goodFigures(), engine.StateSigned)
	set(recent, today.AddDate(0, -6, -10)) // start due 10 days ago: overdue, within the 30-day grace
	old := w.drive("qingyuan", goodFigures(), engine.StateSigned)
	set(old, today.AddDate(-2, -7, 0)) // start due 2 years and a month ago: escalated, liable for recovery

	kinds := func(as []engine.Alert, id int64) []string {
		var out []string
		for _, a := range as {
			if a.ProjectID == id {
				out = append(out, a.Kind)
			}
		}
		return out
	}
	pa, err := w.svc.Alerts(w.ctx, promoter)
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(pa, recent.ID); !slices.Equal(got, []string{"milestone_overdue"}) {
		t.Errorf("promoter, recent: %v", got)
	}
	if got := kinds(pa, old.ID); !slices.Contains(got, "milestone_escalated") || !slices.Contains(got, "idle_land") {
		t.Errorf("promoter, old: %v", got)
	}
	ca, err := w.svc.Alerts(w.ctx, committee)
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(ca, recent.ID); len(got) != 0 {
		t.Errorf("committee sees a milestone still within grace: %v", got)
	}
	if got := kinds(ca, old.ID); !slices.Contains(got, "milestone_escalated") || !slices.Contains(got, "idle_land") {
		t.Errorf("committee, old: %v", got)
	}
	// The auditor is shown the committee's alerts, each read-only; never an
	// empty list that contradicts them.
	aa, err := w.svc.Alerts(w.ctx, w.users["auditor-qingyuan"])
	if err != nil || len(aa) != len(ca) {
		t.Fatalf("auditor sees %d alerts (%v), the committee %d", len(aa), err, len(ca))
	}
	for i, a := range aa {
		if !a.ReadOnly || a.Kind != ca[i].Kind || a.ProjectID != ca[i].ProjectID || ca[i].ReadOnly {
			t.Errorf("auditor's alert %+v, committee's %+v", a, ca[i])
		}
	}
	_, tr, err := w.svc.Tracking(w.ctx, committee, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.IdleLand == nil || !tr.IdleLand.Recovery || tr.IdleLand.Years != 2 {
		t.Errorf("idle land %+v", tr.IdleLand)
	}
	if other, _ := w.svc.Alerts(w.ctx, w.users["promoter-yingde"]); len(other) != 0 {
		t.Errorf("other park's promoter sees %v", other)
	}
	// Recording the start clears the overdue start milestone.
	if err := w.svc.RecordMilestone(w.ctx, promoter, recent.ID, engine.Milestone{Kind: engine.MilestoneStart, DoneOn: today, Note: "开工令"}); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.RecordMilestone(w.ctx, promoter, recent.ID, engine.Milestone{Kind: engine.MilestoneStart, DoneOn: today.AddDate(0, 0, 1)}); engine.ErrorCode(err) != engine.EINVALID {
		t.Errorf("future date: %v", err)
	}
	pa, _ = w.svc.Alerts(w.ctx, promoter)
	if got := kinds(pa, recent.ID); len(got) != 0 {
		t.Errorf("after recording the start: %v", got)
	}
}

// TestImportFigures: every bad row is reported with its field; a sheet with
// errors imports nothing unless the good rows are accepted.
func TestImportFigures(t *testing.T) {
	w := mustWorld(t)
	promoter := w.users["promoter-qingyuan"]
	year := time.Now().Year() - 1
	a := w.firm(11, engine.StateInProduction, 3)
	b := w.firm(12, engine.StateInProduction, 3)
	signed := w.firm(13, engine.StateSigned, 3)
	neg := figuresFor(year, 30, 4)
	neg.Tax = -1
	rows := []engine.AnnualRow{
		{Row: 2, USCC: a.USCC, Figures: figuresFor(year, 30, 4)},
		{Row: 3, USCC: b.USCC, Figures: neg},
		{Row: 4, USCC: "91440300708461136X", Figures: figuresFor(year, 30, 4)},
		{Row: 5, USCC: signed.USCC, Figures: figuresFor(year, 30, 4)},
		{Row: 6, USCC: a.USCC, Figures: figuresFor(year, 30, 4)},
	}
	in := engine.ImportInput{Park: "qingyuan", Year: year, Rows: rows, FileName: "2025.xlsx",
		Errors: []engine.RowError{{Row: 7, Field: "output", Msg: catalog.Message{ID: "row.not_a_number", Args: catalog.Args{"Value": "x"}}}}}
	res, err := w.svc.ImportFigures(w.ctx, promoter, in)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Errors {
		got = append(got, fmt.Sprint(e.Row, ":", e.Field))
	}
	if want := []string{"3:tax", "4:uscc", "5:uscc", "6:uscc", "7:output"}; !slices.Equal(got, want) {
		t.Errorf("errors %v, want %v", got, want)
	}
	if res.Imported != 0 || res.Good != 1 || res.Rows != 6 {
		t.Errorf("imported %d good %d rows %d", res.Imported, res.Good, res.Rows)
	}
	if figs, _ := w.db.AnnualFigures(w.ctx, "qingyuan", year); len(figs) != 0 {
		t.Fatalf("a sheet with errors imported %d rows", len(figs))
	}
	in.AcceptGood = true
	if res, err = w.svc.ImportFigures(w.ctx, promoter, in); err != nil || res.Imported != 1 {
		t.Fatalf("accept good rows: %v %+v", err, res)
	}
	figs, _ := w.db.AnnualFigures(w.ctx, "qingyuan", year)
	if len(figs) != 1 || figs[0].ProjectID != a.ID || figs[0].EnteredBy != "promoter-qingyuan" {
		t.Errorf("imported %+v", figs)
	}
	if _, err := w.svc.ImportFigures(w.ctx, w.users["promoter-yingde"], in); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("other park: %v", err)
	}
	_ = rules.Figures{}
}
