package engine

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Scopes of an API token. A read scope lets a token read what its owner may
// read; an acting scope lets it change what its owner may change. Neither
// adds a right the owner lacks: the owner's roles (casbin) still decide,
// and the scope only narrows. A token for a nightly audit pull holds
// audit:read and cannot decide anything.
const (
	ScopeProjectsRead  = "projects:read"
	ScopeAuditRead     = "audit:read"
	ScopeTrackingRead  = "tracking:read"
	ScopeRatingsRead   = "ratings:read"
	ScopeRulesRead     = "rules:read"
	ScopeDashboardRead = "dashboard:read"
	ScopeUsersRead     = "users:read"

	ScopeProjectsAct   = "projects:act"
	ScopeTrackingWrite = "tracking:write"
	ScopeRatingsRun    = "ratings:run"
	ScopeUsersManage   = "users:manage"
	ScopeRulesGovern   = "rules:govern" // propose, what-if, approve, refuse, withdraw rule-set changes
)

// ReadScopes and ActScopes list the scopes, in the order the tokens page
// offers them.
var (
	ReadScopes = []string{ScopeProjectsRead, ScopeAuditRead, ScopeTrackingRead, ScopeRatingsRead, ScopeRulesRead, ScopeDashboardRead, ScopeUsersRead}
	ActScopes  = []string{ScopeProjectsAct, ScopeTrackingWrite, ScopeRatingsRun, ScopeUsersManage, ScopeRulesGovern}
)

// IsActingScope reports whether scope changes something.
func IsActingScope(scope string) bool { return slices.Contains(ActScopes, scope) }

// Token lifetimes: a token lives DefaultTokenDays unless its maker chooses
// otherwise, and never longer than the deployment's maximum.
const (
	DefaultTokenDays = 90
	MaxTokenDays     = 365
)

// Events of API tokens in the decision log (zone-wide, park "").
const (
	EventTokenCreate     = "token_create"
	EventTokenRevoke     = "token_revoke"
	EventTokenNewAddress = "token_new_address" // first use from an address it never came from
)

// Allows reports whether the token holds scope. A token without scopes was
// made before scopes existed and keeps every one.
func (t *APIToken) Allows(scope string) bool {
	return len(t.Scopes) == 0 || slices.Contains(t.Scopes, scope)
}

// Expired reports whether the token's time is up at now.
func (t *APIToken) Expired(now time.Time) bool {
	return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
}

// ReadOnly reports whether the token holds no acting scope.
func (t *APIToken) ReadOnly() bool {
	if len(t.Scopes) == 0 {
		return false
	}
	return !slices.ContainsFunc(t.Scopes, IsActingScope)
}

// TokenPart is the part of a Change that touches one API token: a new
// token, a revocation, or a first use from a new address (which also
// records the use). Its Entry builds the change's log entry once the
// token's id is known; a part that changes nothing (revoked before, an
// address a concurrent request logged) writes no entry.
type TokenPart struct {
	// Create is a new token; the store sets its ID and CreatedAt.
	Create *APIToken
	// Revoke revokes token Revoke of user UserID (another user's token is
	// not_found, so ids cannot be probed).
	Revoke int64
	UserID int64
	// Used records a use of token Used at UsedAt from UsedAddr. The entry is
	// written only if the address is new for the token: a concurrent request
	// from the same new address logs it once.
	Used     int64
	UsedAt   time.Time
	UsedAddr string
	// Entry builds the change's log entry once the token's id is known.
	Entry func(tokenID int64) AuditEntry
}

// TokenEntry is the decision-log entry of a token event by u.
func TokenEntry(now time.Time, u *User, event string, t *APIToken, id int64, remote string) AuditEntry {
	body := map[string]any{"token_id": id, "name": t.Name, "remote": remote}
	if event == EventTokenCreate {
		scopes := t.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		parks := t.Parks
		if parks == nil {
			parks = []string{}
		}
		body["scopes"], body["parks"] = scopes, parks
		if t.ExpiresAt != nil {
			body["expires_at"] = t.ExpiresAt.UTC()
		}
	}
	return AuditEntry{Time: now.UTC(), Actor: u.Username, Event: event, Reason: fmt.Sprintf("%s #%d", t.Name, id), Payload: payload(body)}
}

// CreateToken makes u's token t (its hash, scopes, parks and expiry chosen
// by the caller), logged as token_create from addr; t.ID is set.
func (s *Service) CreateToken(ctx context.Context, u *User, t *APIToken, addr string) error {
	now := s.now()
	return s.store.Apply(ctx, &Change{Token: &TokenPart{Create: t, Entry: func(id int64) AuditEntry {
		return TokenEntry(now, u, EventTokenCreate, t, id, addr)
	}}})
}

// RevokeToken revokes u's own token t at once, logged as token_revoke.
func (s *Service) RevokeToken(ctx context.Context, u *User, t *APIToken, addr string) error {
	now := s.now()
	return s.store.Apply(ctx, &Change{Token: &TokenPart{Revoke: t.ID, UserID: u.ID, Entry: func(id int64) AuditEntry {
		return TokenEntry(now, u, EventTokenRevoke, t, id, addr)
	}}})
}

// NoteTokenAddress records the first use of u's token t from addr, logged
// as token_new_address (once, however many requests race to it).
func (s *Service) NoteTokenAddress(ctx context.Context, u *User, t *APIToken, addr string, at time.Time) error {
	return s.store.Apply(ctx, &Change{Token: &TokenPart{Used: t.ID, UsedAt: at, UsedAddr: addr, Entry: func(id int64) AuditEntry {
		return TokenEntry(at, u, EventTokenNewAddress, t, id, addr)
	}}})
}
