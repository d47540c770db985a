package web

import (
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// Working-day calendar administration (admin role): the versions loaded,
// the years of the one in force and whether each is published, and loading
// a new version (the State Council's notice for next year, as a file).
func (s *Server) registerCalendarRoutes(e *echo.Echo) {
	g := e.Group("/admin", requireUser)
	g.GET("/calendar", s.handleCalendar)
	g.POST("/calendar", s.handleCalendarLoad)
}

// maxCalendarFile caps an uploaded calendar file: the default is ~3 KB.
const maxCalendarFile = 256 << 10

type calendarData struct {
	Versions []engine.CalendarRecord
	InForce  *engine.Calendar
	Notice   *engine.CalendarNotice
	Error    string
}

func (s *Server) calendarPage(c echo.Context, status int, d calendarData) error {
	ctx := c.Request().Context()
	var err error
	if d.Versions, err = s.svc.CalendarVersions(ctx, currentUser(c)); err != nil {
		return err
	}
	if d.InForce, err = s.svc.Calendar(ctx); err != nil {
		return err
	}
	d.Notice = d.InForce.Notice(s.svc.Today())
	pd := s.page(c, s.t(c, "calendar.title"))
	pd.Data = d
	return s.render(c, status, "admin_calendar", pd)
}

func (s *Server) handleCalendar(c echo.Context) error {
	return s.calendarPage(c, http.StatusOK, calendarData{})
}

func (s *Server) handleCalendarLoad(c echo.Context) error {
	var data []byte
	if fh, err := c.FormFile("file"); err == nil {
		if fh.Size > maxCalendarFile {
			return s.calendarPage(c, http.StatusBadRequest, calendarData{Error: s.t(c, "calendar.too_big")})
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		if data, err = io.ReadAll(io.LimitReader(f, maxCalendarFile)); err != nil {
			return err
		}
	}
	cal, err := s.svc.LoadCalendar(c.Request().Context(), currentUser(c), data)
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.t(c, "calendar.loaded")+shortVersion(cal.Version()))
		return c.Redirect(http.StatusSeeOther, "/admin/calendar")
	case engine.EINVALID:
		return s.calendarPage(c, http.StatusBadRequest, calendarData{Error: s.refusalMessage(c, err)})
	case engine.ECONFLICT:
		return s.calendarPage(c, http.StatusConflict, calendarData{Error: s.refusalMessage(c, err)})
	}
	return err
}

// CalendarNotice is next year's calendar warning for an administrator from
// 1 December (missing, or only statutory), for the workbench; nil otherwise.
func (p *page) CalendarNotice() *engine.CalendarNotice {
	if p.User == nil || !p.s.svc.CanManageCalendar(context.Background(), p.User) {
		return nil
	}
	cal, err := p.s.svc.Calendar(context.Background())
	if err != nil {
		return nil
	}
	return cal.Notice(p.s.svc.Today())
}
