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
	EventShare       = "share"
	EventShareView   = "share_view"
	EventShareRevoke = "share_revoke" // 撤销抄送: the sharer, or an admin of the park
)

// RoleObserver (知会单位) is held in a park by staff of the zone's other
// departments: it makes them users of the park a project can be shared
// with, and grants nothing else (casbin lists no permission for it), so
// they read exactly what is shared with them.
const RoleObserver Role = "observer"

// NoticeShare is the inbox notice of a project shared with its reader;
// NoticeShareRevoked tells a former reader the share was taken back, so a
// project that leaves 抄送给我 does not look like a fault.
const (
	NoticeShare        = "share"
	NoticeShareRevoked = "share_revoked"
)

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
	// RevokedSeq is the share_revoke entry once revoked (0: live), by
	// RevokedBy at RevokedAt. A revoked share grants nothing; it stays listed
	// on the dossier as revoked.
	RevokedSeq int64      `json:"revoked_seq,omitempty"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Live reports whether the share still grants reading (not revoked).
func (x Share) Live() bool { return x.RevokedSeq == 0 }

// reaches reports whether x names u, by login or by u's department as the
// account carries it now (the caller checks that u is a user of the park).
func (x Share) reaches(u *User) bool {
	return x.Username == u.Username || x.Department != "" && x.Department == u.Department
}

// SharePart is what a share, a revocation or a sharee's read writes: the
// shares (their seq is the change's entry), the share revoked under the
// entry's seq (a second revocation is a conflict), or the reader's read
// mark at the entry's seq.
type SharePart struct {
	Create []Share
	Revoke *Share
	Read   *ShareRead
}

// ShareRead marks that UserID read ProjectID as a sharee.
type ShareRead struct {
	ProjectID, UserID int64
}

// ShareStore reads shares; every change is a Change with a SharePart.
type ShareStore interface {
	// Shares lists a project's shares, revoked ones too, oldest first.
	Shares(ctx context.Context, projectID int64) ([]Share, error)
	// SharedWith lists the live shares with u (by name, or by u's department
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
		if slices.ContainsFunc(existing, func(x Share) bool { return x.Live() && x.Username == name }) {
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
		if slices.ContainsFunc(existing, func(x Share) bool { return x.Live() && x.Department == dep }) {
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
	// Each sharee is told in the inbox and, as a reminder is, on the
	// deployment's outbound channels, in the share's own transaction.
	notify := &NotifyPart{Notices: notices, Outbox: s.outbound.channelsFor(EventShare)}
	ch := &Change{Entry: e, Share: &SharePart{Create: shares}, Notify: notify, Answer: shares}
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

// sharedWith reports whether p is shared with u by a live share: by name,
// or by u's department as the account carries it now, while u is a user of
// p's park (a department share is to the department: whoever moves into it
// reads, whoever moves out no longer does). revoked reports, when it is
// not, whether a share that reached u was revoked.
func (s *Service) sharedWith(ctx context.Context, u *User, p *Project) (shared, revoked bool, err error) {
	if u == nil || u.Disabled {
		return false, false, nil
	}
	ss, err := s.store.Shares(ctx, p.ID)
	if err != nil {
		return false, false, err
	}
	for _, x := range ss {
		if x.reaches(u) && (x.Username == u.Username || len(s.authz.RolesIn(u.Username, p.Park)) > 0) {
			if x.Live() {
				return true, false, nil
			}
			revoked = true
		}
	}
	return false, revoked, nil
}

// RevokeShare revokes share shareID of project id (撤销抄送), logged as
// share_revoke. Refused: a user casbin does not allow (project,
// share_revoke: those who may share, and the park's admins), one who is
// neither the sharer nor an admin of the park, a share already revoked
// (a conflict: two clicks at once revoke once). The sharee reads no more
// from the moment it lands.
func (s *Service) RevokeShare(ctx context.Context, u *User, id, shareID int64) (*Share, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, err
	}
	ss, err := s.store.Shares(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(ss, func(x Share) bool { return x.ID == shareID })
	if i < 0 {
		return nil, Fail(ENOTFOUND, "err.share_not_found", nil)
	}
	x := ss[i]
	a, err := s.revokeShareRefusal(u, p, x)
	if err != nil {
		return nil, err
	}
	if !x.Live() {
		return nil, errShareRevoked()
	}
	now := s.now().UTC()
	e := s.entry(a, p, EventShareRevoke, p.State, p.State)
	e.Time = now
	e.Payload = payload(map[string]any{"share": x.ID, "user": x.Username, "department": x.Department, "shared_by": x.SharedBy})
	x.RevokedBy, x.RevokedAt = u.Username, &now
	notices, err := s.revokeNotices(ctx, p, x, ss)
	if err != nil {
		return nil, err
	}
	ch := &Change{Entry: e, Share: &SharePart{Revoke: &x}, Notify: &NotifyPart{Notices: notices}, Answer: &x}
	if err := s.store.Apply(ctx, ch); err != nil {
		return nil, err
	}
	return &x, nil
}

// revokeNotices addresses the people share x of p let read and no other
// live share still does: each is told in the inbox that it was revoked.
func (s *Service) revokeNotices(ctx context.Context, p *Project, x Share, all []Share) ([]Notice, error) {
	users, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	var out []Notice
	for _, u := range users {
		if u.Disabled || !x.reaches(u) || len(s.authz.RolesIn(u.Username, p.Park)) == 0 {
			continue
		}
		if slices.ContainsFunc(all, func(o Share) bool { return o.ID != x.ID && o.Live() && o.reaches(u) }) {
			continue
		}
		out = append(out, Notice{Kind: NoticeShareRevoked, UserID: u.ID})
	}
	return out, nil
}

func errShareRevoked() error { return Fail(ECONFLICT, "err.share_already_revoked", nil) }

// CanRevokeShare reports whether u may revoke share x of p (the dossier's button).
func (s *Service) CanRevokeShare(u *User, p *Project, x Share) bool {
	_, err := s.revokeShareRefusal(u, p, x)
	return err == nil && x.Live()
}

// revokeShareRefusal: casbin's share_revoke in p's park, and then the
// park's admin may revoke any share, everyone else only their own.
func (s *Service) revokeShareRefusal(u *User, p *Project, x Share) (actor, error) {
	a, err := s.authorize(u, p.Park, "project", EventShareRevoke)
	if err != nil {
		return actor{}, err
	}
	if x.SharedBy == u.Username {
		return a, nil
	}
	if slices.Contains(s.authz.RolesIn(u.Username, p.Park), RoleAdmin) {
		return actor{user: u, role: RoleAdmin}, nil
	}
	return actor{}, Fail(EFORBIDDEN, "err.share_revoke_not_yours", nil)
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
	shared, _, err := s.sharedWith(ctx, u, p)
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
