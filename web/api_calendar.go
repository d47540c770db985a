package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// registerCalendarAPIRoutes registers the working-day calendar for machines
// (issue 19 with issue 12): the calendar in force and its versions, the
// proposals, one proposal with what approving it would do now, proposing a
// file, and the committee's approval or refusal and the proposer's
// withdrawal — the engine commands of the 工作日历 page, four eyes and all.
func (s *Server) registerCalendarAPIRoutes(a *echo.Group) {
	a.GET("/calendar", s.handleAPICalendar)
	a.GET("/calendar/changes", s.handleAPICalendarChanges)
	a.POST("/calendar/changes", s.handleAPICalendarPropose)
	a.GET("/calendar/changes/:change", s.handleAPICalendarChange)
	a.POST("/calendar/changes/:change/approve", s.handleAPICalendarApprove)
	a.POST("/calendar/changes/:change/refuse", s.handleAPICalendarRefuse)
	a.POST("/calendar/changes/:change/withdraw", s.handleAPICalendarWithdraw)
}

// calendarAnswer is GET /calendar: the version in force, its years, and
// the versions in force so far (newest first).
type calendarAnswer struct {
	Version  string                  `json:"version"`
	Years    []engine.CalendarYear   `json:"years"`
	Versions []engine.CalendarRecord `json:"versions"`
}

func (s *Server) handleAPICalendar(c echo.Context) error {
	ctx := c.Request().Context()
	vs, err := s.svc.CalendarVersions(ctx, currentUser(c))
	if err != nil {
		return err
	}
	cal, err := s.svc.Calendar(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, calendarAnswer{Version: cal.Version(), Years: cal.Years(), Versions: vs})
}

func (s *Server) handleAPICalendarChanges(c echo.Context) error {
	cs, err := s.svc.CalendarChanges(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []engine.CalendarChange{}
	}
	return c.JSON(http.StatusOK, cs)
}

// zoneWide refuses a token restricted to some parks on a change to the
// calendar: it is every park's, beyond what such a token may reach.
func zoneWide(c echo.Context) error {
	if tok := currentToken(c); tok != nil && len(tok.Parks) > 0 {
		return engine.Fail(engine.EFORBIDDEN, "err.token_parks_not_zone", nil)
	}
	return nil
}

// calendarProposeInput is the body of POST /calendar/changes.
type calendarProposeInput struct {
	File string `json:"file"`
	Note string `json:"note"`
}

func (s *Server) handleAPICalendarPropose(c echo.Context) error {
	if err := zoneWide(c); err != nil {
		return err
	}
	var in calendarProposeInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if len(in.File) > maxCalendarFile {
		return engine.FieldFail("file", "err.calendar_file_too_large", nil)
	}
	ch, err := s.svc.ProposeCalendar(c.Request().Context(), currentUser(c), []byte(in.File), in.Note)
	if err != nil {
		return err
	}
	return answer(c, http.StatusCreated, ch)
}

// calendarPreviewAnswer is GET /calendar/changes/{change}: the change, and
// what approving it would do now against the version in force (base).
type calendarPreviewAnswer struct {
	engine.CalendarChange
	BaseNow string                   `json:"base_now"`
	DaysNow []engine.CalendarDayDiff `json:"days_now"`
	Moved   []engine.MovedDeadline   `json:"deadlines_moved"`
}

func (s *Server) handleAPICalendarChange(c echo.Context) error {
	id, err := calendarChangeID(c)
	if err != nil {
		return err
	}
	pv, err := s.svc.PreviewCalendarChange(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	out := calendarPreviewAnswer{CalendarChange: pv.Change, BaseNow: pv.BaseVersion, DaysNow: pv.Days, Moved: pv.Moved}
	if out.DaysNow == nil {
		out.DaysNow = []engine.CalendarDayDiff{}
	}
	if out.Moved == nil {
		out.Moved = []engine.MovedDeadline{}
	}
	return c.JSON(http.StatusOK, out)
}

func calendarChangeID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("change"), 10, 64)
	if err != nil || id <= 0 {
		return 0, engine.Fail(engine.ENOTFOUND, "err.calendar_proposal_not_found", nil)
	}
	return id, nil
}

// calendarApproveInput is the body of an approval: the version in force the
// approver's preview was computed against (base_now of the preview; empty:
// whatever is in force now) and the opinion.
type calendarApproveInput struct {
	Base    string `json:"base"`
	Opinion string `json:"opinion"`
}

func (s *Server) handleAPICalendarApprove(c echo.Context) error {
	if err := zoneWide(c); err != nil {
		return err
	}
	id, err := calendarChangeID(c)
	if err != nil {
		return err
	}
	var in calendarApproveInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	ch, err := s.svc.ApproveCalendar(c.Request().Context(), currentUser(c), id, in.Base, in.Opinion)
	if err != nil {
		return err
	}
	return answer(c, http.StatusOK, ch)
}

func (s *Server) handleAPICalendarRefuse(c echo.Context) error {
	return s.closeAPICalendarChange(c, s.svc.RefuseCalendar)
}

func (s *Server) handleAPICalendarWithdraw(c echo.Context) error {
	return s.closeAPICalendarChange(c, s.svc.WithdrawCalendar)
}

func (s *Server) closeAPICalendarChange(c echo.Context, close func(ctx context.Context, u *engine.User, id int64, reason string) (*engine.CalendarChange, error)) error {
	if err := zoneWide(c); err != nil {
		return err
	}
	id, err := calendarChangeID(c)
	if err != nil {
		return err
	}
	var in reasonInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	ch, err := close(c.Request().Context(), currentUser(c), id, in.Reason)
	if err != nil {
		return err
	}
	return answer(c, http.StatusOK, ch)
}
