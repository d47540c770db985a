package engine

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"zonevet/rules"
)

// AuditStats are the figures an auditor asks for, computed from the log
// itself (not from the projects table), so they describe what was recorded.
type AuditStats struct {
	Entries   int64           `json:"entries"`
	Reviewers []ReviewerStats `json:"reviewers"` // by total, descending
	Parks     []ParkStats     `json:"parks"`
	States    []StateStats    `json:"states"` // lifecycle order, states with any step
	Overdue   []*Project      `json:"overdue"`
	From, To  time.Time       `json:"-"`
}

// ReviewerStats counts one person's decisions, by event.
type ReviewerStats struct {
	Actor  string         `json:"actor"`
	Role   Role           `json:"role"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

// ParkStats counts screening outcomes and how many passed by exception.
type ParkStats struct {
	Park      string  `json:"park"`
	Passed    int     `json:"passed"`    // pass + override
	Overrides int     `json:"overrides"` // 一事一议
	Share     float64 `json:"share"`     // overrides / passed, 0..1
	Rejected  int     `json:"rejected"`
	Approved  int     `json:"approved"`
}

// StateStats is how long projects stayed in a state: finished steps and
// those still open, against the state's deadline in working days.
type StateStats struct {
	State        State   `json:"state"`
	Steps        int     `json:"steps"` // finished stays
	MedianHours  float64 `json:"median_hours"`
	P90Hours     float64 `json:"p90_hours"`
	OverdueSteps int     `json:"overdue_steps"` // finished after the deadline
	Open         int     `json:"open"`
	OpenOverdue  int     `json:"open_overdue"`
	durations    []float64
}

// Stats computes the statistics over the entries u may read that match q
// (time range, park). It streams the log once, each entry to each panel's
// tally; memory grows with the number of projects and finished steps, not
// with the log.
func (l *AuditLog) Stats(ctx context.Context, u *User, q AuditQuery) (*AuditStats, error) {
	cps, err := l.store()
	if err != nil {
		return nil, err
	}
	if _, err := l.scope(ctx, u, "read", &q); err != nil {
		return nil, err
	}
	q.System = false
	now := l.svc.now()
	cal, err := l.svc.calendar(ctx)
	if err != nil {
		return nil, err
	}
	st := &AuditStats{From: q.From, To: q.To}
	reviewers := newReviewerTally()
	parks := newParkTally(q.Parks)
	stays := &stayTally{states: map[State]*StateStats{}, open: map[int64]*stay{},
		deadlines: deadlines{ctx: ctx, svc: l.svc, cal: cal, ruleSets: map[string]*rules.RuleSet{}}}
	err = cps.ExportAudit(ctx, q, func([]Checkpoint) error { return nil }, func(e *AuditEntry) error {
		st.Entries++
		reviewers.add(e)
		parks.add(e)
		stays.add(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.Reviewers, st.Parks, st.States = reviewers.list(), parks.list(q.Parks), stays.list(now)
	st.Overdue, _, err = l.svc.Projects(ctx, u, ProjectFilter{Parks: q.Parks, Overdue: true, Now: now, Sort: "due", Limit: 50})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// reviewerTally counts each person's decisions, by event.
type reviewerTally struct {
	decision map[string]bool
	by       map[string]*ReviewerStats // by actor and role
}

func newReviewerTally() *reviewerTally {
	t := &reviewerTally{decision: map[string]bool{}, by: map[string]*ReviewerStats{}}
	for _, ev := range DecisionEvents {
		t.decision[ev] = true
	}
	return t
}

func (t *reviewerTally) add(e *AuditEntry) {
	if !t.decision[e.Event] || e.Actor == "" {
		return
	}
	key := e.Actor + "\x00" + string(e.Role)
	r := t.by[key]
	if r == nil {
		r = &ReviewerStats{Actor: e.Actor, Role: e.Role, Counts: map[string]int{}}
		t.by[key] = r
	}
	r.Counts[e.Event]++
	r.Total++
}

// list is the people by total, descending.
func (t *reviewerTally) list() []ReviewerStats {
	var out []ReviewerStats
	for _, r := range t.by {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Actor+string(a.Role) < b.Actor+string(b.Role)
	})
	return out
}

// parkTally counts each park's screening outcomes.
type parkTally map[string]*ParkStats

func newParkTally(ids []string) parkTally {
	t := parkTally{}
	for _, id := range ids {
		t.park(id)
	}
	return t
}

func (t parkTally) park(id string) *ParkStats {
	x := t[id]
	if x == nil {
		x = &ParkStats{Park: id}
		t[id] = x
	}
	return x
}

func (t parkTally) add(e *AuditEntry) {
	if e.Park == "" {
		return
	}
	switch e.Event {
	case EventPass:
		t.park(e.Park).Passed++
	case EventOverride:
		p := t.park(e.Park)
		p.Passed++
		p.Overrides++
	case EventReject:
		t.park(e.Park).Rejected++
	case EventApprove:
		t.park(e.Park).Approved++
	}
}

// list is the parks in ids' order, with their override shares.
func (t parkTally) list(ids []string) []ParkStats {
	var out []ParkStats
	for _, id := range ids {
		p := *t[id]
		if p.Passed > 0 {
			p.Share = float64(p.Overrides) / float64(p.Passed)
		}
		out = append(out, p)
	}
	return out
}

// stay is a project's current stay in a state, as the log tells it.
type stay struct {
	state   State
	since   time.Time
	version string
	park    string
}

// stayTally times each project's stays in its states: finished ones by
// the entry that ended them, open ones against now.
type stayTally struct {
	states    map[State]*StateStats
	open      map[int64]*stay
	deadlines deadlines
}

func (t *stayTally) state(s State) *StateStats {
	x := t.states[s]
	if x == nil {
		x = &StateStats{State: s}
		t.states[s] = x
	}
	return x
}

func (t *stayTally) add(e *AuditEntry) {
	if e.ProjectID == 0 || e.ToState == "" || (e.FromState == e.ToState && e.Event != EventCreate) {
		return
	}
	if s := t.open[e.ProjectID]; s != nil {
		x := t.state(s.state)
		x.Steps++
		x.durations = append(x.durations, e.Time.Sub(s.since).Hours())
		if d := t.deadlines.due(s); d != nil && e.Time.After(*d) {
			x.OverdueSteps++
		}
	}
	t.open[e.ProjectID] = &stay{state: e.ToState, since: e.Time, version: e.RuleSetVersion, park: e.Park}
}

// list counts the open stays and gives each state's figures, in lifecycle order.
func (t *stayTally) list(now time.Time) []StateStats {
	for _, s := range t.open {
		if s.state.Terminal() {
			continue
		}
		x := t.state(s.state)
		x.Open++
		if d := t.deadlines.due(s); d != nil && now.After(*d) {
			x.OpenOverdue++
		}
	}
	var out []StateStats
	for _, s := range States {
		x := t.states[s]
		if x == nil {
			continue
		}
		sort.Float64s(x.durations)
		if n := len(x.durations); n > 0 {
			x.MedianHours = median(x.durations)
			x.P90Hours = x.durations[min(n-1, n*9/10)]
		}
		out = append(out, *x)
	}
	return out
}

// deadlines is when a stay was due: under the rule set its entry names,
// else its park's active one, with the calendar in force.
type deadlines struct {
	ctx      context.Context
	svc      *Service
	cal      *Calendar
	ruleSets map[string]*rules.RuleSet // by version, or "park:" + park
}

func (d *deadlines) due(s *stay) *time.Time {
	key := s.version
	if key == "" {
		key = "park:" + s.park
	}
	rs, ok := d.ruleSets[key]
	if !ok {
		if s.version != "" {
			rs, _ = d.svc.RuleSetVersion(d.ctx, s.version)
		}
		if rs == nil {
			rs, _ = d.svc.ActiveRuleSet(d.ctx, s.park)
		}
		d.ruleSets[key] = rs
	}
	if rs == nil {
		return nil
	}
	return d.cal.Due(s.since, rs.DeadlineDays(string(s.state)))
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// Dossier is everything about one project in one place (立项审查档案): the
// figures at each submission with the rule report they got, every score of
// every round, every decision with its reason, the documents with their
// SHA-256, and the rule-set versions involved.
type Dossier struct {
	Project     *Project
	Park        Park
	Submissions []DossierSubmission
	Rounds      []DossierRound
	History     []AuditEntry
	Documents   []Document
	Conflicts   []Conflict
	RuleSets    []string
	GeneratedAt time.Time
	GeneratedBy string
	Head        int64 // the log's last seq when the dossier was made
	HeadHash    string
	// Proofs are the History entries' inclusion proofs against
	// ProofCheckpoint, the latest checkpoint with a Merkle root; entries
	// after it have none yet.
	Proofs          map[int64]*ProofDoc
	ProofCheckpoint *Checkpoint
}

// DossierSubmission is one submission as the log recorded it.
type DossierSubmission struct {
	Seq     int64
	Time    time.Time
	Event   string
	Actor   string
	Figures rules.Figures
	Report  *rules.Report
}

// DossierRound is the expert scores of one submission round.
type DossierRound struct {
	Round  int
	Scores []Score
	Mean   float64
}

// Dossier assembles a project's dossier for an auditor and logs the view.
func (l *AuditLog) Dossier(ctx context.Context, u *User, id int64) (*Dossier, error) {
	p, err := l.svc.store.Project(ctx, id)
	if err != nil {
		return nil, err
	}
	r, ok := l.svc.authz.Role(u.Username, p.Park, "audit", "read")
	if !ok || u.Disabled {
		// Like a project page: another park's project does not exist for u.
		return nil, Fail(ENOTFOUND, "err.project_not_found", nil)
	}
	d := &Dossier{Project: p, GeneratedAt: l.svc.now(), GeneratedBy: u.Username}
	parks, err := l.svc.store.Parks(ctx)
	if err != nil {
		return nil, err
	}
	for _, pk := range parks {
		if pk.ID == p.Park {
			d.Park = pk
		}
	}
	if err := l.logAction(ctx, actor{user: u, role: r}, p.Park, p.ID, EventDossierView, "", ""); err != nil {
		return nil, err
	}
	if d.History, err = l.svc.store.AuditEntries(ctx, AuditFilter{ProjectID: p.ID, Parks: []string{p.Park}}); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, e := range d.History {
		if e.RuleSetVersion != "" && !seen[e.RuleSetVersion] {
			seen[e.RuleSetVersion] = true
			d.RuleSets = append(d.RuleSets, e.RuleSetVersion)
		}
		if e.Event == EventSubmit || e.Event == EventResubmit {
			var sub submission
			if json.Unmarshal([]byte(e.Payload), &sub) == nil {
				d.Submissions = append(d.Submissions, DossierSubmission{Seq: e.Seq, Time: e.Time, Event: e.Event, Actor: e.Actor,
					Figures: sub.Figures, Report: sub.Report})
			}
		}
		d.Head, d.HeadHash = e.Seq, e.Hash
	}
	if l.cps != nil {
		if d.Head, d.HeadHash, err = l.cps.AuditHead(ctx); err != nil {
			return nil, err
		}
		if d.Proofs, d.ProofCheckpoint, err = l.ProveEntries(ctx, d.History); err != nil {
			return nil, err
		}
	}
	for round := 1; round <= p.Round; round++ {
		sc, err := l.svc.store.Scores(ctx, p.ID, round)
		if err != nil {
			return nil, err
		}
		if len(sc) == 0 {
			continue
		}
		dr := DossierRound{Round: round, Scores: sc}
		for _, s := range sc {
			dr.Mean += s.Total
		}
		dr.Mean /= float64(len(sc))
		d.Rounds = append(d.Rounds, dr)
	}
	if d.Documents, err = l.svc.store.Documents(ctx, p.ID); err != nil {
		return nil, err
	}
	if d.Conflicts, err = l.svc.store.Conflicts(ctx, p.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// SharePercent is Share as a percentage, for display.
func (p ParkStats) SharePercent() float64 { return p.Share * 100 }

// MedianDays is the median stay in calendar days, for display.
func (s StateStats) MedianDays() float64 { return s.MedianHours / 24 }

// P90Days is the 90th-percentile stay in calendar days, for display.
func (s StateStats) P90Days() float64 { return s.P90Hours / 24 }
