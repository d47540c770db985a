package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"zonevet/rules/catalog"

	"zonevet/rules"
)

// This file holds what the agreement's commitments lead to after signing:
// the full-production review (达产复核), idle land and stalled construction
// (《闲置土地处置办法》, 国土资源部令第 53 号), and the evidence a
// rectification needs before the committee may find it done.

// EventFullProductionReview is the committee's full-production review: a
// log entry of its own, and when a committed figure falls short, a
// rectification order in the same transaction.
const EventFullProductionReview = "full_production_review"

// Rectification causes added by the commitments after signing.
const (
	CauseFullProduction = "full_production_shortfall"
	CauseIdleLand       = "idle_land"
)

// idleLandFeeRate is the idle-land fee: 20 % of the land transfer or
// allocation price (《闲置土地处置办法》第十四条).
const idleLandFeeRate = 0.20

// minFindingRunes is the shortest committee finding that can stand as the
// evidence of a rectification (认定意见).
const minFindingRunes = 20

// defaultReviewClause is cited when the agreement names no clause.
const defaultReviewClause = "投资协议达产承诺条款"

// ReviewInput is what the committee brings to the full-production review:
// the year of annual figures to compare (the first full year at or after
// the agreed full-production date, normally) and the fixed-asset investment
// actually completed (累计完成固定资产投资, 万元, from the completion audit),
// which the annual figures do not hold.
type ReviewInput struct {
	Version              int64   `json:"version"`
	Year                 int     `json:"year"`
	FixedAssetInvestment float64 `json:"fixed_asset_investment"`
}

// ReviewLine is one committed figure against its actual value, both rounded
// half up to two decimals as published indicators are written. Floor is
// the commitment less the rule set's tolerance; Short says actual < floor.
type ReviewLine struct {
	Metric    string  `json:"metric"`
	Committed float64 `json:"committed"`
	Floor     float64 `json:"floor"`
	Actual    float64 `json:"actual"`
	Short     bool    `json:"short"`
}

// FullProductionReview is one 达产复核: every committed figure of the
// agreement against the actuals, and the clause a shortfall cites.
type FullProductionReview struct {
	ProjectID  int64        `json:"project_id"`
	Year       int          `json:"year"`
	Tolerance  float64      `json:"tolerance"` // %, from the rule set
	Clause     string       `json:"clause"`
	Lines      []ReviewLine `json:"lines"`
	Shortfall  bool         `json:"shortfall"`
	ReviewedBy string       `json:"reviewed_by"`
	ReviewedAt time.Time    `json:"reviewed_at"`
}

// Review metrics, in the order of the agreement.
const (
	MetricInvestmentIntensity = "investment_intensity"
	MetricTaxPerMu            = "tax_per_mu"
	MetricOutputPerMu         = "output_per_mu"
	MetricRDIntensity         = "rd_intensity"
)

// reviewFigures compares the agreement's commitments with the actuals: the
// completed investment and one year's annual figures, per mu of the agreed
// land. A commitment of 0 is no commitment and is not compared.
func reviewFigures(ag *Agreement, fig *AnnualFigures, investment, tolerance float64) []ReviewLine {
	rd := 0.0
	if fig.Revenue > 0 {
		rd = fig.RDExpense / fig.Revenue * 100
	}
	pairs := []struct {
		metric            string
		committed, actual float64
	}{
		{MetricInvestmentIntensity, ag.FixedAssetInvestment / ag.LandArea, investment / ag.LandArea},
		{MetricTaxPerMu, ag.TaxPerMu, fig.Tax / ag.LandArea},
		{MetricOutputPerMu, ag.OutputPerMu, fig.Output / ag.LandArea},
		{MetricRDIntensity, ag.RDIntensity, rd},
	}
	var out []ReviewLine
	for _, x := range pairs {
		if x.committed <= 0 {
			continue
		}
		l := ReviewLine{Metric: x.metric, Committed: roundHalfUp2(x.committed), Actual: roundHalfUp2(x.actual),
			Floor: roundHalfUp2(x.committed * (1 - tolerance/100))}
		l.Short = l.Actual < l.Floor
		out = append(out, l)
	}
	return out
}

// roundHalfUp2 rounds v half up to two decimals the way a person rounds the
// number as written: 39.595 → 39.60, although the float nearest 39.595 lies
// just below it and math.Round(v*100) would give 39.59. The shortest decimal
// that reads back as v is rounded exactly (math/big).
func roundHalfUp2(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'f', -1, 64))
	if !ok {
		return round2(v)
	}
	r.Mul(r, big.NewRat(100, 1))
	neg := r.Sign() < 0
	r.Abs(r).Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // floor of a positive rational
	f, _ := new(big.Rat).SetFrac(q, big.NewInt(100)).Float64()
	if neg {
		f = -f
	}
	return f
}

// detail words a review's shortfalls for the rectification order.
func (r *FullProductionReview) detail() string {
	var short []string
	for _, l := range r.Lines {
		if l.Short {
			short = append(short, fmt.Sprintf("%s 实际 %.2f,低于承诺 %.2f(容差 %g%%,下限 %.2f)",
				ReviewMetricLabel(l.Metric, "zh"), l.Actual, l.Committed, r.Tolerance, l.Floor))
		}
	}
	return fmt.Sprintf("达产复核(%d 年度):依据%s,%s。限期整改。", r.Year, r.Clause, strings.Join(short, ";"))
}

// ReviewFullProduction is the committee's full-production review (达产复核)
// of a project in production once the agreed full-production date has come:
// each committed figure against the actuals. The review is logged; a
// shortfall beyond the rule set's tolerance opens rectification citing the
// agreement's clause, in the same transaction.
func (s *Service) ReviewFullProduction(ctx context.Context, u *User, id int64, in ReviewInput) (*FullProductionReview, *Project, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.authorize(u, p.Park, string(p.State), EventFullProductionReview)
	if err != nil {
		return nil, nil, s.stateOrPermission(u, p, EventFullProductionReview, err)
	}
	if in.Version != p.Version {
		return nil, nil, ErrStale()
	}
	ag, err := s.store.Agreement(ctx, p.ID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, Fail(ECONFLICT, "err.no_agreement_on_file_nothing_to", nil)
	} else if err != nil {
		return nil, nil, err
	}
	today := s.Today()
	if today.Before(ag.FullProductionBy) {
		return nil, nil, Fail(ECONFLICT, "err.agreed_full_production_date_has_not", Args{"DateOnly": ag.FullProductionBy.Format(time.DateOnly)})
	}
	if in.Year < ag.FullProductionBy.Year() || in.Year > today.Year() {
		return nil, nil, FieldFail("year", "err.year_reviewed_must_be_from_full", Args{"Year": ag.FullProductionBy.Year()})
	}
	if !finiteNonNeg(in.FixedAssetInvestment) || in.FixedAssetInvestment == 0 {
		return nil, nil, FieldFail("fixed_asset_investment", "err.enter_fixed_asset_investment_completed_10k", nil)
	}
	figs, err := s.store.ProjectFigures(ctx, p.ID)
	if err != nil {
		return nil, nil, err
	}
	i := slices.IndexFunc(figs, func(f AnnualFigures) bool { return f.Year == in.Year })
	if i < 0 {
		return nil, nil, FieldFail("year", "err.no_annual_figures_for_enter_them", Args{"Year": in.Year})
	}
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	tol := rs.Tracking().ReviewTolerance
	rev := &FullProductionReview{ProjectID: p.ID, Year: in.Year, Tolerance: tol, Clause: ag.reviewClause(),
		Lines: reviewFigures(ag, &figs[i], in.FixedAssetInvestment, tol), ReviewedBy: u.Username, ReviewedAt: s.now().UTC()}
	rev.Shortfall = slices.ContainsFunc(rev.Lines, func(l ReviewLine) bool { return l.Short })

	e := s.entry(a, p, EventFullProductionReview, p.State, p.State)
	e.Reason = fmt.Sprintf("达产复核(%d 年度):%s", in.Year, map[bool]string{true: "未达协议承诺", false: "达到协议承诺"}[rev.Shortfall])
	e.Payload = payload(rev)
	c := &Change{Entry: e}
	if rev.Shortfall {
		to, err := transition(p.State, EventRectify)
		if err != nil {
			return nil, nil, err
		}
		r := s.newRectification(rs, p, CauseFullProduction, rev.detail())
		r.Clause, r.Review = rev.Clause, rev
		c.Tracking = &TrackingPart{Open: []Rectification{r}}
		version := p.Version
		p.State, p.UpdatedAt, p.DueAt = to, s.now().UTC(), s.endOfDay(r.DueOn)
		move := s.entry(a, p, EventRectify, StateInProduction, to)
		move.Reason = r.Detail
		move.Payload = payload(map[string]any{"cause": CauseFullProduction, "review": rev})
		c.Project, c.ExpectedVersion, c.Extra = p, version, []AuditEntry{move}
	}
	if err := s.store.Apply(ctx, c); err != nil {
		return nil, nil, err
	}
	return rev, p, nil
}

func (ag *Agreement) reviewClause() string {
	if c := strings.TrimSpace(ag.ReviewClause); c != "" {
		return "投资协议" + strings.TrimPrefix(c, "投资协议")
	}
	return defaultReviewClause
}

// IdleFacts are the facts an idle-land finding rests on where construction
// has started (《闲置土地处置办法》第二条): since when it stalled, and how far
// it had come — under a quarter of the investment or a third of the land
// developed. LandPrice (the transfer price, 万元) sets the fee when given.
type IdleFacts struct {
	StalledSince   time.Time `json:"stalled_since,omitempty"`   // 中止开发建设之日
	InvestedShare  float64   `json:"invested_share,omitempty"`  // % of total investment completed
	DevelopedShare float64   `json:"developed_share,omitempty"` // % of the land under development
	LandPrice      float64   `json:"land_price,omitempty"`      // 出让价款, 万元
}

// IdleFinding is what an idle-land event found: from when the idle years
// count, how many full years, and the fee levied.
type IdleFinding struct {
	Basis     string    `json:"basis"` // not_started | stalled
	Since     time.Time `json:"since"`
	Years     int       `json:"years"`
	Facts     IdleFacts `json:"facts"`
	Fee       float64   `json:"fee,omitempty"` // 万元, 20 % of the land price
	FeeStated bool      `json:"fee_stated"`    // false: no price given, the fee is set by the land bureau
}

// idleFinding checks the idle-land guard for p on today: land whose
// construction has not started, counted from the agreed start; or
// construction started and stalled under a quarter of the investment or a
// third of the land, counted from the stall. It needs at least need full
// years (the rule set's idle_land_years: 1 for the fee, 2 for recovery).
func (s *Service) idleFinding(ctx context.Context, ts TrackingStore, p *Project, facts *IdleFacts, need int) (*IdleFinding, error) {
	ag, err := ts.Agreement(ctx, p.ID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Fail(ECONFLICT, "err.no_agreement_on_file_idle_land", nil)
	} else if err != nil {
		return nil, err
	}
	done, err := ts.Milestones(ctx, []int64{p.ID})
	if err != nil {
		return nil, err
	}
	f := IdleFinding{Basis: "not_started", Since: ag.StartBy}
	if facts != nil {
		f.Facts = *facts
	}
	started := slices.ContainsFunc(done, func(m Milestone) bool { return m.Kind == MilestoneStart })
	if started {
		if facts == nil || facts.StalledSince.IsZero() {
			return nil, FieldFail("stalled_since", "err.construction_has_started_enter_date_it", nil)
		}
		if !finiteNonNeg(facts.InvestedShare) || !finiteNonNeg(facts.DevelopedShare) || facts.InvestedShare > 100 || facts.DevelopedShare > 100 {
			return nil, FieldFail("invested_share", "err.invested_and_developed_shares_are_percentages", nil)
		}
		// 已动工开发但开发面积不足三分之一或已投资额不足百分之二十五,中止开发建设满一年。
		if facts.InvestedShare >= 25 && facts.DevelopedShare*3 >= 100 {
			return nil, Fail(ECONFLICT, "err.at_least_25_invested_and_third", nil)
		}
		f.Basis, f.Since = "stalled", facts.StalledSince
	}
	today := s.Today()
	if f.Since.After(today) {
		return nil, FieldFail("stalled_since", "err.date_cannot_be_in_future_2", nil)
	}
	for f.Years < 100 && !f.Since.AddDate(f.Years+1, 0, 0).After(today) {
		f.Years++
	}
	if f.Years < need {
		from := map[string]string{"not_started": "idle.from_not_started", "stalled": "idle.from_stalled"}[f.Basis]
		return nil, Fail(ECONFLICT, "err.idle_years_short", Args{"From": catalog.Message{ID: from},
			"Since": f.Since.Format(time.DateOnly), "Need": need, "Years": f.Years})
	}
	if facts != nil && facts.LandPrice != 0 {
		if !finiteNonNeg(facts.LandPrice) {
			return nil, FieldFail("land_price", "err.land_price_must_be_non_negative", nil)
		}
		f.Fee, f.FeeStated = round2(facts.LandPrice*idleLandFeeRate), true
	}
	return &f, nil
}

func (f *IdleFinding) detail() string {
	basis := fmt.Sprintf("超过约定开工日期 %s 满 %d 年未动工", f.Since.Format(time.DateOnly), f.Years)
	if f.Basis == "stalled" {
		basis = fmt.Sprintf("已投资额占 %.2f%%、已开发面积占 %.2f%%,自 %s 中止开发建设满 %d 年", f.Facts.InvestedShare, f.Facts.DevelopedShare, f.Since.Format(time.DateOnly), f.Years)
	}
	fee := "按土地出让价款的 20% 征缴土地闲置费"
	if f.FeeStated {
		fee = fmt.Sprintf("征缴土地闲置费 %.2f 万元(出让价款 %.2f 万元的 20%%)", f.Fee, f.Facts.LandPrice)
	}
	return "闲置土地:" + basis + "," + fee + ",限期整改(动工开发)。"
}

// RectifiedEvidence is what a "rectified" finding rests on: re-measured
// annual figures of Year that now meet what the order was about, or
// (Year 0) the committee's finding, which is the decision's reason and must
// say why in at least 20 characters. FixedAssetInvestment is needed when a
// full-production shortfall is re-measured.
type RectifiedEvidence struct {
	Year                 int     `json:"year,omitempty"`
	FixedAssetInvestment float64 `json:"fixed_asset_investment,omitempty"`
	// Filled in by the engine:
	Basis  string                `json:"basis"` // figures | finding
	Review *FullProductionReview `json:"review,omitempty"`
	Lines  []ReviewLine          `json:"lines,omitempty"`
}

// rectifiedEvidence checks that a rectification may be found done: the
// plan on file, then re-measured figures meeting the standard of the
// order's cause, or a committee finding of substance.
func (s *Service) rectifiedEvidence(ctx context.Context, ts TrackingStore, rs *rules.RuleSet, p *Project, open *Rectification, act Action) (*RectifiedEvidence, error) {
	if open.Cause == CauseIdleLand {
		return nil, Fail(ECONFLICT, "err.idle_land_order_ends_when_construction", nil)
	}
	if strings.TrimSpace(open.Plan) == "" {
		return nil, FieldFail("outcome", "err.no_rectification_plan_is_on_file", nil)
	}
	ev := RectifiedEvidence{Basis: "finding"}
	if act.Evidence != nil {
		ev.Year, ev.FixedAssetInvestment = act.Evidence.Year, act.Evidence.FixedAssetInvestment
	}
	if ev.Year == 0 {
		if len([]rune(strings.TrimSpace(act.Reason))) < minFindingRunes {
			return nil, FieldFail("reason", "err.finding_rectification_done_takes_re_measured", Args{"MinFindingRunes": minFindingRunes})
		}
		return &ev, nil
	}
	ev.Basis = "figures"
	figs, err := ts.ProjectFigures(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(figs, func(f AnnualFigures) bool { return f.Year == ev.Year })
	if i < 0 {
		return nil, FieldFail("evidence_year", "err.no_figures_for_enter_re_measured", Args{"Year": ev.Year})
	}
	if ev.Year < open.OpenedAt.In(s.location).Year()-1 {
		return nil, FieldFail("evidence_year", "err.re_measured_figures_must_be_of", nil)
	}
	fig := &figs[i]
	ag, err := ts.Agreement(ctx, p.ID)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	short := func(ls []ReviewLine) error {
		var names []string
		for _, l := range ls {
			if l.Short {
				names = append(names, fmt.Sprintf("%s %.2f < %.2f", ReviewMetricLabel(l.Metric, "zh"), l.Actual, l.Floor))
			}
		}
		if len(names) > 0 {
			return FieldFail("evidence_year", "err.remeasured_short", Args{"Names": catalog.Text{ZH: strings.Join(names, ";"), EN: strings.Join(names, "; ")}})
		}
		return nil
	}
	switch open.Cause {
	case CauseFullProduction:
		if ag == nil {
			return nil, Fail(ECONFLICT, "err.no_agreement_on_file", nil)
		}
		if !finiteNonNeg(ev.FixedAssetInvestment) || ev.FixedAssetInvestment == 0 {
			return nil, FieldFail("evidence_investment", "err.enter_re_measured_fixed_asset_investment", nil)
		}
		tol := rs.Tracking().ReviewTolerance
		ev.Lines = reviewFigures(ag, fig, ev.FixedAssetInvestment, tol)
		return &ev, short(ev.Lines)
	case CauseRDBelow:
		if ag == nil || ag.RDIntensity <= 0 {
			return nil, Fail(ECONFLICT, "err.agreement_commits_no_r_intensity", nil)
		}
		rd := 0.0
		if fig.Revenue > 0 {
			rd = fig.RDExpense / fig.Revenue * 100
		}
		ev.Lines = []ReviewLine{{Metric: MetricRDIntensity, Committed: round2(ag.RDIntensity), Floor: round2(ag.RDIntensity), Actual: round2(rd)}}
		ev.Lines[0].Short = ev.Lines[0].Actual < ev.Lines[0].Floor
		return &ev, short(ev.Lines)
	case CauseRatingD:
		land := fig.landArea(ag)
		if land <= 0 {
			return nil, Fail(ECONFLICT, "err.no_land_area_tax_per_mu", nil)
		}
		floor := rs.Rating().Floor
		if floor.Indicator != "tax_per_mu" || floor.Below <= 0 {
			return nil, FieldFail("evidence_year", "err.rating_rectification_takes_committee_finding", nil)
		}
		ev.Lines = []ReviewLine{{Metric: MetricTaxPerMu, Floor: round2(floor.Below), Actual: round2(fig.Tax / land)}}
		ev.Lines[0].Short = ev.Lines[0].Actual < ev.Lines[0].Floor
		return &ev, short(ev.Lines)
	}
	return nil, FieldFail("evidence_year", "err.this_order_has_no_figure_to", nil)
}

// landArea is the land the per-mu figures are over: the agreement's.
func (f *AnnualFigures) landArea(ag *Agreement) float64 {
	if ag != nil && ag.LandArea > 0 && !math.IsNaN(ag.LandArea) {
		return ag.LandArea
	}
	return 0
}

// idleYears is the rule set's idle-land threshold: the first (the fee) or
// the last (recovery) of idle_land_years, 1 and 2 by 《闲置土地处置办法》.
func idleYears(rs *rules.RuleSet, recovery bool) int {
	ys := rs.Tracking().IdleLandYears
	switch {
	case len(ys) == 0 && recovery:
		return 2
	case len(ys) == 0:
		return 1
	case recovery:
		return ys[len(ys)-1]
	}
	return ys[0]
}

// fullProductionReviews are a project's 达产复核 entries, oldest first.
func (s *Service) fullProductionReviews(ctx context.Context, projectID int64) ([]FullProductionReview, error) {
	es, err := s.store.AuditEntries(ctx, AuditFilter{ProjectID: projectID, Events: []string{EventFullProductionReview}})
	if err != nil {
		return nil, err
	}
	out := make([]FullProductionReview, 0, len(es))
	for _, e := range es {
		var r FullProductionReview
		if err := json.Unmarshal([]byte(e.Payload), &r); err != nil {
			return nil, fmt.Errorf("review entry %d: %w", e.Seq, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// reviewAlerts are the committee's "达产复核 due" items of a park: firms in
// production whose agreed full-production date has come with no review on file.
func (s *Service) reviewAlerts(ctx context.Context, park string, ps []TrackedProject, agreements map[int64]*Agreement, today time.Time) ([]Alert, error) {
	es, err := s.store.AuditEntries(ctx, AuditFilter{Parks: []string{park}, Events: []string{EventFullProductionReview}})
	if err != nil {
		return nil, err
	}
	reviewed := map[int64]bool{}
	for _, e := range es {
		reviewed[e.ProjectID] = true
	}
	var out []Alert
	for _, p := range ps {
		ag := agreements[p.ID]
		if p.State != StateInProduction || ag == nil || reviewed[p.ID] || today.Before(ag.FullProductionBy) {
			continue
		}
		a := Alert{Park: p.Park, ProjectID: p.ID, Project: p.Name, Kind: "review_due", Due: ag.FullProductionBy,
			DaysLate: int(today.Sub(ag.FullProductionBy).Hours() / 24)}
		a.say("alert.review_due", Args{"Due": ag.FullProductionBy.Format(time.DateOnly)})
		out = append(out, a)
	}
	return out, nil
}
