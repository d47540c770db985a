package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"zonevet/rules"
	"zonevet/rules/catalog"
)

// RuleSetChange is one proposal to put a rule-set version in force for its
// park (issue 12): proposed by an admin with a note, then approved by
// someone else — with the what-if report they saw and an effective time —
// refused with a reason, or withdrawn. The version is the content hash, so
// what was approved is exactly what the what-if was run on.
type RuleSetChange struct {
	ID          int64            `json:"id"`
	Park        string           `json:"park"`
	Version     string           `json:"version"`
	BaseVersion string           `json:"base_version"` // in force when proposed; Diff is against it
	State       RuleSetState     `json:"state"`        // as stored: proposed, approved, withdrawn, refused
	Note        string           `json:"note"`
	Diff        []rules.DiffItem `json:"diff"`
	ProposedBy  string           `json:"proposed_by"`
	ProposedAt  time.Time        `json:"proposed_at"`
	DecidedBy   string           `json:"decided_by,omitempty"`
	DecidedAt   time.Time        `json:"decided_at,omitzero"`
	Reason      string           `json:"reason,omitempty"`
	EffectiveAt time.Time        `json:"effective_at,omitzero"`
	WhatIfID    int64            `json:"whatif_id,omitempty"`
	RowVersion  int64            `json:"row_version"`
	// ExpectInForce, when set on a decision, is the version the decider
	// saw in force (the what-if's base): the store refuses the decision as
	// a conflict if another change took effect meanwhile.
	ExpectInForce string `json:"-"`
	// WhatIfAt, when set on an approval, is when its what-if was generated:
	// a change of the park approved since then makes the report stale, and
	// the store refuses the approval as a conflict.
	WhatIfAt time.Time `json:"-"`
	// Shown is the state as of now: an approved change is in force, or
	// superseded, or still waiting for its effective time (RuleSetChanges fills it).
	Shown RuleSetState `json:"shown"`
}

// WhatIfRecord is a stored what-if report: what the approver saw, by hash.
type WhatIfRecord struct {
	ID          int64     `json:"id"`
	Park        string    `json:"park"`
	Version     string    `json:"version"`      // the content hash the report is for
	BaseVersion string    `json:"base_version"` // the version in force it compares with
	SHA256      string    `json:"sha256"`       // of Report
	Report      []byte    `json:"-"`            // the report's JSON as generated
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// ScreenedProject is what a screening replay needs of one project: the
// figures of its latest screening and the version that screened them.
type ScreenedProject struct {
	ID             int64
	Name           string
	State          State
	RuleSetVersion string
	FiguresJSON    []byte // rules.Figures as the submit entry holds them
}

// RuleGovernanceStore reads rule-set changes and what-if reports; they are
// written through Apply with a RulesPart.
type RuleGovernanceStore interface {
	// RuleSetVersionInForce is the version of the park's rule set in force
	// at a time, without its text: a version's text never changes, so the
	// parsed one is kept by version (Service.RuleSetVersion).
	RuleSetVersionInForce(ctx context.Context, park string, at time.Time) (string, error)
	RuleSetChanges(ctx context.Context, park string) ([]RuleSetChange, error)
	RuleSetChange(ctx context.Context, id int64) (RuleSetChange, error)
	WhatIf(ctx context.Context, id int64) (WhatIfRecord, error)
	// LatestWhatIf is the newest report generated for a version in a park.
	LatestWhatIf(ctx context.Context, park, version string) (WhatIfRecord, error)
	// EachScreenedProject calls fn for every project of park ever screened.
	EachScreenedProject(ctx context.Context, park string, fn func(ScreenedProject) error) error
}

// RulesPart is the part of a Change that governs rule sets; the store
// writes the parts that are set, with the change's entry.
type RulesPart struct {
	// Text is a version's text, stored if new (its content hash is its key).
	Text *RuleSetRecord
	// Propose is inserted as proposed; the store sets its ID. One open
	// proposal per text and park: a second is a conflict.
	Propose *RuleSetChange
	// Decide is written where the stored proposal is still proposed at its
	// RowVersion (approve, refuse, withdraw); an approval also checks the
	// what-if's base is still in force and nothing was approved since.
	Decide *RuleSetChange
	// WhatIf is inserted; the store sets its ID.
	WhatIf *WhatIfRecord
}

// RuleSetInForce is the park's rule set in force at t: the newest approved
// change effective by then. Submit asks with the time of its own log entry.
func (s *Service) RuleSetInForce(ctx context.Context, park string, at time.Time) (*rules.RuleSet, error) {
	version, err := s.store.RuleSetVersionInForce(ctx, park, at)
	if err != nil {
		return nil, err
	}
	return s.RuleSetVersion(ctx, version)
}

const maxNoteLength = 2000

// ProposeRuleSet stores a rule-set file as a proposal for its park, with
// the change note and the diff against the version in force. A file with
// mistakes is refused whole (*rules.ValidationError); so is one whose own
// examples fail, one already in force, and one already waiting.
func (s *Service) ProposeRuleSet(ctx context.Context, u *User, park, filename string, src []byte, note string) (*RuleSetChange, error) {
	if _, err := s.authorize(u, park, ruleSetObject(RuleSetDraft), EventRulesPropose); err != nil {
		return nil, err
	}
	rs, err := parseDraft(park, filename, src)
	if err != nil {
		return nil, err
	}
	return s.propose(ctx, u, rs, note, "")
}

// parseDraft reads an uploaded rule-set file meant for park.
func parseDraft(park, filename string, src []byte) (*rules.RuleSet, error) {
	if len(src) == 0 {
		return nil, FieldFail("file", "err.choose_rule_set_file", nil)
	}
	rs, err := rules.Parse(filename, src)
	var ve *rules.ValidationError
	if errors.As(err, &ve) {
		return nil, ve
	} else if err != nil {
		return nil, FieldFail("file", "err.rule_file_unreadable", Args{"Err": err.Error()})
	}
	if rs.Park() != park {
		return nil, FieldFail("file", "err.file_is_for_park_not", Args{"Park": fmt.Sprintf("%q", rs.Park()), "Want": fmt.Sprintf("%q", park)})
	}
	return rs, nil
}

// ProposeRestore proposes an earlier stored version again: restoring is a
// change like any other, under four eyes.
func (s *Service) ProposeRestore(ctx context.Context, u *User, version, note string) (*RuleSetChange, error) {
	rec, err := s.store.RuleSet(ctx, version)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, rec.Park, ruleSetObject(RuleSetDraft), EventRulesPropose); err != nil {
		return nil, err
	}
	rs, err := s.parsedRuleSet(rec)
	if err != nil {
		return nil, err
	}
	return s.propose(ctx, u, rs, note, version)
}

func (s *Service) propose(ctx context.Context, u *User, rs *rules.RuleSet, note, restores string) (*RuleSetChange, error) {
	st := s.store
	a, err := s.authorize(u, rs.Park(), ruleSetObject(RuleSetDraft), EventRulesPropose)
	if err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, FieldFail("note", "err.write_change_note", nil)
	}
	if utf8.RuneCountInString(note) > maxNoteLength {
		return nil, FieldFail("note", "err.change_note_may_have", Args{"MaxNoteLength": maxNoteLength})
	}
	if err := examplesHold(rs); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	base, err := s.RuleSetInForce(ctx, rs.Park(), now)
	if err != nil {
		return nil, err
	}
	if base.Version() == rs.Version() {
		return nil, Fail(ECONFLICT, "err.this_version_is_already_in_force", nil)
	}
	changes, err := st.RuleSetChanges(ctx, rs.Park())
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		if c.Version == rs.Version() && c.State == RuleSetProposed {
			return nil, Fail(ECONFLICT, "err.version_already_proposed_proposal", Args{"ID": c.ID})
		}
	}
	if _, err := ruleSetTransition(RuleSetDraft, EventRulesPropose); err != nil {
		return nil, err
	}
	diff := rules.Diff(base, rs)
	c := &RuleSetChange{Park: rs.Park(), Version: rs.Version(), BaseVersion: base.Version(), State: RuleSetProposed,
		Note: note, Diff: diff, ProposedBy: u.Username, ProposedAt: now, RowVersion: 1}
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Park: rs.Park(), Event: EventRulesPropose,
		FromState: State(RuleSetDraft), ToState: State(RuleSetProposed), RuleSetVersion: rs.Version(), Reason: note,
		Payload: payload(map[string]any{"version": rs.Version(), "base_version": base.Version(), "restores": restores, "diff": diff})}
	rec := RuleSetRecord{Park: rs.Park(), Version: rs.Version(), Source: rs.Source(), CreatedAt: now}
	if err := s.store.Apply(ctx, &Change{Entry: e, Rules: &RulesPart{Text: &rec, Propose: c}}); err != nil {
		return nil, err
	}
	c.Shown = RuleSetProposed
	return c, nil
}

// examplesHold refuses a rule set whose own examples fail, naming each.
func examplesHold(rs *rules.RuleSet) error {
	failed := catalog.List{SepZH: ";", SepEN: "; "}
	for _, r := range rs.CheckExamples() {
		if !r.OK {
			failed.Items = append(failed.Items, catalog.Message{ID: "err.example_fails", Args: Args{
				"Name":     catalog.Text{ZH: r.NameZH, EN: r.ID},
				"Failures": catalog.Text{ZH: strings.Join(r.Failures, ";"), EN: strings.Join(r.FailEN, "; ")}}})
		}
	}
	if len(failed.Items) == 0 {
		return nil
	}
	return FieldFail("file", "err.examples_fail", Args{"Examples": failed})
}

// ApproveInput is the committee's approval: when the version takes effect
// (zero: now) and which what-if report the approver read (0: the newest for
// the proposal's version).
type ApproveInput struct {
	Effective time.Time
	WhatIfID  int64
	Opinion   string
}

// ApproveRuleSet approves a proposal under four eyes: never by its
// proposer, and only with a what-if report generated for exactly the
// proposal's content hash against the version in force now. The report's
// SHA-256 goes into the approval's log entry, so an auditor can fetch what
// the approver saw.
func (s *Service) ApproveRuleSet(ctx context.Context, u *User, id int64, in ApproveInput) (*RuleSetChange, error) {
	st := s.store
	c, a, err := s.changeFor(ctx, u, id, EventRulesApprove)
	if err != nil {
		return nil, err
	}
	if c.ProposedBy == u.Username {
		return nil, Fail(EFORBIDDEN, "err.four_eyes_you_may", nil)
	}
	var wi WhatIfRecord
	if in.WhatIfID != 0 {
		wi, err = st.WhatIf(ctx, in.WhatIfID)
	} else {
		wi, err = st.LatestWhatIf(ctx, c.Park, c.Version)
	}
	if ErrorCode(err) == ENOTFOUND {
		return nil, Fail(EFORBIDDEN, "err.generate_and_read_what", nil)
	} else if err != nil {
		return nil, err
	}
	if wi.Version != c.Version || wi.Park != c.Park {
		return nil, Fail(EFORBIDDEN, "err.what_if_report_for", Args{"ID": wi.ID, "Version": fmt.Sprintf("%.12s", wi.Version), "Version2": fmt.Sprintf("%.12s", c.Version)})
	}
	now := s.now().UTC()
	base, err := s.RuleSetInForce(ctx, c.Park, now)
	if err != nil {
		return nil, err
	}
	if wi.BaseVersion != base.Version() {
		return nil, Fail(ECONFLICT, "err.rules_in_force_changed", nil)
	}
	eff := in.Effective.UTC()
	if eff.IsZero() {
		eff = now
	}
	if eff.Before(now.Add(-time.Minute)) {
		return nil, FieldFail("effective", "err.effective_time_cannot_in", nil)
	}
	if eff.Before(now) {
		eff = now
	}
	if err := checkTextLength("opinion", "textfield.approval_opinion", in.Opinion); err != nil {
		return nil, err
	}
	to, err := ruleSetTransition(c.State, EventRulesApprove)
	if err != nil {
		return nil, err
	}
	c.State, c.DecidedBy, c.DecidedAt, c.EffectiveAt, c.WhatIfID, c.Reason = to, u.Username, now, eff, wi.ID, strings.TrimSpace(in.Opinion)
	c.ExpectInForce, c.WhatIfAt = wi.BaseVersion, wi.CreatedAt
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Park: c.Park, Event: EventRulesApprove,
		FromState: State(RuleSetProposed), ToState: State(to), RuleSetVersion: c.Version, Reason: c.Reason,
		Payload: payload(map[string]any{"change": c.ID, "version": c.Version, "base_version": base.Version(), "proposed_by": c.ProposedBy,
			"effective_at": eff, "whatif_id": wi.ID, "whatif_sha256": wi.SHA256})}
	if err := s.store.Apply(ctx, &Change{Entry: e, Rules: &RulesPart{Decide: &c}}); err != nil {
		return nil, err
	}
	c.Shown = RuleSetApproved
	if !eff.After(now) {
		c.Shown = RuleSetInForce
	}
	return &c, nil
}

// RefuseRuleSet refuses a proposal; the reason is required.
func (s *Service) RefuseRuleSet(ctx context.Context, u *User, id int64, reason string) (*RuleSetChange, error) {
	return s.closeChange(ctx, u, id, EventRulesRefuse, reason, true)
}

// WithdrawRuleSet withdraws a proposal before the committee decides.
func (s *Service) WithdrawRuleSet(ctx context.Context, u *User, id int64, reason string) (*RuleSetChange, error) {
	return s.closeChange(ctx, u, id, EventRulesWithdraw, reason, false)
}

func (s *Service) closeChange(ctx context.Context, u *User, id int64, event, reason string, needReason bool) (*RuleSetChange, error) {
	c, a, err := s.changeFor(ctx, u, id, event)
	if err != nil {
		return nil, err
	}
	if reason, err = closingReason(reason, needReason); err != nil {
		return nil, err
	}
	to, err := ruleSetTransition(c.State, event)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	from := c.State
	c.State, c.DecidedBy, c.DecidedAt, c.Reason = to, u.Username, now, reason
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Park: c.Park, Event: event,
		FromState: State(from), ToState: State(to), RuleSetVersion: c.Version, Reason: reason,
		Payload: payload(map[string]any{"change": c.ID, "version": c.Version, "proposed_by": c.ProposedBy})}
	if err := s.store.Apply(ctx, &Change{Entry: e, Rules: &RulesPart{Decide: &c}}); err != nil {
		return nil, err
	}
	c.Shown = to
	return &c, nil
}

// changeFor loads a change and authorizes event on it for u.
func (s *Service) changeFor(ctx context.Context, u *User, id int64, event string) (RuleSetChange, actor, error) {
	st := s.store
	c, err := st.RuleSetChange(ctx, id)
	if err != nil {
		return c, actor{}, err
	}
	a, err := s.authorize(u, c.Park, ruleSetObject(c.State), event)
	if err != nil {
		for _, other := range []RuleSetState{RuleSetProposed} {
			if other != c.State && s.authz.Allowed(u.Username, c.Park, ruleSetObject(other), event) {
				_, terr := ruleSetTransition(c.State, event)
				return c, actor{}, terr
			}
		}
		return c, actor{}, err
	}
	return c, a, nil
}

// RuleSetChanges lists a park's changes, newest first, with their state as
// of now (which approved one is in force, which superseded, which waiting).
func (s *Service) RuleSetChanges(ctx context.Context, u *User, park string) ([]RuleSetChange, error) {
	st := s.store
	if _, err := s.authorize(u, park, "rules", "read"); err != nil {
		return nil, err
	}
	cs, err := st.RuleSetChanges(ctx, park)
	if err != nil {
		return nil, err
	}
	shownStates(cs, s.now())
	return cs, nil
}

// shownStates fills Shown: the newest approved change effective by now is
// in force; older approved ones are superseded; later ones wait.
func shownStates(cs []RuleSetChange, now time.Time) {
	inForce := -1
	for i, c := range cs {
		if c.State != RuleSetApproved || c.EffectiveAt.After(now) {
			continue
		}
		if inForce < 0 || c.EffectiveAt.After(cs[inForce].EffectiveAt) ||
			(c.EffectiveAt.Equal(cs[inForce].EffectiveAt) && c.ID > cs[inForce].ID) {
			inForce = i
		}
	}
	for i := range cs {
		c := &cs[i]
		c.Shown = c.State
		if c.State == RuleSetApproved {
			switch {
			case i == inForce:
				c.Shown = RuleSetInForce
			case !c.EffectiveAt.After(now):
				c.Shown = RuleSetSuperseded
			}
		}
	}
}

// FindRuleSetChange finds the newest change of a version (a prefix of at
// least 8 hex digits will do, as the CLI prints them) among the parks u may
// read rules of.
func (s *Service) FindRuleSetChange(ctx context.Context, u *User, version string) (*RuleSetChange, error) {
	st := s.store
	if len(version) < 8 {
		return nil, FieldFail("version", "err.give_at_least_first", nil)
	}
	parks, err := s.store.Parks(ctx)
	if err != nil {
		return nil, err
	}
	var found *RuleSetChange
	for _, p := range parks {
		if !s.authz.Allowed(u.Username, p.ID, "rules", "read") {
			continue
		}
		cs, err := st.RuleSetChanges(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		shownStates(cs, s.now())
		for i := range cs {
			if strings.HasPrefix(cs[i].Version, version) && (found == nil || cs[i].ID > found.ID) {
				found = &cs[i]
			}
		}
	}
	if found == nil {
		return nil, Fail(ENOTFOUND, "err.no_rule_set_proposal", Args{"Version": version})
	}
	return found, nil
}

// RuleSetDiff is the readable diff between two stored versions of one park.
func (s *Service) RuleSetDiff(ctx context.Context, u *User, from, to string) ([]rules.DiffItem, error) {
	a, err := s.RuleSetVersion(ctx, from)
	if err != nil {
		return nil, err
	}
	b, err := s.RuleSetVersion(ctx, to)
	if err != nil {
		return nil, err
	}
	if a.Park() != b.Park() {
		return nil, Fail(EINVALID, "err.two_versions_belong_different", nil)
	}
	if _, err := s.authorize(u, a.Park(), "rules", "read"); err != nil {
		return nil, err
	}
	return rules.Diff(a, b), nil
}

// RuleSetReadableParks lists the parks whose rule-set pipeline u may read.
func (s *Service) RuleSetReadableParks(ctx context.Context, u *User) ([]Park, error) {
	return s.parksAllowing(ctx, u, "rules", "read")
}

// RuleSetChangeFor returns one change, with its state as of now, for a
// reader of its park's rules.
func (s *Service) RuleSetChangeFor(ctx context.Context, u *User, id int64) (*RuleSetChange, error) {
	st := s.store
	c, err := st.RuleSetChange(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, c.Park, "rules", "read"); err != nil {
		return nil, err
	}
	cs, err := st.RuleSetChanges(ctx, c.Park)
	if err != nil {
		return nil, err
	}
	shownStates(cs, s.now())
	for _, x := range cs {
		if x.ID == id {
			return &x, nil
		}
	}
	return &c, nil
}

// CanActOnRuleSet says whether u may take event on c now (the page's buttons).
func (s *Service) CanActOnRuleSet(u *User, c *RuleSetChange, event string) bool {
	if u == nil {
		return false
	}
	if event == EventRulesWhatIf {
		return c.State == RuleSetProposed && s.authz.Allowed(u.Username, c.Park, "rules", "whatif")
	}
	if _, err := ruleSetTransition(c.State, event); err != nil {
		return false
	}
	if event == EventRulesApprove && c.ProposedBy == u.Username {
		return false
	}
	return s.authz.Allowed(u.Username, c.Park, ruleSetObject(c.State), event)
}

// CanProposeRuleSet says whether u may propose rule-set changes for park.
func (s *Service) CanProposeRuleSet(u *User, park string) bool {
	return u != nil && s.authz.Allowed(u.Username, park, ruleSetObject(RuleSetDraft), EventRulesPropose)
}

// RuleSetPipeline lists a park's changes with their state as of now, for
// the operator's command line on the server (`rules versions`).
func (s *Service) RuleSetPipeline(ctx context.Context, park string) ([]RuleSetChange, error) {
	st := s.store
	cs, err := st.RuleSetChanges(ctx, park)
	if err != nil {
		return nil, err
	}
	shownStates(cs, s.now())
	return cs, nil
}
