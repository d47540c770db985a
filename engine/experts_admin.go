package engine

import (
	"context"
	"slices"
	"strings"
)

// ExpertInput is an administrator's form for one expert of a park's pool.
type ExpertInput struct {
	ID           int64    // 0: add
	Version      int64    // the version read, for a change
	Park         string   //
	Username     string   // the reviewer account the expert acts through
	Name         string   //
	Fields       []string // industry code prefixes
	EmployerName string
	EmployerUSCC string
	Relations    []string // USCCs of firms the expert is tied to
	LoadLimit    int
	Active       bool
}

// PoolExperts lists a park's expert pool for one who may read it
// (administrators, committee members, auditors).
func (s *Service) PoolExperts(ctx context.Context, u *User, park string) ([]Expert, error) {
	if _, err := s.authorize(u, park, "experts", "read"); err != nil {
		return nil, err
	}
	return s.store.Experts(ctx, park)
}

// SaveExpert adds an expert to a park's pool, or changes one under its
// version; every change is logged with the expert as it now stands.
func (s *Service) SaveExpert(ctx context.Context, u *User, in ExpertInput) (*Expert, error) {
	a, err := s.authorize(u, in.Park, "experts", "manage")
	if err != nil {
		return nil, err
	}
	if in.ID != 0 {
		// A change names an expert of this park's pool: an admin of one park
		// never reaches another park's expert by its id.
		pool, err := s.store.Experts(ctx, in.Park)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(pool, func(x Expert) bool { return x.ID == in.ID }) {
			return nil, Fail(ENOTFOUND, "err.experts_not_found", nil)
		}
	}
	x := Expert{ID: in.ID, Park: in.Park, Name: strings.TrimSpace(in.Name), EmployerName: strings.TrimSpace(in.EmployerName),
		EmployerUSCC: strings.ToUpper(strings.TrimSpace(in.EmployerUSCC)), LoadLimit: in.LoadLimit, Active: in.Active}
	if x.Name == "" {
		return nil, FieldFail("name", "err.experts_name_required", nil)
	}
	acct, err := s.store.UserByName(ctx, strings.TrimSpace(in.Username))
	if err != nil {
		return nil, FieldFail("username", "err.experts_no_such_reviewer", Args{"Username": in.Username})
	}
	if !slices.Contains(s.authz.RolesIn(acct.Username, in.Park), RoleReviewer) {
		return nil, FieldFail("username", "err.experts_no_such_reviewer", Args{"Username": in.Username})
	}
	x.UserID, x.Username = acct.ID, acct.Username
	for _, f := range in.Fields {
		if f = strings.ToUpper(strings.TrimSpace(f)); f != "" && !slices.Contains(x.Fields, f) {
			x.Fields = append(x.Fields, f)
		}
	}
	if len(x.Fields) == 0 {
		return nil, FieldFail("fields", "err.experts_fields_required", nil)
	}
	if x.EmployerUSCC != "" && !ValidUSCC(x.EmployerUSCC) {
		return nil, FieldFail("employer_uscc", "err.experts_bad_uscc", Args{"USCC": x.EmployerUSCC})
	}
	for _, r := range in.Relations {
		if r = strings.ToUpper(strings.TrimSpace(r)); r == "" {
			continue
		} else if !ValidUSCC(r) {
			return nil, FieldFail("relations", "err.experts_bad_uscc", Args{"USCC": r})
		} else if !slices.Contains(x.Relations, r) {
			x.Relations = append(x.Relations, r)
		}
	}
	if x.LoadLimit < 0 {
		return nil, FieldFail("load_limit", "err.experts_load_limit", nil)
	}
	e := AuditEntry{Time: s.now().UTC(), Actor: u.Username, Role: a.role, Park: in.Park, Event: EventExpert, Payload: payload(x)}
	part := &ExpertsPart{Expert: &x, ExpectedVersion: in.Version}
	if err := s.store.Apply(ctx, &Change{Entry: e, Experts: part, Answer: &x}); err != nil {
		return nil, err
	}
	return &x, nil
}

// DeactivateExpert takes expert id out of park's pool under the version
// read (an inactive expert is never drawn; the row and its past draws
// stay), as the pool page's form does with "active" unticked: the same
// guard and the same logged change.
func (s *Service) DeactivateExpert(ctx context.Context, u *User, park string, id, version int64) (*Expert, error) {
	if _, err := s.authorize(u, park, "experts", "manage"); err != nil {
		return nil, err
	}
	pool, err := s.store.Experts(ctx, park)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(pool, func(x Expert) bool { return x.ID == id })
	if i < 0 {
		return nil, Fail(ENOTFOUND, "err.experts_not_found", nil)
	}
	x := pool[i]
	return s.SaveExpert(ctx, u, ExpertInput{ID: x.ID, Version: version, Park: park, Username: x.Username, Name: x.Name,
		Fields: x.Fields, EmployerName: x.EmployerName, EmployerUSCC: x.EmployerUSCC, Relations: x.Relations, LoadLimit: x.LoadLimit})
}

// ProjectDraw is a project's drawn experts as its reader may see them:
// sealed from the promoter while the review is open (names withheld, the
// count shown), open to everyone else.
func (s *Service) ProjectDraw(ctx context.Context, u *User, id int64) (drawn []DrawnExpert, sealed bool, err error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, false, err
	}
	ds, err := s.store.DrawnExperts(ctx, p.ID, p.Round)
	if err != nil {
		return nil, false, err
	}
	if p.CreatedBy == u.ID && p.State == StateExpertReview {
		for i := range ds {
			ds[i].Name, ds[i].Username, ds[i].UserID, ds[i].ExpertID = "", "", 0, 0
		}
		return ds, true, nil
	}
	return ds, false, nil
}

// ExpertParks are the parks whose expert pool u may read, and whether u
// may manage each.
func (s *Service) ExpertParks(ctx context.Context, u *User) (read []Park, manage map[string]bool, err error) {
	if read, err = s.parksAllowing(ctx, u, "experts", "read"); err != nil {
		return nil, nil, err
	}
	manage = map[string]bool{}
	for _, p := range read {
		_, err := s.authorize(u, p.ID, "experts", "manage")
		manage[p.ID] = err == nil
	}
	return read, manage, nil
}
