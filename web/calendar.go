package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules/catalog"
)

// The working-day calendar page (administrators, the committee, auditors):
// the years of the version in force and whether each is published, the
// versions in force so far, and the proposals — an administrator proposes
// a new version (the State Council's notice for next year, as a file), the
// committee approves it after a preview of the days and deadlines it moves.
func (s *Server) registerCalendarRoutes(e *echo.Echo) {
	g := e.Group("/admin", requireUser)
	g.GET("/calendar", s.handleCalendar)
	g.POST("/calendar", s.handleCalendarPropose)
	g.GET("/calendar/changes/:id", s.handleCalendarChange)
	g.POST("/calendar/changes/:id/approve", s.handleCalendarApprove)
	g.POST("/calendar/changes/:id/refuse", s.handleCalendarRefuse)
	g.POST("/calendar/changes/:id/withdraw", s.handleCalendarWithdraw)
}

// maxCalendarFile caps an uploaded calendar file: the default is ~3 KB.
const maxCalendarFile = 256 << 10

type calendarData struct {
	Versions   []engine.CalendarRecord
	Changes    []engine.CalendarChange
	InForce    *engine.Calendar
	Notice     *engine.CalendarNotice
	CanPropose bool
	Note       string // kept when a proposal is refused
	Error      string
}

func (s *Server) calendarPage(c echo.Context, status int, d calendarData) error {
	ctx := c.Request().Context()
	var err error
	if d.Versions, err = s.svc.CalendarVersions(ctx, currentUser(c)); err != nil {
		return err
	}
	if d.Changes, err = s.svc.CalendarChanges(ctx, currentUser(c)); err != nil {
		return err
	}
	if d.InForce, err = s.svc.Calendar(ctx); err != nil {
		return err
	}
	d.CanPropose = s.svc.CanManageCalendar(ctx, currentUser(c))
	if d.CanPropose {
		d.Notice = d.InForce.Notice(s.svc.Today())
	}
	pd := s.page(c, s.t(c, "calendar.title"))
	pd.Data = d
	return s.render(c, status, "admin_calendar", pd)
}

func (s *Server) handleCalendar(c echo.Context) error {
	return s.calendarPage(c, http.StatusOK, calendarData{})
}

func (s *Server) handleCalendarPropose(c echo.Context) error {
	var data []byte
	note := c.FormValue("note")
	if fh, err := c.FormFile("file"); err == nil {
		if fh.Size > maxCalendarFile {
			return s.calendarPage(c, http.StatusBadRequest, calendarData{Note: note, Error: s.t(c, "calendar.too_big")})
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
	ch, err := s.svc.ProposeCalendar(c.Request().Context(), currentUser(c), data, note)
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.t(c, "calendar.proposed"))
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/calendar/changes/%d", ch.ID))
	case engine.EINVALID:
		return s.calendarPage(c, http.StatusBadRequest, calendarData{Note: note, Error: s.refusalMessage(c, err)})
	case engine.ECONFLICT:
		return s.calendarPage(c, http.StatusConflict, calendarData{Note: note, Error: s.refusalMessage(c, err)})
	}
	return err
}

type calendarChangeData struct {
	*engine.CalendarPreview
	CanApprove, CanRefuse, CanWithdraw bool
	Proposer                           bool // the page's user proposed it: four eyes, no approval
}

func (s *Server) handleCalendarChange(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.calendar_proposal_not_found", nil)
	}
	pv, err := s.svc.PreviewCalendarChange(ctx, u, id)
	if err != nil {
		return err
	}
	st := pv.Change.State
	d := calendarChangeData{CalendarPreview: pv, Proposer: pv.Change.ProposedBy == u.Username,
		CanApprove:  s.svc.CanActOnCalendar(ctx, u, st, engine.EventCalendarApprove),
		CanRefuse:   s.svc.CanActOnCalendar(ctx, u, st, engine.EventCalendarRefuse),
		CanWithdraw: s.svc.CanActOnCalendar(ctx, u, st, engine.EventCalendarWithdraw)}
	pd := s.page(c, s.i18n.T(s.lang(c), "calendar.change_title", catalog.Args{"ID": id}))
	pd.Data = d
	return s.render(c, http.StatusOK, "admin_calendar_change", pd)
}

func (s *Server) handleCalendarApprove(c echo.Context) error {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	_, err := s.svc.ApproveCalendar(c.Request().Context(), currentUser(c), id, c.FormValue("base"), c.FormValue("opinion"))
	return s.calendarChangeRedirect(c, id, engine.EventCalendarApprove, err, "calendar.approved")
}

func (s *Server) handleCalendarRefuse(c echo.Context) error {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	_, err := s.svc.RefuseCalendar(c.Request().Context(), currentUser(c), id, c.FormValue("reason"))
	return s.calendarChangeRedirect(c, id, engine.EventCalendarRefuse, err, "calendar.refused")
}

func (s *Server) handleCalendarWithdraw(c echo.Context) error {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	_, err := s.svc.WithdrawCalendar(c.Request().Context(), currentUser(c), id, c.FormValue("reason"))
	return s.calendarChangeRedirect(c, id, engine.EventCalendarWithdraw, err, "calendar.withdrawn")
}

// calendarChangeRedirect answers a decision on a calendar change: back to
// the change with the outcome as a flash; a refusal the user may see (a bad
// reason, a stale preview, four eyes to one whose role may take event) as
// a flash too, other refusals as errors.
func (s *Server) calendarChangeRedirect(c echo.Context, id int64, event string, err error, ok string) error {
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.t(c, ok))
	case engine.EINVALID, engine.ECONFLICT:
		s.flash(c, false, s.refusalMessage(c, err))
	case engine.EFORBIDDEN:
		if !s.svc.CanActOnCalendar(c.Request().Context(), currentUser(c), engine.RuleSetProposed, event) {
			return err
		}
		s.flash(c, false, engine.ErrorMessage(err, s.lang(c)))
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/calendar/changes/%d", id))
}

// CanReadCalendar reports whether the page's user may read the calendar
// page (the nav's link for the committee and auditors).
func (p *page) CanReadCalendar() bool {
	if p.User == nil {
		return false
	}
	_, err := p.s.svc.CalendarVersions(context.Background(), p.User)
	return err == nil
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

// awaitingChange is a proposal waiting for the page's user's decision.
type awaitingChange struct {
	Link, Note, ProposedBy string
	Calendar               bool   // a calendar; else a rule set of Park
	Park                   string // the rule set's park
}

// AwaitingChanges lists the rule-set and calendar proposals the page's user
// may approve and did not propose (the workbench's first card for the
// committee: a change nobody decides is a change nobody notices).
func (p *page) AwaitingChanges() []awaitingChange {
	if p.User == nil {
		return nil
	}
	ctx, u, svc := context.Background(), p.User, p.s.svc
	var out []awaitingChange
	parks, _ := svc.RuleSetReadableParks(ctx, u)
	for _, park := range parks {
		cs, _ := svc.RuleSetChanges(ctx, u, park.ID)
		for _, c := range cs {
			if c.State == engine.RuleSetProposed && c.ProposedBy != u.Username && svc.CanActOnRuleSet(u, &c, engine.EventRulesApprove) {
				out = append(out, awaitingChange{Link: fmt.Sprintf("/admin/rules/changes/%d", c.ID), Note: c.Note, ProposedBy: c.ProposedBy,
					Park: pickLang(p.Lang, park.NameZH, park.NameEN)})
			}
		}
	}
	cs, _ := svc.CalendarChanges(ctx, u)
	for _, c := range cs {
		if c.State == engine.RuleSetProposed && c.ProposedBy != u.Username && svc.CanActOnCalendar(ctx, u, c.State, engine.EventCalendarApprove) {
			out = append(out, awaitingChange{Link: fmt.Sprintf("/admin/calendar/changes/%d", c.ID), Note: c.Note, ProposedBy: c.ProposedBy, Calendar: true})
		}
	}
	return out
}
