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
// (time range, park). It streams the log once; memory grows with the number
// of projects and finished steps, not with the log.
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
	st := &AuditStats{From: q.From, To: q.To}
	reviewers := map[string]*ReviewerStats{}
	parks := map[string]*ParkStats{}
	states := map[State]*StateStats{}
	type stay struct {
		state   State
		since   time.Time
		version string
		park    string
	}
	open := map[int64]*stay{}
	decision := map[string]bool{}
	for _, ev := range DecisionEvents {
		decision[ev] = true
	}
	ruleSets := map[string]*rules.RuleSet{}
	cal, err := l.svc.calendar(ctx)
	if err != nil {
		return nil, err
	}
	due := func(s *stay) *time.Time {
		key := s.version
		if key == "" {
			key = "park:" + s.park
		}
		rs, ok := ruleSets[key]
		if !ok {
			if s.version != "" {
				rs, _ = l.svc.RuleSetVersion(ctx, s.version)
			}
			if rs == nil {
				rs, _ = l.svc.ActiveRuleSet(ctx, s.park)
			}
			ruleSets[key] = rs
		}
		if rs == nil {
			return nil
		}
		return cal.Due(s.since, rs.DeadlineDays(string(s.state)))
	}
	stateOf := func(s State) *StateStats {
		x := states[s]
		if x == nil {
			x = &StateStats{State: s}
			states[s] = x
		}
		return x
	}
	park := func(id string) *ParkStats {
		x := parks[id]
		if x == nil {
			x = &ParkStats{Park: id}
			parks[id] = x
		}
		return x
	}
	for _, id := range q.Parks {
		park(id)
	}
	err = cps.ExportAudit(ctx, q, func([]Checkpoint) error { return nil }, func(e *AuditEntry) error {
		st.Entries++
		if decision[e.Event] && e.Actor != "" {
			key := e.Actor + "\x00" + string(e.Role)
			r := reviewers[key]
			if r == nil {
				r = &ReviewerStats{Actor: e.Actor, Role: e.Role, Counts: map[string]int{}}
				reviewers[key] = r
			}
			r.Counts[e.Event]++
			r.Total++
		}
		if e.Park != "" {
			switch e.Event {
			case EventPass:
				park(e.Park).Passed++
			case EventOverride:
				p := park(e.Park)
				p.Passed++
				p.Overrides++
			case EventReject:
				park(e.Park).Rejected++
			case EventApprove:
				park(e.Park).Approved++
			}
		}
		if e.ProjectID == 0 || e.ToState == "" || (e.FromState == e.ToState && e.Event != EventCreate) {
			return nil
		}
		if s := open[e.ProjectID]; s != nil {
			x := stateOf(s.state)
			x.Steps++
			x.durations = append(x.durations, e.Time.Sub(s.since).Hours())
			if d := due(s); d != nil && e.Time.After(*d) {
				x.OverdueSteps++
			}
		}
		open[e.ProjectID] = &stay{state: e.ToState, since: e.Time, version: e.RuleSetVersion, park: e.Park}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, s := range open {
		if s.state.Terminal() {
			continue
		}
		x := stateOf(s.state)
		x.Open++
		if d := due(s); d != nil && now.After(*d) {
			x.OpenOverdue++
		}
	}
	for _, s := range States {
		x := states[s]
		if x == nil {
			continue
		}
		sort.Float64s(x.durations)
		if n := len(x.durations); n > 0 {
			x.MedianHours = median(x.durations)
			x.P90Hours = x.durations[min(n-1, n*9/10)]
		}
		st.States = append(st.States, *x)
	}
	for _, r := range reviewers {
		st.Reviewers = append(st.Reviewers, *r)
	}
	sort.Slice(st.Reviewers, func(i, j int) bool {
		a, b := st.Reviewers[i], st.Reviewers[j]
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Actor+string(a.Role) < b.Actor+string(b.Role)
	})
	for _, id := range q.Parks {
		p := *parks[id]
		if p.Passed > 0 {
			p.Share = float64(p.Overrides) / float64(p.Passed)
		}
		st.Parks = append(st.Parks, p)
	}
	st.Overdue, _, err = l.svc.Projects(ctx, u, ProjectFilter{Parks: q.Parks, Overdue: true, Now: now, Sort: "due", Limit: 50})
	if err != nil {
		return nil, err
	}
	return st, nil
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
		return nil, Errorf(ENOTFOUND, "项目不存在", "project not found")
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
