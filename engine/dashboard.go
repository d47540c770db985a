package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"zonevet/rules"
	"zonevet/rules/catalog"
)

// Target is a policy target shown beside the actual figure, for the whole
// zone (Scope ZoneScope) or for one park (Scope = the park's id).
type Target struct {
	ID       string  `json:"id"`
	Scope    string  `json:"scope"` // ZoneScope: all parks together; else the park whose rule set sets it
	NameZH   string  `json:"name_zh"`
	NameEN   string  `json:"name_en"`
	Unit     string  `json:"unit"`
	Target   float64 `json:"target"` // the actual must exceed it
	Actual   float64 `json:"actual"`
	Met      bool    `json:"met"`
	Known    bool    `json:"known"` // false when no figures exist for the year
	BasisZH  string  `json:"basis_zh"`
	BasisEN  string  `json:"basis_en"`
	Progress float64 `json:"progress"` // actual ÷ target, capped at 1, for the bar
}

// ZoneScope is the Scope of a target set for all parks together.
const ZoneScope = "zone"

// TargetZoneIndustrialOutput is the city's zone-wide goal, 全市高新区工业总产值
// 超 1000 亿元 (清远市《关于促进高新技术产业开发区高质量发展的意见》), in 万元.
// It is met by all parks together, so it is measured only against all of
// them and is nobody's park target; a park's own targets are in its rule set
// (rules.ParkTargets).
const TargetZoneIndustrialOutput = 10000000

// Bin is one bar of a distribution.
type Bin struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// ParkSummary is one park's line of the dashboard (and of its Excel export).
type ParkSummary struct {
	Park             Park           `json:"park"`
	Projects         int            `json:"projects"`
	Tracked          int            `json:"tracked"` // signed to rectification
	SignedThisYear   int            `json:"signed_this_year"`
	InvestmentSigned float64        `json:"investment_signed"` // 万元, committed fixed-asset investment signed this year
	RunID            int64          `json:"run_id"`            // the year's latest run, 0 when none
	Bands            map[string]int `json:"bands"`
	Rectifying       int            `json:"rectifying"`
	Exited           int            `json:"exited"`
	Output           float64        `json:"output"` // 万元, the year's reported industrial output
	AboveScale       int            `json:"above_scale"`
	HighTechAbove    int            `json:"high_tech_above"`
	HighTechOutput   float64        `json:"high_tech_output"`
}

// FirmLine is a firm in rectification or exit on the dashboard.
type FirmLine struct {
	ProjectID int64     `json:"project_id"`
	Park      string    `json:"park"`
	Name      string    `json:"name"`
	State     State     `json:"state"`
	Since     time.Time `json:"since"`
	Due       time.Time `json:"due,omitzero"`
	Detail    string    `json:"detail"`
	Plan      bool      `json:"plan"`
}

// Dashboard is the zone dashboard for one park or, with Park "", every park
// the user may read.
type Dashboard struct {
	Park             string                   `json:"park"` // "" = the whole zone
	Year             int                      `json:"year"` // the rating and figures year shown
	ThisYear         int                      `json:"this_year"`
	Years            []int                    `json:"years"`
	Parks            []Park                   `json:"parks"` // readable parks, for the selector
	States           map[State]int            `json:"states"`
	SignedThisYear   int                      `json:"signed_this_year"`
	InvestmentSigned float64                  `json:"investment_signed"`
	Bands            map[string]int           `json:"bands"`
	TaxPerMu         []Bin                    `json:"tax_per_mu"`
	OutputPerMu      []Bin                    `json:"output_per_mu"`
	Rectifying       []FirmLine               `json:"rectifying"`
	Exited           []FirmLine               `json:"exited"`
	Targets          []Target                 `json:"targets"`          // the zone's (when every park is in view), then each park's own
	ZonePartial      bool                     `json:"zone_partial"`     // the whole-zone view lacks parks the user may not read: no zone target
	UntargetedParks  []string                 `json:"untargeted_parks"` // parks whose rule set in force has no targets: section
	PerPark          []ParkSummary            `json:"per_park"`
	Runs             map[string]*RatingRun    `json:"-"`
	ExitDue          []RatingResult           `json:"exit_due"`
	ByStatePark      map[string]map[State]int `json:"-"`
}

// taxBins and outputBins are the dashboard's distribution buckets (万元/亩):
// the edges are the policy's floor (5), the parks' thresholds (20/30) and
// benchmarks (500/800), so a bar reads as "below the floor", "below the bar".
var (
	taxBins    = []float64{5, 10, 20, 30, 50}
	outputBins = []float64{200, 500, 800, 1200, 2000}
)

func bins(edges []float64) []Bin {
	out := make([]Bin, len(edges)+1)
	for i := range out {
		switch {
		case i == 0:
			out[i].Label = fmt.Sprintf("<%g", edges[0])
		case i == len(edges):
			out[i].Label = fmt.Sprintf("≥%g", edges[i-1])
		default:
			out[i].Label = fmt.Sprintf("%g–%g", edges[i-1], edges[i])
		}
	}
	return out
}

func binOf(edges []float64, v float64) int {
	for i, e := range edges {
		if v < e {
			return i
		}
	}
	return len(edges)
}

// Dashboard builds the zone dashboard for park ("" = every readable park)
// and year (0 = the newest year with figures, else last year), panel by
// panel.
func (s *Service) Dashboard(ctx context.Context, u *User, park string, year int) (*Dashboard, error) {
	b, err := s.dashboardScope(ctx, u, park)
	if err != nil {
		return nil, err
	}
	if len(b.parks) == 0 {
		return b.d, nil
	}
	d := b.d
	if d.Years, err = s.store.FigureYears(ctx, b.parks); err != nil {
		return nil, err
	}
	d.Year = year
	if d.Year == 0 {
		d.Year = d.ThisYear - 1
		if len(d.Years) > 0 {
			d.Year = d.Years[0]
		}
	}
	for _, panel := range []func(context.Context, *dashboardBuild) error{
		s.dashboardStates, s.dashboardSigned, s.dashboardFigures, s.dashboardRatings, s.dashboardTargets, s.dashboardFirms,
	} {
		if err := panel(ctx, b); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// dashboardBuild is a dashboard in the making: the parks it covers, the
// tracked projects by id (for names), and each park's summary.
type dashboardBuild struct {
	d     *Dashboard
	all   []Park   // every park of the zone
	parks []string // the parks the dashboard covers
	names map[int64]TrackedProject
	sum   map[string]*ParkSummary
}

// dashboardScope is the parks u may read, and of them those the dashboard
// covers (one, or all); a park u may not read is not found.
func (s *Service) dashboardScope(ctx context.Context, u *User, park string) (*dashboardBuild, error) {
	readable, err := s.ReadableParks(ctx, u)
	if err != nil {
		return nil, err
	}
	all, err := s.store.Parks(ctx)
	if err != nil {
		return nil, err
	}
	b := &dashboardBuild{all: all, names: map[int64]TrackedProject{}, sum: map[string]*ParkSummary{},
		d: &Dashboard{Park: park, ThisYear: s.Today().Year(), Bands: map[string]int{}, States: map[State]int{},
			TaxPerMu: bins(taxBins), OutputPerMu: bins(outputBins), Runs: map[string]*RatingRun{}}}
	for _, p := range all {
		if slices.Contains(readable, p.ID) {
			b.d.Parks = append(b.d.Parks, p)
			if park == "" || park == p.ID {
				b.parks = append(b.parks, p.ID)
				b.sum[p.ID] = &ParkSummary{Park: p, Bands: map[string]int{}}
			}
		}
	}
	if park != "" && len(b.parks) == 0 {
		return nil, Fail(ENOTFOUND, "err.park_not_found", nil)
	}
	return b, nil
}

// dashboardStates counts projects by state, per park and in all, and
// reads the tracked projects for the panels that name firms.
func (s *Service) dashboardStates(ctx context.Context, b *dashboardBuild) error {
	counts, err := s.store.CountByState(ctx, b.parks)
	if err != nil {
		return err
	}
	b.d.ByStatePark = counts
	for _, park := range b.parks {
		ps := b.sum[park]
		for st, n := range counts[park] {
			b.d.States[st] += n
			ps.Projects += n
			if tracked(st) {
				ps.Tracked += n
			}
		}
		ps.Rectifying, ps.Exited = counts[park][StateRectification], counts[park][StateExited]
	}
	tps, err := s.store.TrackedProjects(ctx, b.parks, []State{StateSigned, StateUnderConstruction, StateInProduction, StateRectification, StateExited})
	if err != nil {
		return err
	}
	for _, p := range tps {
		b.names[p.ID] = p
	}
	return nil
}

// dashboardSigned sums the agreements signed this year and their investment.
func (s *Service) dashboardSigned(ctx context.Context, b *dashboardBuild) error {
	ags, err := s.store.Agreements(ctx, b.parks)
	if err != nil {
		return err
	}
	for _, ag := range ags {
		if ag.SignedOn.Year() == b.d.ThisYear {
			ps := b.sum[ag.Park]
			ps.SignedThisYear++
			ps.InvestmentSigned += ag.FixedAssetInvestment
		}
	}
	for _, park := range b.parks {
		b.d.SignedThisYear += b.sum[park].SignedThisYear
		b.d.InvestmentSigned += b.sum[park].InvestmentSigned
	}
	return nil
}

// dashboardFigures sums each park's output of the year, above-scale and
// high-tech firms, and lists the summaries.
func (s *Service) dashboardFigures(ctx context.Context, b *dashboardBuild) error {
	for _, park := range b.parks {
		ps := b.sum[park]
		figs, err := s.store.AnnualFigures(ctx, park, b.d.Year)
		if err != nil {
			return err
		}
		for _, f := range figs {
			ps.Output += f.Output
			if f.AboveScale {
				ps.AboveScale++
				if f.HighTech {
					ps.HighTechAbove++
				}
			}
			if f.HighTech {
				ps.HighTechOutput += f.Output
			}
		}
	}
	return nil
}

// dashboardRatings is each park's latest rating run of the year: bands,
// the per-mu distributions and the firms due to exit.
func (s *Service) dashboardRatings(ctx context.Context, b *dashboardBuild) error {
	d := b.d
	for _, park := range b.parks {
		ps := b.sum[park]
		run, err := s.store.LatestRun(ctx, park, d.Year)
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		d.Runs[park], ps.RunID = run, run.ID
		for band, n := range bandCounts(run.Results) {
			ps.Bands[band] += n
			d.Bands[band] += n
		}
		for _, r := range run.Results {
			if !r.Rated {
				continue
			}
			d.TaxPerMu[binOf(taxBins, r.TaxPerMu)].Count++
			d.OutputPerMu[binOf(outputBins, r.OutputPerMu)].Count++
			if r.Action == ActionExitDue && b.names[r.ProjectID].State == StateRectification {
				d.ExitDue = append(d.ExitDue, r)
			}
		}
	}
	return nil
}

// dashboardTargets sets the per-park summaries in order and compares the
// figures with the zone's goal and each park's rule-set targets.
func (s *Service) dashboardTargets(ctx context.Context, b *dashboardBuild) error {
	d := b.d
	var zoneOutput float64
	for _, park := range b.parks {
		zoneOutput += b.sum[park].Output
		d.PerPark = append(d.PerPark, *b.sum[park])
	}
	if d.Park == "" {
		// The zone's goal is for every park of the zone together: against
		// only the parks this user may read it would mislead.
		if len(b.parks) == len(b.all) {
			d.Targets = append(d.Targets, zoneTarget(zoneOutput))
		} else {
			d.ZonePartial = true
		}
	}
	for _, park := range b.parks {
		rs, err := s.ActiveRuleSet(ctx, park)
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		if pt, ok := rs.Targets(); ok {
			d.Targets = append(d.Targets, parkTargets(park, pt, b.sum[park])...)
		} else {
			d.UntargetedParks = append(d.UntargetedParks, park)
		}
	}
	return nil
}

// dashboardFirms lists the firms in rectification and those that exited.
func (s *Service) dashboardFirms(ctx context.Context, b *dashboardBuild) error {
	d := b.d
	open, err := s.store.OpenRectifications(ctx, b.parks)
	if err != nil {
		return err
	}
	for _, r := range open {
		d.Rectifying = append(d.Rectifying, FirmLine{ProjectID: r.ProjectID, Park: r.Park, Name: b.names[r.ProjectID].Name,
			State: StateRectification, Since: r.OpenedAt, Due: r.DueOn, Detail: r.Detail, Plan: r.Plan != ""})
	}
	exits, err := s.store.Exits(ctx, b.parks)
	if err != nil {
		return err
	}
	for _, x := range exits {
		detail := ""
		for i, c := range x.Clauses {
			if i > 0 {
				detail += "、"
			}
			detail += ClauseLabel(c, "zh")
		}
		d.Exited = append(d.Exited, FirmLine{ProjectID: x.ProjectID, Park: x.Park, Name: b.names[x.ProjectID].Name,
			State: StateExited, Since: x.DecidedAt, Detail: detail + ":" + x.Reason})
	}
	return nil
}

// zoneTarget compares all parks' industrial output (万元) with the zone's goal.
func zoneTarget(output float64) Target {
	t := Target{ID: "zone_industrial_output", Scope: ZoneScope, Unit: "亿元", Target: TargetZoneIndustrialOutput / 10000,
		Actual: round2(output / 10000), Known: output > 0}
	t.NameZH, t.NameEN = catalog.Message{ID: "target.zone_industrial_output"}.Both()
	t.BasisZH, t.BasisEN = catalog.Message{ID: "target.zone_industrial_output_basis"}.Both()
	return finish(t)
}

// parkTargets compares one park's figures with the targets of its rule set.
func parkTargets(park string, pt rules.ParkTargets, ps *ParkSummary) []Target {
	known := ps.AboveScale > 0 || ps.Output > 0
	share := Target{ID: "high_tech_share", Scope: park, Unit: "%", Target: pt.HighTechShare, Known: known}
	share.NameZH, share.NameEN = catalog.Message{ID: "target.high_tech_share"}.Both()
	share.BasisZH, share.BasisEN = catalog.Message{ID: "target.high_tech_share_basis", Args: Args{"HighTech": ps.HighTechAbove, "AboveScale": ps.AboveScale}}.Both()
	if ps.AboveScale > 0 {
		share.Actual = round2(float64(ps.HighTechAbove) / float64(ps.AboveScale) * 100)
	}
	output := Target{ID: "high_tech_output_share", Scope: park, Unit: "%", Target: pt.HighTechOutputShare, Known: known}
	output.NameZH, output.NameEN = catalog.Message{ID: "target.high_tech_output_share"}.Both()
	output.BasisZH, output.BasisEN = catalog.Message{ID: "target.high_tech_output_share_basis",
		Args: Args{"HighTech": fmt.Sprintf("%.2f", ps.HighTechOutput/10000), "Output": fmt.Sprintf("%.2f", ps.Output/10000)}}.Both()
	if ps.Output > 0 {
		output.Actual = round2(ps.HighTechOutput / ps.Output * 100)
	}
	return []Target{finish(share), finish(output)}
}

func finish(t Target) Target {
	t.Met = t.Known && t.Actual > t.Target
	t.Progress = min(t.Actual/t.Target, 1)
	return t
}

// Alert is a tracking item awaiting someone: an overdue or escalated
// milestone, idle land, an open rectification, or a firm due to exit.
type Alert struct {
	Park      string    `json:"park"`
	ProjectID int64     `json:"project_id"`
	Project   string    `json:"project"`
	Kind      string    `json:"kind"` // milestone_overdue | milestone_escalated | idle_land | rectification | exit_due | review_due
	TextZH    string    `json:"text_zh"`
	TextEN    string    `json:"text_en"`
	Due       time.Time `json:"due,omitzero"`
	DaysLate  int       `json:"days_late"`
	// ReadOnly marks an alert shown to an auditor: what the committee is
	// told, not theirs to act on.
	ReadOnly bool `json:"read_only,omitempty"`
}

// Alerts lists the tracking items for u: a promoter sees the overdue
// milestones of the projects they registered; the committee sees milestones
// overdue past the rule set's grace period (escalated), idle land, open
// rectifications and firms rated D two years running.
func (s *Service) Alerts(ctx context.Context, u *User) ([]Alert, error) {
	if u == nil {
		return nil, nil
	}
	parks, err := s.Parks(ctx, u)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	var out []Alert
	for _, park := range parks {
		promoter := s.authz.Allowed(u.Username, park.ID, trackingObject, actMilestone)
		committee := s.authz.Allowed(u.Username, park.ID, string(StateRectification), EventRectified)
		// An auditor sees the committee's alerts read-only, so the two
		// workbenches never tell different stories.
		readOnly := !promoter && !committee && s.authz.Allowed(u.Username, park.ID, "audit", "read")
		if !promoter && !committee && !readOnly {
			continue
		}
		committee = committee || readOnly
		first := len(out)
		rs, err := s.ActiveRuleSet(ctx, park.ID)
		if err != nil {
			return nil, err
		}
		t := rs.Tracking()
		ps, err := s.store.TrackedProjects(ctx, []string{park.ID}, []State{StateSigned, StateUnderConstruction, StateInProduction, StateRectification})
		if err != nil {
			return nil, err
		}
		ags, err := s.store.Agreements(ctx, []string{park.ID})
		if err != nil {
			return nil, err
		}
		byAg := map[int64]*Agreement{}
		for i := range ags {
			byAg[ags[i].ProjectID] = &ags[i]
		}
		ids := make([]int64, len(ps))
		for i, p := range ps {
			ids[i] = p.ID
		}
		ms, err := s.store.Milestones(ctx, ids)
		if err != nil {
			return nil, err
		}
		done := map[int64][]Milestone{}
		for _, m := range ms {
			done[m.ProjectID] = append(done[m.ProjectID], m)
		}
		for _, p := range ps {
			ag := byAg[p.ID]
			if ag == nil {
				continue
			}
			mine := promoter && p.CreatedBy == u.ID
			for _, st := range milestoneStatus(ag, done[p.ID], today, t.EscalationGraceDays) {
				if !st.Overdue || !(mine || committee && st.Escalated) {
					continue
				}
				a := Alert{Park: p.Park, ProjectID: p.ID, Project: p.Name, Kind: "milestone_overdue", Due: st.Due, DaysLate: st.DaysLate}
				id, args := "alert.milestone_overdue", Args{"Milestone": labelArg("milestone", st.Kind), "Days": st.DaysLate}
				if st.Escalated {
					a.Kind, id, args["Grace"] = "milestone_escalated", "alert.milestone_escalated", t.EscalationGraceDays
				}
				a.say(id, args)
				out = append(out, a)
			}
			if p.State == StateSigned && (mine || committee) {
				if il := idleLand(ag, done[p.ID], today, t.IdleLandYears); il != nil {
					a := Alert{Park: p.Park, ProjectID: p.ID, Project: p.Name, Kind: "idle_land", Due: il.Since,
						DaysLate: int(today.Sub(il.Since).Hours() / 24)}
					a.say("alert.idle_land", Args{"Level": catalog.Text{ZH: il.LevelZH, EN: il.LevelEN}, "Since": il.Since.Format(time.DateOnly)})
					out = append(out, a)
				}
			}
		}
		if !committee {
			continue
		}
		due, err := s.reviewAlerts(ctx, park.ID, ps, byAg, today) // tracking_review.go
		if err != nil {
			return nil, err
		}
		out = append(out, due...)
		open, err := s.store.OpenRectifications(ctx, []string{park.ID})
		if err != nil {
			return nil, err
		}
		names := map[int64]string{}
		for _, p := range ps {
			names[p.ID] = p.Name
		}
		for _, r := range open {
			a := Alert{Park: r.Park, ProjectID: r.ProjectID, Project: names[r.ProjectID], Kind: "rectification", Due: r.DueOn}
			a.DaysLate = max(int(today.Sub(r.DueOn).Hours()/24), 0)
			a.say(rectificationAlert(a.DaysLate > 0, r.Plan != ""), Args{"Due": r.DueOn.Format(time.DateOnly), "Cause": labelArg("cause", r.Cause), "Days": a.DaysLate})
			out = append(out, a)
		}
		for i := first; readOnly && i < len(out); i++ {
			out[i].ReadOnly = true
		}
	}
	slices.SortStableFunc(out, func(a, b Alert) int { return b.DaysLate - a.DaysLate })
	return out, nil
}

// say words the alert: the catalogue message id with args, rendered in both
// languages for Alert's text_zh and text_en.
func (a *Alert) say(id string, args Args) {
	a.TextZH, a.TextEN = catalog.Message{ID: id, Args: args}.Both()
}

// rectificationAlert is the message id of an open rectification's alert:
// past its due date or not, with the firm's plan or still without.
func rectificationAlert(late, plan bool) string {
	switch {
	case late && !plan:
		return "alert.rectification_late_no_plan"
	case late:
		return "alert.rectification_late"
	case !plan:
		return "alert.rectification_no_plan"
	}
	return "alert.rectification"
}
