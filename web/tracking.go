package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/rules/catalog"
)

// registerTrackingRoutes adds the after-signature pages: a project's
// agreement, milestones, figures and rectification; a park's annual sheet,
// rating runs and alerts; the zone dashboard.
func (s *Server) registerTrackingRoutes(e *echo.Echo) {
	g := e.Group("", requireUser)
	g.GET("/projects/:id/tracking", s.handleTrackingView)
	g.POST("/projects/:id/agreement", s.handleAgreementSave)
	g.POST("/projects/:id/milestones", s.handleMilestoneRecord)
	g.POST("/projects/:id/figures", s.handleFiguresSave)
	g.POST("/projects/:id/plan", s.handlePlanSubmit)
	g.POST("/projects/:id/decision", s.handleRectificationDecision)
	g.POST("/projects/:id/review", s.handleFullProductionReview)
	g.POST("/projects/:id/land", s.handleIdleLand)
	g.GET("/tracking", s.handleTrackingPark)
	g.GET("/tracking/template.xlsx", s.handleTrackingTemplate)
	g.POST("/tracking/import", s.handleTrackingImport)
	g.POST("/tracking/land-users", s.handleLandUsersImport)
	g.POST("/tracking/runs", s.handleRatingRun)
	g.GET("/tracking/runs/:run", s.handleRatingRunView)
	g.GET("/tracking/runs/:run/results.xlsx", s.handleRatingRunExport)
	g.POST("/tracking/runs/:run/publish", s.handleRunPublish)
	g.POST("/tracking/runs/:run/objections", s.handleObjectionFile)
	g.POST("/tracking/objections/:id/decision", s.handleObjectionDecide)
	g.POST("/tracking/runs/:run/final", s.handleRunFinal)
	g.GET("/tracking/alerts", s.handleTrackingAlerts)
	g.GET("/dashboard", s.handleDashboard)
	g.GET("/dashboard.xlsx", s.handleDashboardExport)
}

// ---- a project's tracking ----

type trackingData struct {
	Project   *engine.Project
	T         *engine.ProjectTracking
	Defaults  *engine.Agreement
	Documents []engine.Document
	Kinds     []string
	Clauses   []string
	Year      int
	Partial   bool
	L         map[string]string // labels of milestones, causes, clauses and run actions
	Class     *engine.FirmClass // the latest rating's class and its measures
	Pending   map[int64]bool    // runs whose planned actions wait for the final (公示)
	Refused   *trackingRefusal  // a form sent back: it opens with what was typed
}

// trackingRefusal is a tracking form the engine refused, shown again on the
// page: open, with what the user typed, and the message beside the field at
// fault, so a typing slip in ten annual figures costs one correction, not ten.
type trackingRefusal struct {
	Form    string // agreement, milestone or figures
	Field   string
	Message string
	Values  url.Values
	err     error
}

// Open reports whether form is the one sent back.
func (d trackingData) Open(form string) bool { return d.Refused != nil && d.Refused.Form == form }

// Typed is what was typed into form's field name if form was sent back,
// else saved (the value on record, or blank).
func (d trackingData) Typed(form, name, saved string) string {
	if d.Open(form) {
		return d.Refused.Values.Get(name)
	}
	return saved
}

// Ticked is Typed for a checkbox.
func (d trackingData) Ticked(form, name string) bool {
	return d.Open(form) && d.Refused.Values.Get(name) != ""
}

// FieldError is the refusal's message if it is about form's field name.
func (d trackingData) FieldError(form, name string) string {
	if d.Open(form) && d.Refused.Field == name {
		return d.Refused.Message
	}
	return ""
}

// trackingLabels names the tracking vocabulary in lang, for templates.
func trackingLabels(lang string) map[string]string {
	m := map[string]string{"": "—",
		engine.ActionRectify: catalog.T(lang, "action.rectify", nil), engine.ActionExitDue: catalog.T(lang, "action.exit_due", nil),
		engine.ActionInRectification: catalog.T(lang, "action.in_rectification", nil)}
	for _, k := range engine.MilestoneKinds {
		m[k] = engine.MilestoneLabel(k, lang)
	}
	for _, k := range []string{engine.CauseRatingD, engine.CauseRDBelow, engine.CauseManual, engine.CauseFullProduction, engine.CauseIdleLand} {
		m[k] = engine.CauseLabel(k, lang)
	}
	for _, k := range append(append([]string{}, engine.ExitClauses...), engine.ClauseUnstated) {
		m[k] = engine.ClauseLabel(k, lang)
	}
	return m
}

func (s *Server) handleTrackingView(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	return s.trackingPage(c, id, nil)
}

// trackingPage renders a project's tracking page; refused, if not nil, is a
// form sent back with its refusal.
func (s *Server) trackingPage(c echo.Context, id int64, refused *trackingRefusal) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	p, tr, err := s.svc.Tracking(ctx, u, id)
	if err != nil {
		return err
	}
	d := trackingData{Project: p, T: tr, Kinds: engine.MilestoneKinds, Clauses: engine.ExitClauses, Year: s.svc.Today().Year() - 1,
		Partial: c.Request().Header.Get("HX-Request") == "true", L: trackingLabels(s.lang(c)), Refused: refused}
	if d.Class, err = s.svc.LatestClass(ctx, u, tr.Ratings); err != nil {
		return err
	}
	d.Pending = map[int64]bool{}
	for _, r := range tr.Ratings {
		if r.Action == "" || d.Pending[r.RunID] {
			continue
		}
		if pub, err := s.svc.RatingPublicity(ctx, u, r.RunID); err == nil && !pub.Final {
			d.Pending[r.RunID] = true
		}
	}
	if tr.Agreement == nil && tr.Can["agreement"] {
		if d.Defaults, err = s.svc.AgreementDefaults(ctx, u, id); err != nil {
			return err
		}
	}
	if tr.Can["milestone"] {
		docs, err := s.svc.Documents(ctx, u, id)
		if err != nil {
			return err
		}
		for _, doc := range docs {
			if doc.Kind == "milestone" {
				d.Documents = append(d.Documents, doc)
			}
		}
	}
	pd := s.page(c, p.Name+" · "+s.t(c, "page.tracking_go.tracking"))
	pd.Data = d
	if d.Partial {
		return s.renderNamed(c, http.StatusOK, "tracking", "tracking_section", pd)
	}
	status := http.StatusOK
	if refused != nil {
		status, _ = s.classify(c, refused.err)
		pd.Flash, pd.FlashOK = refused.Message, false
		if refused.Field != "" {
			pd.Flash = s.fieldName(refused.Field, s.lang(c)) + ":" + refused.Message
		}
	}
	return s.render(c, status, "tracking", pd)
}

// renderNamed executes one named template of a page (an htmx fragment).
func (s *Server) renderNamed(c echo.Context, status int, page, name string, pd *page) error {
	t, ok := s.tmpl.pages[page]
	if !ok {
		return fmt.Errorf("web: no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, pd); err != nil {
		return fmt.Errorf("render %s/%s: %w", page, name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

func pickLang(lang, zh, en string) string {
	if lang == langEN {
		return en
	}
	return zh
}

// done finishes a tracking POST: refusals the user can fix (invalid,
// conflict) come back as a message on the page; the rest (forbidden, not
// found, internal) are errors with their status.
func (s *Server) done(c echo.Context, err error, back string, ok catalog.Message) error {
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.i18n.T(s.lang(c), ok.ID, ok.Args))
	case engine.EINVALID, engine.ECONFLICT:
		msg := engine.ErrorMessage(err, s.lang(c))
		var de *engine.Error
		if errors.As(err, &de) && de.Field != "" {
			msg = s.fieldName(de.Field, s.lang(c)) + ":" + msg
		}
		s.flash(c, false, msg)
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// trackingFormDone finishes one of a project's tracking forms (agreement,
// milestone, figures): a refusal the user can fix shows the page again with
// the form as typed; everything else as done does.
func (s *Server) trackingFormDone(c echo.Context, id int64, form string, err error, back string, ok catalog.Message) error {
	if code := engine.ErrorCode(err); code != engine.EINVALID && code != engine.ECONFLICT {
		return s.done(c, err, back, ok)
	}
	values, _ := c.FormParams()
	r := &trackingRefusal{Form: form, Message: engine.ErrorMessage(err, s.lang(c)), Values: values, err: err}
	var de *engine.Error
	if errors.As(err, &de) {
		r.Field = de.Field
	}
	return s.trackingPage(c, id, r)
}

// fieldName names a field of the tracking forms in messages
// (tfield.<name> in locales/i18n.*.json), else an import column's label.
func (s *Server) fieldName(f, lang string) string {
	if id := "tfield." + f; s.i18n.Has(id) {
		return s.i18n.T(lang, id, nil)
	}
	return columnLabel(f, lang)
}

// num reads a form number; thousands separators are allowed, blank is 0.
func num(c echo.Context, name string) (float64, error) {
	v := strings.ReplaceAll(strings.TrimSpace(c.FormValue(name)), ",", "")
	if v == "" {
		return 0, nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, engine.FieldFail(name, "err.enter_number", nil)
	}
	return x, nil
}

// date reads a form date (YYYY-MM-DD); blank is the zero time (the default).
func date(c echo.Context, name string) (time.Time, error) {
	v := strings.TrimSpace(c.FormValue(name))
	if v == "" {
		return time.Time{}, nil
	}
	d, err := engine.ParseDate(v)
	if err != nil {
		return time.Time{}, engine.FieldFail(name, "err.dates_are_written_2026_03_31", nil)
	}
	return d, nil
}

func trackingURL(id int64) string { return fmt.Sprintf("/projects/%d/tracking", id) }

func (s *Server) handleAgreementSave(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	var ag engine.Agreement
	var ferr error
	setF := func(dst *float64, name string) {
		if v, err := num(c, name); err != nil && ferr == nil {
			ferr = err
		} else {
			*dst = v
		}
	}
	setD := func(dst *time.Time, name string) {
		if v, err := date(c, name); err != nil && ferr == nil {
			ferr = err
		} else {
			*dst = v
		}
	}
	setF(&ag.LandArea, "land_area")
	setF(&ag.FixedAssetInvestment, "fixed_asset_investment")
	setF(&ag.OutputPerMu, "output_per_mu")
	setF(&ag.TaxPerMu, "tax_per_mu")
	setF(&ag.RDIntensity, "rd_intensity")
	var emp float64
	setF(&emp, "employees")
	ag.Employees = int(emp)
	setD(&ag.SignedOn, "signed_on")
	setD(&ag.LandDeliveredOn, "land_delivered_on")
	setD(&ag.StartBy, "start_by")
	setD(&ag.CompleteBy, "complete_by")
	setD(&ag.ProductionBy, "production_by")
	setD(&ag.FullProductionBy, "full_production_by")
	ag.ReviewClause = strings.TrimSpace(c.FormValue("review_clause"))
	if ferr == nil && ag.SignedOn.IsZero() {
		ferr = engine.FieldFail("signed_on", "err.enter_signing_date", nil)
	}
	if ferr == nil {
		_, ferr = s.svc.SaveAgreement(c.Request().Context(), currentUser(c), id, ag)
	}
	return s.trackingFormDone(c, id, "agreement", ferr, trackingURL(id)+"#agreement", catalog.Message{ID: "flash.agreement_saved"})
}

func (s *Server) handleMilestoneRecord(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	m := engine.Milestone{Kind: c.FormValue("kind"), Note: c.FormValue("note")}
	m.DocumentID, _ = strconv.ParseInt(c.FormValue("document"), 10, 64)
	if m.DoneOn, err = date(c, "done_on"); err == nil {
		err = s.svc.RecordMilestone(c.Request().Context(), currentUser(c), id, m)
	}
	return s.trackingFormDone(c, id, "milestone", err, trackingURL(id)+"#milestones", catalog.Message{ID: "flash.milestone_recorded"})
}

func (s *Server) handleFiguresSave(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	f := engine.AnnualFigures{HighTech: c.FormValue("high_tech") != "", AboveScale: c.FormValue("above_scale") != ""}
	f.Year, _ = strconv.Atoi(c.FormValue("year"))
	var ferr error
	for _, x := range []struct {
		name string
		dst  *float64
	}{{"revenue", &f.Revenue}, {"output", &f.Output}, {"value_added", &f.ValueAdded}, {"tax", &f.Tax},
		{"rd_expense", &f.RDExpense}, {"energy_use", &f.EnergyUse}, {"emissions", &f.Emissions}, {"electricity", &f.Electricity}} {
		v, err := num(c, x.name)
		if err != nil && ferr == nil {
			ferr = err
		}
		*x.dst = v
	}
	emp, err := num(c, "employees")
	if err != nil && ferr == nil {
		ferr = err
	}
	f.Employees = int(emp)
	if ferr == nil {
		ferr = s.svc.SaveFigures(c.Request().Context(), currentUser(c), id, f)
	}
	return s.trackingFormDone(c, id, "figures", ferr, trackingURL(id)+"#figures", catalog.Message{ID: "flash.figures_saved"})
}

func (s *Server) handlePlanSubmit(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	err = s.svc.SubmitPlan(c.Request().Context(), currentUser(c), id, c.FormValue("plan"))
	return s.done(c, err, trackingURL(id)+"#rectification", catalog.Message{ID: "flash.plan_submitted"})
}

// handleRectificationDecision is the committee's outcome of a
// rectification (rectified / failed), or an exit straight from production.
func (s *Server) handleRectificationDecision(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	form, _ := c.FormParams()
	clauses := form["clauses"]
	reason := c.FormValue("reason")
	switch c.FormValue("outcome") {
	case "exit":
		_, err = s.svc.Exit(ctx, u, id, version, clauses, reason)
	case "rectify":
		_, err = s.svc.Act(ctx, u, id, engine.Action{Event: engine.EventRectify, Version: version, Reason: reason})
	default:
		d := engine.Decision{Version: version, Outcome: c.FormValue("outcome"), Reason: reason, Clauses: clauses}
		if y := strings.TrimSpace(c.FormValue("evidence_year")); y != "" {
			ev := &engine.RectifiedEvidence{}
			if ev.Year, err = strconv.Atoi(y); err != nil {
				return s.done(c, engine.FieldFail("evidence_year", "err.enter_year", nil), trackingURL(id)+"#rectification", catalog.Message{})
			}
			if ev.FixedAssetInvestment, err = num(c, "evidence_investment"); err != nil {
				return s.done(c, err, trackingURL(id)+"#rectification", catalog.Message{})
			}
			d.Evidence = ev
		}
		_, err = s.svc.DecideRectification(ctx, u, id, d)
	}
	return s.done(c, err, trackingURL(id)+"#rectification", catalog.Message{ID: "flash.decision_recorded"})
}

// handleFullProductionReview is the committee's 达产复核.
func (s *Server) handleFullProductionReview(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	in := engine.ReviewInput{}
	in.Version, _ = strconv.ParseInt(c.FormValue("version"), 10, 64)
	in.Year, _ = strconv.Atoi(strings.TrimSpace(c.FormValue("year")))
	if in.FixedAssetInvestment, err = num(c, "fixed_asset_investment"); err == nil {
		_, _, err = s.svc.ReviewFullProduction(c.Request().Context(), currentUser(c), id, in)
	}
	return s.done(c, err, trackingURL(id)+"#review", catalog.Message{ID: "flash.review_recorded"})
}

// handleIdleLand is the committee's idle-land decision: the fee and
// rectification, recovery of the land, or construction resumed.
func (s *Server) handleIdleLand(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	// A project of another park is not found, as on every tracking page.
	if _, err := s.svc.Project(c.Request().Context(), currentUser(c), id); err != nil {
		return err
	}
	act := engine.Action{Event: c.FormValue("event"), Reason: c.FormValue("reason")}
	act.Version, _ = strconv.ParseInt(c.FormValue("version"), 10, 64)
	switch act.Event {
	case engine.EventIdleLand, engine.EventRecoverLand, engine.EventResumeConstruction:
	default:
		return s.done(c, engine.FieldFail("event", "err.choose_decision", nil), trackingURL(id)+"#idle", catalog.Message{})
	}
	facts := &engine.IdleFacts{}
	var ferr error
	if facts.StalledSince, ferr = date(c, "stalled_since"); ferr == nil {
		for _, x := range []struct {
			name string
			dst  *float64
		}{{"invested_share", &facts.InvestedShare}, {"developed_share", &facts.DevelopedShare}, {"land_price", &facts.LandPrice}} {
			if *x.dst, err = num(c, x.name); err != nil && ferr == nil {
				ferr = err
			}
		}
	}
	if ferr == nil {
		act.Idle = facts
		_, ferr = s.svc.Act(c.Request().Context(), currentUser(c), id, act)
	}
	return s.done(c, ferr, trackingURL(id)+"#idle", catalog.Message{ID: "flash.idle_decided"})
}

// ---- a park's annual sheet and rating runs ----

type parkTrackingData struct {
	Parks      []engine.Park
	Park       engine.Park
	Year       int
	Years      []int
	Runs       []engine.RatingRun
	CanImport  bool
	CanRate    bool
	Import     *engine.ImportResult
	ImportFile string
	Token      string
	Columns    map[string]string
	Alerts     []engine.Alert
	LandImport *engine.ImportResult // a land-user import's outcome
	LandUsers  []engine.LandUser    // the park's existing industrial land users
}

// parkParam picks the requested park among those u reads (the first by default).
func (s *Server) parkParam(c echo.Context, name string) (engine.Park, []engine.Park, error) {
	parks, err := s.svc.Parks(c.Request().Context(), currentUser(c))
	if err != nil {
		return engine.Park{}, nil, err
	}
	want := c.QueryParam(name)
	if want == "" {
		want = c.FormValue(name)
	}
	for _, p := range parks {
		if p.ID == want || want == "" {
			return p, parks, nil
		}
	}
	return engine.Park{}, parks, engine.Fail(engine.ENOTFOUND, "err.park_not_found", nil)
}

func (s *Server) yearParam(c echo.Context) int {
	y, _ := strconv.Atoi(c.QueryParam("year"))
	if y == 0 {
		y, _ = strconv.Atoi(c.FormValue("year"))
	}
	if this := s.svc.Today().Year(); y < 2000 || y > this {
		y = this - 1
	}
	return y
}

func (s *Server) parkTracking(c echo.Context) (*parkTrackingData, error) {
	ctx, u := c.Request().Context(), currentUser(c)
	park, parks, err := s.parkParam(c, "park")
	if err != nil {
		return nil, err
	}
	if len(parks) == 0 {
		return nil, engine.Fail(engine.EFORBIDDEN, "err.you_belong_to_no_park", nil)
	}
	d := &parkTrackingData{Parks: parks, Park: park, Year: s.yearParam(c), Columns: map[string]string{}}
	this := s.svc.Today().Year()
	for y := this; y >= this-5; y-- {
		d.Years = append(d.Years, y)
	}
	runs, err := s.svc.RatingRuns(ctx, u)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if r.Park == park.ID {
			d.Runs = append(d.Runs, r)
		}
	}
	d.CanImport, d.CanRate = s.svc.CanTrack(u, park.ID, "figures"), s.svc.CanTrack(u, park.ID, "rate")
	for _, col := range annualColumns {
		d.Columns[col.field] = columnOf(col.field)
	}
	if d.Alerts, err = s.svc.Alerts(ctx, u); err != nil {
		return nil, err
	}
	if d.LandUsers, err = s.svc.LandUsers(ctx, u, park.ID); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) handleTrackingPark(c echo.Context) error {
	d, err := s.parkTracking(c)
	if err != nil {
		return err
	}
	pd := s.page(c, s.t(c, "page.tracking_go.per_mu_rating"))
	pd.Data = d
	return s.render(c, http.StatusOK, "tracking_park", pd)
}

func (s *Server) handleTrackingTemplate(c echo.Context) error {
	ctx, u := c.Request().Context(), currentUser(c)
	park, _, err := s.parkParam(c, "park")
	if err != nil {
		return err
	}
	if !s.svc.CanTrack(u, park.ID, "figures") {
		return engine.Fail(engine.EFORBIDDEN, "err.you_may_not_enter_this_park", nil)
	}
	firms, err := s.svc.ReportingFirms(ctx, u, park.ID)
	if err != nil {
		return err
	}
	year := s.yearParam(c)
	b, err := annualTemplate(year, firms)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("annual-%s-%d.xlsx", park.ID, year)
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, name,
		urlQueryEscape(fmt.Sprintf("%s%d年度亩均数据模板.xlsx", park.NameZH, year))))
	return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b)
}

// handleTrackingImport reads an annual sheet. A sheet with bad rows imports
// nothing: the page lists every bad row, and offers to import only the good
// rows of the same upload, which is kept under a random name for that.
func (s *Server) handleTrackingImport(c echo.Context) error {
	ctx, u := c.Request().Context(), currentUser(c)
	d, err := s.parkTracking(c)
	if err != nil {
		return err
	}
	if !d.CanImport {
		return engine.Fail(engine.EFORBIDDEN, "err.you_may_not_enter_this_park", nil)
	}
	var data []byte
	token := c.FormValue("token")
	stash := func(tok string) string {
		return filepath.Join(s.cfg.DocsDir, fmt.Sprintf(".import-%d-%s.xlsx", u.ID, tok))
	}
	fileName := c.FormValue("file_name")
	if token != "" && validToken(token) {
		if data, err = os.ReadFile(stash(token)); err != nil {
			return s.importFailed(c, d, engine.FieldFail("file", "err.upload_has_expired_upload_file_again", nil))
		}
	} else {
		if data, fileName, err = s.uploadedWorkbook(c); err != nil {
			return s.importFailed(c, d, err)
		}
	}
	rows, cellErrs, err := readAnnualSheet(bytes.NewReader(data), d.Year)
	if err != nil {
		return s.importFailed(c, d, err)
	}
	sum := sha256.Sum256(data)
	res, err := s.svc.ImportFigures(ctx, u, engine.ImportInput{Park: d.Park.ID, Year: d.Year, Rows: rows, Errors: cellErrs,
		FileName: fileName, FileSHA256: hex.EncodeToString(sum[:]), AcceptGood: c.FormValue("accept_good") != ""})
	if err != nil {
		return s.importFailed(c, d, err)
	}
	d.Import, d.ImportFile = res, fileName
	if res.Imported == 0 && len(res.Errors) > 0 && res.Good > 0 {
		d.Token = randomToken()
		if err := os.WriteFile(stash(d.Token), data, 0o600); err != nil {
			return err
		}
	} else if token != "" {
		_ = os.Remove(stash(token))
	}
	status := http.StatusOK
	if res.Imported == 0 && len(res.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	pd := s.page(c, s.t(c, "page.tracking_go.import_annual_figures"))
	pd.Data = d
	return s.render(c, status, "tracking_park", pd)
}

func validToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// uploadedWorkbook reads the form's "file" within the upload limit. A
// missing or oversized file is an *engine.Error for importFailed to show
// beside the form; anything else is internal.
func (s *Server) uploadedWorkbook(c echo.Context) (data []byte, name string, err error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", engine.FieldFail("file", "err.choose_excel_file_to_import", nil)
	}
	if fh.Size > s.cfg.MaxUpload {
		return nil, "", s.tooBig()
	}
	src, err := fh.Open()
	if err != nil {
		return nil, "", err
	}
	defer src.Close()
	data, err = io.ReadAll(io.LimitReader(src, s.cfg.MaxUpload+1))
	return data, filepath.Base(fh.Filename), err
}

func (s *Server) importFailed(c echo.Context, d *parkTrackingData, err error) error {
	switch engine.ErrorCode(err) {
	case engine.EINVALID, engine.ECONFLICT:
	default:
		return err
	}
	pd := s.page(c, s.t(c, "page.tracking_go.import_annual_figures"))
	pd.Flash, pd.FlashOK = engine.ErrorMessage(err, s.lang(c)), false
	pd.Data = d
	status := http.StatusBadRequest
	if errors.As(err, new(fileTooBig)) {
		status = http.StatusRequestEntityTooLarge
	}
	return s.render(c, status, "tracking_park", pd)
}

func (s *Server) handleRatingRun(c echo.Context) error {
	park, _, err := s.parkParam(c, "park")
	if err != nil {
		return err
	}
	run, err := s.svc.RunRating(c.Request().Context(), currentUser(c), park.ID, s.yearParam(c))
	if err != nil {
		return s.done(c, err, fmt.Sprintf("/tracking?park=%s&year=%d", park.ID, s.yearParam(c)), catalog.Message{})
	}
	s.flash(c, true, s.i18n.T(s.lang(c), "flash.rating_done", catalog.Args{"Year": run.Year, "N": len(run.Results)}))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/tracking/runs/%d", run.ID))
}

type runData struct {
	Run        *engine.RatingRun
	Park       string
	Indicators []string
	Below      []string // the below-scale method's indicator names, for its firms' lines
	Verified   bool
	Shortfalls []engine.RatingResult
	Names      map[int64]string
	Convention string                      // the rule set's convention in words
	Rated      int                         // n: the firms ranked
	Expected   []bandCount                 // what the convention gives for n
	Classes    []rules.ClassMeasures       // the measures of each class
	Classed    []string                    // the classes to count: the bands, then the not-rated class
	Publicity  *engine.RunPublicity        // 公示 and 异议
	Docs       map[int64][]engine.Document // each firm's documents, for a promoter's objection
}

type bandCount struct {
	Band string
	N    int
}

func (s *Server) handleRatingRunView(c echo.Context) error {
	ctx, u := c.Request().Context(), currentUser(c)
	id, err := strconv.ParseInt(c.Param("run"), 10, 64)
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.rating_run_not_found", nil)
	}
	run, err := s.svc.RatingRun(ctx, u, id)
	if err != nil {
		return err
	}
	d := runData{Run: run, Verified: true, Names: map[int64]string{}}
	for _, in := range run.Inputs {
		d.Names[in.Firm.ProjectID] = in.Firm.Name
	}
	for _, r := range run.Results {
		if r.RDBelowCommitment || r.RDBelowBracket {
			d.Shortfalls = append(d.Shortfalls, r)
		}
	}
	for _, r := range run.Results {
		if r.Rated {
			d.Rated++
		}
	}
	rs, err := s.svc.RuleSetVersion(ctx, run.RuleSetVersion)
	if err != nil {
		return err
	}
	cfg := rs.Rating()
	for _, ind := range cfg.Indicators {
		d.Indicators = append(d.Indicators, pickLang(s.lang(c), ind.NameZH, ind.NameEN))
	}
	if m := cfg.BelowScale; m != nil {
		for _, ind := range m.Indicators {
			d.Below = append(d.Below, pickLang(s.lang(c), ind.NameZH, ind.NameEN))
		}
	}
	zh, en := rs.BandConvention()
	d.Convention = pickLang(s.lang(c), zh, en)
	for i, n := range rs.BandCounts(d.Rated) {
		d.Expected = append(d.Expected, bandCount{cfg.Bands[i].Band, n})
		d.Classed = append(d.Classed, cfg.Bands[i].Band)
	}
	if cfg.NotRatedClass != "" {
		d.Classed = append(d.Classed, cfg.NotRatedClass)
	}
	d.Classes = cfg.Classes
	if d.Publicity, err = s.svc.RatingPublicity(ctx, u, run.ID); err != nil {
		return err
	}
	if d.Publicity.Can["object"] {
		d.Docs = map[int64][]engine.Document{}
		for _, r := range run.Results {
			if docs, err := s.svc.Documents(ctx, u, r.ProjectID); err == nil {
				d.Docs[r.ProjectID] = docs
			}
		}
	}
	parks, err := s.svc.Parks(ctx, u)
	if err != nil {
		return err
	}
	d.Park = s.parkNames(parks, s.lang(c))[run.Park]
	pd := s.page(c, s.i18n.T(s.lang(c), "page.tracking_run.title", catalog.Args{"Year": run.Year}))
	pd.Data = d
	return s.render(c, http.StatusOK, "tracking_run", pd)
}

// handleTrackingAlerts is the workbench's tracking panel (an htmx fragment).
func (s *Server) handleTrackingAlerts(c echo.Context) error {
	alerts, err := s.svc.Alerts(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	pd := s.page(c, "")
	pd.Data = alerts
	return s.renderNamed(c, http.StatusOK, "tracking_park", "tracking_alerts_fragment", pd)
}
