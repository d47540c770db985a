package web

import (
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// apiScopes is the scope each API route needs of a token, by method and
// route. A route missing here is refused to every token (deny by default);
// TestAPIRouteScopes fails the build for a route without a row. Sessions
// (the browser) are not narrowed by scopes: the person is there.
var apiScopes = map[string]string{
	"GET /api/v1/projects":              engine.ScopeProjectsRead,
	"GET /api/v1/projects/:id":          engine.ScopeProjectsRead,
	"GET /api/v1/projects/:id/report":   engine.ScopeProjectsRead,
	"GET /api/v1/projects/:id/history":  engine.ScopeProjectsRead,
	"POST /api/v1/projects":             engine.ScopeProjectsAct,
	"PUT /api/v1/projects/:id":          engine.ScopeProjectsAct,
	"POST /api/v1/projects/:id/actions": engine.ScopeProjectsAct,
	"POST /api/v1/projects/:id/scores":  engine.ScopeProjectsAct,
	"GET /api/v1/audit/entries":         engine.ScopeAuditRead,
	"GET /api/v1/audit/checkpoints":     engine.ScopeAuditRead,
	"GET /api/v1/audit/pubkey":          engine.ScopeAuditRead,

	"GET /api/v1/projects/:id/tracking":           engine.ScopeTrackingRead,
	"PUT /api/v1/projects/:id/agreement":          engine.ScopeTrackingWrite,
	"POST /api/v1/projects/:id/milestones":        engine.ScopeTrackingWrite,
	"POST /api/v1/projects/:id/figures":           engine.ScopeTrackingWrite,
	"POST /api/v1/tracking/import":                engine.ScopeTrackingWrite,
	"GET /api/v1/tracking/alerts":                 engine.ScopeTrackingRead,
	"GET /api/v1/tracking/runs":                   engine.ScopeRatingsRead,
	"POST /api/v1/tracking/runs":                  engine.ScopeRatingsRun,
	"GET /api/v1/tracking/runs/:run":              engine.ScopeRatingsRead,
	"GET /api/v1/tracking/runs/:run/results.xlsx": engine.ScopeRatingsRead,
	"GET /api/v1/dashboard":                       engine.ScopeDashboardRead,
	"GET /api/v1/users":                           engine.ScopeUsersRead,
	"GET /api/v1/users/:id":                       engine.ScopeUsersRead,
	"PUT /api/v1/users/:id/roles":                 engine.ScopeUsersManage,
	"POST /api/v1/users":                          engine.ScopeUsersManage,
	"PUT /api/v1/users/:id/status":                engine.ScopeUsersManage,
	"GET /api/v1/rulesets":                        engine.ScopeRulesRead,
	"GET /api/v1/rulesets/:version":               engine.ScopeRulesRead,
	"POST /api/v1/users/:id/password":             engine.ScopeUsersManage,

	"GET /api/v1/rulesets/changes":                    engine.ScopeRulesRead,
	"GET /api/v1/rulesets/changes/:change":            engine.ScopeRulesRead,
	"GET /api/v1/rulesets/diff":                       engine.ScopeRulesRead,
	"GET /api/v1/rulesets/whatif/:whatif":             engine.ScopeRulesRead,
	"GET /api/v1/rulesets/whatif/:whatif/report.xlsx": engine.ScopeRulesRead,
	"POST /api/v1/rulesets/changes":                   engine.ScopeRulesGovern,
	"POST /api/v1/rulesets/changes/:change/whatif":    engine.ScopeRulesGovern,
	"POST /api/v1/rulesets/changes/:change/approve":   engine.ScopeRulesGovern,
	"POST /api/v1/rulesets/changes/:change/refuse":    engine.ScopeRulesGovern,
	"POST /api/v1/rulesets/changes/:change/withdraw":  engine.ScopeRulesGovern,
	"POST /api/v1/rulesets/whatif":                    engine.ScopeRulesGovern,
	"GET /api/v1/calendar":                            engine.ScopeRulesRead,
	"GET /api/v1/calendar/changes":                    engine.ScopeRulesRead,
	"GET /api/v1/calendar/changes/:change":            engine.ScopeRulesRead,
	"POST /api/v1/calendar/changes":                   engine.ScopeRulesGovern,
	"POST /api/v1/calendar/changes/:change/approve":   engine.ScopeRulesGovern,
	"POST /api/v1/calendar/changes/:change/refuse":    engine.ScopeRulesGovern,
	"POST /api/v1/calendar/changes/:change/withdraw":  engine.ScopeRulesGovern,
	"GET /api/v1/meetings":                            engine.ScopeProjectsRead,
	"GET /api/v1/meetings/agenda":                     engine.ScopeProjectsRead,
	"GET /api/v1/meetings/:mid":                       engine.ScopeProjectsRead,
	"POST /api/v1/meetings":                           engine.ScopeProjectsAct,
	"POST /api/v1/meetings/:mid/votes":                engine.ScopeProjectsAct,
	"POST /api/v1/meetings/:mid/decisions":            engine.ScopeProjectsAct,

	// The everyday verbs (api_verbs.go); recall, remind and a return's fix
	// list go through POST /projects/:id/actions. Marking the inbox read is
	// delivery's bookkeeping, not a decision: a read scope.
	"GET /api/v1/delegations":              engine.ScopeProjectsRead,
	"POST /api/v1/delegations":             engine.ScopeProjectsAct,
	"POST /api/v1/delegations/:did/revoke": engine.ScopeProjectsAct,
	"GET /api/v1/projects/:id/shares":      engine.ScopeProjectsRead,
	"POST /api/v1/projects/:id/shares":     engine.ScopeProjectsAct,
	"GET /api/v1/shared":                   engine.ScopeProjectsRead,
	"GET /api/v1/inbox":                    engine.ScopeProjectsRead,
	"POST /api/v1/inbox/read":              engine.ScopeProjectsRead,

	// Issue 14's rest: revoking a share (as sharing, projects:act), moving
	// an account's department (as the other account changes), and the
	// expert pool (api_experts.go), which is people, as accounts are.
	"POST /api/v1/projects/:id/shares/:sid/revoke": engine.ScopeProjectsAct,
	"POST /api/v1/users/:id/department":            engine.ScopeUsersManage,
	"GET /api/v1/experts":                          engine.ScopeUsersRead,
	"POST /api/v1/experts":                         engine.ScopeUsersManage,
	"POST /api/v1/experts/:xid":                    engine.ScopeUsersManage,
	"POST /api/v1/experts/:xid/deactivate":         engine.ScopeUsersManage,
}

// tokenScope refuses a token without the scope its route needs, and keeps a
// park-restricted token to its parks on the routes that name a project.
func (s *Server) tokenScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok := currentToken(c)
		if tok == nil {
			return next(c)
		}
		scope, ok := apiScopes[c.Request().Method+" "+c.Path()]
		if !ok || !tok.Allows(scope) {
			if !ok {
				scope = "?"
			}
			return engine.Fail(engine.EFORBIDDEN, "err.token_lacks_scope", engine.Args{"Scope": scope})
		}
		if len(tok.Parks) > 0 && c.Param("id") != "" && strings.HasPrefix(c.Path(), "/api/v1/projects/") {
			id, err := projectID(c)
			if err != nil {
				return err
			}
			p, err := s.svc.Project(c.Request().Context(), currentUser(c), id)
			if err != nil {
				return err
			}
			if !contains(tok.Parks, p.Park) {
				// As for a park the owner cannot read: its existence is not told.
				return engine.Fail(engine.ENOTFOUND, "err.project_not_found", nil)
			}
			c.Set(ctxProject, p)
		}
		return next(c)
	}
}

// ctxProject holds the project the park check of a token already read, so
// a read handler does not read it twice (apiProject).
const ctxProject = "api.project"

// apiProject is the project a /api/v1/projects/:id request names, as its
// user may read it: the one the token's park check read, or read now.
func (s *Server) apiProject(c echo.Context) (*engine.Project, error) {
	if p, ok := c.Get(ctxProject).(*engine.Project); ok {
		return p, nil
	}
	id, err := projectID(c)
	if err != nil {
		return nil, err
	}
	return s.svc.Project(c.Request().Context(), currentUser(c), id)
}

// useToken admits a bearer token at now from the request's address: an
// expired token is refused; a first use from an address the token never
// came from is logged (a leaked token shows up where the owner looks);
// other uses are noted at most once a minute.
func (s *Server) useToken(c echo.Context, tok *engine.APIToken, u *engine.User, now time.Time) error {
	if tok.Expired(now) {
		return engine.Fail(engine.EUNAUTHORIZED, "err.api_token_has_expired", nil)
	}
	ctx := c.Request().Context()
	addr := c.RealIP()
	if addr != tok.LastUsedAddr {
		known, err := s.accounts.TokenAddressKnown(ctx, tok.ID, addr)
		if err != nil {
			return err
		}
		if !known {
			return s.svc.NoteTokenAddress(ctx, u, tok, addr, now)
		}
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > touchEvery || addr != tok.LastUsedAddr {
		_ = s.accounts.TouchAPIToken(ctx, tok.ID, now, addr)
	}
	return nil
}

// tokenMaxDays is the longest life a new token may have.
func (s *Server) tokenMaxDays() int {
	if s.cfg.TokenMaxDays > 0 {
		return s.cfg.TokenMaxDays
	}
	return engine.MaxTokenDays
}
