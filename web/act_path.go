package web

import (
	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// unlessUnreadable returns err from a command on project id, unless the
// user may not read that project: then "not found", so that a command on a
// project in a park the user cannot see is a 404, never a 403 or a state
// conflict that would confirm it exists. The commands (Act, Score) read and
// authorize the project themselves, so the readability check is made only
// when they fail: a successful command was allowed by the project's own
// park, which its roles can read. Reading the project before every command
// as well cost a third of an act's CPU (BENCHMARKS.md, issue 16).
func (s *Server) unlessUnreadable(c echo.Context, id int64, err error) error {
	if err == nil || engine.ErrorCode(err) == engine.EINTERNAL {
		return err
	}
	if _, rerr := s.svc.Project(c.Request().Context(), currentUser(c), id); rerr != nil {
		return rerr
	}
	return err
}
