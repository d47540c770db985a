package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Publicity (公示) and objection (异议) of a rating run. Under a rule set with
// rating.publicity_days, a run acts on nothing when it is made: the committee
// publishes it for that many calendar days, firms (through their promoter)
// object with evidence, the committee decides each objection, and once the
// period is over with every objection decided and none upheld, the committee
// makes the run final, which carries out its planned actions (rectification,
// exit due). An upheld objection means the figures must be corrected and the
// park rated again; the new run is published in its turn. Each step is one
// transaction with its decision-log entry.

// Publicity states and objection outcomes.
const (
	PublicityPublished = "published"
	PublicityFinal     = "final"
	ObjectionUpheld    = "upheld"
	ObjectionDismissed = "dismissed"
)

// Decision-log events of the publicity steps.
const (
	EventRatingPublish   = "rating_publish"
	EventRatingObject    = "rating_object"
	EventRatingDecide    = "rating_objection_decide"
	EventRatingFinal     = "rating_final"
	actPublish           = "publish"
	actObject            = "object"
	actDecideObjection   = "decide_objection"
	actFinalize          = "finalize"
	minObjectionRunes    = 10
	minObjectionDecision = 10
)

// Publicity is a run's publicity record.
type Publicity struct {
	RunID       int64      `json:"run_id"`
	Park        string     `json:"park"`
	Year        int        `json:"year"`
	Status      string     `json:"status"` // published, final
	Version     int64      `json:"version"`
	PublishedBy string     `json:"published_by"`
	PublishedAt time.Time  `json:"published_at"`
	EndsOn      time.Time  `json:"ends_on"` // the last day objections are taken (local date)
	FinalBy     string     `json:"final_by,omitempty"`
	FinalAt     *time.Time `json:"final_at,omitempty"`
}

// Evidence is a project document an objection rests on.
type Evidence struct {
	DocumentID int64  `json:"document_id"`
	FileName   string `json:"file_name"`
	SHA256     string `json:"sha256"`
}

// Objection is a firm's objection to its line of a published run.
type Objection struct {
	ID        int64      `json:"id"`
	RunID     int64      `json:"run_id"`
	ProjectID int64      `json:"project_id"`
	Park      string     `json:"park"`
	Text      string     `json:"text"`
	Evidence  []Evidence `json:"evidence"`
	FiledBy   string     `json:"filed_by"`
	FiledAt   time.Time  `json:"filed_at"`
	Outcome   string     `json:"outcome"` // "", upheld, dismissed
	Decision  string     `json:"decision,omitempty"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// PublicityChange is what a publicity step writes, in a Change's
// TrackingPart beside the step's entry.
type PublicityChange struct {
	// Publicity is inserted when ExpectedVersion is 0, else updated under
	// the version check (a stale version is a conflict).
	Publicity       *Publicity
	ExpectedVersion int64
	// Objection is inserted when its ID is 0 (ID written back), else its
	// outcome written once (an objection already decided is a conflict).
	Objection *Objection
}

// PublicityStore reads what the publicity steps wrote; store.DB implements it.
type PublicityStore interface {
	Publicity(ctx context.Context, runID int64) (*Publicity, error) // ENOTFOUND when never published
	Objections(ctx context.Context, runID int64) ([]Objection, error)
	Objection(ctx context.Context, id int64) (*Objection, error)
}

// RunPublicity is a run's publicity and objections for u (who may read the
// run); Publicity is nil when the run was never published.
type RunPublicity struct {
	Days       int         `json:"days"` // the rule set's publicity_days; 0: final when made
	Publicity  *Publicity  `json:"publicity"`
	Objections []Objection `json:"objections"`
	Open       bool        `json:"open"`  // objections are taken today
	Final      bool        `json:"final"` // final: published and closed, or a rule set without publicity
	Can        map[string]bool
}

// RatingPublicity returns a run's publicity state and what u may do about it.
func (s *Service) RatingPublicity(ctx context.Context, u *User, runID int64) (*RunPublicity, error) {
	run, err := s.storedRun(ctx, u, runID)
	if err != nil {
		return nil, err
	}
	rs, err := s.RuleSetVersion(ctx, run.RuleSetVersion)
	if err != nil {
		return nil, err
	}
	out := &RunPublicity{Days: rs.Rating().PublicityDays, Can: map[string]bool{}}
	if out.Publicity, err = s.store.Publicity(ctx, runID); err != nil && ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	if out.Objections, err = s.store.Objections(ctx, runID); err != nil {
		return nil, err
	}
	pub := out.Publicity
	out.Final = out.Days == 0 || pub != nil && pub.Status == PublicityFinal
	out.Open = pub != nil && pub.Status == PublicityPublished && !s.Today().After(pub.EndsOn)
	can := func(act string) bool { return s.authz.Allowed(u.Username, run.Park, trackingObject, act) }
	out.Can[actPublish] = out.Days > 0 && pub == nil && can(actPublish)
	out.Can[actObject] = out.Open && can(actObject)
	out.Can[actDecideObjection] = pub != nil && pub.Status == PublicityPublished && can(actDecideObjection)
	out.Can[actFinalize] = pub != nil && pub.Status == PublicityPublished && s.Today().After(pub.EndsOn) && can(actFinalize)
	return out, nil
}

// publicityRun loads a run for a publicity step by the committee or
// promoter: the run, its rule set's publicity days, and its current
// publicity record (nil when never published).
func (s *Service) publicityRun(ctx context.Context, u *User, runID int64, act string) (*RatingRun, int, *Publicity, actor, error) {
	run, err := s.storedRun(ctx, u, runID)
	if err != nil {
		return nil, 0, nil, actor{}, err
	}
	a, err := s.authorize(u, run.Park, trackingObject, act)
	if err != nil {
		return nil, 0, nil, actor{}, err
	}
	rs, err := s.RuleSetVersion(ctx, run.RuleSetVersion)
	if err != nil {
		return nil, 0, nil, actor{}, err
	}
	days := rs.Rating().PublicityDays
	if days == 0 {
		return nil, 0, nil, actor{}, Fail(EINVALID, "err.run_rule_set_has_no_publicity", nil)
	}
	pub, err := s.store.Publicity(ctx, runID)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return nil, 0, nil, actor{}, err
	}
	return run, days, pub, a, nil
}

// latestGuard refuses a step on a run superseded by a newer run of the
// same park and year.
func (s *Service) latestGuard(ctx context.Context, run *RatingRun) error {
	latest, err := s.store.LatestRun(ctx, run.Park, run.Year)
	if err != nil {
		return err
	}
	if latest.ID != run.ID {
		return Fail(ECONFLICT, "err.run_has_been_superseded_by_run", Args{"ID": run.ID, "ID2": latest.ID})
	}
	return nil
}

// PublishRun publishes a run (公示) for the rule set's publicity_days,
// from today to the last day objections are taken.
func (s *Service) PublishRun(ctx context.Context, u *User, runID int64) (*Publicity, error) {
	run, days, pub, a, err := s.publicityRun(ctx, u, runID, actPublish)
	if err != nil {
		return nil, err
	}
	if pub != nil {
		return nil, Fail(ECONFLICT, "err.this_run_has_already_been_published", nil)
	}
	if err := s.latestGuard(ctx, run); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	// Day one is the day of publication: seven days published today end on
	// the sixth day after it.
	pub = &Publicity{RunID: run.ID, Park: run.Park, Year: run.Year, Status: PublicityPublished, Version: 1,
		PublishedBy: u.Username, PublishedAt: now, EndsOn: s.Today().AddDate(0, 0, days-1)}
	ends := pub.EndsOn.Format(time.DateOnly)
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Park: run.Park, Event: EventRatingPublish, RuleSetVersion: run.RuleSetVersion,
		Reason:  fmt.Sprintf("%d 年度亩均效益评价结果(评价记录 #%d)公示 %d 日,至 %s 止;公示期内企业可书面提出异议并附证明材料", run.Year, run.ID, days, ends),
		Payload: payload(map[string]any{"run_id": run.ID, "ends_on": ends, "results_sha256": run.ResultsSHA256})}
	if err := s.applyPublicity(ctx, &PublicityChange{Publicity: pub}, e, nil); err != nil {
		return nil, err
	}
	return pub, nil
}

// ObjectionInput is a firm's objection as the promoter files it.
type ObjectionInput struct {
	ProjectID int64   `json:"project_id"`
	Text      string  `json:"text"`
	Evidence  []int64 `json:"evidence"` // document IDs of the project
}

// FileObjection records a firm's objection to its line of a published run,
// within the publicity period, with at least one of the project's documents
// as evidence (its SHA-256 goes into the log entry).
func (s *Service) FileObjection(ctx context.Context, u *User, runID int64, in ObjectionInput) (*Objection, error) {
	run, _, pub, a, err := s.publicityRun(ctx, u, runID, actObject)
	if err != nil {
		return nil, err
	}
	switch {
	case pub == nil:
		return nil, Fail(EINVALID, "err.run_is_not_published_no_objections", nil)
	case pub.Status != PublicityPublished || s.Today().After(pub.EndsOn):
		return nil, Fail(EINVALID, "err.publicity_period_ended_on_objections_are", Args{"DateOnly": pub.EndsOn.Format(time.DateOnly)})
	}
	if !slices.ContainsFunc(run.Results, func(r RatingResult) bool { return r.ProjectID == in.ProjectID }) {
		return nil, FieldFail("project_id", "err.firm_is_not_in_this_run", nil)
	}
	text := strings.TrimSpace(in.Text)
	if utf8.RuneCountInString(text) < minObjectionRunes {
		return nil, FieldFail("text", "err.state_facts_and_grounds_of_objection", Args{"MinObjectionRunes": minObjectionRunes})
	}
	if len(in.Evidence) == 0 {
		return nil, FieldFail("evidence", "err.choose_at_least_one_document_as", nil)
	}
	docs, err := s.Documents(ctx, u, in.ProjectID)
	if err != nil {
		return nil, err
	}
	o := &Objection{RunID: run.ID, ProjectID: in.ProjectID, Park: run.Park, Text: text, FiledBy: u.Username, FiledAt: s.now().UTC()}
	for _, id := range in.Evidence {
		i := slices.IndexFunc(docs, func(d Document) bool { return d.ID == id })
		if i < 0 {
			return nil, FieldFail("evidence", "err.document_is_not_project", Args{"Id": id})
		}
		o.Evidence = append(o.Evidence, Evidence{DocumentID: id, FileName: docs[i].FileName, SHA256: docs[i].SHA256})
	}
	e := AuditEntry{Time: o.FiledAt, Actor: u.Username, Role: a.role, Park: run.Park, ProjectID: in.ProjectID, Event: EventRatingObject,
		RuleSetVersion: run.RuleSetVersion, Reason: text, Payload: payload(map[string]any{"run_id": run.ID, "evidence": o.Evidence})}
	if err := s.applyPublicity(ctx, &PublicityChange{Objection: o}, e, nil); err != nil {
		return nil, err
	}
	return o, nil
}

// DecideObjection records the committee's decision on an objection:
// upheld (the figures are to be corrected and the park rated again) or
// dismissed, with a reason.
func (s *Service) DecideObjection(ctx context.Context, u *User, objectionID int64, outcome, reason string) (*Objection, error) {
	o, err := s.store.Objection(ctx, objectionID)
	if err != nil {
		return nil, err
	}
	_, _, pub, a, err := s.publicityRun(ctx, u, o.RunID, actDecideObjection)
	if err != nil {
		return nil, err
	}
	switch {
	case o.Outcome != "":
		return nil, Fail(ECONFLICT, "err.objection_has_already_been_decided", nil)
	case pub == nil || pub.Status != PublicityPublished:
		return nil, Fail(EINVALID, "err.run_is_final", nil)
	case outcome != ObjectionUpheld && outcome != ObjectionDismissed:
		return nil, FieldFail("outcome", "err.choose_upheld_or_dismissed", nil)
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) < minObjectionDecision {
		return nil, FieldFail("reason", "err.give_grounds_of_decision_at_least", Args{"MinObjectionDecision": minObjectionDecision})
	}
	now := s.now().UTC()
	o.Outcome, o.Decision, o.DecidedBy, o.DecidedAt = outcome, reason, u.Username, &now
	verdict := "异议不成立"
	if outcome == ObjectionUpheld {
		verdict = "异议成立,须更正数据后重新评价并公示"
	}
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Park: o.Park, ProjectID: o.ProjectID, Event: EventRatingDecide,
		Reason:  verdict + ":" + reason,
		Payload: payload(map[string]any{"run_id": o.RunID, "objection_id": o.ID, "outcome": outcome})}
	if err := s.applyPublicity(ctx, &PublicityChange{Objection: o}, e, nil); err != nil {
		return nil, err
	}
	return o, nil
}

// FinalizeRun makes a published run final once its publicity period is
// over, every objection is decided and none upheld, and no newer run of the
// year supersedes it; it then carries out the run's planned actions, each
// rectification with its own log entry, in the same transaction.
func (s *Service) FinalizeRun(ctx context.Context, u *User, runID, version int64) (*Publicity, error) {
	run, _, pub, a, err := s.publicityRun(ctx, u, runID, actFinalize)
	if err != nil {
		return nil, err
	}
	switch {
	case pub == nil:
		return nil, Fail(EINVALID, "err.publish_run_first", nil)
	case pub.Status == PublicityFinal:
		return nil, Fail(ECONFLICT, "err.run_is_already_final", nil)
	case pub.Version != version:
		return nil, errStaleVersion()
	case !s.Today().After(pub.EndsOn):
		return nil, Fail(EINVALID, "err.publicity_period_runs_until_run_can", Args{"DateOnly": pub.EndsOn.Format(time.DateOnly)})
	}
	objs, err := s.store.Objections(ctx, runID)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		switch o.Outcome {
		case "":
			return nil, Fail(EINVALID, "err.objection_is_not_decided_yet", Args{"ID": o.ID})
		case ObjectionUpheld:
			return nil, Fail(EINVALID, "err.objection_was_upheld_correct_figures_rate", Args{"ID": o.ID})
		}
	}
	if err := s.latestGuard(ctx, run); err != nil {
		return nil, err
	}
	rs, err := s.RuleSetVersion(ctx, run.RuleSetVersion)
	if err != nil {
		return nil, err
	}
	projects, err := s.store.TrackedProjects(ctx, []string{run.Park}, []State{StateInProduction, StateRectification})
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*TrackedProject, len(projects))
	for i := range projects {
		byID[projects[i].ID] = &projects[i]
	}
	tc := &TrackingPart{}
	opened := s.carryOut(rs, run, byID, u, a.role, tc)
	now := s.now().UTC()
	next := *pub
	next.Status, next.Version, next.FinalBy, next.FinalAt = PublicityFinal, pub.Version+1, u.Username, &now
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Park: run.Park, Event: EventRatingFinal, RuleSetVersion: run.RuleSetVersion,
		Reason: fmt.Sprintf("%d 年度亩均效益评价(评价记录 #%d)公示期满,异议 %d 件均已处理,结果定稿;限期整改 %d 家",
			run.Year, run.ID, len(objs), len(opened)),
		Payload: payload(map[string]any{"run_id": run.ID, "objections": len(objs), "rectify": opened, "results_sha256": run.ResultsSHA256})}
	if err := s.applyPublicity(ctx, &PublicityChange{Publicity: &next, ExpectedVersion: pub.Version}, e, tc); err != nil {
		return nil, err
	}
	return &next, nil
}

// applyPublicity writes a publicity step and its entry (first), plus what
// the step carries out (tc: rectifications and their moves), in one
// transaction.
func (s *Service) applyPublicity(ctx context.Context, pc *PublicityChange, e AuditEntry, tc *TrackingPart) error {
	if tc == nil {
		tc = &TrackingPart{}
	}
	tc.Publicity = pc
	return s.store.Apply(ctx, &Change{Entry: e, Tracking: tc})
}

func errStaleVersion() error {
	return Fail(ECONFLICT, "err.run_publicity_changed_reload_and_try", nil)
}
