package engine

import (
	_ "embed"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"
)

//go:embed authz/model.conf
var authzModel string

//go:embed authz/policy.csv
var authzPolicy string

// Authorizer answers "may this user do this in this park" with casbin's RBAC
// with domains (domain = park). Role assignments live in the store; Load
// builds a fresh enforcer from them and swaps it in, so readers never see a
// half-loaded policy.
type Authorizer struct {
	enforcer atomic.Pointer[casbin.Enforcer]
}

// subject keeps user names apart from role names in casbin's namespace.
func subject(username string) string { return "user:" + username }

// NewAuthorizer returns an authorizer holding the embedded policy and the given assignments.
func NewAuthorizer(assignments []RoleAssignment) (*Authorizer, error) {
	a := &Authorizer{}
	return a, a.Load(assignments)
}

// Load replaces the role assignments.
func (a *Authorizer) Load(assignments []RoleAssignment) error {
	m, err := model.NewModelFromString(authzModel)
	if err != nil {
		return fmt.Errorf("authz model: %w", err)
	}
	var b strings.Builder
	b.WriteString(authzPolicy)
	for _, as := range assignments {
		if strings.ContainsAny(as.Username+as.Park, ",\n\"") {
			return fmt.Errorf("authz: unsafe name in assignment %q/%q", as.Username, as.Park)
		}
		fmt.Fprintf(&b, "\ng, %s, %s, %s", subject(as.Username), as.Role, as.Park)
	}
	e, err := casbin.NewEnforcer(m, stringadapter.NewAdapter(b.String()))
	if err != nil {
		return fmt.Errorf("authz enforcer: %w", err)
	}
	a.enforcer.Store(e)
	return nil
}

// Role returns the first role (in Roles order) through which username may do
// act on obj in park, and whether any does. Deny by default.
func (a *Authorizer) Role(username, park, obj, act string) (Role, bool) {
	e := a.enforcer.Load()
	if park == "" || username == "" {
		return "", false
	}
	held := e.GetRolesForUserInDomain(subject(username), park)
	for _, r := range Roles {
		if !contains(held, string(r)) {
			continue
		}
		if ok, err := e.Enforce(string(r), park, obj, act); err == nil && ok {
			return r, true
		}
	}
	return "", false
}

// Allowed reports whether username may do act on obj in park.
func (a *Authorizer) Allowed(username, park, obj, act string) bool {
	_, ok := a.Role(username, park, obj, act)
	return ok
}

// RolesIn lists the roles username holds in park.
func (a *Authorizer) RolesIn(username, park string) []Role {
	var out []Role
	held := a.enforcer.Load().GetRolesForUserInDomain(subject(username), park)
	for _, r := range Roles {
		if contains(held, string(r)) {
			out = append(out, r)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
