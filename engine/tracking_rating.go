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
	ts, err := s.ts()
	if err != nil {
		return nil, err
	}
	a, err := s.authorize(u, park, trackingObject, actRate)
	if err != nil {
		return nil, err
	}
	if year < 2000 || year > s.Today().Year() {
		return nil, FieldError("year", "请选择有效年度", "choose a valid year")
	}
	rs, err := s.ActiveRuleSet(ctx, park)
	if err != nil {
		return nil, err
	}
	projects, err := ts.TrackedProjects(ctx, []string{park}, []State{StateInProduction, StateRectification})
	if err != nil {
		return nil, err
	}
	figs, err := ts.AnnualFigures(ctx, park, year)
	if err != nil {
		return nil, err
	}
	ags, err := ts.Agreements(ctx, []string{park})
	if err != nil {
		return nil, err
	}
	prevD := map[int64]bool{}
	if prev, err := ts.LatestRun(ctx, park, year-1); err == nil {
		worst := rs.Rating().Bands[len(rs.Rating().Bands)-1].Band
		for _, r := range prev.Results {
			prevD[r.ProjectID] = r.Rated && r.Band == worst
		}
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	byFig := make(map[int64]*AnnualFigures, len(figs))
	for i := range figs {
		byFig[figs[i].ProjectID] = &figs[i]
	}
	byAg := make(map[int64]*Agreement, len(ags))
	for i := range ags {
		byAg[ags[i].ProjectID] = &ags[i]
	}
	graceYears := rs.Rating().GraceYears
	yearEnd := time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC)
	run := &RatingRun{Park: park, Year: year, RuleSetVersion: rs.Version(), RunBy: u.Username, RunAt: s.now().UTC(), Missing: []int64{}}
	byID := make(map[int64]*TrackedProject, len(projects))
	for i := range projects {
		p := &projects[i]
		byID[p.ID] = p
		f := byFig[p.ID]
		if f == nil {
			run.Missing = append(run.Missing, p.ID)
			continue
		}
		in := RatingInput{HighTech: f.HighTech, Firm: rules.FirmYear{ProjectID: p.ID, Name: p.Name, LandArea: p.LandArea,
			Output: f.Output, ValueAdded: f.ValueAdded, Tax: f.Tax, RDExpense: f.RDExpense, Revenue: f.Revenue,
			EnergyUse: f.EnergyUse, Emissions: f.Emissions, Employees: f.Employees}}
		if ag := byAg[p.ID]; ag != nil {
			in.Firm.LandArea, in.RDCommitted = ag.LandArea, ag.RDIntensity
			in.Delivered = ag.LandDeliveredOn.Format(time.DateOnly)
			in.Firm.InGrace = ag.LandDeliveredOn.AddDate(graceYears, 0, 0).After(yearEnd)
		}
		run.Inputs = append(run.Inputs, in)
	}
	if len(run.Inputs) == 0 {
		return nil, Errorf(EINVALID, "%d 年度没有可评价的企业:请先填报或导入年度数据", "no firm to rate for %d: enter or import the annual figures first", year)
	}
	run.Results, err = rateInputs(rs, year, run.Inputs)
	if err != nil {
		return nil, err
	}
	// Digested before the actions are set: what the run does depends on the
	// projects' states at the time, the rating only on the inputs.
	run.InputsSHA256, run.ResultsSHA256 = digest(run.Inputs), digest(run.Results)
	run.Bands = bandCounts(run.Results)

	// What the run does about each firm.
	worst := rs.Rating().Bands[len(rs.Rating().Bands)-1].Band
	tc := &TrackingChange{Run: run}
	runEntry := AuditEntry{Time: run.RunAt, Actor: u.Username, Role: a.role, Park: park, Event: EventRate,
		RuleSetVersion: rs.Version()}
	var opened []int64
	for i := range run.Results {
		r := &run.Results[i]
		p := byID[r.ProjectID]
		isD := r.Rated && r.Band == worst
		if isD && prevD[r.ProjectID] {
			r.Action = ActionExitDue
		}
		if !isD && !r.RDBelowCommitment {
			continue
		}
		if p.State == StateRectification {
			if r.Action == "" {
				r.Action = ActionInRectification
			}
			continue
		}
		if r.Action == "" {
			r.Action = ActionRectify
		}
		cause, why := CauseRatingD, fmt.Sprintf("%d 年度亩均效益评价为 %s 档(得分 %.2f)", year, r.Band, r.Total)
		if !isD {
			cause, why = CauseRDBelow, fmt.Sprintf("%d 年度研发投入强度 %.2f%%,低于签约承诺 %.2f%%", year, r.RDIntensity, r.RDCommitted)
		} else if r.RDBelowCommitment {
			why += fmt.Sprintf(";研发投入强度 %.2f%% 低于签约承诺 %.2f%%", r.RDIntensity, r.RDCommitted)
		}
		if r.Action == ActionExitDue {
			why += ";连续两年 D 档,提请管委会启动退出程序"
		}
		proj := &Project{ID: p.ID, Park: p.Park}
		rect := s.newRectification(rs, proj, cause, why)
		tc.Open = append(tc.Open, rect)
		e := AuditEntry{Time: run.RunAt, Actor: u.Username, Role: a.role, Park: park, ProjectID: p.ID, Event: EventRectify,
			FromState: p.State, ToState: StateRectification, Reason: why + ",限期 " + rect.DueOn.Format(time.DateOnly) + " 前整改",
			RuleSetVersion: rs.Version(), Payload: payload(r)}
		tc.Moves = append(tc.Moves, Move{ProjectID: p.ID, ExpectedVersion: p.Version, To: StateRectification,
			DueAt: s.endOfDay(rect.DueOn), Entry: e})
		opened = append(opened, p.ID)
	}
	runEntry.Reason = fmt.Sprintf("%d 年度亩均效益评价:参评 %d 家,%s;责令整改 %d 家,缺报 %d 家",
		year, len(run.Results), bandSummary(run.Bands), len(opened), len(run.Missing))
	runEntry.Payload = payload(map[string]any{"year": year, "inputs_sha256": run.InputsSHA256,
		"results_sha256": run.ResultsSHA256, "firms": len(run.Results), "bands": run.Bands, "missing": run.Missing,
		"rectify": opened})
	tc.Changes = []Change{{Entry: runEntry}}
	if err := ts.ApplyTracking(ctx, tc); err != nil {
		return nil, err
	}
	return run, nil
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
		return nil, &Error{Code: EINVALID, Field: ie.Field,
			Message:   fmt.Sprintf("项目 %d 的年度数据有误:%s", ie.ProjectID, ie.MessageZH),
			MessageEN: fmt.Sprintf("annual figures of project %d: %s", ie.ProjectID, ie.MessageEN)}
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

// bandCounts counts rated firms per band, and firms in grace as "grace".
func bandCounts(rs []RatingResult) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		if r.Rated {
			m[r.Band]++
		} else {
			m["grace"]++
		}
	}
	return m
}

func bandSummary(m map[string]int) string {
	var parts []string
	for _, b := range []string{"A", "B", "C", "D"} {
		parts = append(parts, fmt.Sprintf("%s %d", b, m[b]))
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
	ts, err := s.ts()
	if err != nil {
		return nil, err
	}
	run, err := ts.RatingRun(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, run.Park, "project", "read"); err != nil {
		return nil, Errorf(ENOTFOUND, "评价记录不存在", "rating run not found")
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
		return nil, Errorf(EINTERNAL, "评价记录 %d 无法复现,请联系审计", "rating run %d does not reproduce; contact the auditor", id)
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
	ts, err := s.ts()
	if err != nil {
		return nil, err
	}
	run, err := ts.RatingRun(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, run.Park, "project", "read"); err != nil {
		return nil, Errorf(ENOTFOUND, "评价记录不存在", "rating run not found")
	}
	return run, nil
}

// RatingRuns lists the runs in the parks u may read, newest first.
func (s *Service) RatingRuns(ctx context.Context, u *User) ([]RatingRun, error) {
	ts, err := s.ts()
	if err != nil {
		return nil, err
	}
	parks, err := s.ReadableParks(ctx, u)
	if err != nil || len(parks) == 0 {
		return nil, err
	}
	return ts.RatingRuns(ctx, parks)
}

// CanTrack reports whether u may do a tracking action ("figures", "rate",
// "agreement", "milestone", "plan") in park.
func (s *Service) CanTrack(u *User, park, act string) bool {
	return u != nil && s.authz.Allowed(u.Username, park, trackingObject, act)
}
