package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// The expert pool (专家库, issue 14): a park's experts for administrators to
// keep (every change a logged entry), committee members and auditors to read.
func (s *Server) registerExpertRoutes(e *echo.Echo) {
	g := e.Group("/admin", requireUser)
	g.GET("/experts", s.handleExperts)
	g.POST("/experts", s.handleExpertSave)
}

type expertsData struct {
	Parks   []engine.Park
	Park    string
	Manage  bool
	Experts []engine.Expert
	Form    engine.ExpertInput // the form as posted when refused, or the expert being changed
	Edit    bool               // the form changes Form.ID, not adds
	Error   string
	Field   string
}

func (s *Server) expertsPage(c echo.Context, status int, park string, d expertsData) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	parks, manage, err := s.svc.ExpertParks(ctx, u)
	if err != nil {
		return err
	}
	if len(parks) == 0 {
		return echo.NewHTTPError(http.StatusForbidden)
	}
	d.Parks, d.Park = parks, parks[0].ID
	for _, p := range parks {
		if p.ID == park {
			d.Park = park
		}
	}
	d.Manage = manage[d.Park]
	if d.Experts, err = s.svc.PoolExperts(ctx, u, d.Park); err != nil {
		return err
	}
	pd := s.page(c, s.t(c, "page.experts.title"))
	pd.Data = d
	return s.render(c, status, "experts", pd)
}

// handleExperts shows a park's pool; ?edit=ID fills the form with that
// expert as stored, to change (or deactivate) under its version.
func (s *Server) handleExperts(c echo.Context) error {
	park, d := c.QueryParam("park"), expertsData{Form: engine.ExpertInput{Active: true}}
	if id, err := strconv.ParseInt(c.QueryParam("edit"), 10, 64); err == nil {
		xs, err := s.svc.PoolExperts(c.Request().Context(), currentUser(c), park)
		if err != nil {
			return err
		}
		for _, x := range xs {
			if x.ID == id {
				d.Edit, d.Form = true, engine.ExpertInput{ID: x.ID, Version: x.Version, Park: x.Park, Username: x.Username, Name: x.Name,
					Fields: x.Fields, EmployerName: x.EmployerName, EmployerUSCC: x.EmployerUSCC, Relations: x.Relations, LoadLimit: x.LoadLimit, Active: x.Active}
			}
		}
		if !d.Edit {
			return engine.Fail(engine.ENOTFOUND, "err.experts_not_found", nil)
		}
	}
	return s.expertsPage(c, http.StatusOK, park, d)
}

// list splits a form field of codes separated by commas, 、 or spaces.
func list(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ' ' || r == '\n' || r == '\r' })
}

func (s *Server) handleExpertSave(c echo.Context) error {
	in := engine.ExpertInput{Park: c.FormValue("park"), Username: strings.TrimSpace(c.FormValue("username")), Name: c.FormValue("name"),
		Fields: list(c.FormValue("fields")), EmployerName: c.FormValue("employer_name"), EmployerUSCC: c.FormValue("employer_uscc"),
		Relations: list(c.FormValue("relations")), Active: c.FormValue("active") != ""}
	in.ID, _ = strconv.ParseInt(c.FormValue("id"), 10, 64)
	in.Version, _ = strconv.ParseInt(c.FormValue("version"), 10, 64)
	var err error
	if v := strings.TrimSpace(c.FormValue("load_limit")); v != "" {
		if in.LoadLimit, err = strconv.Atoi(v); err != nil {
			err = engine.FieldFail("load_limit", "err.experts_load_limit", nil)
		}
	}
	var x *engine.Expert
	if err == nil {
		x, err = s.svc.SaveExpert(c.Request().Context(), currentUser(c), in)
	}
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.t(c, "page.experts.saved")+x.Name)
		return c.Redirect(http.StatusSeeOther, "/admin/experts?park="+in.Park)
	case engine.EINVALID, engine.ECONFLICT:
		var e *engine.Error
		field := ""
		if errors.As(err, &e) {
			field = e.Field
		}
		status := http.StatusBadRequest
		if engine.ErrorCode(err) == engine.ECONFLICT {
			status = http.StatusConflict
		}
		return s.expertsPage(c, status, in.Park, expertsData{Form: in, Edit: in.ID != 0, Error: s.refusalMessage(c, err), Field: field})
	}
	return err
}

// drawPanel is a project's draw as the project page shows it.
type drawPanel struct {
	P      *page
	Drawn  []engine.DrawnExpert
	Sealed bool
}

// ExpertDraw is the project's drawn experts for the page's user (sealed
// from its promoter while the review is open); nil when none were drawn.
func (p *page) ExpertDraw(projectID int64) *drawPanel {
	ds, sealed, err := p.s.svc.ProjectDraw(context.Background(), p.User, projectID)
	if err != nil || len(ds) == 0 {
		return nil
	}
	return &drawPanel{P: p, Drawn: ds, Sealed: sealed}
}

// Join joins codes for a form field.
func (d expertsData) Join(v []string) string { return strings.Join(v, ", ") }
