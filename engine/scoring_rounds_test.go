package engine_test

import (
	"slices"
	"testing"

	"zonevet/engine"
)

// sheet70 is a qingyuan scoring sheet (rules/parks/qingyuan.yaml, scoring:
// seven criteria of maxima 20/20/20/15/10/10/5) totalling exactly 70, the
// pass mark; credit is the investor_credit item, so a sheet's total is
// 66.5 + credit.
func sheet70(credit float64) map[string]float64 {
	return map[string]float64{"chain_fit": 14, "tax_per_mu": 14, "innovation": 14, "investment_scale": 10.5,
		"output_per_mu": 7, "energy_emissions": 7, "investor_credit": credit}
}

// TestScoreAtPassMarkBoundary: the qingyuan policy reads "平均分 ≥ 70 分方可提交
// 管委会审议" (scoring.pass_mark 70, quorum 3). A mean of exactly 70.00 is
// recommended; 69.99 (totals 70, 70, 69.97, worked out by hand) goes back.
func TestScoreAtPassMarkBoundary(t *testing.T) {
	w := mustWorld(t)
	for _, tc := range []struct {
		name   string
		totals [3]float64 // investor_credit of each sheet; total = 66.5 + credit
		mean   float64
		want   engine.State
	}{
		{"mean 70.00 reaches the pass mark", [3]float64{3.5, 3.5, 3.5}, 70, engine.StateCommitteeReview},
		{"mean 69.99 falls short", [3]float64{3.5, 3.5, 3.47}, 69.99, engine.StateReturned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := w.drive("qingyuan", goodFigures(), engine.StateExpertReview)
			var out *engine.ScoreOutcome
			for i, who := range []string{"reviewer-qingyuan", "reviewer2-qingyuan", "reviewer3-qingyuan"} {
				var err error
				out, err = w.svc.Score(w.ctx, w.users[who], p.ID, engine.ScoreInput{Round: p.Round, Items: sheet70(tc.totals[i])})
				if err != nil {
					t.Fatalf("score by %s: %v", who, err)
				}
			}
			if !out.Quorum || out.Mean != tc.mean {
				t.Fatalf("quorum %v, mean %v; want quorum, mean %v", out.Quorum, out.Mean, tc.mean)
			}
			if out.Project.State != tc.want {
				t.Fatalf("mean %v: state %s, want %s", out.Mean, out.Project.State, tc.want)
			}
			stored, err := w.db.Project(w.ctx, p.ID)
			if err != nil || stored.State != tc.want {
				t.Fatalf("stored state %v (%v), want %s", stored.State, err, tc.want)
			}
		})
	}
}

// TestScoreFromEarlierRoundDoesNotCount: a reviewer who loaded the project in
// round 1 and sends the sheet after it was returned, resubmitted and passed
// again is told the page is stale; the sheet is not recorded in round 2, where
// it would count toward the new round's quorum.
func TestScoreFromEarlierRoundDoesNotCount(t *testing.T) {
	w := mustWorld(t)
	p := w.drive("qingyuan", goodFigures(), engine.StateExpertReview)
	seen := p.Round
	p = w.scoreAll(p, 0.8, "reviewer2-qingyuan") // one sheet of round 1, below quorum
	p = w.act("reviewer-qingyuan", p, engine.EventReturn, "请补充环评材料")
	p = w.act("promoter-qingyuan", p, engine.EventResubmit, "")
	p = w.act("reviewer-qingyuan", p, engine.EventPass, "")
	if p.State != engine.StateExpertReview || p.Round != seen+1 {
		t.Fatalf("after resubmission: state %s round %d, want expert_review round %d", p.State, p.Round, seen+1)
	}
	_, err := w.svc.Score(w.ctx, w.users["reviewer3-qingyuan"], p.ID, engine.ScoreInput{Round: seen, Items: sheet70(3.5)})
	wantCode(t, err, engine.ECONFLICT)
	scores, err := w.db.Scores(w.ctx, p.ID, p.Round)
	if err != nil || len(scores) != 0 {
		t.Fatalf("round %d scores = %v, %v; want none", p.Round, scores, err)
	}
	// The new round needs a full quorum of its own: two sheets of round 2 plus
	// the one of round 1 are not three.
	p = w.scoreAll(p, 0.8, "reviewer2-qingyuan", "reviewer3-qingyuan")
	if p.State != engine.StateExpertReview {
		t.Fatalf("two round-2 sheets: state %s, want expert_review (quorum 3)", p.State)
	}
}

// TestActionsHideFailedPass: on a screening project that fails a hard rule the
// reviewer is not offered pass (only the committee's 一事一议 moves it on);
// return and reject stay.
func TestActionsHideFailedPass(t *testing.T) {
	w := mustWorld(t)
	hardFail := goodFigures()
	hardFail.Tax = fp(50 * 10) // 10 万元/亩 < 30 (qingyuan tax_per_mu, hard)
	p := w.drive("qingyuan", hardFail, engine.StateScreening)
	if p.Report == nil || p.Report.Passed() {
		t.Fatal("the figures should fail a hard rule")
	}
	got := w.svc.Actions(w.ctx, w.users["reviewer-qingyuan"], p)
	if slices.Contains(got, engine.EventPass) {
		t.Fatalf("Actions = %v offers pass on a failed hard rule", got)
	}
	if !slices.Contains(got, engine.EventReturn) || !slices.Contains(got, engine.EventReject) {
		t.Fatalf("Actions = %v, want return and reject", got)
	}
	good := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	if got := w.svc.Actions(w.ctx, w.users["reviewer-qingyuan"], good); !slices.Contains(got, engine.EventPass) {
		t.Fatalf("Actions = %v on a passing report, want pass", got)
	}
}
