package web

import (
	"net/http"
	"strconv"
	"strings"

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
	Tokens []engine.APIToken
	New    string // the secret just created, shown once
	Error  string
}

func (s *Server) tokensPage(c echo.Context, status int, d tokensData) error {
	toks, err := s.accounts.APITokens(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	d.Tokens = toks
	pd := s.page(c, s.t(c, "tokens.title"))
	pd.Data = d
	return s.render(c, status, "tokens", pd)
}

func (s *Server) handleTokens(c echo.Context) error {
	return s.tokensPage(c, http.StatusOK, tokensData{})
}

// handleTokenCreate makes a token and shows its secret once; only the
// SHA-256 is stored, so a lost secret means a new token.
func (s *Server) handleTokenCreate(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	if name == "" || len([]rune(name)) > 100 {
		return s.tokensPage(c, http.StatusBadRequest, tokensData{Error: s.t(c, "tokens.name_required")})
	}
	secret := "zv_" + randomToken()
	t := &engine.APIToken{UserID: currentUser(c).ID, Name: name, Hash: hashToken(secret), CreatedAt: s.svc.Now()}
	if err := s.accounts.CreateAPIToken(c.Request().Context(), t); err != nil {
		return err
	}
	return s.tokensPage(c, http.StatusOK, tokensData{New: secret})
}

func (s *Server) handleTokenRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.token_not_found", nil)
	}
	if err := s.accounts.RevokeAPIToken(c.Request().Context(), currentUser(c).ID, id); err != nil {
		return err
	}
	s.flash(c, true, s.t(c, "tokens.revoked"))
	return c.Redirect(http.StatusSeeOther, "/settings/tokens")
}
