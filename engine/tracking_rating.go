package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"zonevet/rules/catalog"

	"zonevet/rules"
)

// RunRating rates a park's firms for one year under the park's active rule
// set (亩均效益评价), in one transaction with its decision-log entry:
//
//   - the firms are the park's projects in production or rectification; those
//     without figures for the year are listed as missing, not rated;
//   - a firm is in its grace period (not rated, treated as the grace band)
//     while fewer than grace_years have passed between land delivery and the
//     end of the year;
//   - R&D intensity is checked against the agreement's commitment and the
//     rule set's high-tech bracket;
//   - a D, or R&D below the commitment, opens rectification for a firm in
//     production (its own entry, same transaction); a D for the second year
//     running is marked exit_due for the committee.
//
// The run stores the rule-set version and every input, so VerifyRun can
// recompute it and must get the same results digest.
func (s *Service) RunRating(ctx context.Context, u *User, park string, year int) (*RatingRun, error) {
	a, err := s.authorize(u, park, trackingObject, actRate)
	if err != nil {
		return nil, err
	}
	if year < 2000 || year > s.Today().Year() {
		return nil, FieldFail("year", "err.choose_valid_year", nil)
	}
	rs, err := s.ActiveRuleSet(ctx, park)
	if err != nil {
		return nil, err
	}
	projects, err := s.store.TrackedProjects(ctx, []string{park}, []State{StateInProduction, StateRectification})
	if err != nil {
		return nil, err
	}
	figs, err := s.store.AnnualFigures(ctx, park, year)
	if err != nil {
		return nil, err
	}
	ags, err := s.store.Agreements(ctx, []string{park})
	if err != nil {
		return nil, err
	}
	cfg := rs.Rating()
	worst := cfg.Bands[len(cfg.Bands)-1].Band
	// dYears counts, per firm, the consecutive years before this one whose
	// latest run put it in the worst class; exit_after_d_years − 1 of them
	// and a D this year open exit. A run that had to be published counts
	// only once it is final: until then its classes are not established.
	dYears := map[int64]int{}
	for back := 1; back < cfg.ExitAfterDYears; back++ {
		prev, err := s.store.LatestRun(ctx, park, year-back)
		if ErrorCode(err) == ENOTFOUND {
			break
		} else if err != nil {
			return nil, err
		}
		if final, err := s.runFinal(ctx, prev); err != nil {
			return nil, err
		} else if !final {
			break
		}
		for _, r := range prev.Results {
			if inWorst(&r, worst) && dYears[r.ProjectID] == back-1 {
				dYears[r.ProjectID] = back
			}
		}
	}
	byFig := make(map[int64]*AnnualFigures, len(figs))
	for i := range figs {
		byFig[figs[i].ProjectID] = &figs[i]
	}
	byAg := make(map[int64]*Agreement, len(ags))
	for i := range ags {
		byAg[ags[i].ProjectID] = &ags[i]
	}
	graceYears := cfg.GraceYears
	yearEnd := time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC)
	run := &RatingRun{Park: park, Year: year, RuleSetVersion: rs.Version(), RunBy: u.Username, RunAt: s.now().UTC(), Missing: []int64{}}
	byID := make(map[int64]*TrackedProject, len(projects))
	filed := 0
	for i := range projects {
		p := &projects[i]
		byID[p.ID] = p
		f := byFig[p.ID]
		if f == nil {
			run.Missing = append(run.Missing, p.ID)
			// Under a rule set that says what a firm without figures gets
			// (not_filed), it is rated as such, not only listed.
			if cfg.NotFiled == "" {
				continue
			}
			f = &AnnualFigures{}
		} else {
			filed++
		}
		in := RatingInput{HighTech: f.HighTech, Firm: rules.FirmYear{ProjectID: p.ID, Name: p.Name, LandArea: p.LandArea,
			Output: f.Output, ValueAdded: f.ValueAdded, Tax: f.Tax, RDExpense: f.RDExpense, Revenue: f.Revenue,
			EnergyUse: f.EnergyUse, Emissions: f.Emissions, Employees: f.Employees, Electricity: f.Electricity,
			NotFiled: byFig[p.ID] == nil, BelowScale: cfg.BelowScale != nil && byFig[p.ID] != nil && !f.AboveScale}}
		if ag := byAg[p.ID]; ag != nil {
			in.Firm.LandArea, in.RDCommitted = ag.LandArea, ag.RDIntensity
			in.Delivered = ag.LandDeliveredOn.Format(time.DateOnly)
			in.Firm.InGrace = ag.LandDeliveredOn.AddDate(graceYears, 0, 0).After(yearEnd)
		}
		run.Inputs = append(run.Inputs, in)
	}
	// The park's existing industrial land users are rated beside the projects.
	lu, luMissing, err := s.landUserInputs(ctx, park, year, graceYears, cfg.NotFiled != "", cfg.BelowScale != nil)
	if err != nil {
		return nil, err
	}
	for _, in := range lu {
		if !in.Firm.NotFiled {
			filed++
		}
	}
	run.Inputs, run.Missing = append(run.Inputs, lu...), append(run.Missing, luMissing...)
	if filed == 0 {
		return nil, Fail(EINVALID, "err.no_firm_to_rate_for_enter", Args{"Year": year})
	}
	run.Results, err = rateInputs(rs, year, run.Inputs)
	if err != nil {
		return nil, err
	}
	// Digested before the actions are set: what the run does depends on the
	// projects' states at the time, the rating only on the inputs.
	run.InputsSHA256, run.ResultsSHA256 = digest(run.Inputs), digest(run.Results)
	run.Bands = bandCounts(run.Results)

	// What the run does about each firm: planned here, carried out at once,
	// or, under a rule set with publicity, when the committee makes the run
	// final (FinalizeRun).
	for i := range run.Results {
		r := &run.Results[i]
		if byID[r.ProjectID] == nil {
			continue // a land user: classed with its measures, no project to act on
		}
		isD := inWorst(r, worst)
		if isD && dYears[r.ProjectID] >= cfg.ExitAfterDYears-1 {
			r.Action = ActionExitDue
		}
		if !isD && !r.RDBelowCommitment {
			continue
		}
		if r.Action == "" {
			r.Action = ActionRectify
		}
		if byID[r.ProjectID].State == StateRectification && r.Action == ActionRectify {
			r.Action = ActionInRectification
		}
	}
	tc := &TrackingPart{Run: run}
	runEntry := AuditEntry{Time: run.RunAt, Actor: u.Username, Role: a.role, Park: park, Event: EventRate,
		RuleSetVersion: rs.Version()}
	var opened []int64
	if cfg.PublicityDays == 0 {
		opened = s.carryOut(rs, run, byID, u, a.role, tc)
		runEntry.Reason = fmt.Sprintf("%d 年度亩均效益评价:参评 %d 家,%s;限期整改 %d 家,未报送数据 %d 家",
			year, len(run.Results), bandSummary(run.Bands), len(opened), len(run.Missing))
	} else {
		runEntry.Reason = fmt.Sprintf("%d 年度亩均效益评价:参评 %d 家,%s;未报送数据 %d 家。结果须公示 %d 日,定稿后执行整改等措施",
			year, len(run.Results), bandSummary(run.Bands), len(run.Missing), cfg.PublicityDays)
	}
	runEntry.Payload = payload(map[string]any{"year": year, "inputs_sha256": run.InputsSHA256,
		"results_sha256": run.ResultsSHA256, "firms": len(run.Results), "bands": run.Bands, "missing": run.Missing,
		"rectify": opened})
	if err := s.store.Apply(ctx, &Change{Entry: runEntry, Tracking: tc}); err != nil {
		return nil, err
	}
	return run, nil
}

// carryOut opens the rectification each planned action of the run calls
// for (rectify, exit_due) of a firm still in production, into tc, each with
// its own log entry; it returns the projects it opened rectification for.
func (s *Service) carryOut(rs *rules.RuleSet, run *RatingRun, byID map[int64]*TrackedProject, u *User, role Role, tc *TrackingPart) []int64 {
	cfg := rs.Rating()
	worst := cfg.Bands[len(cfg.Bands)-1].Band
	now := s.now().UTC()
	var opened []int64
	for i := range run.Results {
		r := &run.Results[i]
		p := byID[r.ProjectID]
		if p == nil || p.State != StateInProduction || r.Action != ActionRectify && r.Action != ActionExitDue {
			continue
		}
		isD := inWorst(r, worst)
		cause, why := CauseRatingD, fmt.Sprintf("%d 年度亩均效益评价为 %s 类(得分 %.2f)", run.Year, r.Band, r.Total)
		if r.NotRated == rules.NotRatedNotFiled {
			why = fmt.Sprintf("%d 年度未报送亩均效益评价数据,按规则评为 %s 类", run.Year, r.Band)
		}
		if !isD {
			cause, why = CauseRDBelow, fmt.Sprintf("%d 年度研发经费投入强度 %.2f%%,低于签约承诺 %.2f%%", run.Year, r.RDIntensity, r.RDCommitted)
		} else if r.RDBelowCommitment {
			why += fmt.Sprintf(";研发经费投入强度 %.2f%% 低于签约承诺 %.2f%%", r.RDIntensity, r.RDCommitted)
		}
		if r.Action == ActionExitDue {
			why += fmt.Sprintf(";连续 %d 个年度评为 %s 类,提请管委会启动退出程序", cfg.ExitAfterDYears, worst)
		}
		rect := s.newRectification(rs, &Project{ID: p.ID, Park: p.Park}, cause, why)
		rect.RunID = run.ID // 0 for a new run: the store fills it in
		tc.Open = append(tc.Open, rect)
		e := AuditEntry{Time: now, Actor: u.Username, Role: role, Park: p.Park, ProjectID: p.ID, Event: EventRectify,
			FromState: p.State, ToState: StateRectification, Reason: why + ",限期 " + rect.DueOn.Format(time.DateOnly) + " 前整改",
			RuleSetVersion: rs.Version(), Payload: payload(r)}
		tc.Moves = append(tc.Moves, Move{ProjectID: p.ID, ExpectedVersion: p.Version, To: StateRectification,
			DueAt: s.endOfDay(rect.DueOn), Entry: e})
		opened = append(opened, p.ID)
	}
	return opened
}

// rateInputs is the pure part of a run: the rules' rating plus the R&D
// checks. VerifyRun calls it again on the stored inputs.
func rateInputs(rs *rules.RuleSet, year int, inputs []RatingInput) ([]RatingResult, error) {
	firms := make([]rules.FirmYear, len(inputs))
	byID := make(map[int64]*RatingInput, len(inputs))
	for i := range inputs {
		firms[i] = inputs[i].Firm
		byID[inputs[i].Firm.ProjectID] = &inputs[i]
	}
	ratings, err := rs.Rate(firms)
	var ie *rules.InputError
	if errors.As(err, &ie) {
		return nil, FieldFail(ie.Field, "err.firm_figures_invalid", Args{"ID": ie.ProjectID, "Detail": catalog.Text{ZH: ie.MessageZH, EN: ie.MessageEN}})
	}
	if err != nil {
		return nil, err
	}
	out := make([]RatingResult, len(ratings))
	for i, r := range ratings {
		in := byID[r.ProjectID]
		f := &in.Firm
		res := RatingResult{Rating: r, Year: year, RDCommitted: in.RDCommitted, HighTech: in.HighTech, RDIntensity: -1}
		res.TaxPerMu, res.OutputPerMu = round2(f.Tax/f.LandArea), round2(f.Output/f.LandArea)
		if f.NotFiled {
			// Nothing filed, nothing to compare with the commitment: the
			// rule set's not_filed class says what follows.
			out[i] = res
			continue
		}
		if f.Revenue > 0 {
			res.RDIntensity = round2(f.RDExpense / f.Revenue * 100)
			res.RDBelowCommitment = in.RDCommitted > 0 && res.RDIntensity < in.RDCommitted
			res.RDBracket, res.RDBelowBracket = hightechBracket(rs, f.Revenue, f.RDExpense)
		} else {
			res.RDBelowCommitment = in.RDCommitted > 0
		}
		out[i] = res
	}
	return out, nil
}

// hightechBracket runs the rule set's high-tech R&D bracket check (by
// revenue) on the firm's year: the rules package owns the bracket table,
// so the engine asks it through an evaluation of figures that hold only
// revenue and R&D expense (the other metrics are computable and ignored).
func hightechBracket(rs *rules.RuleSet, revenue, rd float64) (string, bool) {
	// C1310 is any valid class; only the bracket's two figures matter.
	rep, err := rs.Evaluate(rules.Figures{IndustryCode: "C1310", Revenue: &revenue, RDExpense: &rd})
	if err != nil {
		return "", false
	}
	for _, c := range rep.Checks {
		if c.ID == bracketCheckID {
			return c.Threshold, !c.Pass
		}
	}
	return "", false
}

func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("digest: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// inWorst reports whether a line puts the firm in the worst class: rated
// there, or put there for filing nothing; a firm in grace never is.
func inWorst(r *RatingResult, worst string) bool {
	return r.Band == worst && (r.Rated || r.NotRated != "")
}

// bandCounts counts firms per class (rated, and those the rule set puts in
// a class without rating them: T, or D for filing nothing), and firms in
// grace as "grace".
func bandCounts(rs []RatingResult) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		if r.Rated || r.NotRated != "" {
			m[r.Band]++
		} else {
			m["grace"]++
		}
	}
	return m
}

func bandSummary(m map[string]int) string {
	var parts []string
	for _, b := range rules.BandNames {
		parts = append(parts, fmt.Sprintf("%s 类 %d", b, m[b]))
	}
	if t := rules.NotRatedClassName; m[t] > 0 {
		parts = append(parts, fmt.Sprintf("%s 类(不参评)%d", t, m[t]))
	}
	if m["grace"] > 0 {
		parts = append(parts, fmt.Sprintf("宽限期 %d", m["grace"]))
	}
	return strings.Join(parts, "、")
}

// Verification is the outcome of recomputing a stored run.
type Verification struct {
	Run        *RatingRun `json:"run"`
	Recomputed string     `json:"recomputed_sha256"`
	Same       bool       `json:"same"`
	Differ     []int64    `json:"differ,omitempty"` // projects whose line differs
}

// VerifyRun recomputes a stored run from its recorded inputs under its
// recorded rule-set version and compares the results: a run is reproducible
// when the digests agree. A read, so it is not logged.
func (s *Service) VerifyRun(ctx context.Context, u *User, id int64) (*Verification, error) {
	run, err := s.store.RatingRun(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, run.Park, "project", "read"); err != nil {
		return nil, Fail(ENOTFOUND, "err.rating_run_not_found", nil)
	}
	again, err := s.recompute(ctx, run)
	if err != nil {
		return nil, err
	}
	v := &Verification{Run: run, Recomputed: digest(again)}
	v.Same = v.Recomputed == run.ResultsSHA256 && digest(run.Inputs) == run.InputsSHA256
	stored := map[int64]string{}
	for _, r := range run.Results {
		r = r.Slim()
		r.Action, r.RunID = "", 0
		stored[r.ProjectID] = digest(r)
	}
	for _, r := range again {
		if stored[r.ProjectID] != digest(r.Slim()) {
			v.Differ = append(v.Differ, r.ProjectID)
		}
	}
	return v, nil
}

// Slim is the line without what the rule set recomputes from the inputs
// (indicator points and reasons, the name): what a store must keep per firm.
// A run's detail is recomputed from its stored inputs (RatingRun does) and
// checked against ResultsSHA256, which covers the full lines.
func (r RatingResult) Slim() RatingResult {
	r.Indicators, r.ReasonsZH, r.ReasonsEN, r.Name = nil, nil, nil, ""
	return r
}

// RatingRun returns a stored run u may read, with its inputs and its full
// results: the per-firm detail is recomputed from the inputs under the
// run's rule-set version, and refused if it no longer matches the digest.
func (s *Service) RatingRun(ctx context.Context, u *User, id int64) (*RatingRun, error) {
	v, err := s.VerifyRun(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if !v.Same {
		return nil, Fail(EINTERNAL, "err.rating_run_does_not_reproduce_contact", Args{"Id": id})
	}
	again, err := s.recompute(ctx, v.Run)
	if err != nil {
		return nil, err
	}
	action := map[int64]string{}
	for _, r := range v.Run.Results {
		action[r.ProjectID] = r.Action
	}
	for i := range again {
		again[i].RunID, again[i].Action = v.Run.ID, action[again[i].ProjectID]
	}
	v.Run.Results = again
	return v.Run, nil
}

func (s *Service) recompute(ctx context.Context, run *RatingRun) ([]RatingResult, error) {
	rs, err := s.RuleSetVersion(ctx, run.RuleSetVersion)
	if err != nil {
		return nil, err
	}
	return rateInputs(rs, run.Year, run.Inputs)
}

// storedRun returns a stored run (results slim) u may read.
func (s *Service) storedRun(ctx context.Context, u *User, id int64) (*RatingRun, error) {
	run, err := s.store.RatingRun(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, run.Park, "project", "read"); err != nil {
		return nil, Fail(ENOTFOUND, "err.rating_run_not_found", nil)
	}
	return run, nil
}

// RatingRuns lists the runs in the parks u may read, newest first.
func (s *Service) RatingRuns(ctx context.Context, u *User) ([]RatingRun, error) {
	parks, err := s.ReadableParks(ctx, u)
	if err != nil || len(parks) == 0 {
		return nil, err
	}
	return s.store.RatingRuns(ctx, parks)
}

// CanTrack reports whether u may do a tracking action ("figures", "rate",
// "agreement", "milestone", "plan") in park.
func (s *Service) CanTrack(u *User, park, act string) bool {
	return u != nil && s.authz.Allowed(u.Username, park, trackingObject, act)
}

// FirmClass is the class of a firm's latest rating with what goes with it:
// the zone's measures for that class and, for a high-R&D firm, its support.
type FirmClass struct {
	Year      int                 `json:"year"`
	RunID     int64               `json:"run_id"`
	Band      string              `json:"band"`
	Measures  rules.ClassMeasures `json:"measures"` // empty when the rule set lists none for the class
	RDSupport bool                `json:"rd_support"`
	SupportZH string              `json:"support_zh,omitempty"`
	SupportEN string              `json:"support_en,omitempty"`
}

// LatestClass picks the newest year's newest line of ratings (as Tracking
// returns them) and looks up its measures in the rule-set version of its
// run; nil when there is no rating.
func (s *Service) LatestClass(ctx context.Context, u *User, ratings []RatingResult) (*FirmClass, error) {
	if len(ratings) == 0 {
		return nil, nil
	}
	last := ratings[0]
	for _, r := range ratings[1:] {
		if r.Year > last.Year || r.Year == last.Year && r.RunID > last.RunID {
			last = r
		}
	}
	run, err := s.storedRun(ctx, u, last.RunID)
	if err != nil {
		return nil, err
	}
	rs, err := s.RuleSetVersion(ctx, run.RuleSetVersion)
	if err != nil {
		return nil, err
	}
	fc := &FirmClass{Year: last.Year, RunID: last.RunID, Band: last.Band, RDSupport: last.RDSupport}
	fc.Measures, _ = rs.Measures(last.Band)
	if sup := rs.Rating().RDSupport; sup != nil && last.RDSupport {
		fc.SupportZH, fc.SupportEN = sup.MeasureZH, sup.MeasureEN
	}
	return fc, nil
}

// runFinal reports whether a stored run is final: made under a rule set
// without publicity, or published and made final.
func (s *Service) runFinal(ctx context.Context, run *RatingRun) (bool, error) {
	rs, err := s.RuleSetVersion(ctx, run.RuleSetVersion)
	if err != nil {
		return false, err
	}
	if rs.Rating().PublicityDays == 0 {
		return true, nil
	}
	pub, err := s.store.Publicity(ctx, run.ID)
	if ErrorCode(err) == ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return pub.Status == PublicityFinal, nil
}
