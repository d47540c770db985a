package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// registerAdminAPIRoutes registers what an admin does to an account beyond
// users and roles (web/api_tracking.go): the password reset and the move
// to another department.
func (s *Server) registerAdminAPIRoutes(a *echo.Group) {
	a.POST("/users/:id/password", s.handleAPIUserPassword)
	a.POST("/users/:id/department", s.handleAPIUserDepartment)
}

// departmentInput is the body of POST /users/{id}/department: the new
// department ("" for the park's own staff) and the one read (before), the
// version check: an account moved since is a 409.
type departmentInput struct {
	Department string `json:"department"`
	Before     string `json:"before"`
}

// handleAPIUserDepartment moves an account to another department as the
// account page does, under the same guards (an admin of every park where
// the user holds a role), logged as user_department.
func (s *Server) handleAPIUserDepartment(c echo.Context) error {
	id, err := s.apiUserID(c)
	if err != nil {
		return err
	}
	var in departmentInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	if err := s.svc.SetDepartment(ctx, u, id, in.Before, in.Department); err != nil {
		return err
	}
	a, err := s.svc.Account(ctx, u, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiAccount{User: a.User, Roles: a.Roles})
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
