package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules"
)

// registerAuditRoutes registers the auditor's pages: the decision log with
// its filters and exports, one entry's facts, statistics, the proof page
// (public key, checkpoints, verify now) and the project dossier. Every
// handler reads through engine.AuditLog, which authorizes per park.
func (s *Server) registerAuditRoutes(e *echo.Echo) {
	g := e.Group("", requireUser)
	g.GET("/audit", s.handleAuditLog)
	g.GET("/audit/entries/:seq", s.handleAuditEntry)
	g.GET("/audit/export", s.handleAuditExport)
	g.GET("/audit/stats", s.handleAuditStats)
	g.GET("/audit/proof", s.handleAuditProof)
	g.POST("/audit/verify", s.handleAuditVerify)
	g.POST("/audit/checkpoints", s.handleAuditCheckpoint)
	g.GET("/projects/:id/dossier", s.handleDossier)
}

func (s *Server) auditLog() *engine.AuditLog { return s.svc.AuditLog(s.cfg.CheckpointKey) }

// CanAudit reports whether the page's user may read the decision log in
// some park: the layout shows the auditor's menu entry by it.
func (p *page) CanAudit() bool {
	return p.User != nil && p.s.auditLog().CanAudit(context.Background(), p.User, "read")
}

// CanVerify reports whether the page's user may run a verification.
func (p *page) CanVerify() bool {
	return p.User != nil && p.s.auditLog().CanAudit(context.Background(), p.User, "verify")
}

const auditPageSize = 50

// auditForm is the decision log's filter form, echoed back into the page
// and into the export links, so an export is exactly the filtered view.
type auditForm struct {
	Park, Actor, Role, Event, From, To string
	Project                            int64
	Overrides                          bool
	Page                               int
}

func (f auditForm) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"park": f.Park, "actor": f.Actor, "role": f.Role, "event": f.Event, "from": f.From, "to": f.To} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if f.Project != 0 {
		v.Set("project", strconv.FormatInt(f.Project, 10))
	}
	if f.Overrides {
		v.Set("overrides", "1")
	}
	return v
}

func (f auditForm) url(page int) string {
	v := f.values()
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/audit"
	}
	return "/audit?" + v.Encode()
}

func (f auditForm) exportURL(format string) string {
	v := f.values()
	v.Set("format", format)
	return "/audit/export?" + v.Encode()
}

// parseAuditForm reads the filters; dates are whole local days, "to" inclusive.
func (s *Server) parseAuditForm(c echo.Context) (auditForm, engine.AuditQuery, error) {
	f := auditForm{Park: c.QueryParam("park"), Actor: strings.TrimSpace(c.QueryParam("actor")), Role: c.QueryParam("role"),
		Event: c.QueryParam("event"), From: c.QueryParam("from"), To: c.QueryParam("to"), Overrides: c.QueryParam("overrides") != ""}
	f.Page, _ = strconv.Atoi(c.QueryParam("page"))
	f.Page = max(f.Page, 1)
	var q engine.AuditQuery
	if p := strings.TrimPrefix(strings.TrimSpace(c.QueryParam("project")), "#"); p != "" {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id < 0 {
			return f, q, engine.FieldFail("project", "err.project_number_must_be_number", nil)
		}
		f.Project, q.ProjectID = id, id
	}
	if f.Park != "" {
		q.Parks = []string{f.Park}
	}
	q.Actor, q.Role = f.Actor, engine.Role(f.Role)
	if f.Event != "" {
		q.Events = []string{f.Event}
	}
	if f.Overrides {
		q.Events = []string{engine.EventOverride}
	}
	for _, d := range []struct {
		s   string
		dst *time.Time
		add int
	}{{f.From, &q.From, 0}, {f.To, &q.To, 1}} {
		if d.s == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, d.s, s.loc)
		if err != nil {
			return f, q, engine.FieldFail("from", "err.dates_are_year_month_day", nil)
		}
		*d.dst = t.AddDate(0, 0, d.add)
	}
	return f, q, nil
}

// auditEvents are offered in the event filter, lifecycle first.
var auditEvents = []string{
	engine.EventCreate, engine.EventUpdate, engine.EventSubmit, engine.EventResubmit, engine.EventPass, engine.EventOverride,
	engine.EventReturn, engine.EventReject, engine.EventWithdraw, engine.EventScore, engine.EventConflict, engine.EventRecommend,
	engine.EventFailReview, engine.EventApprove, engine.EventSign, engine.EventStartConstruction, engine.EventStartProduction,
	engine.EventRate, engine.EventRectify, engine.EventRectified, engine.EventExit, "upload",
	engine.EventLogin, engine.EventLoginFailed, engine.EventRefused, engine.EventAuditExport, engine.EventAuditVerify, engine.EventDossierView,
	engine.EventShare, engine.EventShareView, engine.EventShareRevoke, engine.EventUserDepartment,
}

type auditListData struct {
	Form        auditForm
	Entries     []engine.AuditEntry
	Total       int
	Capped      bool
	Page, Pages int
	PrevURL     string
	NextURL     string
	Parks       []engine.Park
	ParkNames   map[string]string
	Events      []string
	Roles       []engine.Role
	Exports     [][2]string // format, URL
	Error       string
}

func (s *Server) auditParks(c echo.Context) ([]engine.Park, error) {
	ctx := c.Request().Context()
	ids, err := s.auditLog().AuditParks(ctx, currentUser(c), "read")
	if err != nil {
		return nil, err
	}
	all, err := s.svc.AllParks(ctx)
	if err != nil {
		return nil, err
	}
	var out []engine.Park
	for _, p := range all {
		if contains(ids, p.ID) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, engine.Fail(engine.EFORBIDDEN, "err.you_may_not_read_decision_log", nil)
	}
	return out, nil
}

func (s *Server) handleAuditLog(c echo.Context) error {
	ctx := c.Request().Context()
	parks, err := s.auditParks(c)
	if err != nil {
		return err
	}
	f, q, ferr := s.parseAuditForm(c)
	d := auditListData{Form: f, Parks: parks, ParkNames: s.parkNames(parks, s.lang(c)), Events: auditEvents, Roles: engine.Roles, Page: f.Page}
	if ferr != nil {
		d.Error = engine.ErrorMessage(ferr, s.lang(c))
	} else {
		q.Desc, q.Limit, q.Offset = true, auditPageSize, (f.Page-1)*auditPageSize
		if d.Entries, d.Total, err = s.auditLog().Page(ctx, currentUser(c), q); err != nil {
			return err
		}
	}
	d.Capped = d.Total > auditCountCap
	d.Pages = max((min(d.Total, auditCountCap)+auditPageSize-1)/auditPageSize, 1)
	if f.Page > 1 {
		d.PrevURL = f.url(f.Page - 1)
	}
	if len(d.Entries) == auditPageSize && (f.Page < d.Pages || d.Capped) {
		d.NextURL = f.url(f.Page + 1)
	}
	for _, format := range engine.ExportFormats {
		d.Exports = append(d.Exports, [2]string{format, f.exportURL(format)})
	}
	pd := s.page(c, s.t(c, "audit.title"))
	pd.Data = d
	return s.render(c, http.StatusOK, "audit", pd)
}

// auditCountCap mirrors the store's cap on counting (store.AuditCountCap);
// web does not import store, and the page only needs to say "more than".
const auditCountCap = 10000

// ---- one entry and its facts ----

type auditEntryData struct {
	Entry      *engine.AuditEntry
	Rows       []figureRow
	ParkName   string
	Kind       string // "submission", "report", "score", "input", "json", ""
	Figures    *rules.Figures
	Report     *rules.Report
	Score      *engine.Score
	Sheet      *rules.ScoringSheet
	JSON       []jsonRow // the payload's top-level keys, when it is none of the above
	Raw        string    // the payload, indented: behind a toggle, for the record
	RuleSetURL string
}

func (s *Server) handleAuditEntry(c echo.Context) error {
	seq, err := strconv.ParseInt(c.Param("seq"), 10, 64)
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.log_entry_not_found", nil)
	}
	e, err := s.auditLog().Entry(c.Request().Context(), currentUser(c), seq)
	if err != nil {
		return err
	}
	d := auditEntryData{Entry: e}
	parks, err := s.svc.AllParks(c.Request().Context())
	if err != nil {
		return err
	}
	d.ParkName = s.parkNames(parks, s.lang(c))[e.Park]
	decodePayload(&d, e)
	if d.Figures != nil {
		d.Rows = figureRows(*d.Figures)
	}
	if d.Kind == "score" && e.RuleSetVersion != "" {
		if rs, err := s.svc.RuleSetVersion(c.Request().Context(), e.RuleSetVersion); err == nil {
			sh := rs.Scoring()
			d.Sheet = &sh
		}
	}
	pd := s.page(c, s.t(c, "audit.entry_title")+" #"+strconv.FormatInt(e.Seq, 10))
	pd.Data = d
	return s.render(c, http.StatusOK, "audit_entry", pd)
}

// decodePayload recognises what an entry's decision was based on by its
// shape: a submission (figures and the screening report), a report alone
// (pass, override), a score sheet, the project form, or other JSON.
func decodePayload(d *auditEntryData, e *engine.AuditEntry) {
	if strings.TrimSpace(e.Payload) == "" {
		return
	}
	var buf bytes.Buffer
	d.Raw = e.Payload
	if json.Indent(&buf, []byte(e.Payload), "", "  ") == nil {
		d.Raw = buf.String()
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal([]byte(e.Payload), &probe) != nil {
		d.Kind = "json"
		return
	}
	switch {
	case probe["report"] != nil && probe["figures"] != nil:
		var sub struct {
			Figures rules.Figures `json:"figures"`
			Report  *rules.Report `json:"report"`
		}
		if json.Unmarshal([]byte(e.Payload), &sub) == nil {
			d.Kind, d.Figures, d.Report = "submission", &sub.Figures, sub.Report
			return
		}
	case probe["checks"] != nil:
		var rep rules.Report
		if json.Unmarshal([]byte(e.Payload), &rep) == nil {
			d.Kind, d.Report = "report", &rep
			return
		}
	case probe["items"] != nil && probe["reviewer"] != nil:
		var sc engine.Score
		if json.Unmarshal([]byte(e.Payload), &sc) == nil {
			d.Kind, d.Score = "score", &sc
			return
		}
	case probe["figures"] != nil:
		var in engine.ProjectInput
		if json.Unmarshal([]byte(e.Payload), &in) == nil {
			d.Kind, d.Figures = "input", &in.Figures
			return
		}
	}
	d.Kind = "json"
	for _, k := range slices.Sorted(maps.Keys(probe)) {
		d.JSON = append(d.JSON, jsonRow{Key: k, Value: jsonText(probe[k])})
	}
}

// jsonRow is one key of a payload of no known shape, its value as text: a
// string without quotes, anything else as compact JSON.
type jsonRow struct{ Key, Value string }

func jsonText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) == nil {
		return buf.String()
	}
	return string(v)
}

// ---- export ----

// handleAuditExport streams the filtered view as CSV, .xlsx or JSON Lines.
// Headers go out as soon as the engine has authorized and logged the export,
// so the browser's download starts at once; rows follow as they are read.
func (s *Server) handleAuditExport(c echo.Context) error {
	format := c.QueryParam("format")
	if format == "" {
		format = "csv"
	}
	_, q, err := s.parseAuditForm(c)
	if err != nil {
		return err
	}
	whole, err := s.wholeLog(c, q)
	if err != nil {
		return err
	}
	if _, err := engine.NewAuditWriter(discard{}, format, s.loc, engine.ExportLabels{}); err != nil {
		return err // an unknown format, before anything is logged
	}
	labels, err := s.svc.ExportLabelsFor(c.Request().Context(), s.lang(c))
	if err != nil {
		return err
	}
	res := c.Response()
	// A million entries take seconds, more than a slow client's share of
	// the server's write timeout: this response has no deadline.
	_ = http.NewResponseController(res.Writer).SetWriteDeadline(time.Time{})
	var aw engine.AuditWriter
	started := false
	begin := func(cps []engine.Checkpoint) error {
		name := exportName(s.svc.Now().In(s.loc), format, !whole)
		h := res.Header()
		h.Set(echo.HeaderContentType, engine.ContentType(format))
		h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, name))
		h.Set("Cache-Control", "no-store")
		res.WriteHeader(http.StatusOK)
		res.Flush()
		started = true
		var err error
		if aw, err = engine.NewAuditWriter(res, format, s.loc, labels); err != nil {
			return err
		}
		return aw.Checkpoints(cps)
	}
	err = s.auditLog().Export(c.Request().Context(), currentUser(c), q, format, begin, func(e *engine.AuditEntry) error { return aw.Entry(e) })
	if err == nil && aw != nil {
		err = aw.Close()
	}
	if err != nil && started {
		// Too late for an error page: the download ends short, and the
		// operator's log says why. A JSON Lines file cut short still
		// verifies only as far as it goes.
		s.log.Error("audit export aborted", "format", format, "err", err)
		return nil
	}
	return err
}

// exportName is the file an export downloads as. One that is not the whole
// log (filtered, or only the parks an auditor reads) says "partial": it
// verifies only with --partial, and the proof page's command says so.
func exportName(at time.Time, format string, partial bool) string {
	kind := ""
	if partial {
		kind = "partial-"
	}
	return fmt.Sprintf("zonevet-decision-log-%s%s.%s", kind, at.Format("20060102-150405"), format)
}

// verifyCommand is the offline check of the JSON Lines file name, as the
// command line takes it.
func verifyCommand(name, pubkey string, partial bool) string {
	flag := ""
	if partial {
		flag = "--partial "
	}
	return "./zonevet audit verify " + flag + "--export " + name + " --pubkey " + pubkey
}

// wholeLog reports whether q, for the signed-in auditor, selects the whole
// log: no filter, and every park read.
func (s *Server) wholeLog(c echo.Context, q engine.AuditQuery) (bool, error) {
	if q.ProjectID != 0 || q.Actor != "" || q.Role != "" || len(q.Events) > 0 || !q.From.IsZero() || !q.To.IsZero() || len(q.Parks) > 0 {
		return false, nil
	}
	mine, err := s.auditParks(c)
	if err != nil {
		return false, err
	}
	all, err := s.svc.AllParks(c.Request().Context())
	return len(mine) == len(all), err
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// ---- statistics ----

type auditStatsData struct {
	Form      auditForm
	Stats     *engine.AuditStats
	Parks     []engine.Park
	ParkNames map[string]string
	Events    []string // decision events, the reviewer table's columns
	Chart     any      // data for the charts, read by audit.js (html/template writes it as JSON)
}

func (s *Server) handleAuditStats(c echo.Context) error {
	parks, err := s.auditParks(c)
	if err != nil {
		return err
	}
	f, q, err := s.parseAuditForm(c)
	if err != nil {
		return err
	}
	st, err := s.auditLog().Stats(c.Request().Context(), currentUser(c), q)
	if err != nil {
		return err
	}
	lang := s.lang(c)
	names := s.parkNames(parks, lang)
	d := auditStatsData{Form: f, Stats: st, Parks: parks, ParkNames: names, Events: engine.DecisionEvents}
	// The charts get labels already translated: audit.js only draws.
	chart := map[string]any{}
	var who []string
	series := map[string][]int{}
	for _, r := range st.Reviewers {
		who = append(who, r.Actor+" · "+engine.RoleLabel(r.Role, lang))
		for _, ev := range engine.DecisionEvents {
			series[ev] = append(series[ev], r.Counts[ev])
		}
	}
	var ss []map[string]any
	for _, ev := range engine.DecisionEvents {
		ss = append(ss, map[string]any{"name": engine.EventLabel(ev, lang), "data": series[ev]})
	}
	chart["reviewers"] = map[string]any{"labels": who, "series": ss}
	var pl []string
	var share []float64
	var overrides, passed []int
	for _, p := range st.Parks {
		pl = append(pl, names[p.Park])
		share = append(share, float64(int(p.Share*1000+0.5))/10)
		overrides, passed = append(overrides, p.Overrides), append(passed, p.Passed)
	}
	chart["parks"] = map[string]any{"labels": pl, "share": share, "overrides": overrides, "passed": passed,
		"share_name": s.t(c, "stats.override_share"), "overrides_name": s.t(c, "stats.overrides"), "passed_name": s.t(c, "stats.passed")}
	var sl []string
	var med, p90 []float64
	var overdue []int
	for _, x := range st.States {
		sl = append(sl, engine.StateLabel(x.State, lang))
		med, p90 = append(med, roundTo(x.MedianHours/24, 2)), append(p90, roundTo(x.P90Hours/24, 2))
		overdue = append(overdue, x.OverdueSteps+x.OpenOverdue)
	}
	chart["states"] = map[string]any{"labels": sl, "median": med, "p90": p90, "overdue": overdue,
		"median_name": s.t(c, "stats.median_days"), "p90_name": s.t(c, "stats.p90_days"), "overdue_name": s.t(c, "stats.overdue_steps")}
	d.Chart = chart
	pd := s.page(c, s.t(c, "stats.title"))
	pd.Data = d
	return s.render(c, http.StatusOK, "audit_stats", pd)
}

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// ---- proof: public key, checkpoints, verify now ----

type auditProofData struct {
	PublicKey   string
	Fingerprint string
	CanSign     bool
	CanVerify   bool
	Checkpoints []engine.Checkpoint // newest first, at most 20
	Total       int
	Result      *engine.VerifyResult
	Command     string // the offline check of an unfiltered JSON Lines download, named as it downloads
	Partial     bool   // that download is partial: the auditor reads only some parks
	// Alarm is the signer's refusal to vouch for the log, held by the
	// process rather than written into the log it distrusts.
	Alarm *engine.SignerAlarm
	// Witnesses: per witness, the last size it cosigned and when.
	Witnesses []engine.WitnessState
}

func (s *Server) proofData(c echo.Context) (*auditProofData, error) {
	l := s.auditLog()
	cps, err := l.Checkpoints(c.Request().Context(), currentUser(c))
	if err != nil {
		return nil, err
	}
	d := &auditProofData{CanSign: l.CanSign(), CanVerify: l.CanAudit(c.Request().Context(), currentUser(c), "verify"), Total: len(cps),
		Alarm: s.svc.SignerAlarm()}
	if pub := l.PublicKey(); pub != nil {
		d.PublicKey, d.Fingerprint = engine.PublicKeyString(pub), engine.KeyFingerprint(pub)
		whole, err := s.wholeLog(c, engine.AuditQuery{})
		if err != nil {
			return nil, err
		}
		d.Partial = !whole
		d.Command = verifyCommand(exportName(s.svc.Now().In(s.loc), "jsonl", d.Partial), d.PublicKey, d.Partial)
	}
	for i := len(cps) - 1; i >= 0 && len(d.Checkpoints) < 20; i-- {
		d.Checkpoints = append(d.Checkpoints, cps[i])
	}
	if len(s.cfg.Witnesses) > 0 {
		if d.Witnesses, err = l.WitnessStates(c.Request().Context(), s.cfg.Witnesses); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Server) handleAuditProof(c echo.Context) error {
	d, err := s.proofData(c)
	if err != nil {
		return err
	}
	pd := s.page(c, s.t(c, "proof.title"))
	pd.Data = d
	return s.render(c, http.StatusOK, "audit_proof", pd)
}

// handleAuditVerify runs "verify now"; the engine logs the outcome.
func (s *Server) handleAuditVerify(c echo.Context) error {
	res, err := s.auditLog().VerifyNow(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	d, err := s.proofData(c)
	if err != nil {
		return err
	}
	d.Result = res
	pd := s.page(c, s.t(c, "proof.title"))
	pd.Data = d
	status := http.StatusOK
	if !res.OK {
		status = http.StatusConflict
	}
	return s.render(c, status, "audit_proof", pd)
}

// handleAuditCheckpoint signs the head now.
func (s *Server) handleAuditCheckpoint(c echo.Context) error {
	l := s.auditLog()
	if !l.CanAudit(c.Request().Context(), currentUser(c), "verify") {
		return engine.Fail(engine.EFORBIDDEN, "err.you_may_not_verify_decision_log", nil)
	}
	if !l.CanSign() {
		return engine.Fail(engine.ECONFLICT, "err.no_signing_key_is_configured_cannot", nil)
	}
	cp, err := l.CheckpointNow(c.Request().Context(), currentUser(c))
	if errors.Is(err, engine.ErrSignerRefused) {
		// The page shows the alarm; the log line is for whoever watches the server.
		s.log.Error("decision log: the checkpoint signer refused to sign", "err", err)
		return c.Redirect(http.StatusSeeOther, "/audit/proof")
	}
	if err != nil {
		return err
	}
	if cp != nil {
		s.flash(c, true, s.i18n.T(s.lang(c), "proof.signed", map[string]any{"Seq": cp.Seq}))
	}
	return c.Redirect(http.StatusSeeOther, "/audit/proof")
}

// ---- dossier ----

type dossierData struct {
	D        *engine.Dossier
	ParkName string
	Sheet    rules.ScoringSheet
	Current  []figureRow                  // the figures as they stand
	Rows     [][]figureRow                // the figures of each submission, as D.Submissions
	Replay   *engine.ScreeningReplayCheck // the latest screening re-run (issue 12); nil before any
}

func (s *Server) handleDossier(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.project_not_found", nil)
	}
	d, err := s.auditLog().Dossier(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	dd := dossierData{D: d, ParkName: d.Park.NameZH, Current: figureRows(d.Project.Figures)}
	for _, sub := range d.Submissions {
		dd.Rows = append(dd.Rows, figureRows(sub.Figures))
	}
	if s.lang(c) == langEN {
		dd.ParkName = d.Park.NameEN
	}
	if rs, err := s.svc.ProjectRuleSet(c.Request().Context(), d.Project); err == nil {
		dd.Sheet = rs.Scoring()
	}
	if len(d.Submissions) > 0 {
		// A replay that cannot run (an unreadable entry) leaves the
		// section out; audit verify is where a damaged log is reported.
		dd.Replay, _ = s.svc.ReplayScreening(c.Request().Context(), currentUser(c), id)
	}
	pd := s.page(c, s.t(c, "dossier.title")+" · "+d.Project.Name)
	pd.Data = dd
	return s.render(c, http.StatusOK, "dossier", pd)
}

// logRefusal records a signed-in user's refused request in the decision log
// (403s only: a 404 for another park's project is the same refusal seen from
// outside, and logging it would tell nobody more). Never the request body,
// and the path cut to maxLoggedPath bytes. A refused request from nobody
// signed in (a missing CSRF token, a probe) accuses nobody: it is a paced
// line in the access log, so anonymous requests cannot grow the append-only
// log.
func (s *Server) logRefusal(c echo.Context, status int, msg string) {
	if status != http.StatusForbidden {
		return
	}
	req := c.Request()
	path := cutPath(req.URL.Path)
	u := currentUser(c)
	if u == nil {
		if !s.accessLog.Allow() {
			s.suppressed.Add(1)
			return
		}
		s.log.Warn("refused anonymous request", "remote", c.RealIP(), "method", req.Method, "path", path,
			"status", status, "suppressed_since_last", s.suppressed.Swap(0))
		return
	}
	err := s.svc.LogAuth(req.Context(), engine.AuthEvent{Event: engine.EventRefused, Username: u.Username, Known: true,
		Remote: c.RealIP(), Method: req.Method, Path: path, Status: status, Message: msg})
	if err != nil {
		s.log.Error("log refusal", "err", err)
	}
}

// maxLoggedPath bounds the request path a refusal entry keeps: enough for
// every route, with its ids, and not a store for whatever a client sends.
const maxLoggedPath = 256

// cutPath cuts p to at most maxLoggedPath bytes on a character boundary,
// marking the cut with "…".
func cutPath(p string) string {
	if len(p) <= maxLoggedPath {
		return p
	}
	cut := maxLoggedPath - len("…")
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…"
}

// logLogin records a sign-in or a failed one. The password never gets here.
func (s *Server) logLogin(c echo.Context, ok bool, username string) {
	ev := engine.AuthEvent{Event: engine.EventLoginFailed, Username: username, Remote: c.RealIP()}
	if ok {
		ev.Event, ev.Known = engine.EventLogin, true
	} else if s.svc.KnownUser(c.Request().Context(), username) {
		ev.Known = true
	}
	if err := s.svc.LogAuth(c.Request().Context(), ev); err != nil {
		s.log.Error("log sign-in", "err", err)
	}
}

// figureRow is one figure ready to show: label id, formatted value, unit.
type figureRow struct {
	Name, Value, Unit, UnitEN string
	Flag, Yes                 bool
	Blank                     bool // not reported: shown as such, never as 0 or "no"
}

// figureRows lists f in the project form's order, formatted as the project page shows it.
func figureRows(f rules.Figures) []figureRow {
	vals := formFromProject(&engine.Project{Figures: f})
	out := make([]figureRow, 0, len(figureFields))
	for _, ff := range figureFields {
		r := figureRow{Name: ff.Name, Unit: ff.Unit, UnitEN: ff.UnitEN, Value: vals[ff.Name]}
		switch ff.Kind {
		case "flag":
			r.Flag, r.Yes = true, r.Value != ""
		case "yesno":
			r.Flag, r.Yes, r.Blank = r.Value != "", r.Value == "yes", r.Value == ""
		case "number", "int", "text":
			r.Blank = r.Value == ""
		}
		switch ff.Kind {
		case "number":
			if v, err := strconv.ParseFloat(r.Value, 64); err == nil {
				r.Value = formatAmount(v, 2)
			}
		}
		out = append(out, r)
	}
	return out
}
