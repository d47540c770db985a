package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"zonevet/rules/catalog"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules"
)

func (s *Server) registerProjectRoutes(e *echo.Echo) {
	g := e.Group("", requireUser)
	g.GET("/", s.handleWorkbench)
	g.GET("/projects", s.handleProjectList)
	g.GET("/projects/new", s.handleProjectNew)
	g.GET("/projects/same-uscc", s.handleSameUSCC)
	g.POST("/projects", s.handleProjectCreate)
	g.GET("/projects/:id", s.handleProjectView)
	g.GET("/projects/:id/edit", s.handleProjectEdit)
	g.POST("/projects/:id/edit", s.handleProjectUpdate)
	g.POST("/projects/:id/act", s.handleProjectAct)
	g.POST("/projects/:id/score", s.handleProjectScore)
	g.POST("/projects/:id/conflict", s.handleProjectConflict)
	g.POST("/projects/:id/documents", s.handleDocumentUpload)
	g.GET("/projects/:id/documents/:doc", s.handleDocumentDownload)
}

// ---- workbench ----

type workbenchData struct {
	Parks  []engine.ParkWork
	States []engine.State
}

func (s *Server) handleWorkbench(c echo.Context) error {
	work, err := s.svc.Workbench(c.Request().Context(), currentUser(c), 10)
	if err != nil {
		return err
	}
	pd := s.page(c, s.t(c, "workbench.title"))
	pd.Data = workbenchData{Parks: work, States: engine.States}
	return s.render(c, http.StatusOK, "workbench", pd)
}

// ---- list ----

const listPageSize = 50

// listQuery is the project list's filter form, echoed back into the page.
// After and Before are keyset cursors (engine.ListCursor) carried by the
// next and previous links, so that paging on costs one page, not every row
// before it; Page is then only the number shown.
type listQuery struct {
	Park, State, Industry, Q, Sort string
	Overdue                        bool
	Page                           int
	After, Before                  string
}

// cursorURL is url(page) with a keyset cursor ("after" or "before").
func (q listQuery) cursorURL(page int, param, cursor string) string {
	u := q.url(page)
	if page <= 1 {
		return u // the first page is read from the start
	}
	return u + "&" + param + "=" + url.QueryEscape(cursor)
}

func (q listQuery) url(page int) string {
	v := url.Values{}
	for k, x := range map[string]string{"park": q.Park, "state": q.State, "industry": q.Industry, "q": q.Q, "sort": q.Sort} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if q.Overdue {
		v.Set("overdue", "1")
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/projects"
	}
	return "/projects?" + v.Encode()
}

// sortKeys are the list's sort options, allow-listed before they reach the store.
var sortKeys = []string{"due", "-updated", "updated", "name", "-id", "id"}

type listData struct {
	Query      listQuery
	Projects   []*engine.Project
	ParkNames  map[string]string
	Parks      []engine.Park
	States     []engine.State
	Sorts      []string
	Total      int
	Page       int
	Pages      int
	PrevURL    string
	NextURL    string
	From, To   int
	CanCreate  bool
	FilterBase string
}

func (s *Server) parseListQuery(c echo.Context) (listQuery, engine.ProjectFilter) {
	q := listQuery{Park: c.QueryParam("park"), State: c.QueryParam("state"), Industry: strings.TrimSpace(c.QueryParam("industry")),
		Q: strings.TrimSpace(c.QueryParam("q")), Sort: c.QueryParam("sort"), Overdue: c.QueryParam("overdue") != ""}
	q.Page, _ = strconv.Atoi(c.QueryParam("page"))
	if q.Page < 1 {
		q.Page = 1
	}
	if !contains(sortKeys, q.Sort) {
		q.Sort = ""
	}
	f := engine.ProjectFilter{Industry: q.Industry, Query: q.Q, Overdue: q.Overdue, Sort: q.Sort, Limit: listPageSize, Offset: (q.Page - 1) * listPageSize}
	if f.Sort == "" {
		f.Sort = "-updated"
	}
	// A cursor that does not parse is dropped: the page is then read by its
	// number, as a link typed by hand would be.
	if q.After = c.QueryParam("after"); q.After != "" {
		f.After, _ = engine.DecodeCursor("after", q.After)
	} else if q.Before = c.QueryParam("before"); q.Before != "" {
		f.Before, _ = engine.DecodeCursor("before", q.Before)
	}
	if q.Park != "" {
		f.Parks = []string{q.Park}
	}
	if q.State != "" {
		f.States = []engine.State{engine.State(q.State)}
	}
	return q, f
}

func (s *Server) handleProjectList(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	q, f := s.parseListQuery(c)
	f.Summary = true // the rows show no report, and of the figures the total investment alone
	ps, total, err := s.svc.Projects(ctx, u, f)
	if err != nil {
		return err
	}
	parks, err := s.svc.Parks(ctx, u)
	if err != nil {
		return err
	}
	d := listData{Query: q, Projects: ps, Parks: parks, ParkNames: s.parkNames(parks, s.lang(c)), States: engine.States,
		Sorts: sortKeys, Total: total, Page: q.Page}
	d.Pages = (total + listPageSize - 1) / listPageSize
	switch {
	case q.Page > 1 && len(ps) > 0:
		d.PrevURL = q.cursorURL(q.Page-1, "before", engine.CursorAt(f.Sort, ps[0]).Encode())
	case q.Page > 1:
		d.PrevURL = q.url(q.Page - 1)
	}
	if q.Page < d.Pages && len(ps) > 0 {
		d.NextURL = q.cursorURL(q.Page+1, "after", engine.CursorAt(f.Sort, ps[len(ps)-1]).Encode())
	}
	if len(ps) > 0 {
		d.From, d.To = f.Offset+1, f.Offset+len(ps)
	}
	for _, p := range parks {
		d.CanCreate = d.CanCreate || s.svc.CanCreate(u, p.ID)
	}
	pd := s.page(c, s.t(c, "list.title"))
	pd.Data = d
	return s.render(c, http.StatusOK, "list", pd)
}

func (s *Server) parkNames(parks []engine.Park, lang string) map[string]string {
	m := map[string]string{}
	for _, p := range parks {
		m[p.ID] = p.NameZH
		if lang == langEN {
			m[p.ID] = p.NameEN
		}
	}
	return m
}

// ---- project page ----

type projectData struct {
	Project       *engine.Project
	OnBehalf      []engine.OnBehalf // 代办: what the user may do for each delegator in force
	Share         shareView         // 抄送: the project's shares and the share form
	Return        *returnView       // the latest 退回 with its list and the figures changed since
	ReturnTargets []returnTarget    // the return form's checklist
	ParkName      string
	Actions       []string
	ReasonEvents  []string // actions that take a reason, shown as forms
	PlainEvents   []string // actions that are one button
	CanEdit       bool
	CanScore      bool
	CanConflict   bool
	CanUpload     bool
	InMeeting     bool // the committee decides this project in a meeting
	Sheet         rules.ScoringSheet
	Scores        []engine.Score
	ScoresAll     bool
	ScoreMean     float64
	History       []engine.AuditEntry
	Documents     []engine.Document
	DocumentKinds []string
	Fields        []figureField
	FigureRows    []figureRow
	Incomplete    []string // required fields still blank: submit will be refused until they are filled in
	Error         string
	ErrorCode     string
	// ErrorEvent and ErrorField: the action form that was refused and its
	// input at fault, so the form opens with the message beside the field
	// and ActForm's typed values.
	ErrorEvent   string
	ErrorField   string
	FieldMessage string
	ActForm      map[string]string
	ScoreForm    map[string]string
	// The 一事一议 form: the failed rules it may waive (one checkbox each),
	// the project's meeting minutes to cite, and what was typed last time.
	Waivable     []rules.CheckResult
	MinutesDocs  []engine.Document
	OverrideForm map[string]string
	Waived       map[string]bool
	MinReason    int
	// OptionalReason and Opinion: see optionalReason, opinionEvents.
	OptionalReason map[string]bool
	Opinion        map[string]bool
	// WhyNot says why an action the user might expect is not offered.
	WhyNot []string
	// SameUSCC are the other projects of the investor with this USCC: a
	// second registration, or one investor under two names, shows at once.
	SameUSCC sameUSCCView
}

// primaryEvents are the forward steps, shown as the main button.
var primaryEvents = map[string]bool{
	engine.EventSubmit: true, engine.EventResubmit: true, engine.EventPass: true, engine.EventApprove: true,
	engine.EventSign: true, engine.EventStartConstruction: true, engine.EventStartProduction: true, engine.EventRectified: true,
}

// reasonEvents need a written reason; others are one click. Mirrors the
// engine's rule so the form asks for what the command will demand.
var reasonEvents = map[string]bool{
	engine.EventApprove: true, engine.EventSign: true, engine.EventWithdraw: true, // optionalReason: sign, withdraw
	engine.EventReturn: true, engine.EventReject: true, engine.EventOverride: true,
	engine.EventRectify: true, engine.EventRectified: true, engine.EventExit: true,
	engine.EventStartConstruction: true, // its date (开工日期), the note optional
}

// optionalReason are the decisions that ask for confirmation and take an
// opinion without requiring one (the engine requires it for the others).
var optionalReason = map[string]bool{engine.EventSign: true, engine.EventWithdraw: true, engine.EventStartConstruction: true}

// opinionEvents are the decisions whose reason is called 审批意见.
var opinionEvents = map[string]bool{engine.EventApprove: true, engine.EventReject: true, engine.EventSign: true, engine.EventWithdraw: true}

// actDateFields are the dates an action form asks for: sign the land
// delivery, start_construction the day construction started.
var actDateFields = []string{"land_delivered_on", "done_on"}

// readableID parses the :id parameter and checks u may read that project, so
// every command on a project in a park the user cannot see is a 404, never a
// 403 that would confirm the project exists.
func (s *Server) readableID(c echo.Context) (int64, error) {
	id, err := projectID(c)
	if err != nil {
		return 0, err
	}
	if _, err := s.svc.Project(c.Request().Context(), currentUser(c), id); err != nil {
		return 0, err
	}
	return id, nil
}

func projectID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, engine.Fail(engine.ENOTFOUND, "err.project_not_found", nil)
	}
	return id, nil
}

// projectPage gathers everything the project page shows; pageErr is shown
// at the top (a failed action) with the status it maps to.
func (s *Server) projectPage(c echo.Context, id int64, pageErr error, scoreForm map[string]string) error {
	return s.projectPageWith(c, id, pageErr, scoreForm, nil)
}

// projectPageWith is projectPage with the override form's last input, so a
// refused 一事一议 comes back as typed.
func (s *Server) projectPageWith(c echo.Context, id int64, pageErr error, scoreForm, overrideForm map[string]string) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	p, err := s.svc.ViewProject(ctx, u, id) // a sharee's read is logged
	if err != nil {
		return err
	}
	d := projectData{Project: p, Actions: s.svc.Actions(ctx, u, p), CanUpload: s.svc.CanUpload(u, p),
		DocumentKinds: engine.DocumentKinds, Fields: figureFields, FigureRows: figureRows(p.Figures), ScoreForm: scoreForm,
		MinReason: engine.MinOverrideReason, OverrideForm: overrideForm, Waived: map[string]bool{},
		OptionalReason: optionalReason, Opinion: opinionEvents}
	if d.OnBehalf, err = s.svc.OnBehalfActions(ctx, u, p); err != nil {
		return err
	}
	if d.Share, err = s.shareViewOf(ctx, u, p); err != nil {
		return err
	}
	note, err := s.svc.LatestReturn(ctx, p)
	if err != nil {
		return err
	}
	d.Return, d.ReturnTargets = s.returnViewOf(note, p, s.lang(c)), s.returnTargets(s.lang(c))
	for _, a := range d.Actions {
		switch {
		case a == engine.EventUpdate:
			d.CanEdit = true
		case a == engine.EventScore:
			d.CanScore = true
		case a == engine.EventConflict:
			d.CanConflict = true
		case (a == engine.EventApprove || a == engine.EventReject) && p.State == engine.StateCommitteeReview:
			d.InMeeting = true // a decision of a committee meeting (meetings.go), not a button here
		case reasonEvents[a]:
			d.ReasonEvents = append(d.ReasonEvents, a)
		default:
			d.PlainEvents = append(d.PlainEvents, a)
		}
	}
	parks, err := s.svc.AllParks(ctx)
	if err != nil {
		return err
	}
	d.ParkName = s.parkNames(parks, s.lang(c))[p.Park]
	rs, err := s.svc.ProjectRuleSet(ctx, p)
	if err != nil {
		return err
	}
	d.Sheet = rs.Scoring()
	if d.Scores, d.ScoresAll, err = s.svc.Scores(ctx, u, p.ID); err != nil {
		return err
	}
	if len(d.Scores) > 0 {
		sum := 0.0
		for _, sc := range d.Scores {
			sum += sc.Total
		}
		d.ScoreMean = math.Round(sum/float64(len(d.Scores))*100) / 100
	}
	if d.History, err = s.svc.History(ctx, u, p.ID); err != nil {
		return err
	}
	if d.Documents, err = s.svc.Documents(ctx, u, p.ID); err != nil {
		return err
	}
	d.Incomplete = s.svc.Incomplete(ctx, p)
	d.WhyNot = s.whyNot(c, p, d.Actions)
	if d.SameUSCC, err = s.sameUSCC(c, p.USCC, p.InvestorName, p.ID); err != nil {
		return err
	}
	if contains(d.Actions, engine.EventOverride) {
		d.Waivable = s.svc.Waivable(ctx, p)
		for _, doc := range d.Documents {
			if doc.Kind == engine.DocumentMinutes {
				d.MinutesDocs = append(d.MinutesDocs, doc)
			}
		}
		for _, id := range strings.Fields(overrideForm["waive"]) {
			d.Waived[id] = true
		}
	}
	status := http.StatusOK
	if pageErr != nil {
		st, body := s.classify(c, pageErr)
		if st >= 500 {
			return pageErr
		}
		status, d.Error, d.ErrorCode = st, body.Message, body.Code
		if body.Field != "" && len(body.Fields) < 2 {
			d.Error = s.withFieldLabel(c, body.Field, body.Message)
			d.ErrorEvent, d.ErrorField, d.FieldMessage = c.FormValue("event"), body.Field, body.Message
			d.ActForm = map[string]string{"reason": c.FormValue("reason")}
			for _, f := range actDateFields {
				d.ActForm[f] = c.FormValue(f)
			}
		}
	}
	pd := s.page(c, p.Name)
	pd.Data = d
	return s.render(c, status, "project", pd)
}

func (s *Server) handleProjectView(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	return s.projectPage(c, id, nil, nil)
}

// actionFailed shows a refused action on the project page; anything that is
// not the user's to fix (internal) goes to the error handler.
func (s *Server) actionFailed(c echo.Context, id int64, err error, scoreForm map[string]string) error {
	if engine.ErrorCode(err) == engine.EINTERNAL {
		return err
	}
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return err
	}
	return s.projectPage(c, id, err, scoreForm)
}

func (s *Server) handleProjectAct(c echo.Context) error {
	// Act reads and authorizes the project; a refusal shows the project
	// page, which reads it as this user may (not found if they cannot).
	id, err := projectID(c)
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	act := engine.Action{Event: c.FormValue("event"), Version: version, Reason: c.FormValue("reason"), LandDeliveredOn: c.FormValue("land_delivered_on"),
		DoneOn: c.FormValue("done_on"), OnBehalfOf: c.FormValue("on_behalf_of")}
	if act.Event == engine.EventReturn {
		form, _ := c.FormParams()
		act.Fix = form["fix"]
	}
	var overrideForm map[string]string
	if act.Event == engine.EventOverride {
		form, _ := c.FormParams()
		act.Waive = form["waive"]
		act.MinutesDocument, _ = strconv.ParseInt(c.FormValue("minutes_document"), 10, 64)
		act.MinutesNumber, act.MinutesDate = c.FormValue("minutes_number"), c.FormValue("minutes_date")
		overrideForm = map[string]string{"reason": act.Reason, "waive": strings.Join(act.Waive, " "),
			"minutes_document": c.FormValue("minutes_document"), "minutes_number": act.MinutesNumber, "minutes_date": act.MinutesDate}
	}
	p, err := s.svc.Act(c.Request().Context(), currentUser(c), id, act)
	if err != nil {
		if engine.ErrorCode(err) == engine.EINTERNAL || engine.ErrorCode(err) == engine.ENOTFOUND {
			return err
		}
		return s.projectPageWith(c, id, err, nil, overrideForm)
	}
	s.flash(c, true, s.i18n.T(s.lang(c), "flash.acted", map[string]any{
		"Event": engine.EventLabel(act.Event, s.lang(c)), "State": engine.StateLabel(p.State, s.lang(c))}))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/projects/%d", id))
}

func (s *Server) handleProjectScore(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := projectID(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	p, err := s.svc.Project(ctx, u, id)
	if err != nil {
		return err
	}
	rs, err := s.svc.ProjectRuleSet(ctx, p)
	if err != nil {
		return err
	}
	round, _ := strconv.Atoi(c.FormValue("round"))
	in := engine.ScoreInput{Round: round, Items: map[string]float64{}, Comment: c.FormValue("comment")}
	form := map[string]string{"comment": in.Comment}
	var parseErr error
	for _, cr := range rs.Scoring().Criteria {
		raw := strings.TrimSpace(c.FormValue("item." + cr.ID))
		form[cr.ID] = raw
		v, err := strconv.ParseFloat(raw, 64)
		if (err != nil || math.IsNaN(v) || math.IsInf(v, 0)) && parseErr == nil {
			parseErr = engine.FieldFail("items."+cr.ID, "err.score_out_of_range", engine.Args{"Name": catalog.Text{ZH: cr.NameZH, EN: cr.NameEN}, "Max": formatAmount(cr.Max, 1)})
		}
		in.Items[cr.ID] = v
	}
	if parseErr != nil {
		return s.actionFailed(c, id, parseErr, form)
	}
	out, err := s.svc.Score(ctx, u, id, in)
	if err != nil {
		return s.actionFailed(c, id, err, form)
	}
	msg := s.i18n.T(s.lang(c), "flash.scored", map[string]any{"Total": formatAmount(out.Score.Total, 2)})
	if out.Quorum {
		msg += " " + s.i18n.T(s.lang(c), "flash.quorum", map[string]any{"Mean": formatAmount(out.Mean, 2),
			"State": engine.StateLabel(out.Project.State, s.lang(c))})
	}
	s.flash(c, true, msg)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/projects/%d", id))
}

func (s *Server) handleProjectConflict(c echo.Context) error {
	id, err := s.readableID(c)
	if err != nil {
		return err
	}
	if err := s.svc.DeclareConflict(c.Request().Context(), currentUser(c), id, c.FormValue("reason")); err != nil {
		return s.actionFailed(c, id, err, nil)
	}
	s.flash(c, true, s.t(c, "flash.conflict"))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/projects/%d", id))
}

// ---- project form ----

// figureField describes one input of the project form: its name (the json
// name in rules.Figures and the API), unit (rules.FigureUnit: the one table
// of figures) and kind.
type figureField struct {
	Name         string
	Unit, UnitEN string
	Kind         string // "text" | "number" | "int" | "flag"
	Hint         bool   // has a help text (i18n "hint.<name>")
}

// figureFields are the form's figure inputs in the order a promoter reads
// them off an investor's application. "yesno" fields are declarations that
// must be answered explicitly (是/否); an unanswered one is blank and blocks
// submit. leased_plant is a checkbox: a project either rents a standard
// plant or it does not.
var figureFields = withUnits([]figureField{
	{Name: "industry_code", Kind: "text", Hint: true},
	{Name: "leased_plant", Kind: "flag", Hint: true},
	{Name: "total_investment", Kind: "number"},
	{Name: "fixed_asset_investment", Kind: "number"},
	{Name: "land_area", Kind: "number"},
	{Name: "floor_area", Kind: "number"},
	{Name: "building_coverage", Kind: "number", Hint: true},
	{Name: "office_share", Kind: "number", Hint: true},
	{Name: "green_ratio", Kind: "number", Hint: true},
	{Name: "land_grade", Kind: "int", Hint: true},
	{Name: "land_price", Kind: "number", Hint: true},
	{Name: "expected_output", Kind: "number", Hint: true},
	{Name: "revenue", Kind: "number"},
	{Name: "tax", Kind: "number"},
	{Name: "rd_expense", Kind: "number"},
	{Name: "energy_use", Kind: "number"},
	{Name: "electricity", Kind: "number", Hint: true},
	{Name: "employees", Kind: "int"},
	{Name: "negative_list", Kind: "yesno"},
	{Name: "eco_red_line", Kind: "yesno"},
	{Name: "bad_credit", Kind: "yesno"},
	{Name: "energy_assessment", Kind: "yesno", Hint: true},
})

// withUnits fills each field's unit from the rules' figure table.
func withUnits(fields []figureField) []figureField {
	for i := range fields {
		fields[i].Unit, fields[i].UnitEN = rules.FigureUnit(fields[i].Name)
	}
	return fields
}

// projectForm is what the user typed, kept as text so a refused form comes
// back exactly as entered.
type projectForm struct {
	ID      int64
	Version int64
	Park    string
	Values  map[string]string
	Errors  map[string]string
	Summary []string
	Parks   []engine.Park
	Fields  []figureField
	Edit    bool
	// Need says, per figure, what the park's rule set in force asks for it:
	// "required" (submit waits for it) or "land" (unless leased_plant).
	Need map[string]string
	// Same are the projects already registered under the USCC typed, shown
	// before the save; under another investor name the save waits for the
	// promoter to confirm (uscc_confirm).
	Same sameUSCCView
}

func (f *projectForm) Value(name string) string { return f.Values[name] }

// formFromProject is the project as the form shows it: a blank figure is
// an empty input (never "0"), a declaration "yes", "no" or "" (unanswered).
func formFromProject(p *engine.Project) map[string]string {
	fg := p.Figures
	v := map[string]string{"name": p.Name, "investor_name": p.InvestorName, "uscc": p.USCC, "industry_code": fg.IndustryCode}
	if fg.LeasedPlant {
		v["leased_plant"] = "on"
	}
	for _, fd := range figureFields {
		switch {
		case fg.Number(fd.Name) != nil:
			if x := *fg.Number(fd.Name); x != nil {
				v[fd.Name] = strconv.FormatFloat(*x, 'f', -1, 64)
			}
		case fg.Count(fd.Name) != nil:
			if n := *fg.Count(fd.Name); n != nil {
				v[fd.Name] = strconv.Itoa(*n)
			}
		case fg.Flag(fd.Name) != nil:
			if b := *fg.Flag(fd.Name); b != nil {
				v[fd.Name] = map[bool]string{true: "yes", false: "no"}[*b]
			}
		}
	}
	return v
}

// parseProjectForm reads the form into an engine.ProjectInput, collecting a
// message per field that is not a number; the engine checks the rest. An
// empty input is a blank (nil), never 0.
func (s *Server) parseProjectForm(c echo.Context, f *projectForm) engine.ProjectInput {
	f.Values = map[string]string{}
	f.Errors = map[string]string{}
	for _, k := range []string{"name", "investor_name", "uscc", "park"} {
		f.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	in := engine.ProjectInput{Park: f.Values["park"], Name: f.Values["name"], InvestorName: f.Values["investor_name"], USCC: f.Values["uscc"]}
	fg := &in.Figures
	for _, fd := range figureFields {
		raw := strings.TrimSpace(c.FormValue(fd.Name))
		f.Values[fd.Name] = raw
		if err := setFormFigure(fg, fd, raw); err != "" {
			f.Errors[fd.Name] = s.t(c, err)
		}
	}
	// Every problem at once, beside its field: a figure that did not parse
	// keeps its parse message (its value here is a blank, not what was typed).
	for _, e := range in.Problems() {
		if e.Field == "park" && f.Edit {
			continue // an edit keeps its park; the engine fills it in
		}
		if _, ok := f.Errors[e.Field]; !ok {
			f.Errors[e.Field] = e.Text(s.lang(c))
		}
	}
	return in
}

// setFormFigure sets one figure from its form text and returns the message
// id of what is wrong with it, or "".
func setFormFigure(fg *rules.Figures, fd figureField, raw string) string {
	switch fd.Kind {
	case "text":
		fg.IndustryCode = strings.ToUpper(raw)
	case "flag":
		fg.LeasedPlant = raw != ""
	case "yesno":
		switch raw {
		case "":
		case "yes", "no":
			b := raw == "yes"
			*fg.Flag(fd.Name) = &b
		default:
			return "form.not_yesno"
		}
	case "int":
		if raw == "" {
			return ""
		}
		n, err := strconv.Atoi(strings.ReplaceAll(raw, ",", ""))
		if err != nil {
			return "form.not_integer"
		}
		*fg.Count(fd.Name) = &n
	case "number":
		if raw == "" {
			return ""
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", ""), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return "form.not_number"
		}
		*fg.Number(fd.Name) = &v
	}
	return ""
}

// fieldLabel names a form field in the user's language.
func (s *Server) fieldLabel(c echo.Context, field string) string {
	if crit, ok := strings.CutPrefix(field, "items."); ok {
		return s.t(c, "score.item") + " " + crit
	}
	if l := s.t(c, "field."+field); l != "field."+field {
		return l
	}
	return field
}

// withFieldLabel prefixes msg with the field's name unless the message
// already names it ("统一社会信用代码“…”无效" needs no second 统一社会信用代码).
func (s *Server) withFieldLabel(c echo.Context, field, msg string) string {
	lbl := s.fieldLabel(c, field)
	if strings.Contains(strings.ToLower(msg), strings.ToLower(lbl)) {
		return msg
	}
	return lbl + ": " + msg
}

// formError puts a domain error next to its field (or in the summary).
func (s *Server) formError(c echo.Context, f *projectForm, err error) {
	var de *engine.Error
	msg := engine.ErrorMessage(err, s.lang(c))
	if errors.As(err, &de) && len(de.Fields) > 1 {
		for _, fd := range de.Fields {
			f.Errors[fd] = s.t(c, "form.required")
		}
		f.Summary = append(f.Summary, msg)
		return
	}
	if errors.As(err, &de) && de.Field != "" {
		f.Errors[de.Field] = msg
		return
	}
	f.Summary = append(f.Summary, msg)
}

func (s *Server) renderForm(c echo.Context, status int, f *projectForm) error {
	if len(f.Errors) > 0 {
		for _, fd := range append([]string{"park", "name", "investor_name", "uscc"}, fieldNames()...) {
			if m, ok := f.Errors[fd]; ok {
				f.Summary = append(f.Summary, s.withFieldLabel(c, fd, m))
			}
		}
	}
	f.Fields = figureFields
	f.Need = s.figureNeeds(c, f)
	title := s.t(c, "form.new_title")
	if f.Edit {
		title = s.t(c, "form.edit_title")
	}
	pd := s.page(c, title)
	pd.Data = f
	return s.render(c, status, "form", pd)
}

// figureNeeds reads from the park's rule set in force which figures submit
// will require, so the form marks them before the promoter finds out.
func (s *Server) figureNeeds(c echo.Context, f *projectForm) map[string]string {
	ctx := c.Request().Context()
	park := f.Park
	if park == "" {
		park = f.Values["park"]
	}
	if park == "" && f.ID > 0 {
		if p, err := s.svc.Project(ctx, currentUser(c), f.ID); err == nil {
			park = p.Park
		}
	}
	if park == "" && len(f.Parks) > 0 {
		park = f.Parks[0].ID
	}
	rs, err := s.svc.ActiveRuleSet(ctx, park)
	if err != nil {
		return nil
	}
	need := map[string]string{}
	for _, fd := range figureFields {
		if m := rs.FigureMode(fd.Name); m == "required" || m == "land" {
			need[fd.Name] = m
		}
	}
	need["industry_code"] = "required" // screening reads it under every rule set (engine.submittable)
	return need
}

func fieldNames() []string {
	out := make([]string, len(figureFields))
	for i, f := range figureFields {
		out[i] = f.Name
	}
	return out
}

func (s *Server) creatableParks(c echo.Context) ([]engine.Park, error) {
	u := currentUser(c)
	parks, err := s.svc.Parks(c.Request().Context(), u)
	if err != nil {
		return nil, err
	}
	var out []engine.Park
	for _, p := range parks {
		if s.svc.CanCreate(u, p.ID) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *Server) handleProjectNew(c echo.Context) error {
	parks, err := s.creatableParks(c)
	if err != nil {
		return err
	}
	if len(parks) == 0 {
		return engine.Fail(engine.EFORBIDDEN, "err.you_may_not_register_projects", nil)
	}
	f := &projectForm{Parks: parks, Values: map[string]string{"park": parks[0].ID}, Errors: map[string]string{}}
	return s.renderForm(c, http.StatusOK, f)
}

func (s *Server) handleProjectCreate(c echo.Context) error {
	parks, err := s.creatableParks(c)
	if err != nil {
		return err
	}
	f := &projectForm{Parks: parks}
	in := s.parseProjectForm(c, f)
	if err := s.checkSameUSCC(c, f, 0); err != nil {
		return err
	}
	if len(f.Errors) > 0 {
		return s.renderForm(c, http.StatusBadRequest, f)
	}
	p, err := s.svc.CreateProject(c.Request().Context(), currentUser(c), in)
	if err != nil {
		if st, _ := s.classify(c, err); st == http.StatusBadRequest {
			s.formError(c, f, err)
			return s.renderForm(c, st, f)
		}
		return err
	}
	msg := s.t(c, "flash.created")
	if n := len(f.Same.Projects); n > 0 {
		msg += " " + s.i18n.T(s.lang(c), "uscc.registered_before", map[string]any{"N": n})
	}
	s.flash(c, true, msg)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/projects/%d", p.ID))
}

func (s *Server) handleProjectEdit(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	p, err := s.svc.Project(ctx, u, id)
	if err != nil {
		return err
	}
	if !contains(s.svc.Actions(ctx, u, p), engine.EventUpdate) {
		return engine.Fail(engine.EFORBIDDEN, "err.you_cannot_edit_this_project_now", nil)
	}
	f := &projectForm{ID: p.ID, Version: p.Version, Park: p.Park, Values: formFromProject(p), Errors: map[string]string{}, Edit: true}
	return s.renderForm(c, http.StatusOK, f)
}

func (s *Server) handleProjectUpdate(c echo.Context) error {
	id, err := s.readableID(c)
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	f := &projectForm{ID: id, Version: version, Edit: true}
	in := s.parseProjectForm(c, f)
	if err := s.checkSameUSCC(c, f, id); err != nil {
		return err
	}
	if len(f.Errors) > 0 {
		return s.renderForm(c, http.StatusBadRequest, f)
	}
	_, err = s.svc.UpdateProject(c.Request().Context(), currentUser(c), id, version, in)
	if err != nil {
		st, _ := s.classify(c, err)
		if st == http.StatusBadRequest || st == http.StatusConflict {
			s.formError(c, f, err)
			return s.renderForm(c, st, f)
		}
		return err
	}
	s.flash(c, true, s.t(c, "flash.saved"))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/projects/%d", id))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// whyNot explains the actions a user might expect that are not offered: a
// reviewer who may return or reject a screened project but not pass it is
// told that hard rules failed, and what remains open.
func (s *Server) whyNot(c echo.Context, p *engine.Project, actions []string) []string {
	var out []string
	if p.State == engine.StateScreening && !contains(actions, engine.EventPass) && p.Report != nil && !p.Report.Passed() &&
		(contains(actions, engine.EventReturn) || contains(actions, engine.EventReject)) {
		failed := 0
		for _, ch := range p.Report.Checks {
			if !ch.Pass && ch.Severity == rules.Hard {
				failed++
			}
		}
		out = append(out, s.i18n.T(s.lang(c), "why.no_pass_hard_failed", map[string]any{"N": failed}))
	}
	return out
}

// sameUSCCView is what the same_uscc partial shows: the projects (that the
// user may read) registered under USCC, each marked where its investor's
// name is not InvestorName. OtherName: one of them is.
type sameUSCCView struct {
	USCC, InvestorName string
	Projects           []*engine.Project
	OtherName          bool
}

// sameUSCC lists the user's readable projects other than except registered
// under uscc; an invalid code has none (the form says what is wrong with it).
func (s *Server) sameUSCC(c echo.Context, uscc, investor string, except int64) (sameUSCCView, error) {
	v := sameUSCCView{USCC: uscc, InvestorName: investor}
	if !engine.ValidUSCC(uscc) {
		return v, nil
	}
	ps, _, err := s.svc.Projects(c.Request().Context(), currentUser(c), engine.ProjectFilter{Query: uscc, Sort: "id", Limit: 50, Summary: true})
	if err != nil {
		return v, err
	}
	for _, x := range ps {
		if x.ID != except && x.USCC == uscc {
			v.Projects = append(v.Projects, x)
			v.OtherName = v.OtherName || x.InvestorName != investor
		}
	}
	return v, nil
}

// checkSameUSCC finds the projects already under the form's USCC (f.Same)
// and, when one is under another investor name, holds the save until the
// promoter confirms for this very code — the server's check, whatever the
// page's script showed before. An edit that keeps its code and name is not
// asked again.
func (s *Server) checkSameUSCC(c echo.Context, f *projectForm, id int64) error {
	uscc, investor := strings.ToUpper(f.Values["uscc"]), f.Values["investor_name"]
	var err error
	if f.Same, err = s.sameUSCC(c, uscc, investor, id); err != nil || !f.Same.OtherName || c.FormValue("uscc_confirm") == uscc {
		return err
	}
	if id > 0 {
		if p, err := s.svc.Project(c.Request().Context(), currentUser(c), id); err == nil && p.USCC == uscc && p.InvestorName == investor {
			return nil
		}
	}
	if _, ok := f.Errors["uscc"]; !ok {
		f.Errors["uscc"] = s.t(c, "uscc.confirm_needed")
	}
	return nil
}

// handleSameUSCC answers the form's check as the promoter leaves the USCC
// or investor field (htmx): the same_uscc block, empty when there is none.
func (s *Server) handleSameUSCC(c echo.Context) error {
	except, _ := strconv.ParseInt(c.QueryParam("except"), 10, 64)
	f := &projectForm{Values: map[string]string{"uscc": strings.ToUpper(strings.TrimSpace(c.QueryParam("uscc"))),
		"investor_name": strings.TrimSpace(c.QueryParam("investor_name"))}}
	var err error
	if f.Same, err = s.sameUSCC(c, f.Values["uscc"], f.Values["investor_name"], except); err != nil {
		return err
	}
	pd := s.page(c, "")
	pd.Data = f
	return s.renderNamed(c, http.StatusOK, "form", "uscc_check", pd)
}
