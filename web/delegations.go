package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// Delegation (委托): a user's page of the delegations they made and
// received, the form that makes one, and revocation. Acting on behalf of a
// delegator is a form on the project page (projectData.OnBehalf).
func (s *Server) registerDelegationRoutes(e *echo.Echo) {
	g := e.Group("/delegations", requireUser)
	g.GET("", s.handleDelegations)
	g.POST("", s.handleDelegationCreate)
	g.POST("/:did/revoke", s.handleDelegationRevoke)
}

type delegationsData struct {
	Parks []engine.DelegationPark
	Error string
	Form  engine.DelegationInput
}

func (s *Server) delegationsPage(c echo.Context, status int, d delegationsData) error {
	parks, err := s.svc.DelegationPage(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	d.Parks = parks
	pd := s.page(c, s.t(c, "delegation.title"))
	pd.Data = d
	return s.render(c, status, "delegations", pd)
}

func (s *Server) handleDelegations(c echo.Context) error {
	return s.delegationsPage(c, http.StatusOK, delegationsData{})
}

func (s *Server) handleDelegationCreate(c echo.Context) error {
	in := engine.DelegationInput{Park: c.FormValue("park"), Role: engine.Role(c.FormValue("role")), Delegate: c.FormValue("delegate"),
		Starts: c.FormValue("starts"), Ends: c.FormValue("ends"), Reason: c.FormValue("reason")}
	_, err := s.svc.Delegate(c.Request().Context(), currentUser(c), in)
	return s.delegationDone(c, err, in, "delegation.made")
}

func (s *Server) handleDelegationRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("did"), 10, 64)
	if err != nil || id <= 0 {
		return engine.Fail(engine.ENOTFOUND, "err.delegation_not_found", nil)
	}
	err = s.svc.RevokeDelegation(c.Request().Context(), currentUser(c), c.FormValue("park"), id)
	return s.delegationDone(c, err, engine.DelegationInput{}, "delegation.revoked")
}

// delegationDone answers a delegation command: back to the page with a
// flash, or the page again with the refusal in the user's language and
// the form as typed.
func (s *Server) delegationDone(c echo.Context, err error, in engine.DelegationInput, okID string) error {
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.t(c, okID))
		return c.Redirect(http.StatusSeeOther, "/delegations")
	case engine.EINVALID, engine.ECONFLICT:
		return s.delegationsPage(c, statusOf[engine.ErrorCode(err)], delegationsData{Error: engine.ErrorMessage(err, s.lang(c)), Form: in})
	}
	return err
}
