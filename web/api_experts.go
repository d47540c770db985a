package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// registerExpertsAPIRoutes registers a park's expert pool (专家库) for
// machines, under the guards of /admin/experts (the engine's: admins manage,
// admins, committee members and auditors read). The pool is people, so its
// scopes are the accounts' (users:read, users:manage). Every write is a
// POST honouring Idempotency-Key; a change carries the version read.
func (s *Server) registerExpertsAPIRoutes(a *echo.Group) {
	a.GET("/experts", s.handleAPIExperts)
	a.POST("/experts", s.handleAPIExpertCreate)
	a.POST("/experts/:xid", s.handleAPIExpertUpdate)
	a.POST("/experts/:xid/deactivate", s.handleAPIExpertDeactivate)
}

// expertInput is the body of POST /experts and POST /experts/{xid}: the
// pool form's fields. Active defaults to true; Version is the expert's
// version read, for a change.
type expertInput struct {
	Park         string   `json:"park"`
	Version      int64    `json:"version,omitempty"`
	Username     string   `json:"username"`
	Name         string   `json:"name"`
	Fields       []string `json:"fields"`
	EmployerName string   `json:"employer_name,omitempty"`
	EmployerUSCC string   `json:"employer_uscc,omitempty"`
	Relations    []string `json:"relations,omitempty"`
	LoadLimit    int      `json:"load_limit,omitempty"`
	Active       *bool    `json:"active,omitempty"`
}

func (in expertInput) engine(id int64) engine.ExpertInput {
	return engine.ExpertInput{ID: id, Version: in.Version, Park: in.Park, Username: strings.TrimSpace(in.Username), Name: in.Name,
		Fields: in.Fields, EmployerName: in.EmployerName, EmployerUSCC: in.EmployerUSCC, Relations: in.Relations,
		LoadLimit: in.LoadLimit, Active: in.Active == nil || *in.Active}
}

// expertDeactivate is the body of POST /experts/{xid}/deactivate.
type expertDeactivate struct {
	Park    string `json:"park"`
	Version int64  `json:"version"`
}

func (s *Server) handleAPIExperts(c echo.Context) error {
	park, err := s.apiPark(c)
	if err != nil {
		return err
	}
	xs, err := s.svc.PoolExperts(c.Request().Context(), currentUser(c), park)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, nonNil(xs))
}

func (s *Server) handleAPIExpertCreate(c echo.Context) error {
	return s.apiExpertSave(c, 0, http.StatusCreated)
}

func (s *Server) handleAPIExpertUpdate(c echo.Context) error {
	id, err := expertID(c)
	if err != nil {
		return err
	}
	return s.apiExpertSave(c, id, http.StatusOK)
}

func (s *Server) apiExpertSave(c echo.Context, id int64, status int) error {
	var in expertInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.bodyPark(c, in.Park); err != nil {
		return err
	}
	if id != 0 && in.Version <= 0 {
		return engine.FieldFail("version", "err.give_version_you_read", nil)
	}
	answering(c, status)
	x, err := s.svc.SaveExpert(c.Request().Context(), currentUser(c), in.engine(id))
	if err != nil {
		return err
	}
	return answer(c, status, x)
}

func (s *Server) handleAPIExpertDeactivate(c echo.Context) error {
	id, err := expertID(c)
	if err != nil {
		return err
	}
	var in expertDeactivate
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.bodyPark(c, in.Park); err != nil {
		return err
	}
	if in.Version <= 0 {
		return engine.FieldFail("version", "err.give_version_you_read", nil)
	}
	answering(c, http.StatusOK)
	x, err := s.svc.DeactivateExpert(c.Request().Context(), currentUser(c), in.Park, id, in.Version)
	if err != nil {
		return err
	}
	return answer(c, http.StatusOK, x)
}

func expertID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("xid"), 10, 64)
	if err != nil || id <= 0 {
		return 0, engine.Fail(engine.ENOTFOUND, "err.experts_not_found", nil)
	}
	return id, nil
}
