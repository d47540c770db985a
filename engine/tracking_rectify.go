package engine

import (
	"context"
	"strings"

	"zonevet/rules"
)

// newRectification opens an order for p today, due after the rule set's
// rectification period in calendar days (default 90).
func (s *Service) newRectification(rs *rules.RuleSet, p *Project, cause, detail string) Rectification {
	now := s.now().UTC()
	days := rs.RectificationDays()
	if days <= 0 {
		days = 90
	}
	return Rectification{ProjectID: p.ID, Park: p.Park, Cause: cause, Detail: detail, OpenedAt: now,
		DueOn: s.Today().AddDate(0, 0, days)}
}

// openRectification is the project's open order, or nil.
func (s *Service) openRectification(ctx context.Context, ts TrackingStore, projectID int64) (*Rectification, error) {
	rs, err := ts.Rectifications(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Outcome == "" {
			r := rs[i]
			return &r, nil
		}
	}
	return nil, nil
}

// SubmitPlan records the firm's rectification plan (整改方案), which the
// committee needs before it can find the rectification successful. The
// promoter who follows the firm enters it; a later plan replaces the
// earlier one, and both stay in the decision log.
func (s *Service) SubmitPlan(ctx context.Context, u *User, id int64, plan string) error {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return err
	}
	a, err := s.authorize(u, p.Park, trackingObject, actPlan)
	if err != nil {
		return err
	}
	if p.State != StateRectification {
		return Fail(ECONFLICT, "err.project_is_not_under_rectification", nil)
	}
	plan = strings.TrimSpace(plan)
	if plan == "" || len([]rune(plan)) > 10000 {
		return FieldFail("plan", "err.enter_rectification_plan_at_most_10", nil)
	}
	open, err := s.openRectification(ctx, s.store, p.ID)
	if err != nil {
		return err
	}
	if open == nil {
		return Fail(ECONFLICT, "err.no_open_rectification", nil)
	}
	at := s.now().UTC()
	open.Plan, open.PlanBy, open.PlanAt = plan, u.Username, &at
	e := s.entry(a, p, EventPlan, p.State, p.State)
	e.Payload = payload(open)
	return s.store.Apply(ctx, &Change{Entry: e, Tracking: &TrackingPart{UpdateRect: open}})
}

// Decision is the committee's outcome of a rectification, or an exit.
type Decision struct {
	Version int64    `json:"version"`
	Outcome string   `json:"outcome"` // rectified | failed
	Reason  string   `json:"reason"`
	Clauses []string `json:"clauses"` // for failed: the agreement clauses the exit invokes
	// Evidence: for rectified, the year of re-measured figures (and the
	// re-measured investment for a full-production shortfall); without it
	// the reason is the committee's finding and needs 20 characters.
	Evidence *RectifiedEvidence `json:"evidence,omitempty"`
}

// DecideRectification is the committee's decision on a rectification:
// rectified returns the firm to production, and needs the plan on file and
// evidence — re-measured figures that now meet the standard, or a finding
// of at least 20 characters (rectifiedEvidence); failed moves it to exit,
// invoking at least one agreement clause. Either way the order is closed in
// the same transaction as the transition.
func (s *Service) DecideRectification(ctx context.Context, u *User, id int64, d Decision) (*Project, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, err
	}
	switch d.Outcome {
	case OutcomeRectifed:
		if _, err := s.authorize(u, p.Park, string(p.State), EventRectified); err != nil {
			return nil, s.stateOrPermission(u, p, EventRectified, err)
		}
		return s.Act(ctx, u, id, Action{Event: EventRectified, Version: d.Version, Reason: d.Reason, Evidence: d.Evidence})
	case OutcomeFailed:
		return s.Exit(ctx, u, id, d.Version, d.Clauses, d.Reason)
	}
	return nil, FieldFail("outcome", "err.choose_outcome", nil)
}

// Exit moves a project to exit (退出), terminal: the reason and at least one
// agreement clause (land buy-back or recovery, repayment) are required.
func (s *Service) Exit(ctx context.Context, u *User, id, version int64, clauses []string, reason string) (*Project, error) {
	cl, err := checkClauses(clauses)
	if err != nil {
		return nil, err
	}
	if len(cl) == 0 {
		return nil, FieldFail("clauses", "err.choose_agreement_clause_exit_invokes_land", nil)
	}
	return s.Act(ctx, u, id, Action{Event: EventExit, Version: version, Reason: reason, Clauses: cl})
}
