package engine_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
)

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// backdateAgreement moves a tracked project's agreed construction start
// years back (land delivered six months before), so the idle-land clock has run.
func (w *world) backdateAgreement(p *engine.Project, years int) {
	w.t.Helper()
	switch p.State {
	case engine.StateSigned, engine.StateUnderConstruction, engine.StateRectification, engine.StateInProduction:
	default:
		return
	}
	w.setStart(p, w.svc.Today().AddDate(-years, 0, 0))
}

func (w *world) setStart(p *engine.Project, start time.Time) {
	w.t.Helper()
	promoter := w.users["promoter-qingyuan"]
	ag, err := w.svc.AgreementDefaults(w.ctx, promoter, p.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	ag.SignedOn, ag.LandDeliveredOn, ag.StartBy = start.AddDate(0, -6, 0), start.AddDate(0, -6, 0), start
	ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = time.Time{}, time.Time{}, time.Time{}
	if _, err := w.svc.SaveAgreement(w.ctx, promoter, p.ID, *ag); err != nil {
		w.t.Fatal(err)
	}
}

// TestFullProductionReview walks testdata/tracking/full_production_review.tsv:
// every committed figure against the actuals, at and one unit below the
// floor; a shortfall opens rectification citing the agreement's clause, in
// the same transaction as the review's entry; no shortfall, no change.
func TestFullProductionReview(t *testing.T) {
	w := mustWorld(t)
	promoter, committee := w.users["promoter-qingyuan"], w.users["committee-qingyuan"]
	year := time.Now().Year() - 1
	for i, row := range readTable(t, "testdata/tracking/full_production_review.tsv", 6) {
		t.Run(row[0], func(t *testing.T) {
			p := w.firm(100+i, engine.StateInProduction, 5) // full production agreed two years ago
			ag, err := w.db.Agreement(w.ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			ag.ReviewClause = "第五条"
			if _, err := w.svc.SaveAgreement(w.ctx, promoter, p.ID, *ag); err != nil {
				t.Fatal(err)
			}
			fig := engine.AnnualFigures{Year: year, Revenue: 40000, Output: num(t, row[3]), ValueAdded: 10000, Tax: num(t, row[2]),
				RDExpense: num(t, row[4]), EnergyUse: 9000, Emissions: 5, Employees: 300, AboveScale: true}
			if err := w.svc.SaveFigures(w.ctx, promoter, p.ID, fig); err != nil {
				t.Fatal(err)
			}
			_, tr, err := w.svc.Tracking(w.ctx, committee, p.ID)
			if err != nil || !tr.ReviewDue || !tr.Can["review"] {
				t.Fatalf("review due %v, can %v, %v", tr.ReviewDue, tr.Can["review"], err)
			}
			hasDue := func() bool {
				as, err := w.svc.Alerts(w.ctx, committee)
				if err != nil {
					t.Fatal(err)
				}
				return slices.ContainsFunc(as, func(a engine.Alert) bool { return a.ProjectID == p.ID && a.Kind == "review_due" })
			}
			if !hasDue() {
				t.Error("no review_due alert on the committee's workbench")
			}
			if _, _, err := w.svc.ReviewFullProduction(w.ctx, promoter, p.ID, engine.ReviewInput{Version: p.Version, Year: year, FixedAssetInvestment: num(t, row[1])}); engine.ErrorCode(err) != engine.EFORBIDDEN {
				t.Errorf("promoter reviewing: %v, want forbidden", err)
			}
			rev, after, err := w.svc.ReviewFullProduction(w.ctx, committee, p.ID, engine.ReviewInput{Version: p.Version, Year: year, FixedAssetInvestment: num(t, row[1])})
			if err != nil {
				t.Fatal(err)
			}
			if hasDue() {
				t.Error("review_due alert after the review")
			}
			var short []string
			for _, l := range rev.Lines {
				if l.Short {
					short = append(short, l.Metric)
				}
			}
			want := []string{}
			if row[5] != "-" {
				want = strings.Split(row[5], ",")
			}
			if len(rev.Lines) != 4 || strings.Join(short, ",") != strings.Join(want, ",") {
				t.Fatalf("short %v, want %v (lines %+v)", short, want, rev.Lines)
			}
			rects, _ := w.db.Rectifications(w.ctx, p.ID)
			log, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventFullProductionReview, engine.EventRectify}})
			if len(want) == 0 {
				if after.State != engine.StateInProduction || len(rects) != 0 || len(log) != 1 {
					t.Errorf("no shortfall: state %s, %d orders, %d entries", after.State, len(rects), len(log))
				}
				return
			}
			if after.State != engine.StateRectification || len(rects) != 1 || rects[0].Cause != engine.CauseFullProduction ||
				rects[0].Clause != "投资协议第五条" || !strings.Contains(rects[0].Detail, "投资协议第五条") || rects[0].Review == nil {
				t.Fatalf("shortfall: state %s, orders %+v", after.State, rects)
			}
			if len(log) != 2 || log[0].Event != engine.EventFullProductionReview || log[1].Event != engine.EventRectify || log[1].Seq != log[0].Seq+1 {
				t.Errorf("entries %+v, want the review then the rectify, adjacent", log)
			}
		})
	}
	t.Run("ErrBeforeFullProductionDate", func(t *testing.T) {
		p := w.firm(199, engine.StateInProduction, 5)
		ag, _ := w.db.Agreement(w.ctx, p.ID)
		ag.FullProductionBy = w.svc.Today().AddDate(0, 1, 0)
		if _, err := w.svc.SaveAgreement(w.ctx, promoter, p.ID, *ag); err != nil {
			t.Fatal(err)
		}
		_, _, err := w.svc.ReviewFullProduction(w.ctx, committee, p.ID, engine.ReviewInput{Version: p.Version, Year: year, FixedAssetInvestment: 20000})
		wantCode(t, err, engine.ECONFLICT)
	})
}

// TestIdleLand walks testdata/tracking/idle_land.tsv: the idle-land fee a
// full year past the agreed start (or a year's stall under a quarter of the
// investment or a third of the land), recovery at two years; then the paths
// out: construction resumed, or the land recovered.
func TestIdleLand(t *testing.T) {
	w := mustWorld(t)
	committee := w.users["committee-qingyuan"]
	today := w.svc.Today()
	for _, row := range readTable(t, "testdata/tracking/idle_land.tsv", 8) {
		t.Run(row[0], func(t *testing.T) {
			state := engine.StateSigned
			if row[1] == "yes" {
				state = engine.StateUnderConstruction
			}
			p := w.drive("qingyuan", goodFigures(), state)
			var since time.Time
			if row[2] != "-" {
				var ymd [3]int
				for i, s := range strings.Fields(row[2]) {
					ymd[i], _ = strconv.Atoi(s)
				}
				since = today.AddDate(-ymd[0], -ymd[1], -ymd[2])
			}
			facts := &engine.IdleFacts{LandPrice: 1000}
			if row[1] == "no" {
				w.setStart(p, since)
			} else {
				facts.StalledSince = since
				facts.InvestedShare, facts.DevelopedShare = num(t, row[3]), num(t, row[4])
			}
			p, _ = w.db.Project(w.ctx, p.ID)
			got, err := w.svc.Act(w.ctx, committee, p.ID, engine.Action{Event: row[5], Version: p.Version, Reason: "闲置土地处置", Idle: facts})
			switch row[6] {
			case "conflict":
				wantCode(t, err, engine.ECONFLICT)
				return
			case "invalid":
				wantCode(t, err, engine.EINVALID)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rects, _ := w.db.Rectifications(w.ctx, p.ID)
			if row[5] == engine.EventIdleLand {
				years, _ := strconv.Atoi(row[7])
				if got.State != engine.StateRectification || len(rects) != 1 || rects[0].Cause != engine.CauseIdleLand ||
					rects[0].Idle == nil || rects[0].Idle.Years != years || rects[0].Idle.Fee != 200 || !strings.Contains(rects[0].Detail, "征缴土地闲置费 200.00 万元") {
					t.Fatalf("idle land: %s %+v", got.State, rects)
				}
				return
			}
			_, tr, err := w.svc.Tracking(w.ctx, committee, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != engine.StateExited || tr.Exit == nil || !slices.Equal(tr.Exit.Clauses, []string{engine.ClauseRecovery}) {
				t.Fatalf("recovery: %s %+v", got.State, tr.Exit)
			}
		})
	}

	t.Run("ResumeConstruction", func(t *testing.T) {
		p := w.drive("qingyuan", goodFigures(), engine.StateSigned)
		w.setStart(p, today.AddDate(-1, -2, 0))
		p, _ = w.db.Project(w.ctx, p.ID)
		p, err := w.svc.Act(w.ctx, committee, p.ID, engine.Action{Event: engine.EventIdleLand, Version: p.Version, Reason: "超过约定开工日期满一年未动工"})
		if err != nil {
			t.Fatal(err)
		}
		// Not "rectified" (that returns a firm to production), and not before the start is on file.
		_, err = w.svc.Act(w.ctx, committee, p.ID, engine.Action{Event: engine.EventRectified, Version: p.Version, Reason: "管委会认定:企业已缴纳闲置费并承诺立即动工建设。"})
		wantCode(t, err, engine.ECONFLICT)
		_, err = w.svc.Act(w.ctx, committee, p.ID, engine.Action{Event: engine.EventResumeConstruction, Version: p.Version, Reason: "已动工"})
		wantCode(t, err, engine.ECONFLICT)
		if err := w.svc.RecordMilestone(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Milestone{Kind: engine.MilestoneStart, DoneOn: today}); err != nil {
			t.Fatal(err)
		}
		p, err = w.svc.Act(w.ctx, committee, p.ID, engine.Action{Event: engine.EventResumeConstruction, Version: p.Version, Reason: "已缴纳闲置费并动工"})
		if err != nil {
			t.Fatal(err)
		}
		rects, _ := w.db.Rectifications(w.ctx, p.ID)
		if p.State != engine.StateUnderConstruction || len(rects) != 1 || rects[0].Outcome != engine.OutcomeRectifed {
			t.Fatalf("resumed: %s %+v", p.State, rects)
		}
	})
	t.Run("RecoverFromRectification", func(t *testing.T) {
		p := w.drive("qingyuan", goodFigures(), engine.StateSigned)
		w.setStart(p, today.AddDate(-2, 0, 0))
		p, _ = w.db.Project(w.ctx, p.ID)
		p, err := w.svc.Act(w.ctx, committee, p.ID, engine.Action{Event: engine.EventIdleLand, Version: p.Version, Reason: "闲置满两年"})
		if err != nil {
			t.Fatal(err)
		}
		p, err = w.svc.Act(w.ctx, committee, p.ID, engine.Action{Event: engine.EventRecoverLand, Version: p.Version, Reason: "闲置满两年,无偿收回"})
		if err != nil {
			t.Fatal(err)
		}
		rects, _ := w.db.Rectifications(w.ctx, p.ID)
		if p.State != engine.StateExited || rects[0].Outcome != engine.OutcomeFailed {
			t.Fatalf("recovered: %s %+v", p.State, rects)
		}
	})
}
