package web

import (
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules/catalog"
)

// The publicity steps of a rating run (公示/异议), posted from the run's page.

func runParam(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, engine.Fail(engine.ENOTFOUND, "err.rating_run_not_found", nil)
	}
	return id, nil
}

func runURL(id int64) string { return fmt.Sprintf("/tracking/runs/%d#publicity", id) }

func (s *Server) handleRunPublish(c echo.Context) error {
	id, err := runParam(c, "run")
	if err != nil {
		return err
	}
	_, err = s.svc.PublishRun(c.Request().Context(), currentUser(c), id)
	return s.done(c, err, runURL(id), catalog.Message{ID: "flash.rating_published"})
}

func (s *Server) handleObjectionFile(c echo.Context) error {
	id, err := runParam(c, "run")
	if err != nil {
		return err
	}
	in := engine.ObjectionInput{Text: c.FormValue("text")}
	in.ProjectID, _ = strconv.ParseInt(c.FormValue("project_id"), 10, 64)
	form, _ := c.FormParams()
	for _, v := range form["evidence"] {
		if d, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.Evidence = append(in.Evidence, d)
		}
	}
	_, err = s.svc.FileObjection(c.Request().Context(), currentUser(c), id, in)
	return s.done(c, err, runURL(id), catalog.Message{ID: "flash.objection_recorded"})
}

func (s *Server) handleObjectionDecide(c echo.Context) error {
	id, err := runParam(c, "id")
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.objection_not_found", nil)
	}
	o, err := s.svc.DecideObjection(c.Request().Context(), currentUser(c), id, c.FormValue("outcome"), c.FormValue("reason"))
	back := "/tracking"
	if o != nil {
		back = runURL(o.RunID)
	} else if run, _ := strconv.ParseInt(c.FormValue("run"), 10, 64); run > 0 {
		back = runURL(run)
	}
	return s.done(c, err, back, catalog.Message{ID: "flash.objection_decided"})
}

func (s *Server) handleRunFinal(c echo.Context) error {
	id, err := runParam(c, "run")
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	_, err = s.svc.FinalizeRun(c.Request().Context(), currentUser(c), id, version)
	return s.done(c, err, runURL(id), catalog.Message{ID: "flash.rating_final"})
}
