package engine

import (
	"context"
	"slices"
	"strings"
)

// EventDraw and EventExpert are log events of the expert pool (专家库).
const (
	EventDraw   = "draw"   // experts drawn at random for a project's review (or a replacement on recusal)
	EventExpert = "expert" // an expert added to the pool or changed
)

// Expert is one member of a park's expert pool, linked to a reviewer account.
type Expert struct {
	ID           int64    `json:"id"`
	Park         string   `json:"park"`
	UserID       int64    `json:"user_id"`
	Username     string   `json:"username"`
	Name         string   `json:"name"`
	Fields       []string `json:"fields"` // industry code prefixes (GB/T 4754) the expert covers
	EmployerName string   `json:"employer_name"`
	EmployerUSCC string   `json:"employer_uscc"`
	// Relations are the USCCs of firms the expert declared a tie to
	// (relatives' firms, former employers): a project of one is a conflict.
	Relations []string `json:"relations"`
	LoadLimit int      `json:"load_limit"` // open reviews at most; 0 = no limit
	Active    bool     `json:"active"`
	Version   int64    `json:"version"`
}

// DrawnExpert is one expert drawn for a project's round; Recused once they
// declared a conflict and were replaced.
type DrawnExpert struct {
	ProjectID int64  `json:"project_id"`
	Round     int    `json:"round"`
	ExpertID  int64  `json:"expert_id"`
	UserID    int64  `json:"user_id"`
	Name      string `json:"name"`
	Username  string `json:"username"`
	DrawSeq   int64  `json:"draw_seq"`
	Recused   bool   `json:"recused"`
}

// ExpertsPart is a Change's expert-pool part: an expert added (ID 0) or
// changed (under ExpectedVersion), or a draw. The store fills the draw's
// seed from the entry it has just written (the seed is the log's own head,
// unknowable before), runs it, logs it as a draw entry after that entry
// and records who was drawn; a recusal marks Recused drawn.
type ExpertsPart struct {
	Expert          *Expert
	ExpectedVersion int64
	Draw            *Draw
	Recused         int64 // expert id whose draw is marked recused
	// DrawEntry is the draw's entry, its Payload filled by the store.
	DrawEntry AuditEntry
}

// Complete runs the draw on the seed entry e, for the store, and returns
// the draw entry to append.
func (x *ExpertsPart) Complete(e AuditEntry) AuditEntry {
	x.Draw.SeedSeq, x.Draw.SeedHash = e.Seq, e.Hash
	x.Draw.run()
	de := x.DrawEntry
	de.Payload = payload(x.Draw)
	return de
}

// ExpertStore reads the expert pool.
type ExpertStore interface {
	Experts(ctx context.Context, park string) ([]Expert, error)
	// DrawnExperts lists the experts drawn for a project's round, in order of draw.
	DrawnExperts(ctx context.Context, projectID int64, round int) ([]DrawnExpert, error)
	// OpenReviews counts per expert the draws (not recused) on projects still in expert review.
	OpenReviews(ctx context.Context, park string) (map[int64]int, error)
}

// covers reports whether the expert's fields include the industry code.
func (x Expert) covers(industry string) bool {
	industry = strings.ToUpper(strings.TrimSpace(industry))
	return industry != "" && slices.ContainsFunc(x.Fields, func(f string) bool {
		return f != "" && strings.HasPrefix(industry, strings.ToUpper(f))
	})
}

// planDraw builds the draw of n experts for p from the park's pool, with
// every exclusion and its reason; nil when the park keeps no pool (review
// then stays open to every reviewer of the park, as before the pool).
// skip are experts already drawn (or recused) in this round.
func (s *Service) planDraw(ctx context.Context, p *Project, n, minField int, skip map[int64]bool) (*Draw, error) {
	pool, err := s.store.Experts(ctx, p.Park)
	if err != nil || len(pool) == 0 {
		return nil, err
	}
	load, err := s.store.OpenReviews(ctx, p.Park)
	if err != nil {
		return nil, err
	}
	conflicts, err := s.store.Conflicts(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	d := &Draw{ProjectID: p.ID, Round: p.Round, N: n, MinField: minField}
	uscc := strings.ToUpper(strings.TrimSpace(p.USCC))
	for _, x := range pool {
		reason := ""
		switch {
		case skip[x.ID]:
			reason = "drawn"
		case !x.Active:
			reason = "inactive"
		case x.UserID == p.CreatedBy:
			reason = "promoter"
		case uscc != "" && strings.EqualFold(x.EmployerUSCC, uscc),
			strings.TrimSpace(x.EmployerName) != "" && strings.TrimSpace(x.EmployerName) == strings.TrimSpace(p.InvestorName):
			reason = "employer"
		case uscc != "" && slices.ContainsFunc(x.Relations, func(r string) bool { return strings.EqualFold(r, uscc) }):
			reason = "relation"
		case slices.ContainsFunc(conflicts, func(c Conflict) bool { return c.UserID == x.UserID }):
			reason = "conflict"
		case x.LoadLimit > 0 && load[x.ID] >= x.LoadLimit:
			reason = "load"
		}
		if reason != "" {
			d.Excluded = append(d.Excluded, DrawExclusion{ID: x.ID, Reason: reason})
			continue
		}
		d.Eligible = append(d.Eligible, DrawCandidate{ID: x.ID, Covers: x.covers(p.Figures.IndustryCode)})
	}
	slices.SortFunc(d.Eligible, func(a, b DrawCandidate) int { return int(a.ID - b.ID) })
	slices.SortFunc(d.Excluded, func(a, b DrawExclusion) int { return int(a.ID - b.ID) })
	return d, nil
}

// drawExperts is the effect of pass and override (lifecycle.go): when the
// park keeps an expert pool, the project's reviewers are drawn from it in
// the same transaction; too few eligible experts refuse the move.
func drawExperts(ctx context.Context, x *actEffect) error {
	n, minField := x.rs.Experts()
	d, err := x.s.planDraw(ctx, x.p, n, minField, nil)
	if err != nil || d == nil {
		return err
	}
	if len(d.Eligible) < n {
		return Fail(ECONFLICT, "err.experts_too_few_eligible", Args{"Eligible": len(d.Eligible), "N": n})
	}
	x.c.Experts = &ExpertsPart{Draw: d, DrawEntry: x.s.entry(x.a, x.p, EventDraw, x.p.State, x.p.State)}
	return nil
}

// drawnExpert is u's draw on p's current round, or nil; drawn reports
// whether the project's reviewers were drawn at all.
func (s *Service) drawnExpert(ctx context.Context, u *User, p *Project) (mine *DrawnExpert, drawn bool, err error) {
	ds, err := s.store.DrawnExperts(ctx, p.ID, p.Round)
	if err != nil {
		return nil, false, err
	}
	for i := range ds {
		if ds[i].UserID == u.ID && !ds[i].Recused {
			return &ds[i], true, nil
		}
	}
	return nil, len(ds) > 0, nil
}

// checkDrawn refuses a score from anyone not drawn for the project's round,
// when its reviewers were drawn.
func (s *Service) checkDrawn(ctx context.Context, u *User, p *Project) error {
	mine, drawn, err := s.drawnExpert(ctx, u, p)
	if err != nil {
		return err
	}
	if drawn && mine == nil {
		return Fail(EFORBIDDEN, "err.experts_not_drawn", nil)
	}
	return nil
}

// recusal is the replacement draw for a drawn expert who declares a conflict
// in expert review: one expert, from the eligible not drawn before in the round.
func (s *Service) recusal(ctx context.Context, a actor, u *User, p *Project, c *Change) error {
	if p.State != StateExpertReview {
		return nil
	}
	mine, _, err := s.drawnExpert(ctx, u, p)
	if err != nil || mine == nil {
		return err
	}
	ds, err := s.store.DrawnExperts(ctx, p.ID, p.Round)
	if err != nil {
		return err
	}
	skip := map[int64]bool{}
	for _, d := range ds {
		skip[d.ExpertID] = true
	}
	d, err := s.planDraw(ctx, p, 1, 0, skip)
	if err != nil || d == nil {
		return err
	}
	// The replacement must cover the industry when the others left do not
	// make the rule set's minimum without the recused expert.
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return err
	}
	pool, err := s.store.Experts(ctx, p.Park)
	if err != nil {
		return err
	}
	_, minField := rs.Experts()
	covered := 0
	for _, dd := range ds {
		i := slices.IndexFunc(pool, func(x Expert) bool { return x.ID == dd.ExpertID })
		if !dd.Recused && dd.ExpertID != mine.ExpertID && i >= 0 && pool[i].covers(p.Figures.IndustryCode) {
			covered++
		}
	}
	if covered < minField {
		d.MinField = 1
	}
	d.Replaces = mine.ExpertID
	c.Experts = &ExpertsPart{Draw: d, Recused: mine.ExpertID, DrawEntry: s.entry(a, p, EventDraw, p.State, p.State)}
	return nil
}

// sealReview hides from a project's promoter, while its review is open, who
// reviews it: the actors of the round's scores, conflicts and draws, and the
// draws' payloads (the log itself is untouched; the auditor's view is whole).
func sealReview(es []AuditEntry) {
	last := 0 // the round's entries follow its last move into expert review
	for i, e := range es {
		if e.ToState == StateExpertReview && e.FromState != StateExpertReview {
			last = i
		}
	}
	for i := last; i < len(es); i++ {
		switch es[i].Event {
		case EventDraw:
			es[i].Actor, es[i].Payload = "", ""
		case EventScore, EventConflict:
			es[i].Actor = ""
		}
	}
}
