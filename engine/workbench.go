package engine

import (
	"context"
	"slices"
	"sort"
	"time"
)

// WorkItem is a project awaiting the user, with what they can do on it.
type WorkItem struct {
	Project *Project `json:"project"`
	Actions []string `json:"actions"`
	Overdue bool     `json:"overdue"`
}

// ParkWork is one park's part of a user's workbench.
type ParkWork struct {
	Park   Park          `json:"park"`
	Roles  []Role        `json:"roles"`
	Items  []WorkItem    `json:"items"`
	Counts map[State]int `json:"counts"`
	// ReadsProjects is false where u only reads what is shared with them
	// (知会单位): no count of the park's projects, which would tell them
	// more than was shared.
	ReadsProjects bool `json:"reads_projects"`
}

// Workbench lists, per park where u holds a role, the projects awaiting u's
// action (overdue first, then by due date; at most limit per park) and,
// where u may read the park's projects, its count of projects per state.
func (s *Service) Workbench(ctx context.Context, u *User, limit int) ([]ParkWork, error) {
	parks, err := s.Parks(ctx, u)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(parks))
	for i, p := range parks {
		ids[i] = p.ID
	}
	counts, err := s.store.CountByState(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []ParkWork
	for _, park := range parks {
		pw := ParkWork{Park: park, Roles: s.authz.RolesIn(u.Username, park.ID), ReadsProjects: s.authz.Allowed(u.Username, park.ID, "project", "read")}
		if pw.ReadsProjects {
			pw.Counts = counts[park.ID]
		}
		states := s.actionableStates(u, park.ID)
		if len(states) > 0 {
			// Read a few more than shown: some in these states are not this user's
			// to act on (own project, already scored, conflict declared).
			ps, _, err := s.store.Projects(ctx, ProjectFilter{Parks: []string{park.ID}, States: states, Sort: "due", Limit: limit * 4})
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				acts := awaitedFirst(p, s.Actions(ctx, u, p))
				if acts == nil {
					continue
				}
				pw.Items = append(pw.Items, WorkItem{Project: p, Actions: acts, Overdue: p.DueAt != nil && p.DueAt.Before(now)})
				if len(pw.Items) == limit {
					break
				}
			}
		}
		sort.SliceStable(pw.Items, func(i, j int) bool { return dueKey(pw.Items[i]).Before(dueKey(pw.Items[j])) })
		out = append(out, pw)
	}
	return out, nil
}

// awaitedEvents are, per state, the steps a project waits for someone to
// take. The other events open in a state (rejecting in screening, ordering
// rectification of a firm in production, withdrawing) are there for whoever
// may use them, but nobody is late for not doing so, so they put nothing on a
// workbench. In screening the project waits on the reviewer's pass, or,
// when a hard rule failed, on a reviewer's return (awaitedFirst).
var awaitedEvents = map[State][]string{
	StateDraft:             {EventSubmit},
	StateScreening:         {EventPass},
	StateExpertReview:      {EventScore},
	StateCommitteeReview:   {EventApprove, EventReject, EventReturn},
	StateReturned:          {EventResubmit, EventWithdraw},
	StateApproved:          {EventSign},
	StateSigned:            {EventStartConstruction},
	StateUnderConstruction: {EventStartProduction},
	StateRectification:     {EventRectified, EventExit},
}

// awaitedFirst returns u's actions on p with the awaited ones first, or nil
// if none of them is awaited: the project is not waiting on this user.
func awaitedFirst(p *Project, acts []string) []string {
	want := awaitedEvents[p.State]
	if p.State == StateScreening && p.Report != nil && !p.Report.Passed() {
		// The normal next step is the reviewer's return for changes.
		// Rejecting, or the committee's override (一事一议), are
		// exceptions open on the project page, never put forward as the
		// next step (the committee is not nudged towards either).
		want = []string{EventReturn}
	}
	var first, rest []string
	for _, a := range acts {
		if slices.Contains(want, a) {
			first = append(first, a)
		} else {
			rest = append(rest, a)
		}
	}
	if first == nil {
		return nil
	}
	return append(first, rest...)
}

var noDue = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func dueKey(w WorkItem) time.Time {
	if w.Project.DueAt == nil {
		return noDue
	}
	return *w.Project.DueAt
}

// actionableStates lists the states in which u may take some event in park.
func (s *Service) actionableStates(u *User, park string) []State {
	var out []State
	for _, st := range States {
		for _, ev := range append(newMachine(st).AvailableTransitions(), EventUpdate, EventScore) {
			if s.authz.Allowed(u.Username, park, string(st), ev) {
				out = append(out, st)
				break
			}
		}
	}
	return out
}
