package engine

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
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
	loaded atomic.Pointer[loadedPolicy]
	mu     sync.Mutex // serialises LoadAt, so an older snapshot never replaces a newer one
}

// loadedPolicy is one Load's enforcer with a memo of its answers for a role:
// an enforcer is never changed once loaded (Load makes a new one), so what it
// answered once it answers always, and casbin's matcher costs more than a
// map look-up on every command (BENCHMARKS.md, issue 16).
type loadedPolicy struct {
	enforcer   *casbin.Enforcer
	generation int64    // the role generation of its assignments (LoadAt); 0: not known
	grants     sync.Map // grantKey → bool
	size       atomic.Int64
}

type grantKey struct{ role, park, obj, act string }

// maxGrants bounds the memo: an act is the request's word, so a stream of
// made-up ones must not grow it without end; past the bound casbin answers.
const maxGrants = 1 << 14

// roleMay reports whether role r may do act on obj in park.
func (p *loadedPolicy) roleMay(r Role, park, obj, act string) bool {
	k := grantKey{string(r), park, obj, act}
	if ok, found := p.grants.Load(k); found {
		return ok.(bool)
	}
	ok, err := p.enforcer.Enforce(string(r), park, obj, act)
	ok = err == nil && ok
	if err == nil && p.size.Load() < maxGrants {
		if _, had := p.grants.LoadOrStore(k, ok); !had {
			p.size.Add(1)
		}
	}
	return ok
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
	return a.LoadAt(0, assignments)
}

// Generation is the role generation of the assignments loaded (LoadAt).
func (a *Authorizer) Generation() int64 { return a.loaded.Load().generation }

// LoadAt replaces the role assignments with those of role generation gen,
// unless a newer generation is already loaded.
func (a *Authorizer) LoadAt(gen int64, assignments []RoleAssignment) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cur := a.loaded.Load(); cur != nil && gen != 0 && gen < cur.generation {
		return nil
	}
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
	a.loaded.Store(&loadedPolicy{enforcer: e, generation: gen})
	return nil
}

// Role returns the first role (in Roles order) through which username may do
// act on obj in park, and whether any does. Deny by default.
func (a *Authorizer) Role(username, park, obj, act string) (Role, bool) {
	p := a.loaded.Load()
	if park == "" || username == "" {
		return "", false
	}
	held := p.enforcer.GetRolesForUserInDomain(subject(username), park)
	for _, r := range Roles {
		if contains(held, string(r)) && p.roleMay(r, park, obj, act) {
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
	held := a.loaded.Load().enforcer.GetRolesForUserInDomain(subject(username), park)
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
