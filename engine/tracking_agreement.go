package engine

import (
	"context"
	"slices"
	"strings"
	"time"
	"zonevet/rules/catalog"

	"zonevet/rules"
)

// applyAct applies a lifecycle command's Change, with what its event's
// effect (lifecycle.go's effects table) writes in the same transaction.
func (s *Service) applyAct(ctx context.Context, a actor, c *Change, act Action) error {
	if effect := effects[act.Event]; effect != nil {
		rs, err := s.projectRuleSet(ctx, c.Project)
		if err != nil {
			return err
		}
		x := &actEffect{s: s, a: a, c: c, act: act, rs: rs, p: c.Project, tc: &TrackingPart{}, today: s.Today()}
		if err := effect(ctx, x); err != nil {
			return err
		}
		c.Tracking = x.tc
	}
	return s.store.Apply(ctx, c)
}

// actEffect is what an event's effect works on: the command, its Change
// (whose entry payload it may enrich) and the TrackingPart it fills.
type actEffect struct {
	s     *Service
	a     actor
	c     *Change
	act   Action
	rs    *rules.RuleSet
	p     *Project
	tc    *TrackingPart
	today time.Time
}

// recordMilestones records each milestone of kinds not yet on file, reached today.
func recordMilestones(kinds ...string) func(context.Context, *actEffect) error {
	return func(ctx context.Context, x *actEffect) error {
		done, err := x.s.store.Milestones(ctx, []int64{x.p.ID})
		if err != nil {
			return err
		}
		for _, kind := range kinds {
			if !slices.ContainsFunc(done, func(m Milestone) bool { return m.Kind == kind }) {
				// The note is what the person wrote; the milestone's kind
				// already says which step it was, in the reader's language.
				x.tc.Milestones = append(x.tc.Milestones, Milestone{ProjectID: x.p.ID, Kind: kind, DoneOn: x.today,
					Note: x.act.Reason, RecordedBy: x.a.user.Username, RecordedAt: x.s.now().UTC()})
			}
		}
		return nil
	}
}

// startConstruction records the 开工 milestone on the act's date (today if
// none), refused as RecordMilestone refuses it: a date in the future, before
// signing or before the land was delivered.
func startConstruction(ctx context.Context, x *actEffect) error {
	m := Milestone{ProjectID: x.p.ID, Kind: MilestoneStart, DoneOn: x.today, Note: strings.TrimSpace(x.act.Reason), DocumentID: x.act.Document,
		RecordedBy: x.a.user.Username, RecordedAt: x.s.now().UTC()}
	if on := strings.TrimSpace(x.act.DoneOn); on != "" {
		t, err := ParseDate(on)
		if err != nil {
			return FieldFail("done_on", "err.dates_are_written_2026_03_31", nil)
		}
		m.DoneOn = t
	}
	if err := x.s.checkMilestone(ctx, x.p, m); err != nil {
		return err
	}
	done, err := x.s.store.Milestones(ctx, []int64{x.p.ID})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(done, func(d Milestone) bool { return d.Kind == MilestoneStart }) {
		x.tc.Milestones = append(x.tc.Milestones, m)
	}
	return nil
}

// recordAgreement keeps the agreement on file, or records the default one
// (commitments from the screened figures, deadlines from the rule set).
func recordAgreement(ctx context.Context, x *actEffect) error {
	ag, err := x.s.store.Agreement(ctx, x.p.ID)
	if ErrorCode(err) == ENOTFOUND {
		d := x.s.defaultAgreement(x.rs, x.p, x.today)
		if err := x.s.deliveredOn(x.rs, &d, x.act.LandDeliveredOn); err != nil {
			return err
		}
		ag, err = &d, nil
		ag.UpdatedBy, ag.UpdatedAt = x.a.user.Username, x.s.now().UTC()
		x.tc.Agreement = ag
	}
	if err != nil {
		return err
	}
	x.c.Entry.Payload = payload(map[string]any{"action": x.act, "agreement": ag})
	return nil
}

// openManualRectification opens an order with the rule set's deadline; the
// project is due then.
func openManualRectification(_ context.Context, x *actEffect) error {
	r := x.s.newRectification(x.rs, x.p, CauseManual, x.act.Reason)
	x.tc.Open = []Rectification{r}
	x.p.DueAt = x.s.endOfDay(r.DueOn)
	return nil
}

// findIdleLand records the idle-land finding and opens its order.
func findIdleLand(ctx context.Context, x *actEffect) error {
	f, err := x.s.idleFinding(ctx, x.s.store, x.p, x.act.Idle, idleYears(x.rs, false))
	if err != nil {
		return err
	}
	r := x.s.newRectification(x.rs, x.p, CauseIdleLand, f.detail())
	r.Idle = f
	x.tc.Open = []Rectification{r}
	x.p.DueAt = x.s.endOfDay(r.DueOn)
	x.c.Entry.Payload = payload(map[string]any{"action": x.act, "idle": f})
	return nil
}

// resumeConstruction closes the open idle-land order as rectified.
func resumeConstruction(ctx context.Context, x *actEffect) error {
	open, err := x.s.openRectification(ctx, x.s.store, x.p.ID)
	if err != nil {
		return err
	}
	if open == nil || open.Cause != CauseIdleLand {
		return Fail(ECONFLICT, "err.only_idle_land_order_ends_with", nil)
	}
	done, err := x.s.store.Milestones(ctx, []int64{x.p.ID})
	if err != nil {
		return err
	}
	// Land never built on resumes with its construction start on file; a
	// stalled site resumes on the committee's finding, the reason.
	if (open.Idle == nil || open.Idle.Basis != "stalled") && !slices.ContainsFunc(done, func(m Milestone) bool { return m.Kind == MilestoneStart }) {
		return Fail(ECONFLICT, "err.no_construction_start_is_recorded_construction", nil)
	}
	at := x.s.now().UTC()
	open.Outcome, open.DecidedBy, open.DecidedAt, open.OutcomeReason = OutcomeRectifed, x.a.user.Username, &at, x.act.Reason
	x.tc.UpdateRect = open
	x.c.Entry.Payload = payload(map[string]any{"action": x.act, "rectification": open})
	return nil
}

// closeRectification ends the open order (rectified, exit, recover_land):
// rectified with the re-measured evidence, otherwise failed; exit and
// recover_land record the exit with the clauses invoked (recover_land: the
// recovery clause, on an idle-land finding).
func closeRectification(ctx context.Context, x *actEffect) error {
	s, p, act := x.s, x.p, x.act
	open, err := s.openRectification(ctx, s.store, p.ID)
	if err != nil {
		return err
	}
	var idle *IdleFinding
	if act.Event == EventRecoverLand {
		// Out of rectification, only an idle-land order leads to recovery;
		// a firm rectifying its rating exits by the committee's exit.
		if x.c.Entry.FromState == StateRectification && (open == nil || open.Cause != CauseIdleLand) {
			return Fail(ECONFLICT, "err.this_rectification_is_not_about_idle", nil)
		}
		if idle, err = s.idleFinding(ctx, s.store, p, act.Idle, idleYears(x.rs, true)); err != nil {
			return err
		}
		act.Clauses = []string{ClauseRecovery}
	}
	var evidence *RectifiedEvidence
	if act.Event == EventRectified && open != nil {
		if evidence, err = s.rectifiedEvidence(ctx, s.store, x.rs, p, open, act); err != nil {
			return err
		}
	}
	if open != nil {
		at := s.now().UTC()
		open.Outcome, open.DecidedBy, open.DecidedAt, open.OutcomeReason = OutcomeRectifed, x.a.user.Username, &at, act.Reason
		open.Evidence = evidence
		if act.Event != EventRectified {
			open.Outcome = OutcomeFailed
		}
		x.tc.UpdateRect = open
	}
	if act.Event == EventRectified {
		x.c.Entry.Payload = payload(map[string]any{"action": act, "evidence": evidence})
		return nil
	}
	clauses, err := checkClauses(act.Clauses)
	if err != nil {
		return err
	}
	if len(clauses) == 0 {
		// The generic action path carries no clause; say so rather than guess.
		clauses = []string{ClauseUnstated}
	}
	x.tc.Exit = &ExitRecord{ProjectID: p.ID, Park: p.Park, Clauses: clauses, Reason: act.Reason,
		DecidedBy: x.a.user.Username, DecidedAt: s.now().UTC()}
	x.c.Entry.Payload = payload(map[string]any{"action": act, "exit": x.tc.Exit, "rectification": open, "idle": idle})
	return nil
}

// endOfDay is the last instant of civil date d in the zone: a deadline "by
// 2026-06-30" is met on that day.
func (s *Service) endOfDay(d time.Time) *time.Time {
	t := time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, s.location).UTC()
	return &t
}

func checkClauses(in []string) ([]string, error) {
	var out []string
	for _, c := range in {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !slices.Contains(ExitClauses, c) {
			return nil, FieldFail("clauses", "err.unknown_clause", Args{"Clause": c})
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// addMonths adds n calendar months, clamping to the month's last day (a
// deadline six months after 31 August is 28/29 February, not 3 March).
func addMonths(d time.Time, n int) time.Time {
	y, m, day := d.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(day, last), 0, 0, 0, 0, time.UTC)
}

// defaultAgreement derives the commitments from the figures the project was
// screened on and the deadlines from the rule set's tracking defaults, with
// land delivered on the signing day.
func (s *Service) defaultAgreement(rs *rules.RuleSet, p *Project, signed time.Time) Agreement {
	f := p.Figures
	land, revenue := rules.OrZero(f.LandArea), rules.OrZero(f.Revenue)
	ag := Agreement{ProjectID: p.ID, Park: p.Park, SignedOn: signed, LandDeliveredOn: signed, LandArea: land,
		FixedAssetInvestment: rules.OrZero(f.FixedAssetInvestment), Employees: rules.OrZero(f.Employees)}
	if land > 0 {
		ag.OutputPerMu, ag.TaxPerMu = round2(rules.OrZero(f.ExpectedOutput)/land), round2(rules.OrZero(f.Tax)/land)
	}
	if revenue > 0 {
		ag.RDIntensity = round2(rules.OrZero(f.RDExpense) / revenue * 100)
	}
	s.defaultDeadlines(rs, &ag)
	return ag
}

// defaultDeadlines fills the deadlines left zero from the land delivery
// date: start within N months, complete M months after the agreed start,
// production at completion, full production K months after delivery.
func (s *Service) defaultDeadlines(rs *rules.RuleSet, ag *Agreement) {
	t := rs.Tracking()
	if ag.StartBy.IsZero() {
		ag.StartBy = addMonths(ag.LandDeliveredOn, t.StartWithinMonths)
	}
	if ag.CompleteBy.IsZero() {
		ag.CompleteBy = addMonths(ag.StartBy, t.ConstructionMonths)
	}
	if ag.ProductionBy.IsZero() {
		ag.ProductionBy = ag.CompleteBy
	}
	if ag.FullProductionBy.IsZero() {
		ag.FullProductionBy = addMonths(ag.LandDeliveredOn, t.FullProductionMonths)
		if ag.FullProductionBy.Before(ag.ProductionBy) {
			ag.FullProductionBy = ag.ProductionBy
		}
	}
}

// AgreementDefaults returns the agreement a project would get if signed
// today, for pre-filling the form.
func (s *Service) AgreementDefaults(ctx context.Context, u *User, id int64) (*Agreement, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, err
	}
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return nil, err
	}
	ag := s.defaultAgreement(rs, p, s.Today())
	return &ag, nil
}

// validate checks an agreement's numbers and the order of its dates.
func (ag *Agreement) validate() error {
	for _, n := range []struct {
		field string
		v     float64
	}{{"land_area", ag.LandArea}, {"fixed_asset_investment", ag.FixedAssetInvestment},
		{"output_per_mu", ag.OutputPerMu}, {"tax_per_mu", ag.TaxPerMu}, {"rd_intensity", ag.RDIntensity}} {
		if ie := rules.CheckAmount(n.field, labelArg("amount", n.field), n.v); ie != nil {
			return inputError(ie)
		}
	}
	if ag.LandArea == 0 {
		return FieldFail("land_area", "err.land_area_must_be_greater_than", nil)
	}
	if ag.RDIntensity > 100 {
		return FieldFail("rd_intensity", "err.r_intensity_is_percentage_and_cannot", nil)
	}
	if ag.Employees < 0 {
		return FieldFail("employees", "err.employees_cannot_be_negative", nil)
	}
	dates := []struct {
		field string
		d     time.Time
	}{{"signed_on", ag.SignedOn}, {"land_delivered_on", ag.LandDeliveredOn}, {"start_by", ag.StartBy},
		{"complete_by", ag.CompleteBy}, {"production_by", ag.ProductionBy}, {"full_production_by", ag.FullProductionBy}}
	for _, d := range dates {
		if d.d.IsZero() || d.d.Year() < 1990 || d.d.Year() > 2100 {
			return FieldFail(d.field, "err.enter_valid_date", nil)
		}
	}
	for i := 3; i < len(dates); i++ {
		if dates[i].d.Before(dates[i-1].d) {
			return FieldFail(dates[i].field, "err.deadlines_must_run_start_completion_production", nil)
		}
	}
	if ag.StartBy.Before(ag.LandDeliveredOn) {
		return FieldFail("start_by", "err.agreed_start_cannot_be_before_land", nil)
	}
	return nil
}

// SaveAgreement records or edits a signed project's agreement. Zero
// deadlines take the rule set's defaults. Editing is for the promoter while
// the project is tracked (signed to rectification); each edit is logged with
// the whole agreement, so earlier commitments stay on file.
func (s *Service) SaveAgreement(ctx context.Context, u *User, id int64, in Agreement) (*Agreement, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, err
	}
	a, err := s.authorize(u, p.Park, trackingObject, actAgreement)
	if err != nil {
		return nil, err
	}
	if !tracked(p.State) {
		return nil, Fail(ECONFLICT, "err.agreement_is_recorded_once_project_is", Args{"State": stateArg(p.State)})
	}
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return nil, err
	}
	in.ProjectID, in.Park = p.ID, p.Park
	if in.LandDeliveredOn.IsZero() {
		in.LandDeliveredOn = in.SignedOn
	}
	s.defaultDeadlines(rs, &in)
	if err := in.validate(); err != nil {
		return nil, err
	}
	in.UpdatedBy, in.UpdatedAt = u.Username, s.now().UTC()
	e := s.entry(a, p, EventAgreement, p.State, p.State)
	e.Payload = payload(in)
	if err := s.store.Apply(ctx, &Change{Entry: e, Tracking: &TrackingPart{Agreement: &in}}); err != nil {
		return nil, err
	}
	return &in, nil
}

// tracked reports whether a project is in the after-signature half.
func tracked(st State) bool {
	switch st {
	case StateSigned, StateUnderConstruction, StateInProduction, StateRectification, StateExited:
		return true
	}
	return false
}

// RecordMilestone records that a milestone was reached on a date, with an
// optional evidence document already attached to the project.
func (s *Service) RecordMilestone(ctx context.Context, u *User, id int64, m Milestone) error {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return err
	}
	a, err := s.authorize(u, p.Park, trackingObject, actMilestone)
	if err != nil {
		return err
	}
	if !tracked(p.State) || p.State == StateExited {
		return Fail(ECONFLICT, "err.milestones_are_recorded_between_signing_and", nil)
	}
	if !slices.Contains(MilestoneKinds, m.Kind) {
		return FieldFail("kind", "err.choose_milestone", nil)
	}
	if m.Kind == MilestoneStart && p.State == StateSigned {
		// 开工 is one step: recording it starts construction, one move and
		// one entry, whichever page it was recorded on.
		if m.DoneOn.IsZero() {
			return FieldFail("done_on", "err.enter_date_it_was_reached", nil)
		}
		_, err := s.Act(ctx, u, id, Action{Event: EventStartConstruction, Version: p.Version, Reason: m.Note,
			DoneOn: m.DoneOn.Format(time.DateOnly), Document: m.DocumentID})
		return err
	}
	m.Note = strings.TrimSpace(m.Note)
	if err := s.checkMilestone(ctx, p, m); err != nil {
		return err
	}
	m.ProjectID, m.RecordedBy, m.RecordedAt = p.ID, u.Username, s.now().UTC()
	e := s.entry(a, p, EventMilestone, p.State, p.State)
	e.Reason = MilestoneLabel(m.Kind, "zh") + " " + m.DoneOn.Format(time.DateOnly)
	e.Payload = payload(m)
	return s.store.Apply(ctx, &Change{Entry: e, Tracking: &TrackingPart{Milestones: []Milestone{m}}})
}

// checkMilestone refuses a milestone without a date or in the future, a 开工
// before signing or land delivery, an overlong note and evidence that is not
// a document of the project.
func (s *Service) checkMilestone(ctx context.Context, p *Project, m Milestone) error {
	if m.DoneOn.IsZero() {
		return FieldFail("done_on", "err.enter_date_it_was_reached", nil)
	}
	if m.DoneOn.After(s.Today()) {
		return FieldFail("done_on", "err.date_cannot_be_in_future", nil)
	}
	if err := s.startAfterSigningAndDelivery(ctx, p.ID, m); err != nil {
		return err
	}
	if len([]rune(m.Note)) > maxTrackingComment {
		return FieldFail("note", "err.note_may_have_at_most_2000", nil)
	}
	if m.DocumentID != 0 {
		d, err := s.store.Document(ctx, m.DocumentID)
		if err != nil || d.ProjectID != p.ID {
			return FieldFail("document", "err.evidence_is_not_document_of_this", nil)
		}
	}
	return nil
}

// milestoneStatus computes where each milestone of an agreement stands on today.
func milestoneStatus(ag *Agreement, done []Milestone, today time.Time, graceDays int) []MilestoneStatus {
	due := map[string]time.Time{MilestoneStart: ag.StartBy, MilestoneCompletion: ag.CompleteBy,
		MilestoneProduction: ag.ProductionBy, MilestoneFullProduction: ag.FullProductionBy}
	out := make([]MilestoneStatus, 0, len(MilestoneKinds))
	for _, k := range MilestoneKinds {
		st := MilestoneStatus{Kind: k, Due: due[k]}
		for i := range done {
			if done[i].Kind == k {
				st.Done = &done[i]
			}
		}
		end := today
		if st.Done != nil {
			end = st.Done.DoneOn
		}
		if late := int(end.Sub(st.Due).Hours() / 24); late > 0 {
			st.DaysLate = late
			st.Overdue = st.Done == nil
			st.Escalated = st.Overdue && late > graceDays
		}
		out = append(out, st)
	}
	return out
}

// idleLand flags land delivered whose construction has not started a full
// year or more past the agreed start date. The rule set's idle_land_years
// follow 《闲置土地处置办法》, which counts from the agreed start (动工开发
// 日期) rather than from delivery: 1 year means an idle-land fee, 2 years
// recovery without compensation.
func idleLand(ag *Agreement, done []Milestone, today time.Time, years []int) *IdleLand {
	if slices.ContainsFunc(done, func(m Milestone) bool { return m.Kind == MilestoneStart }) || len(years) == 0 {
		return nil
	}
	n := 0
	for n < 100 && !ag.StartBy.AddDate(n+1, 0, 0).After(today) {
		n++
	}
	if n < years[0] {
		return nil
	}
	il := &IdleLand{Years: n, Since: ag.StartBy, Delivery: ag.LandDeliveredOn, Recovery: n >= years[len(years)-1]}
	level := catalog.Message{ID: "idle_land.fee", Args: Args{"Years": n}}
	if il.Recovery {
		level.ID = "idle_land.recovery"
	}
	il.LevelZH, il.LevelEN = level.Both()
	return il
}

// ProjectTracking is everything the project page shows about a project after signing.
type ProjectTracking struct {
	Agreement      *Agreement        `json:"agreement,omitempty"`
	Milestones     []MilestoneStatus `json:"milestones,omitempty"`
	IdleLand       *IdleLand         `json:"idle_land,omitempty"`
	Figures        []AnnualFigures   `json:"figures"`
	Ratings        []RatingResult    `json:"ratings"`
	Rectifications []Rectification   `json:"rectifications"`
	// ReviewDue: the agreed full-production date has come and no 达产复核
	// is on file; Reviews are the reviews done, oldest first.
	ReviewDue bool                   `json:"review_due"`
	Reviews   []FullProductionReview `json:"reviews"`
	Exit      *ExitRecord            `json:"exit,omitempty"`
	Can       map[string]bool        `json:"can"` // agreement, milestone, figures, plan, decide, exit
}

// Tracking returns a project's after-signature record for u.
func (s *Service) Tracking(ctx context.Context, u *User, id int64) (*Project, *ProjectTracking, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, nil, err
	}
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	out := &ProjectTracking{Can: map[string]bool{}}
	if ag, err := s.store.Agreement(ctx, p.ID); err == nil {
		out.Agreement = ag
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, nil, err
	}
	done, err := s.store.Milestones(ctx, []int64{p.ID})
	if err != nil {
		return nil, nil, err
	}
	if out.Agreement != nil {
		t := rs.Tracking()
		out.Milestones = milestoneStatus(out.Agreement, done, s.Today(), t.EscalationGraceDays)
		if p.State == StateSigned {
			out.IdleLand = idleLand(out.Agreement, done, s.Today(), t.IdleLandYears)
		}
	}
	if out.Figures, err = s.store.ProjectFigures(ctx, p.ID); err != nil {
		return nil, nil, err
	}
	if out.Ratings, err = s.store.ProjectRatings(ctx, p.ID); err != nil {
		return nil, nil, err
	}
	if out.Rectifications, err = s.store.Rectifications(ctx, p.ID); err != nil {
		return nil, nil, err
	}
	if out.Reviews, err = s.fullProductionReviews(ctx, p.ID); err != nil {
		return nil, nil, err
	}
	out.ReviewDue = p.State == StateInProduction && out.Agreement != nil && !s.Today().Before(out.Agreement.FullProductionBy) && len(out.Reviews) == 0
	if p.State == StateExited {
		exits, err := s.store.Exits(ctx, []string{p.Park})
		if err != nil {
			return nil, nil, err
		}
		for i := range exits {
			if exits[i].ProjectID == p.ID {
				out.Exit = &exits[i]
			}
		}
	}
	allowed := func(obj, act string) bool { return s.authz.Allowed(u.Username, p.Park, obj, act) }
	live := tracked(p.State) && p.State != StateExited
	out.Can["agreement"] = live && allowed(trackingObject, actAgreement)
	out.Can["milestone"] = live && out.Agreement != nil && allowed(trackingObject, actMilestone)
	out.Can["figures"] = (p.State == StateInProduction || p.State == StateRectification || p.State == StateUnderConstruction) && allowed(trackingObject, actFigures)
	out.Can["plan"] = p.State == StateRectification && allowed(trackingObject, actPlan)
	out.Can["decide"] = p.State == StateRectification && allowed(string(StateRectification), EventRectified)
	out.Can["rectify"] = p.State == StateInProduction && allowed(string(StateInProduction), EventRectify)
	out.Can["exit"] = (p.State == StateInProduction || p.State == StateRectification) && allowed(string(p.State), EventExit)
	out.Can["review"] = p.State == StateInProduction && out.Agreement != nil && !s.Today().Before(out.Agreement.FullProductionBy) && allowed(string(p.State), EventFullProductionReview)
	out.Can["idle_land"] = (p.State == StateSigned || p.State == StateUnderConstruction) && out.Agreement != nil && allowed(string(p.State), EventIdleLand)
	idleOrder := false
	for _, r := range out.Rectifications {
		idleOrder = idleOrder || r.Outcome == "" && r.Cause == CauseIdleLand
	}
	out.Can["recover_land"] = (p.State == StateSigned || p.State == StateUnderConstruction || p.State == StateRectification && idleOrder) && out.Agreement != nil && allowed(string(p.State), EventRecoverLand)
	out.Can["resume_construction"] = p.State == StateRectification && idleOrder && allowed(string(p.State), EventResumeConstruction)
	if idleOrder {
		out.Can["decide"] = false // an idle-land order ends with construction resumed or the land recovered
	}
	return p, out, nil
}

// startAfterSigningAndDelivery refuses a 开工 date before the agreement was
// signed or the land delivered: building cannot start on land the firm does
// not yet hold.
func (s *Service) startAfterSigningAndDelivery(ctx context.Context, id int64, m Milestone) error {
	if m.Kind != MilestoneStart {
		return nil
	}
	ag, err := s.store.Agreement(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	on := m.DoneOn.Format(time.DateOnly)
	switch {
	case m.DoneOn.Before(ag.SignedOn):
		return FieldFail("done_on", "err.start_before_signing", Args{"Date": on, "Signed": ag.SignedOn.Format(time.DateOnly)})
	case m.DoneOn.Before(ag.LandDeliveredOn):
		return FieldFail("done_on", "err.start_before_land_delivery", Args{"Date": on, "Delivered": ag.LandDeliveredOn.Format(time.DateOnly)})
	}
	return nil
}

// deliveredOn sets a new agreement's land-delivery date from what the
// signing said (YYYY-MM-DD; nothing keeps the signing day) and derives the
// deadlines from it. Land is not delivered before the agreement is signed.
func (s *Service) deliveredOn(rs *rules.RuleSet, ag *Agreement, on string) error {
	on = strings.TrimSpace(on)
	if on == "" {
		return nil
	}
	t, err := time.ParseInLocation(time.DateOnly, on, ag.SignedOn.Location())
	if err != nil {
		return FieldFail("land_delivered_on", "err.land_delivery_date_invalid", Args{"Value": on})
	}
	if t.Before(ag.SignedOn) {
		return FieldFail("land_delivered_on", "err.land_delivery_before_signing", Args{"Date": on, "Signed": ag.SignedOn.Format(time.DateOnly)})
	}
	ag.LandDeliveredOn = t
	ag.StartBy, ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	s.defaultDeadlines(rs, ag)
	return nil
}
