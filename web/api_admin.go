package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// registerAdminAPIRoutes registers what an admin does to an account beyond
// users and roles (web/api_tracking.go): the password reset.
func (s *Server) registerAdminAPIRoutes(a *echo.Group) {
	a.POST("/users/:id/password", s.handleAPIUserPassword)
}

// passwordInput is the body of POST /users/{id}/password.
type passwordInput struct {
	Password string `json:"password"`
}

// handleAPIUserPassword resets a password as the account page does, under
// the same guards (an admin of every park where the user holds a role; the
// password rules); the reset ends the user's sessions and revokes their API
// tokens in the same transaction, and the log records that it happened,
// never the password.
func (s *Server) handleAPIUserPassword(c echo.Context) error {
	id, err := s.apiUserID(c)
	if err != nil {
		return err
	}
	var in passwordInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	if err := s.svc.ResetPassword(ctx, u, id, in.Password); err != nil {
		return err
	}
	a, err := s.svc.Account(ctx, u, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiAccount{User: a.User, Roles: a.Roles})
}
