package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

func (s *Server) registerTokenRoutes(e *echo.Echo) {
	g := e.Group("/settings", requireUser)
	g.GET("/tokens", s.handleTokens)
	g.POST("/tokens", s.handleTokenCreate)
	g.POST("/tokens/:id/revoke", s.handleTokenRevoke)
}

type tokensData struct {
	Tokens     []engine.APIToken
	New        string // the secret just created, shown once
	Error      string
	ReadScopes []string
	ActScopes  []string
	Parks      []string // the owner's parks, which a token may be narrowed to
	ParkNames  map[string]string
	Days       int // the default life in days
	MaxDays    int
	Now        time.Time
}

func (s *Server) tokensPage(c echo.Context, status int, d tokensData) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	toks, err := s.accounts.APITokens(ctx, u.ID)
	if err != nil {
		return err
	}
	if d.Parks, err = s.svc.ReadableParks(ctx, u); err != nil {
		return err
	}
	all, err := s.svc.AllParks(ctx)
	if err != nil {
		return err
	}
	d.Tokens, d.ParkNames = toks, s.parkNames(all, s.lang(c))
	d.ReadScopes, d.ActScopes = engine.ReadScopes, engine.ActScopes
	d.Days, d.MaxDays, d.Now = min(engine.DefaultTokenDays, s.tokenMaxDays()), s.tokenMaxDays(), s.svc.Now()
	pd := s.page(c, s.t(c, "tokens.title"))
	pd.Data = d
	return s.render(c, status, "tokens", pd)
}

func (s *Server) handleTokens(c echo.Context) error {
	return s.tokensPage(c, http.StatusOK, tokensData{})
}

// handleTokenCreate makes a token and shows its secret once; only the
// SHA-256 is stored, so a lost secret means a new token. The maker chooses
// what it may do (at least one scope), where (a subset of the maker's
// parks, or all of them) and for how long (up to the deployment's maximum);
// the making is logged.
func (s *Server) handleTokenCreate(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	fail := func(key string, data map[string]any) error {
		return s.tokensPage(c, http.StatusBadRequest, tokensData{Error: s.i18n.T(s.lang(c), key, data)})
	}
	name := strings.TrimSpace(c.FormValue("name"))
	if name == "" || len([]rune(name)) > 100 {
		return fail("tokens.name_required", nil)
	}
	form, _ := c.FormParams()
	scopes := form["scope"]
	if len(scopes) == 0 {
		return fail("tokens.scope_required", nil)
	}
	for _, sc := range scopes {
		if !slices.Contains(engine.ReadScopes, sc) && !slices.Contains(engine.ActScopes, sc) {
			return fail("tokens.scope_unknown", map[string]any{"Scope": sc})
		}
	}
	mine, err := s.svc.ReadableParks(ctx, u)
	if err != nil {
		return err
	}
	parks := form["park"]
	for _, p := range parks {
		if !slices.Contains(mine, p) {
			return fail("tokens.park_not_yours", map[string]any{"Park": p})
		}
	}
	if len(parks) == len(mine) {
		parks = nil // every park of the owner: no narrowing to keep in step
	}
	days := min(engine.DefaultTokenDays, s.tokenMaxDays())
	if v := strings.TrimSpace(c.FormValue("days")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.tokenMaxDays() {
			return fail("tokens.days_range", map[string]any{"Max": s.tokenMaxDays()})
		}
		days = n
	}
	now := s.svc.Now()
	expires := now.AddDate(0, 0, days)
	secret := "zv_" + randomToken()
	t := &engine.APIToken{UserID: u.ID, Name: name, Hash: hashToken(secret), CreatedAt: now,
		Scopes: slices.Compact(slices.Sorted(slices.Values(scopes))), Parks: parks, ExpiresAt: &expires}
	addr := c.RealIP()
	if err := s.svc.CreateToken(ctx, u, t, addr); err != nil {
		return err
	}
	return s.tokensPage(c, http.StatusOK, tokensData{New: secret})
}

// handleTokenRevoke revokes one of the user's own tokens at once (the next
// request with it is refused) and logs it.
func (s *Server) handleTokenRevoke(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.token_not_found", nil)
	}
	toks, err := s.accounts.APITokens(ctx, u.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(toks, func(t engine.APIToken) bool { return t.ID == id })
	if i < 0 {
		return engine.Fail(engine.ENOTFOUND, "err.token_not_found", nil)
	}
	if err := s.svc.RevokeToken(ctx, u, &toks[i], c.RealIP()); err != nil {
		return err
	}
	s.flash(c, true, s.t(c, "tokens.revoked"))
	return c.Redirect(http.StatusSeeOther, "/settings/tokens")
}
