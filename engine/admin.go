package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/alexedwards/argon2id"
)

// Events of account administration. Who may sign in and act in which park
// is part of the record an auditor reads, so every change is a log entry
// written in the same transaction as the change itself.
const (
	EventUserCreate   = "user_create"
	EventUserRoles    = "user_roles"
	EventUserDisable  = "user_disable"
	EventUserEnable   = "user_enable"
	EventUserPassword = "user_password"
	// EventUserDepartment moves an account to another department (share.go:
	// a department share follows the account's department at read time).
	EventUserDepartment = "user_department"
)

// AccountPart is one administrative change to an account (Change.Account),
// written with the Change's entries. A password change or a disabling ends
// the user's sessions and API tokens in the same transaction.
type AccountPart struct {
	NewUser      *User // create this user (ID and CreatedAt are set on success)
	UserID       int64 // or change this one
	Disabled     *bool // disable (ending every session) or re-enable
	PasswordHash string
	// Roles replaces the user's roles in each park named with its roles.
	Roles []ParkRoles
	// Department moves the account from one department to another, only
	// if it is still in From (the form's version check).
	Department *DepartmentMove
}

// DepartmentMove is an account's change of department: From is what the
// admin's form showed, To what it now is ("" for the park's own staff).
type DepartmentMove struct {
	From, To string
}

// ParkRoles are a user's roles in one park.
type ParkRoles struct {
	Park  string
	Roles []Role
}

// Account is a user as the admin pages show it: the user and their roles
// per park.
type Account struct {
	User  *User
	Roles map[string][]Role // park → roles, in Roles order
}

// NewAccount is the admin's form for a new user: an initial password and
// the roles in one park.
type NewAccount struct {
	Username, DisplayName, Password string
	Department                      string // a zone department's staff (share.go); empty for the park's own
	Park                            string
	Roles                           []Role
}

// AdminParks lists the parks in which u manages users.
func (s *Service) AdminParks(ctx context.Context, u *User) ([]Park, error) {
	return s.parksAllowing(ctx, u, "users", "manage")
}

// RuleSetParks lists the parks whose rule sets u manages.
func (s *Service) RuleSetParks(ctx context.Context, u *User) ([]Park, error) {
	return s.parksAllowing(ctx, u, "rules", "manage")
}

// parksAllowing lists the parks in which u may do act on obj.
func (s *Service) parksAllowing(ctx context.Context, u *User, obj, act string) ([]Park, error) {
	all, err := s.store.Parks(ctx)
	if err != nil {
		return nil, err
	}
	var out []Park
	for _, p := range all {
		if s.authz.Allowed(u.Username, p.ID, obj, act) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *Service) adminParkIDs(ctx context.Context, u *User) ([]string, error) {
	parks, err := s.AdminParks(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(parks) == 0 {
		return nil, Fail(EFORBIDDEN, "err.only_administrator_manages_users", nil)
	}
	ids := make([]string, len(parks))
	for i, p := range parks {
		ids[i] = p.ID
	}
	return ids, nil
}

// Accounts lists the users an admin may manage: those holding a role in
// one of the admin's parks, and those holding none yet. Users of other
// parks only are not shown.
func (s *Service) Accounts(ctx context.Context, u *User) ([]Account, error) {
	parks, err := s.adminParkIDs(ctx, u)
	if err != nil {
		return nil, err
	}
	users, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	roles, err := s.rolesByUser(ctx)
	if err != nil {
		return nil, err
	}
	var out []Account
	for _, x := range users {
		a := Account{User: x, Roles: roles[x.ID]}
		if len(a.Roles) == 0 || slices.ContainsFunc(parks, func(p string) bool { return len(a.Roles[p]) > 0 }) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Account returns one user an admin may manage, or not_found.
func (s *Service) Account(ctx context.Context, u *User, id int64) (*Account, error) {
	parks, err := s.adminParkIDs(ctx, u)
	if err != nil {
		return nil, err
	}
	return s.account(ctx, parks, id)
}

func (s *Service) account(ctx context.Context, parks []string, id int64) (*Account, error) {
	x, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	roles, err := s.rolesByUser(ctx)
	if err != nil {
		return nil, err
	}
	a := &Account{User: x, Roles: roles[id]}
	if len(a.Roles) > 0 && !slices.ContainsFunc(parks, func(p string) bool { return len(a.Roles[p]) > 0 }) {
		return nil, Fail(ENOTFOUND, "err.user_not_found", nil) // another park's people are not this admin's to see
	}
	return a, nil
}

func (s *Service) rolesByUser(ctx context.Context) (map[int64]map[string][]Role, error) {
	as, err := s.store.Assignments(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64]map[string][]Role{}
	for _, a := range as {
		if out[a.UserID] == nil {
			out[a.UserID] = map[string][]Role{}
		}
		out[a.UserID][a.Park] = append(out[a.UserID][a.Park], a.Role)
	}
	for _, byPark := range out {
		for p, rs := range byPark {
			byPark[p] = sortRoles(rs)
		}
	}
	return out, nil
}

// sortRoles puts roles in Roles order without duplicates (unknown ones are
// refused before, by checkRoles).
func sortRoles(in []Role) []Role {
	var out []Role
	for _, r := range Roles {
		if slices.Contains(in, r) {
			out = append(out, r)
		}
	}
	return out
}

// CreateAccount adds a user with an initial password and roles in one of
// the admin's parks, logged as user_create.
func (s *Service) CreateAccount(ctx context.Context, admin *User, in NewAccount) (*User, error) {
	a, err := s.authorize(admin, in.Park, "users", "manage")
	if err != nil {
		return nil, err
	}
	in.Username, in.DisplayName = strings.TrimSpace(in.Username), strings.TrimSpace(in.DisplayName)
	if !validName(in.Username) {
		return nil, FieldFail("username", "err.user_name_may_contain_letters_digits", nil)
	}
	if in.DisplayName == "" {
		return nil, FieldFail("display_name", "err.enter_person_name", nil)
	}
	if len([]rune(in.DisplayName)) > 64 {
		return nil, FieldFail("display_name", "err.name_may_have_at_most_64", nil)
	}
	department, err := checkDepartment(in.Department)
	if err != nil {
		return nil, err
	}
	roles, err := checkRoles(in.Roles)
	if err != nil {
		return nil, err
	}
	hash, err := s.checkedPasswordHash(in.Password)
	if err != nil {
		return nil, err
	}
	u := &User{Username: in.Username, DisplayName: in.DisplayName, PasswordHash: hash, CreatedAt: s.now().UTC(), Department: department}
	c := &Change{Account: &AccountPart{NewUser: u, Roles: []ParkRoles{{Park: in.Park, Roles: roles}}},
		Entry: s.accountEntry(a, in.Park, EventUserCreate, fmt.Sprintf("新建用户 %s(%s),%s 角色:%s", u.Username, u.DisplayName, in.Park, roleList(roles, "zh")),
			map[string]any{"user": u.Username, "display_name": u.DisplayName, "park": in.Park, "roles": roles})}
	if err := s.store.Apply(ctx, c); err != nil {
		return nil, err
	}
	return u, s.ReloadRoles(ctx)
}

// OperatorActor is who the log names for accounts made with the command
// line on the server itself (the first admin, the demo's people): no signed
// in user, so no role. A user name cannot contain '@', so no account can
// pass for it.
const OperatorActor = "operator@cli"

// SystemActor proposes and approves the rule sets a park starts with
// (init, the demo): the bootstrap that gives every park its first rules.
const SystemActor = "system"

// CreateUser adds a user with a password and role assignments, for the
// operator (zonevet user add, the demo): the accounts that exist before
// any admin does. Logged like an admin's, as OperatorActor: user_create
// with the first park's roles, then user_roles for each further park, all
// in one transaction: the account exists with every role given or not at all.
func (s *Service) CreateUser(ctx context.Context, username, displayName, password string, roles []RoleAssignment) (*User, error) {
	return s.CreateUserIn(ctx, username, displayName, "", password, roles)
}

// CreateUserIn is CreateUser for staff of a zone department (自然资源局 …),
// whom projects can be shared with (share.go).
func (s *Service) CreateUserIn(ctx context.Context, username, displayName, department, password string, roles []RoleAssignment) (*User, error) {
	if !validName(username) {
		return nil, FieldFail("username", "err.user_name_may_contain_letters_digits", nil)
	}
	department, err := checkDepartment(department)
	if err != nil {
		return nil, err
	}
	hash, err := s.checkedPasswordHash(password)
	if err != nil {
		return nil, err
	}
	groups := GroupRoles(roles) // the first park's roles come with the account
	for i := range groups {     // all checked before anything is written
		if groups[i].Roles, err = checkRoles(groups[i].Roles); err != nil {
			return nil, err
		}
	}
	op := actor{user: &User{Username: OperatorActor}}
	u := &User{Username: username, DisplayName: displayName, PasswordHash: hash, CreatedAt: s.now().UTC(), Department: department}
	c := &Change{Account: &AccountPart{NewUser: u, Roles: groups}}
	first := ParkRoles{}
	if len(groups) > 0 {
		first = groups[0]
	}
	c.Entry = s.accountEntry(op, first.Park, EventUserCreate, fmt.Sprintf("命令行新建用户 %s(%s),%s 角色:%s", u.Username, u.DisplayName, first.Park, roleList(first.Roles, "zh")),
		map[string]any{"user": u.Username, "display_name": u.DisplayName, "park": first.Park, "roles": first.Roles})
	for _, g := range groups[min(1, len(groups)):] {
		c.Extra = append(c.Extra, s.accountEntry(op, g.Park, EventUserRoles, fmt.Sprintf("命令行设置用户 %s 在 %s 的角色:%s", u.Username, g.Park, roleList(g.Roles, "zh")),
			map[string]any{"user": u.Username, "park": g.Park, "roles": g.Roles}))
	}
	if err := s.store.Apply(ctx, c); err != nil {
		return nil, err
	}
	return u, s.ReloadRoles(ctx)
}

// GroupRoles groups role assignments by park, the parks in the order given.
func GroupRoles(as []RoleAssignment) []ParkRoles {
	var out []ParkRoles
	for _, a := range as {
		i := slices.IndexFunc(out, func(g ParkRoles) bool { return g.Park == a.Park })
		if i < 0 {
			i = len(out)
			out = append(out, ParkRoles{Park: a.Park})
		}
		out[i].Roles = append(out[i].Roles, a.Role)
	}
	return out
}

// SetRoles replaces a user's roles in one park, logged with before and
// after. An admin cannot take away their own admin role: that is how a
// park ends up with nobody able to manage it.
func (s *Service) SetRoles(ctx context.Context, admin *User, id int64, park string, roles []Role) error {
	a, err := s.authorize(admin, park, "users", "manage")
	if err != nil {
		return err
	}
	parks, err := s.adminParkIDs(ctx, admin)
	if err != nil {
		return err
	}
	acc, err := s.account(ctx, parks, id)
	if err != nil {
		return err
	}
	if roles, err = checkRoles(roles); err != nil {
		return err
	}
	if id == admin.ID && !slices.Contains(roles, RoleAdmin) {
		return FieldFail("roles", "err.you_cannot_remove_your_own_admin", nil)
	}
	before := acc.Roles[park]
	c := &Change{Account: &AccountPart{UserID: id, Roles: []ParkRoles{{Park: park, Roles: roles}}},
		Entry: s.accountEntry(a, park, EventUserRoles, fmt.Sprintf("用户 %s 在 %s 的角色:%s(原:%s)", acc.User.Username, park, roleList(roles, "zh"), roleList(before, "zh")),
			map[string]any{"user": acc.User.Username, "park": park, "roles": roles, "before": before})}
	if err := s.store.Apply(ctx, c); err != nil {
		return err
	}
	return s.ReloadRoles(ctx)
}

// SetDisabled disables a user (ending every session at once) or enables
// them again. The account is zone-wide, so the admin must manage every park
// the user holds a role in; nobody can disable themselves.
func (s *Service) SetDisabled(ctx context.Context, admin *User, id int64, disabled bool) error {
	a, acc, err := s.accountWide(ctx, admin, id)
	if err != nil {
		return err
	}
	if disabled && id == admin.ID {
		return Fail(ECONFLICT, "err.you_cannot_disable_your_own_account", nil)
	}
	if acc.User.Disabled == disabled {
		return nil // a second click changes nothing and logs nothing
	}
	ev, what := EventUserEnable, "启用"
	if disabled {
		ev, what = EventUserDisable, "停用"
	}
	c := &Change{Account: &AccountPart{UserID: id, Disabled: &disabled},
		Entry: s.accountEntry(a, "", ev, fmt.Sprintf("%s用户 %s(%s)", what, acc.User.Username, acc.User.DisplayName), map[string]any{"user": acc.User.Username})}
	return s.store.Apply(ctx, c)
}

// ResetPassword sets a new password for a user and ends their sessions;
// the log records that it happened, never the password.
func (s *Service) ResetPassword(ctx context.Context, admin *User, id int64, password string) error {
	a, acc, err := s.accountWide(ctx, admin, id)
	if err != nil {
		return err
	}
	hash, err := s.checkedPasswordHash(password)
	if err != nil {
		return err
	}
	c := &Change{Account: &AccountPart{UserID: id, PasswordHash: hash},
		Entry: s.accountEntry(a, "", EventUserPassword, fmt.Sprintf("重置用户 %s 的密码", acc.User.Username), map[string]any{"user": acc.User.Username})}
	return s.store.Apply(ctx, c)
}

// SetDepartment moves a user to another department (自然资源局 …, empty
// for the park's own staff), logged with before and after. from is the
// department the admin's form showed: if the account moved since, the
// change is a conflict and nothing is written. The account is zone-wide,
// so, as for disabling, the admin must manage every park the user holds a
// role in. Department shares follow at once: the user reads what is shared
// with the new department, no longer what is shared with the old one.
func (s *Service) SetDepartment(ctx context.Context, admin *User, id int64, from, to string) error {
	a, acc, err := s.accountWide(ctx, admin, id)
	if err != nil {
		return err
	}
	from = strings.TrimSpace(from)
	if to, err = checkDepartment(to); err != nil {
		return err
	}
	if acc.User.Department != from {
		return Fail(ECONFLICT, "err.account_changed_since_you", nil)
	}
	if from == to {
		return nil // nothing changes, nothing is logged
	}
	c := &Change{Account: &AccountPart{UserID: id, Department: &DepartmentMove{From: from, To: to}},
		Entry: s.accountEntry(a, "", EventUserDepartment, fmt.Sprintf("用户 %s 的部门:%s(原:%s)", acc.User.Username, orDash(to), orDash(from)),
			map[string]any{"user": acc.User.Username, "department": to, "before": from})}
	return s.store.Apply(ctx, c)
}

// checkDepartment is a department name as stored: trimmed, at most 64
// characters, the same on creation and on a move.
func checkDepartment(d string) (string, error) {
	d = strings.TrimSpace(d)
	if len([]rune(d)) > 64 {
		return "", FieldFail("department", "err.department_at_most_64", nil)
	}
	return d, nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// accountWide authorizes a change to the whole account: the admin must
// manage users in every park where the user holds a role.
func (s *Service) accountWide(ctx context.Context, admin *User, id int64) (actor, *Account, error) {
	parks, err := s.adminParkIDs(ctx, admin)
	if err != nil {
		return actor{}, nil, err
	}
	acc, err := s.account(ctx, parks, id)
	if err != nil {
		return actor{}, nil, err
	}
	for p := range acc.Roles {
		if !slices.Contains(parks, p) {
			return actor{}, nil, Fail(EFORBIDDEN, "err.user_holds_role_in_park_you", Args{"P": p})
		}
	}
	a, err := s.authorize(admin, parks[0], "users", "manage")
	return a, acc, err
}

func (s *Service) accountEntry(a actor, park, event, reason string, body map[string]any) AuditEntry {
	return AuditEntry{Time: s.now().UTC(), Actor: a.user.Username, Role: a.role, Park: park, Event: event, Reason: reason, Payload: payload(body)}
}

func checkRoles(in []Role) ([]Role, error) {
	for _, r := range in {
		if !slices.Contains(Roles, r) {
			return nil, FieldFail("roles", "err.unknown_role", Args{"Role": string(r)})
		}
	}
	return sortRoles(in), nil
}

func (s *Service) checkedPasswordHash(password string) (string, error) {
	if len(password) < 8 {
		return "", FieldFail("password", "err.password_must_have_at_least_8", nil)
	}
	if len(password) > 256 {
		return "", FieldFail("password", "err.password_may_have_at_most_256", nil)
	}
	return argon2id.CreateHash(password, s.passwords)
}

// roleList names roles in lang, "—" for none.
func roleList(rs []Role, lang string) string {
	if len(rs) == 0 {
		return "—"
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = RoleLabel(r, lang)
	}
	return strings.Join(names, "、")
}
