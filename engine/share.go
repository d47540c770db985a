package engine

import (
	"context"
	"slices"
	"strings"
	"time"
)

// 抄送/知会 (share): a project is shared read-only with named users of its
// park or with departments (自然资源局, 生态环境局 …: every user of the park
// whose account carries that department). Sharing is a log entry with its
// guards and inbox notices; every read of the project by a sharee is a log
// entry too (share_view), as an auditor's opening of a dossier is. A share
// grants reading only: whatever else a sharee may do comes from their own
// roles.
const (
	EventShare     = "share"
	EventShareView = "share_view"
)

// RoleObserver (知会单位) is held in a park by staff of the zone's other
// departments: it makes them users of the park a project can be shared
// with, and grants nothing else (casbin lists no permission for it), so
// they read exactly what is shared with them.
const RoleObserver Role = "observer"

// NoticeShare is the inbox notice of a project shared with its reader.
const NoticeShare = "share"

// Share is one project shared with one user (Username) or one department.
type Share struct {
	ID          int64     `json:"id"`
	ProjectID   int64     `json:"project_id"`
	ProjectName string    `json:"project_name"`
	Park        string    `json:"park"`
	Username    string    `json:"username,omitempty"`
	Department  string    `json:"department,omitempty"`
	SharedBy    string    `json:"shared_by"`
	Note        string    `json:"note"`
	Seq         int64     `json:"seq"` // the share entry
	CreatedAt   time.Time `json:"created_at"`
	// New: the reader has not read the project since it was shared (lists of
	// what is shared with one reader only).
	New bool `json:"new"`
}

// SharePart is what a share or a sharee's read writes: the shares (their
// seq is the change's entry), or the reader's read mark at the entry's seq.
type SharePart struct {
	Create []Share
	Read   *ShareRead
}

// ShareRead marks that UserID read ProjectID as a sharee.
type ShareRead struct {
	ProjectID, UserID int64
}

// ShareStore reads shares; every change is a Change with a SharePart.
type ShareStore interface {
	// Shares lists a project's shares, oldest first.
	Shares(ctx context.Context, projectID int64) ([]Share, error)
	// SharedWith lists what is shared with u (by name, or by u's department
	// in a park where u holds a role), newest first, with New set.
	SharedWith(ctx context.Context, u *User) ([]Share, error)
}

// ShareInput is the form that shares a project.
type ShareInput struct {
	Users       []string `json:"users,omitempty"`
	Departments []string `json:"departments,omitempty"`
	Note        string   `json:"note,omitempty"`
}

// ShareTargets are whom u may share p with: the other users of p's park
// and the departments their accounts carry.
type ShareTargets struct {
	Users       []User
	Departments []string
}

// CanShare reports whether u may share p: casbin's share on projects in p's
// park (promoter, reviewer, committee; never an auditor or an admin), and a
// promoter only a project they registered.
func (s *Service) CanShare(u *User, p *Project) bool {
	_, err := s.shareRefusal(u, p)
	return err == nil
}

func (s *Service) shareRefusal(u *User, p *Project) (actor, error) {
	if _, err := s.authorize(u, p.Park, "project", EventShare); err != nil {
		return actor{}, err
	}
	for _, r := range s.authz.RolesIn(u.Username, p.Park) {
		if s.authz.roleMay(r, p.Park, "project", EventShare) && (r != RolePromoter || p.CreatedBy == u.ID) {
			return actor{user: u, role: r}, nil
		}
	}
	return actor{}, Fail(EFORBIDDEN, "err.share_not_your_project", nil)
}

// ShareTargets lists whom u may share p with (for a u CanShare allows).
func (s *Service) ShareTargets(ctx context.Context, u *User, p *Project) (ShareTargets, error) {
	var t ShareTargets
	users, err := s.store.Users(ctx)
	if err != nil {
		return t, err
	}
	for _, x := range users {
		if x.Disabled || x.ID == u.ID || len(s.authz.RolesIn(x.Username, p.Park)) == 0 {
			continue
		}
		t.Users = append(t.Users, *x)
		if x.Department != "" && !slices.Contains(t.Departments, x.Department) {
			t.Departments = append(t.Departments, x.Department)
		}
	}
	slices.Sort(t.Departments)
	return t, nil
}

// ShareProject shares project id with in's users and departments. Refused:
// a sharer casbin does not allow (or a promoter's colleague's project), no
// target, a user who is not an active user of the park (or u), a
// department no user of the park carries, a target it is already shared
// with. Each sharee gets an inbox notice.
func (s *Service) ShareProject(ctx context.Context, u *User, id int64, in ShareInput) ([]Share, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, err
	}
	a, err := s.shareRefusal(u, p)
	if err != nil {
		return nil, err
	}
	in.Note = strings.TrimSpace(in.Note)
	if err := checkTextLength("note", "textfield.note", in.Note); err != nil {
		return nil, err
	}
	targets, err := s.ShareTargets(ctx, u, p)
	if err != nil {
		return nil, err
	}
	existing, err := s.store.Shares(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var shares []Share
	var notices []Notice
	users, deps := []string{}, []string{} // as logged
	seen := map[string]bool{}
	for _, name := range in.Users {
		name = strings.TrimSpace(name)
		if name == "" || seen["u:"+name] {
			continue
		}
		seen["u:"+name] = true
		i := slices.IndexFunc(targets.Users, func(x User) bool { return x.Username == name })
		if i < 0 {
			return nil, FieldFail("users", "err.share_user_not_in_park", Args{"User": name, "Park": s.parkName(p.Park)})
		}
		if slices.ContainsFunc(existing, func(x Share) bool { return x.Username == name }) {
			return nil, FieldFail("users", "err.share_already", Args{"Target": name})
		}
		shares, users = append(shares, Share{Username: name}), append(users, name)
		notices = append(notices, Notice{Kind: NoticeShare, UserID: targets.Users[i].ID})
	}
	for _, dep := range in.Departments {
		dep = strings.TrimSpace(dep)
		if dep == "" || seen["d:"+dep] {
			continue
		}
		seen["d:"+dep] = true
		if !slices.Contains(targets.Departments, dep) {
			return nil, FieldFail("departments", "err.share_department_unknown", Args{"Department": dep, "Park": s.parkName(p.Park)})
		}
		if slices.ContainsFunc(existing, func(x Share) bool { return x.Department == dep }) {
			return nil, FieldFail("departments", "err.share_already", Args{"Target": dep})
		}
		shares, deps = append(shares, Share{Department: dep}), append(deps, dep)
		for _, x := range targets.Users {
			if x.Department == dep {
				notices = append(notices, Notice{Kind: NoticeShare, UserID: x.ID})
			}
		}
	}
	if len(shares) == 0 {
		return nil, FieldFail("users", "err.share_no_target", nil)
	}
	for i := range shares {
		shares[i].ProjectID, shares[i].ProjectName, shares[i].Park = p.ID, p.Name, p.Park
		shares[i].SharedBy, shares[i].Note, shares[i].CreatedAt = u.Username, in.Note, now
	}
	e := s.entry(a, p, EventShare, p.State, p.State)
	e.Time, e.Reason = now, in.Note
	e.Payload = payload(map[string]any{"users": users, "departments": deps})
	ch := &Change{Entry: e, Share: &SharePart{Create: shares}, Notify: &NotifyPart{Notices: notices}, Answer: shares}
	if err := s.store.Apply(ctx, ch); err != nil {
		return nil, err
	}
	return ch.Share.Create, nil
}

// Shares lists the shares of a project u may read.
func (s *Service) Shares(ctx context.Context, u *User, id int64) ([]Share, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return s.store.Shares(ctx, p.ID)
}

// SharedWithMe lists what is shared with u (抄送给我), newest first.
func (s *Service) SharedWithMe(ctx context.Context, u *User) ([]Share, error) {
	if u == nil || u.Disabled {
		return nil, Fail(EUNAUTHORIZED, "err.please_sign_in", nil)
	}
	return s.store.SharedWith(ctx, u)
}

// NewShares counts what is shared with u and not read since, for the nav's badge.
func (s *Service) NewShares(ctx context.Context, u *User) int {
	if u == nil {
		return 0
	}
	ss, err := s.store.SharedWith(ctx, u)
	n := 0
	for _, x := range ss {
		if err == nil && x.New {
			n++
		}
	}
	return n
}

// sharedWith reports whether p is shared with u: by name, or by u's
// department while u is a user of p's park.
func (s *Service) sharedWith(ctx context.Context, u *User, p *Project) (bool, error) {
	if u == nil || u.Disabled {
		return false, nil
	}
	ss, err := s.store.Shares(ctx, p.ID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ss, func(x Share) bool {
		return x.Username == u.Username ||
			x.Department != "" && x.Department == u.Department && len(s.authz.RolesIn(u.Username, p.Park)) > 0
	}), nil
}

// ViewProject is Project for a page or an API answer that shows the
// project to a person: a sharee's read is logged (NoteRead).
func (s *Service) ViewProject(ctx context.Context, u *User, id int64) (*Project, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return p, s.NoteRead(ctx, u, p)
}

// NoteRead logs u's read of p (share_view) with u's read mark when p is
// shared with u, so what a sharee saw, and when, is on the record, and the
// share is no longer new in their list; nothing for anyone else.
func (s *Service) NoteRead(ctx context.Context, u *User, p *Project) error {
	return s.noteRead(ctx, u, p, "")
}

// noteRead is NoteRead with what was read besides the project (a document), as the entry's payload.
func (s *Service) noteRead(ctx context.Context, u *User, p *Project, what string) error {
	shared, err := s.sharedWith(ctx, u, p)
	if err != nil || !shared {
		return err
	}
	role := RoleObserver
	if rs := s.authz.RolesIn(u.Username, p.Park); len(rs) > 0 {
		role = rs[0]
	}
	e := s.entry(actor{user: u, role: role}, p, EventShareView, p.State, p.State)
	e.Payload = what
	return s.store.Apply(ctx, &Change{Entry: e, Share: &SharePart{Read: &ShareRead{ProjectID: p.ID, UserID: u.ID}}})
}
