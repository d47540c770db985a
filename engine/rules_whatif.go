package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"

	"zonevet/rules"
)

// WhatIfReport is what a rule-set change would do, computed before anyone
// approves it (issue 12): the readable diff, every screened project of the
// park re-screened under the draft, last year's rating run re-rated, and
// the examples — the draft's own and those of the version in force, run
// under the draft (which expectations the change breaks).
type WhatIfReport struct {
	Park        string                `json:"park"`
	Version     string                `json:"version"`
	BaseVersion string                `json:"base_version"`
	GeneratedBy string                `json:"generated_by"`
	GeneratedAt time.Time             `json:"generated_at"`
	Diff        []rules.DiffItem      `json:"diff"`
	Screening   ScreeningReplay       `json:"screening"`
	Rating      *RatingReplay         `json:"rating,omitempty"`
	Examples    []rules.ExampleResult `json:"examples"`
	// BaseExamples are the examples of the version in force, run under the draft.
	BaseExamples []rules.ExampleResult `json:"base_examples"`
}

// ScreeningReplay is the screening of every project ever screened, again
// under the draft, from the figures of its latest screening.
type ScreeningReplay struct {
	Total      int             `json:"total"`
	Changed    int             `json:"changed"` // verdict or any check's outcome moved
	PassToFail int             `json:"pass_to_fail"`
	FailToPass int             `json:"fail_to_pass"`
	ByState    []StateReplay   `json:"by_state"`
	Projects   []ProjectReplay `json:"projects"` // the changed ones: open first, then by id
	// CheckNames names the checks the projects list by id (zh, en), from
	// the draft and, for checks it dropped, the versions that screened them.
	CheckNames map[string][2]string `json:"check_names"`
}

// CheckName is a check's name in lang ("zh" or "en"), or its id.
func (r ScreeningReplay) CheckName(lang, id string) string {
	n, ok := r.CheckNames[id]
	if !ok {
		return id
	}
	if lang == "en" && n[1] != "" {
		return n[1]
	}
	return n[0]
}

// StateReplay counts one state's projects and how many would change.
type StateReplay struct {
	State      State `json:"state"`
	Open       bool  `json:"open"`
	Total      int   `json:"total"`
	Changed    int   `json:"changed"`
	PassToFail int   `json:"pass_to_fail"`
	FailToPass int   `json:"fail_to_pass"`
}

// ProjectReplay is one project whose screening would change.
type ProjectReplay struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	State       State    `json:"state"`
	Open        bool     `json:"open"` // still before the committee's decision: the change would actually affect it
	Before      bool     `json:"before"`
	After       bool     `json:"after"`
	NewlyFailed []string `json:"newly_failed,omitempty"`
	NewlyPassed []string `json:"newly_passed,omitempty"`
}

// openStates are where a project's screening still matters: before the
// committee's decision, or returned (it will be screened again).
var openStates = map[State]bool{StateDraft: true, StateScreening: true, StateExpertReview: true, StateCommitteeReview: true, StateReturned: true}

// RatingReplay is a rating run re-rated under the draft.
type RatingReplay struct {
	RunID   int64          `json:"run_id"`
	Year    int            `json:"year"`
	Firms   int            `json:"firms"`
	Before  map[string]int `json:"before"` // class → firms, as the run rated them
	After   map[string]int `json:"after"`  // under the draft
	Changes []ClassChange  `json:"changes"`
}

// ClassChange is one firm whose class would change.
type ClassChange struct {
	ProjectID int64  `json:"project_id"`
	Name      string `json:"name"`
	Before    string `json:"before"`
	After     string `json:"after"`
}

// WhatIf computes the what-if report of a draft rule set for its park,
// against the version in force now, without storing it (`rules whatif FILE
// --as USER`, the 规则集 page's draft upload, the API's draft what-if). A
// draft's what-if decides nothing, but who looked at what is logged: the
// entry names the draft's content hash and the report's SHA-256 (returned).
func (s *Service) WhatIf(ctx context.Context, u *User, draft *rules.RuleSet) (*WhatIfReport, string, error) {
	a, err := s.authorize(u, draft.Park(), "rules", "whatif")
	if err != nil {
		return nil, "", err
	}
	rep, err := s.whatIf(ctx, u, draft)
	if err != nil {
		return nil, "", err
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(body)
	sha := hex.EncodeToString(sum[:])
	e := AuditEntry{Time: rep.GeneratedAt, Actor: u.Username, Role: a.role, Park: draft.Park(), Event: EventRulesWhatIf,
		RuleSetVersion: draft.Version(), Payload: payload(map[string]any{"draft": true, "version": draft.Version(),
			"base_version": rep.BaseVersion, "sha256": sha, "projects": rep.Screening.Total, "changed": rep.Screening.Changed})}
	if err := s.store.Apply(ctx, &Change{Entry: e}); err != nil {
		return nil, "", err
	}
	return rep, sha, nil
}

// WhatIfFile is WhatIf of an uploaded draft file of park: a file with
// mistakes is refused whole (*rules.ValidationError), as a proposal is.
func (s *Service) WhatIfFile(ctx context.Context, u *User, park, filename string, src []byte) (*WhatIfReport, string, error) {
	if _, err := s.authorize(u, park, "rules", "whatif"); err != nil {
		return nil, "", err
	}
	rs, err := parseDraft(park, filename, src)
	if err != nil {
		return nil, "", err
	}
	return s.WhatIf(ctx, u, rs)
}

// WhatIfOperator is WhatIf for the operator's command line on the server
// (`rules whatif` without --as): computed, not stored, generated by "operator@cli".
func (s *Service) WhatIfOperator(ctx context.Context, draft *rules.RuleSet) (*WhatIfReport, error) {
	return s.whatIf(ctx, &User{Username: "operator@cli"}, draft)
}

func (s *Service) whatIf(ctx context.Context, u *User, draft *rules.RuleSet) (*WhatIfReport, error) {
	st := s.store
	now := s.now().UTC()
	base, err := s.RuleSetInForce(ctx, draft.Park(), now)
	if err != nil {
		return nil, err
	}
	rep := &WhatIfReport{Park: draft.Park(), Version: draft.Version(), BaseVersion: base.Version(), GeneratedBy: u.Username,
		GeneratedAt: now, Diff: rules.Diff(base, draft), Examples: draft.CheckExamples(), BaseExamples: draft.RunExamples(base.Examples())}
	var projects []ScreenedProject
	if err := st.EachScreenedProject(ctx, draft.Park(), func(p ScreenedProject) error {
		projects = append(projects, p)
		return nil
	}); err != nil {
		return nil, err
	}
	if rep.Screening, err = s.replayScreening(ctx, draft, projects); err != nil {
		return nil, err
	}
	if rep.Rating, err = s.replayRating(ctx, draft); err != nil {
		return nil, err
	}
	return rep, nil
}

// replayScreening re-screens projects under draft, comparing with their
// screening under the version that screened them, on every core.
func (s *Service) replayScreening(ctx context.Context, draft *rules.RuleSet, projects []ScreenedProject) (ScreeningReplay, error) {
	pinned := map[string]*rules.RuleSet{}
	for _, p := range projects {
		if _, ok := pinned[p.RuleSetVersion]; !ok {
			rs, err := s.RuleSetVersion(ctx, p.RuleSetVersion)
			if err != nil {
				return ScreeningReplay{}, err
			}
			pinned[p.RuleSetVersion] = rs
		}
	}
	changes := make([]*ProjectReplay, len(projects))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(projects); i += workers {
				p := &projects[i]
				var f rules.Figures
				if err := json.Unmarshal(p.FiguresJSON, &f); err != nil {
					continue // not figures: nothing to replay (the log's own check is audit verify)
				}
				before, err1 := pinned[p.RuleSetVersion].Evaluate(f)
				after, err2 := draft.Evaluate(f)
				if err1 != nil || err2 != nil {
					continue // figures once screened are valid; a later bound cannot be met by old data, and is not a change
				}
				c := rules.CompareScreening(before, after)
				if c.Changed() {
					changes[i] = &ProjectReplay{ID: p.ID, Name: p.Name, State: p.State, Open: openStates[p.State],
						Before: c.Before, After: c.After, NewlyFailed: c.NewlyFailed, NewlyPassed: c.NewlyPassed}
				}
			}
		}()
	}
	wg.Wait()
	out := ScreeningReplay{Total: len(projects), Projects: []ProjectReplay{}, CheckNames: map[string][2]string{}}
	for _, rs := range pinned {
		maps.Copy(out.CheckNames, rs.CheckNames())
	}
	maps.Copy(out.CheckNames, draft.CheckNames())
	byState := map[State]*StateReplay{}
	for i, p := range projects {
		sr := byState[p.State]
		if sr == nil {
			sr = &StateReplay{State: p.State, Open: openStates[p.State]}
			byState[p.State] = sr
		}
		sr.Total++
		c := changes[i]
		if c == nil {
			continue
		}
		sr.Changed++
		out.Changed++
		switch {
		case c.Before && !c.After:
			sr.PassToFail++
			out.PassToFail++
		case !c.Before && c.After:
			sr.FailToPass++
			out.FailToPass++
		}
		out.Projects = append(out.Projects, *c)
	}
	for _, st := range States {
		if sr := byState[st]; sr != nil {
			out.ByState = append(out.ByState, *sr)
		}
	}
	slices.SortStableFunc(out.Projects, func(a, b ProjectReplay) int {
		if a.Open != b.Open {
			if a.Open {
				return -1
			}
			return 1
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// replayRating re-rates the park's run of last year (or its newest run if
// there is none for last year) under draft. Nil when the park has no run.
func (s *Service) replayRating(ctx context.Context, draft *rules.RuleSet) (*RatingReplay, error) {
	ts := s.store
	runs, err := ts.RatingRuns(ctx, []string{draft.Park()})
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	pick := runs[0]
	for _, r := range runs {
		if r.Year == s.Today().Year()-1 {
			pick = r
			break
		}
	}
	run, err := ts.RatingRun(ctx, pick.ID)
	if err != nil {
		return nil, err
	}
	return RateReplay(draft, run)
}

// RateReplay re-rates a stored run's inputs under rs and compares each
// firm's class with the one the run gave it.
func RateReplay(rs *rules.RuleSet, run *RatingRun) (*RatingReplay, error) {
	after, err := rateInputs(rs, run.Year, run.Inputs)
	if err != nil {
		return nil, err
	}
	out := &RatingReplay{RunID: run.ID, Year: run.Year, Firms: len(run.Results), Before: map[string]int{}, After: map[string]int{}, Changes: []ClassChange{}}
	before := make(map[int64]string, len(run.Results))
	for _, r := range run.Results {
		before[r.ProjectID] = r.Band
		out.Before[r.Band]++
	}
	for _, r := range after {
		out.After[r.Band]++
		if b := before[r.ProjectID]; b != r.Band {
			out.Changes = append(out.Changes, ClassChange{ProjectID: r.ProjectID, Name: r.Name, Before: b, After: r.Band})
		}
	}
	return out, nil
}

// GenerateWhatIf computes the what-if report of a proposal and stores it
// with its SHA-256 and a log entry; an approval names the report.
func (s *Service) GenerateWhatIf(ctx context.Context, u *User, changeID int64) (*WhatIfReport, *WhatIfRecord, error) {
	st := s.store
	c, err := st.RuleSetChange(ctx, changeID)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.authorize(u, c.Park, "rules", "whatif")
	if err != nil {
		return nil, nil, err
	}
	if c.State != RuleSetProposed {
		return nil, nil, Fail(ECONFLICT, "err.what_if_generated_for", nil)
	}
	draft, err := s.RuleSetVersion(ctx, c.Version)
	if err != nil {
		return nil, nil, err
	}
	rep, err := s.whatIf(ctx, u, draft)
	if err != nil {
		return nil, nil, err
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(body)
	w := &WhatIfRecord{Park: c.Park, Version: c.Version, BaseVersion: rep.BaseVersion, SHA256: hex.EncodeToString(sum[:]),
		Report: body, CreatedBy: u.Username, CreatedAt: rep.GeneratedAt}
	e := AuditEntry{Time: rep.GeneratedAt, Actor: u.Username, Role: a.role, Park: c.Park, Event: EventRulesWhatIf,
		RuleSetVersion: c.Version, Payload: payload(map[string]any{"change": c.ID, "version": c.Version, "base_version": rep.BaseVersion,
			"sha256": w.SHA256, "projects": rep.Screening.Total, "changed": rep.Screening.Changed})}
	if err := s.store.Apply(ctx, &Change{Entry: e, Rules: &RulesPart{WhatIf: w}}); err != nil {
		return nil, nil, err
	}
	return rep, w, nil
}

// StoredWhatIf returns a stored report, decoded, for a reader of the park's rules.
func (s *Service) StoredWhatIf(ctx context.Context, u *User, id int64) (*WhatIfReport, *WhatIfRecord, error) {
	st := s.store
	w, err := st.WhatIf(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.authorize(u, w.Park, "rules", "read"); err != nil {
		return nil, nil, err
	}
	var rep WhatIfReport
	if err := json.Unmarshal(w.Report, &rep); err != nil {
		return nil, nil, err
	}
	return &rep, &w, nil
}

// LatestWhatIf returns the newest stored report of a proposal, if any.
func (s *Service) LatestWhatIf(ctx context.Context, u *User, c *RuleSetChange) (*WhatIfReport, *WhatIfRecord, error) {
	st := s.store
	w, err := st.LatestWhatIf(ctx, c.Park, c.Version)
	if err != nil {
		return nil, nil, err
	}
	return s.StoredWhatIf(ctx, u, w.ID)
}
