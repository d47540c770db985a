package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"zonevet/rules/catalog"
)

// Delegation events (委托): a user hands their role in a park to another
// user of that park for a date range (leave, a trip), and may take it back.
// The delegate then acts in their own name "on behalf of" the delegator
// (Action.OnBehalfOf): casbin checks the delegator's role, both names are in
// the entry (AuditEntry.OnBehalfOf), and segregation of duties holds for
// both people.
const (
	EventDelegate         = "delegate"
	EventRevokeDelegation = "revoke_delegation"
)

// Delegation is one user's role handed to another for [Starts, Ends],
// civil dates in the zone's time zone, both days included.
type Delegation struct {
	ID        int64      `json:"id"`
	Park      string     `json:"park"`
	Role      Role       `json:"role"`
	Delegator string     `json:"delegator"`
	Delegate  string     `json:"delegate"`
	Starts    string     `json:"starts"` // YYYY-MM-DD
	Ends      string     `json:"ends"`   // YYYY-MM-DD
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// covers reports whether d is in force on day (YYYY-MM-DD).
func (d Delegation) covers(day string) bool {
	return d.RevokedAt == nil && d.Starts <= day && day <= d.Ends
}

// overlaps reports whether d, not revoked, shares a day with [starts, ends].
func (d Delegation) overlaps(starts, ends string) bool {
	return d.RevokedAt == nil && d.Starts <= ends && starts <= d.Ends
}

// DelegationPart is a delegation made (its new id written back) or revoked.
type DelegationPart struct {
	Create *Delegation
	Revoke int64 // the id revoked; a delegation already revoked is a conflict
}

// DelegationStore reads delegations; every change is a Change with a DelegationPart.
type DelegationStore interface {
	// Delegations lists a park's delegations, newest first.
	Delegations(ctx context.Context, park string) ([]Delegation, error)
}

// DelegationInput is the form that makes a delegation.
type DelegationInput struct {
	Park     string `json:"park"`
	Role     Role   `json:"role"`
	Delegate string `json:"delegate"`
	Starts   string `json:"starts"`
	Ends     string `json:"ends"`
	Reason   string `json:"reason"`
}

// Delegations lists the delegations of a park u belongs to.
func (s *Service) Delegations(ctx context.Context, u *User, park string) ([]Delegation, error) {
	if u == nil {
		return nil, Fail(EUNAUTHORIZED, "err.please_sign_in", nil)
	}
	if len(s.authz.RolesIn(u.Username, park)) == 0 {
		return nil, Fail(EFORBIDDEN, "err.not_allowed_in_park", Args{"Park": s.parkName(park),
			"Action": catalog.Text{ZH: EventLabel(EventDelegate, "zh"), EN: EventLabel(EventDelegate, "en")}})
	}
	return s.store.Delegations(ctx, park)
}

// Delegate hands u's role in.Role in in.Park to in.Delegate. Refused: a
// role u does not hold (a delegate cannot pass on what was delegated to
// them), a delegate who is not a user of the park or is u, dates that are
// not dates, end before start or in the past, and chains: a delegate who
// has delegated for an overlapping time, or u having been delegated to for
// an overlapping time.
func (s *Service) Delegate(ctx context.Context, u *User, in DelegationInput) (*Delegation, error) {
	a, err := s.authorize(u, in.Park, "delegation", EventDelegate)
	if err != nil {
		return nil, err
	}
	in.Reason, in.Delegate = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Delegate)
	if !slices.Contains(s.authz.RolesIn(u.Username, in.Park), in.Role) || !s.authz.roleMay(in.Role, in.Park, "delegation", EventDelegate) {
		return nil, FieldFail("role", "err.delegation_role_not_yours", Args{"Role": catalog.Text{ZH: RoleLabel(in.Role, "zh"), EN: RoleLabel(in.Role, "en")}})
	}
	if in.Delegate == "" || in.Delegate == u.Username {
		return nil, FieldFail("delegate", "err.delegation_delegate_invalid", nil)
	}
	to, err := s.store.UserByName(ctx, in.Delegate)
	if err != nil || to.Disabled || len(s.authz.RolesIn(to.Username, in.Park)) == 0 {
		return nil, FieldFail("delegate", "err.delegation_delegate_not_in_park", Args{"Park": s.parkName(in.Park)})
	}
	for _, f := range []struct{ field, v string }{{"starts", in.Starts}, {"ends", in.Ends}} {
		if _, err := time.ParseInLocation("2006-01-02", f.v, s.location); err != nil {
			return nil, FieldFail(f.field, "err.delegation_date_invalid", nil)
		}
	}
	today := s.now().In(s.location).Format("2006-01-02")
	if in.Ends < in.Starts || in.Ends < today {
		return nil, FieldFail("ends", "err.delegation_dates_order", nil)
	}
	if in.Reason == "" {
		return nil, FieldFail("reason", "err.this_action_needs_written_reason", nil)
	}
	if err := checkTextLength("reason", "textfield.reason", in.Reason); err != nil {
		return nil, err
	}
	ds, err := s.store.Delegations(ctx, in.Park)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if !d.overlaps(in.Starts, in.Ends) {
			continue
		}
		switch {
		case d.Delegate == u.Username:
			return nil, FieldFail("delegate", "err.delegation_chain_you_are_delegate", nil)
		case d.Delegator == in.Delegate:
			return nil, FieldFail("delegate", "err.delegation_chain_delegate_delegated", nil)
		case d.Delegator == u.Username && d.Role == in.Role:
			return nil, FieldFail("starts", "err.delegation_overlaps", nil)
		}
	}
	d := &Delegation{Park: in.Park, Role: in.Role, Delegator: u.Username, Delegate: to.Username,
		Starts: in.Starts, Ends: in.Ends, Reason: in.Reason, CreatedAt: s.now().UTC()}
	e := AuditEntry{Time: d.CreatedAt, Actor: u.Username, Role: a.role, Park: in.Park, Event: EventDelegate,
		Reason: in.Reason, Payload: payload(d)}
	if err := s.store.Apply(ctx, &Change{Entry: e, Delegation: &DelegationPart{Create: d}, Answer: d}); err != nil {
		return nil, err
	}
	return d, nil
}

// RevokeDelegation takes back a delegation; only its delegator may.
func (s *Service) RevokeDelegation(ctx context.Context, u *User, park string, id int64) error {
	a, err := s.authorize(u, park, "delegation", EventRevokeDelegation)
	if err != nil {
		return err
	}
	ds, err := s.store.Delegations(ctx, park)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ds, func(d Delegation) bool { return d.ID == id })
	if i < 0 {
		return Fail(ENOTFOUND, "err.delegation_not_found", nil)
	}
	d := ds[i]
	if d.Delegator != u.Username {
		return Fail(EFORBIDDEN, "err.delegation_not_yours", nil)
	}
	if d.RevokedAt != nil {
		return Fail(ECONFLICT, "err.delegation_revoked", nil)
	}
	now := s.now().UTC()
	d.RevokedAt = &now
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Park: park, Event: EventRevokeDelegation, Payload: payload(d)}
	return s.store.Apply(ctx, &Change{Entry: e, Delegation: &DelegationPart{Revoke: id}, Answer: d})
}

// activeDelegation is the delegation from delegator to u in park in force
// today, or a refusal.
func (s *Service) activeDelegation(ctx context.Context, u *User, park, delegator string) (Delegation, error) {
	ds, err := s.store.Delegations(ctx, park)
	if err != nil {
		return Delegation{}, err
	}
	today := s.now().In(s.location).Format("2006-01-02")
	for _, d := range ds {
		if d.Delegate == u.Username && d.Delegator == delegator && d.covers(today) {
			return d, nil
		}
	}
	return Delegation{}, Fail(EFORBIDDEN, "err.delegation_not_in_force", Args{"Delegator": delegator})
}

// authorizeOnBehalf finds the role through which u, acting for delegator
// under a delegation in force, may do act on obj in park: the delegated
// role, as casbin grants it to the delegator.
func (s *Service) authorizeOnBehalf(ctx context.Context, u *User, park, obj, act, delegator string) (actor, error) {
	if u == nil || u.Disabled {
		return actor{}, Fail(EUNAUTHORIZED, "err.please_sign_in", nil)
	}
	d, err := s.activeDelegation(ctx, u, park, delegator)
	if err != nil {
		return actor{}, err
	}
	if !s.authz.roleMay(d.Role, park, obj, act) || !slices.Contains(s.authz.RolesIn(delegator, park), d.Role) {
		return actor{}, Fail(EFORBIDDEN, "err.not_allowed_in_park", Args{
			"Park": s.parkName(park), "Action": catalog.Text{ZH: EventLabel(act, "zh"), EN: EventLabel(act, "en")}})
	}
	return actor{user: u, role: d.Role, onBehalfOf: delegator}, nil
}

// authorizeAct finds the role through which u takes act on p: u's own, or
// with act.OnBehalfOf the delegated one.
func (s *Service) authorizeAct(ctx context.Context, u *User, p *Project, act Action) (actor, error) {
	if act.OnBehalfOf == "" {
		a, err := s.authorize(u, p.Park, string(p.State), act.Event)
		if err != nil {
			return actor{}, s.stateOrPermission(u, p, act.Event, err)
		}
		return a, nil
	}
	return s.authorizeOnBehalf(ctx, u, p.Park, string(p.State), act.Event, act.OnBehalfOf)
}

// segregationOnBehalf applies segregation of duties to the delegator too:
// a delegate acts for someone who must not judge a project they registered
// or are conflicted on, and the delegate's own conflicts (segregation) hold.
func (s *Service) segregationOnBehalf(ctx context.Context, a actor, p *Project, event string) error {
	if a.onBehalfOf == "" {
		return nil
	}
	d, err := s.store.UserByName(ctx, a.onBehalfOf)
	if err != nil {
		return err
	}
	return s.segregation(ctx, d, p, event)
}

// OnBehalf is what u may do on a project for one delegator: the project
// page's "代办" form. The delegate chooses it explicitly (Action.OnBehalfOf):
// acting in one's own name and on someone's behalf are different entries,
// so the system never picks for them.
type OnBehalf struct {
	Delegator string   `json:"delegator"`
	Role      Role     `json:"role"`
	Events    []string `json:"events"`
}

// OnBehalfActions lists, for each delegation in force to u in p's park, the
// lifecycle events the delegated role allows on p now (those decided in a
// meeting, scores and automatic moves excepted), and that segregation of
// duties leaves to both people.
func (s *Service) OnBehalfActions(ctx context.Context, u *User, p *Project) ([]OnBehalf, error) {
	if u == nil {
		return nil, nil
	}
	ds, err := s.store.Delegations(ctx, p.Park)
	if err != nil {
		return nil, err
	}
	today := s.now().In(s.location).Format("2006-01-02")
	var out []OnBehalf
	for _, d := range ds {
		if d.Delegate != u.Username || !d.covers(today) {
			continue
		}
		ob := OnBehalf{Delegator: d.Delegator, Role: d.Role}
		for _, ev := range newMachine(p.State).AvailableTransitions() {
			if ev == EventRecommend || ev == EventFailReview || ev == EventRate || decidedInMeeting(p.State, ev) {
				continue
			}
			a, err := s.authorizeOnBehalf(ctx, u, p.Park, string(p.State), ev, d.Delegator)
			if err != nil || s.segregation(ctx, u, p, ev) != nil || s.segregationOnBehalf(ctx, a, p, ev) != nil {
				continue
			}
			if ev == EventPass && p.Report != nil && !p.Report.Passed() || ev == EventOverride {
				continue // an override needs its minutes' form: the committee's own
			}
			ob.Events = append(ob.Events, ev)
		}
		if len(ob.Events) > 0 {
			out = append(out, ob)
		}
	}
	return out, nil
}

// DelegationPark is one park's block of the delegation page: the roles u
// may hand on, the colleagues who may receive them, and the delegations
// u made or received there.
type DelegationPark struct {
	Park        Park
	Roles       []Role
	Colleagues  []string
	Delegations []Delegation
	Today       string
}

// DelegationPage gathers the delegation page for u, one block per park u works in.
func (s *Service) DelegationPage(ctx context.Context, u *User) ([]DelegationPark, error) {
	parks, err := s.Parks(ctx, u)
	if err != nil {
		return nil, err
	}
	as, err := s.store.Assignments(ctx)
	if err != nil {
		return nil, err
	}
	today := s.now().In(s.location).Format("2006-01-02")
	var out []DelegationPark
	for _, p := range parks {
		b := DelegationPark{Park: p, Today: today}
		for _, r := range s.authz.RolesIn(u.Username, p.ID) {
			if s.authz.roleMay(r, p.ID, "delegation", EventDelegate) {
				b.Roles = append(b.Roles, r)
			}
		}
		for _, a := range as {
			if a.Park == p.ID && a.Username != u.Username && !slices.Contains(b.Colleagues, a.Username) {
				b.Colleagues = append(b.Colleagues, a.Username)
			}
		}
		ds, err := s.store.Delegations(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.Delegator == u.Username || d.Delegate == u.Username {
				b.Delegations = append(b.Delegations, d)
			}
		}
		out = append(out, b)
	}
	return out, nil
}

// InForce reports whether d is in force on today (YYYY-MM-DD): the page's badge.
func (d Delegation) InForce(today string) bool { return d.covers(today) }

// roleMay reports whether role r may do act on obj in park.
func (a *Authorizer) roleMay(r Role, park, obj, act string) bool {
	return a.loaded.Load().roleMay(r, park, obj, act)
}
