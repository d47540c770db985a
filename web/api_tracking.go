package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// registerWorkAPIRoutes registers the browser's work for machines: a
// project's tracking (agreement, milestones, annual figures one by one or
// as the Excel template), the park's alerts, rating runs, dashboard
// figures, users and roles for admins, and the rule sets (read only). Each
// handler calls the same engine command as its page, so the authorization
// is the page's; the token's scope is checked before (apiScopes).
func (s *Server) registerWorkAPIRoutes(a *echo.Group) {
	a.GET("/projects/:id/tracking", s.handleAPITracking)
	a.PUT("/projects/:id/agreement", s.handleAPIAgreement)
	a.POST("/projects/:id/milestones", s.handleAPIMilestone)
	a.POST("/projects/:id/figures", s.handleAPIFigures)
	a.POST("/tracking/import", s.handleAPITrackingImport)
	a.GET("/tracking/alerts", s.handleAPIAlerts)
	a.GET("/tracking/runs", s.handleAPIRatingRuns)
	a.POST("/tracking/runs", s.handleAPIRatingRunStart)
	a.GET("/tracking/runs/:run", s.handleAPIRatingRun)
	a.GET("/tracking/runs/:run/results.xlsx", s.handleAPIRatingRunExport)
	a.GET("/dashboard", s.handleAPIDashboard)
	a.GET("/users", s.handleAPIUsers)
	a.GET("/users/:id", s.handleAPIUser)
	a.POST("/users", s.handleAPIUserCreate)
	a.PUT("/users/:id/roles", s.handleAPIUserRoles)
	a.PUT("/users/:id/status", s.handleAPIUserStatus)
	a.GET("/rulesets", s.handleAPIRuleSets)
	a.GET("/rulesets/:version", s.handleAPIRuleSet)
}

// apiDate reads a YYYY-MM-DD date of a JSON body; "" is the zero time.
func apiDate(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := engine.ParseDate(v)
	if err != nil {
		return time.Time{}, engine.FieldFail(field, "err.dates_are_written_2026_03_31", nil)
	}
	return d, nil
}

// projectTracking is GET /projects/{id}/tracking.
type projectTracking struct {
	Project  *engine.Project         `json:"project"`
	Tracking *engine.ProjectTracking `json:"tracking"`
}

func (s *Server) handleAPITracking(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	p, tr, err := s.svc.Tracking(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, projectTracking{Project: p, Tracking: tr})
}

// agreementInput is the body of PUT /projects/{id}/agreement: the signed
// agreement's commitments, dates as YYYY-MM-DD.
type agreementInput struct {
	SignedOn             string  `json:"signed_on"`
	LandDeliveredOn      string  `json:"land_delivered_on,omitempty"`
	LandArea             float64 `json:"land_area"`
	FixedAssetInvestment float64 `json:"fixed_asset_investment"`
	OutputPerMu          float64 `json:"output_per_mu"`
	TaxPerMu             float64 `json:"tax_per_mu"`
	RDIntensity          float64 `json:"rd_intensity"`
	Employees            int     `json:"employees"`
	StartBy              string  `json:"start_by,omitempty"`
	CompleteBy           string  `json:"complete_by,omitempty"`
	ProductionBy         string  `json:"production_by,omitempty"`
	FullProductionBy     string  `json:"full_production_by,omitempty"`
	ReviewClause         string  `json:"review_clause,omitempty"`
}

func (s *Server) handleAPIAgreement(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	var in agreementInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	ag := engine.Agreement{LandArea: in.LandArea, FixedAssetInvestment: in.FixedAssetInvestment, OutputPerMu: in.OutputPerMu,
		TaxPerMu: in.TaxPerMu, RDIntensity: in.RDIntensity, Employees: in.Employees, ReviewClause: strings.TrimSpace(in.ReviewClause)}
	for _, d := range []struct {
		field, v string
		dst      *time.Time
	}{{"signed_on", in.SignedOn, &ag.SignedOn}, {"land_delivered_on", in.LandDeliveredOn, &ag.LandDeliveredOn},
		{"start_by", in.StartBy, &ag.StartBy}, {"complete_by", in.CompleteBy, &ag.CompleteBy},
		{"production_by", in.ProductionBy, &ag.ProductionBy}, {"full_production_by", in.FullProductionBy, &ag.FullProductionBy}} {
		if *d.dst, err = apiDate(d.field, d.v); err != nil {
			return err
		}
	}
	if ag.SignedOn.IsZero() {
		return engine.FieldFail("signed_on", "err.enter_signing_date", nil)
	}
	out, err := s.svc.SaveAgreement(c.Request().Context(), currentUser(c), id, ag)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// milestoneInput is the body of POST /projects/{id}/milestones.
type milestoneInput struct {
	Kind       string `json:"kind"`
	DoneOn     string `json:"done_on"`
	Note       string `json:"note"`
	DocumentID int64  `json:"document_id"`
}

func (s *Server) handleAPIMilestone(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	var in milestoneInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	m := engine.Milestone{Kind: in.Kind, Note: in.Note, DocumentID: in.DocumentID}
	if m.DoneOn, err = apiDate("done_on", in.DoneOn); err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	if err := s.svc.RecordMilestone(ctx, u, id, m); err != nil {
		return err
	}
	_, tr, err := s.svc.Tracking(ctx, u, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tr)
}

func (s *Server) handleAPIFigures(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	// The body is one year's figures as the firm reports them; the project,
	// its park and who entered them come from the request, never the body.
	var f engine.AnnualFigures
	if err := s.decodeJSON(c, &f); err != nil {
		return err
	}
	for field, set := range map[string]bool{"project_id": f.ProjectID != 0, "park": f.Park != "", "entered_by": f.EnteredBy != "", "entered_at": !f.EnteredAt.IsZero()} {
		if set {
			return engine.FieldFail(field, "err.unknown_field", engine.Args{"Field": field})
		}
	}
	ctx, u := c.Request().Context(), currentUser(c)
	if err := s.svc.SaveFigures(ctx, u, id, f); err != nil {
		return err
	}
	_, tr, err := s.svc.Tracking(ctx, u, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tr)
}

// apiPark is the park named by the query (or form) field "park", which must
// be one the user reads and the token reaches.
func (s *Server) apiPark(c echo.Context) (string, error) {
	park, _, err := s.parkParam(c, "park")
	if err != nil {
		return "", err
	}
	if c.QueryParam("park") == "" && c.FormValue("park") == "" {
		return "", engine.FieldFail("park", "err.give_park", nil)
	}
	if _, err := s.tokenParkFilter(c, []string{park.ID}); err != nil {
		return "", err
	}
	return park.ID, nil
}

// apiYear is the "year" field: a past year (or this one) from 2000 on.
func (s *Server) apiYear(c echo.Context) (int, error) {
	v := c.QueryParam("year")
	if v == "" {
		v = c.FormValue("year")
	}
	y, err := strconv.Atoi(v)
	if err != nil || y < 2000 || y > s.svc.Today().Year() {
		return 0, engine.FieldFail("year", "err.year_must_2000", engine.Args{"Year": s.svc.Today().Year()})
	}
	return y, nil
}

// handleAPITrackingImport takes the annual-figures template (multipart
// field "file", with park and year) as the park page does: with any bad
// row nothing is imported (422 with every row's problem) unless
// accept_good=1 imports the good rows.
func (s *Server) handleAPITrackingImport(c echo.Context) error {
	park, err := s.apiPark(c)
	if err != nil {
		return err
	}
	year, err := s.apiYear(c)
	if err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	if !s.svc.CanTrack(u, park, "figures") {
		return engine.Fail(engine.EFORBIDDEN, "err.you_may_not_enter_this_park", nil)
	}
	data, name, err := s.uploadedWorkbook(c)
	if err != nil {
		return err
	}
	rows, cellErrs, err := readAnnualSheet(bytes.NewReader(data), year)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	accept := c.FormValue("accept_good") == "1" || c.FormValue("accept_good") == "true"
	res, err := s.svc.ImportFigures(ctx, u, engine.ImportInput{Park: park, Year: year, Rows: rows, Errors: cellErrs,
		FileName: name, FileSHA256: hex.EncodeToString(sum[:]), AcceptGood: accept})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Imported == 0 && len(res.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return c.JSON(status, res)
}

func (s *Server) handleAPIAlerts(c echo.Context) error {
	alerts, err := s.svc.Alerts(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	out := []engine.Alert{}
	for _, a := range alerts {
		if tok := currentToken(c); tok == nil || len(tok.Parks) == 0 || contains(tok.Parks, a.Park) {
			out = append(out, a)
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleAPIRatingRuns(c echo.Context) error {
	runs, err := s.svc.RatingRuns(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	out := []engine.RatingRun{}
	for _, r := range runs {
		if tok := currentToken(c); tok == nil || len(tok.Parks) == 0 || contains(tok.Parks, r.Park) {
			out = append(out, r)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// ratingRunInput is the body of POST /tracking/runs.
type ratingRunInput struct {
	Park string `json:"park"`
	Year int    `json:"year"`
}

func (s *Server) handleAPIRatingRunStart(c echo.Context) error {
	var in ratingRunInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Park == "" {
		return engine.FieldFail("park", "err.give_park", nil)
	}
	if in.Year < 2000 || in.Year > s.svc.Today().Year() {
		return engine.FieldFail("year", "err.year_must_2000", engine.Args{"Year": s.svc.Today().Year()})
	}
	if _, err := s.tokenParkFilter(c, []string{in.Park}); err != nil {
		return err
	}
	run, err := s.svc.RunRating(c.Request().Context(), currentUser(c), in.Park, in.Year)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, run)
}

func (s *Server) apiRun(c echo.Context) (*engine.RatingRun, error) {
	id, err := strconv.ParseInt(c.Param("run"), 10, 64)
	if err != nil {
		return nil, engine.Fail(engine.ENOTFOUND, "err.rating_run_not_found", nil)
	}
	run, err := s.svc.RatingRun(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return nil, err
	}
	if tok := currentToken(c); tok != nil && len(tok.Parks) > 0 && !contains(tok.Parks, run.Park) {
		return nil, engine.Fail(engine.ENOTFOUND, "err.rating_run_not_found", nil)
	}
	return run, nil
}

func (s *Server) handleAPIRatingRun(c echo.Context) error {
	run, err := s.apiRun(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run)
}

func (s *Server) handleAPIRatingRunExport(c echo.Context) error {
	if _, err := s.apiRun(c); err != nil {
		return err
	}
	return s.handleRatingRunExport(c)
}

func (s *Server) handleAPIDashboard(c echo.Context) error {
	if p := c.QueryParam("park"); p != "" {
		if _, err := s.tokenParkFilter(c, []string{p}); err != nil {
			return err
		}
	} else if tok := currentToken(c); tok != nil && len(tok.Parks) > 0 {
		return engine.FieldFail("park", "err.token_limited_some_parks", nil)
	}
	d, err := s.dashboard(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// apiAccount is a user and the roles per park, as an admin sees it.
type apiAccount struct {
	*engine.User
	Roles map[string][]engine.Role `json:"roles"`
}

func (s *Server) handleAPIUsers(c echo.Context) error {
	accs, err := s.svc.Accounts(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	out := []apiAccount{}
	for _, a := range accs {
		out = append(out, apiAccount{User: a.User, Roles: a.Roles})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiUserID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, engine.Fail(engine.ENOTFOUND, "err.user_not_found", nil)
	}
	return id, nil
}

func (s *Server) handleAPIUser(c echo.Context) error {
	id, err := s.apiUserID(c)
	if err != nil {
		return err
	}
	a, err := s.svc.Account(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiAccount{User: a.User, Roles: a.Roles})
}

// newUserInput is the body of POST /users: a colleague with an initial
// password and roles in one park.
type newUserInput struct {
	Username    string        `json:"username"`
	DisplayName string        `json:"display_name"`
	Password    string        `json:"password"`
	Park        string        `json:"park"`
	Roles       []engine.Role `json:"roles"`
}

func (s *Server) handleAPIUserCreate(c echo.Context) error {
	var in newUserInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Park != "" {
		if _, err := s.tokenParkFilter(c, []string{in.Park}); err != nil {
			return err
		}
	}
	ctx, u := c.Request().Context(), currentUser(c)
	nu, err := s.svc.CreateAccount(ctx, u, engine.NewAccount{Username: in.Username, DisplayName: in.DisplayName,
		Password: in.Password, Park: in.Park, Roles: in.Roles})
	if err != nil {
		return err
	}
	a, err := s.svc.Account(ctx, u, nu.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, apiAccount{User: a.User, Roles: a.Roles})
}

// statusInput is the body of PUT /users/{id}/status.
type statusInput struct {
	Disabled *bool `json:"disabled"`
}

// handleAPIUserStatus disables or enables an account; disabling ends its
// sessions and revokes its tokens at once (as on the page).
func (s *Server) handleAPIUserStatus(c echo.Context) error {
	id, err := s.apiUserID(c)
	if err != nil {
		return err
	}
	var in statusInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Disabled == nil {
		return engine.FieldFail("disabled", "err.give_disabled_true_disable", nil)
	}
	ctx, u := c.Request().Context(), currentUser(c)
	if err := s.svc.SetDisabled(ctx, u, id, *in.Disabled); err != nil {
		return err
	}
	a, err := s.svc.Account(ctx, u, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiAccount{User: a.User, Roles: a.Roles})
}

// rolesInput is the body of PUT /users/{id}/roles: the user's roles in one park.
type rolesInput struct {
	Park  string        `json:"park"`
	Roles []engine.Role `json:"roles"`
}

func (s *Server) handleAPIUserRoles(c echo.Context) error {
	id, err := s.apiUserID(c)
	if err != nil {
		return err
	}
	var in rolesInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Park == "" {
		return engine.FieldFail("park", "err.give_park", nil)
	}
	if _, err := s.tokenParkFilter(c, []string{in.Park}); err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	if err := s.svc.SetRoles(ctx, u, id, in.Park, in.Roles); err != nil {
		return err
	}
	a, err := s.svc.Account(ctx, u, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiAccount{User: a.User, Roles: a.Roles})
}

func (s *Server) handleAPIRuleSets(c echo.Context) error {
	park, err := s.apiPark(c)
	if err != nil {
		return err
	}
	vs, err := s.svc.RuleSetVersions(c.Request().Context(), currentUser(c), park)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []engine.RuleSetRecord{}
	}
	return c.JSON(http.StatusOK, vs)
}

// ruleSetAnswer is one stored rule-set version with its source text.
type ruleSetAnswer struct {
	engine.RuleSetRecord
	Source string `json:"source"`
}

func (s *Server) handleAPIRuleSet(c echo.Context) error {
	rec, err := s.svc.RuleSetSource(c.Request().Context(), currentUser(c), c.Param("version"))
	if err != nil {
		return err
	}
	if _, err := s.tokenParkFilter(c, []string{rec.Park}); err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.rule_set_version_not", nil)
	}
	return c.JSON(http.StatusOK, ruleSetAnswer{RuleSetRecord: rec, Source: string(rec.Source)})
}
