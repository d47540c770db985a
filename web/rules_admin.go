package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/rules/catalog"
)

// The 规则集 pages (issue 12): a park's rule-set pipeline — proposals with
// their note, diff and what-if, the committee's approval or refusal, the
// versions in force and before — and each version's text. An admin
// proposes (a new file, or an earlier version again); the committee
// generates the what-if, reads it and approves with an effective time, or
// refuses; nothing takes effect on one person's word.
func (s *Server) registerRulesAdminRoutes(e *echo.Echo) {
	g := e.Group("/admin", requireUser)
	g.GET("/rules", s.handleRuleSets)
	g.POST("/rules", s.handleRuleSetPropose)
	g.GET("/rules/:version", s.handleRuleSetSource)
	g.POST("/rules/:version/restore", s.handleRuleSetRestore)
	g.GET("/rules/changes/:id", s.handleRuleSetChange)
	g.GET("/rules/changes/:id/diff", s.handleRuleSetChangeDiff)
	g.POST("/rules/changes/:id/whatif", s.handleRuleSetWhatIf)
	g.POST("/rules/changes/:id/approve", s.handleRuleSetApprove)
	g.POST("/rules/changes/:id/refuse", s.handleRuleSetRefuse)
	g.POST("/rules/changes/:id/withdraw", s.handleRuleSetWithdraw)
	g.GET("/rules/whatif/:id/xlsx", s.handleWhatIfXLSX)
	g.POST("/rules/whatif", s.handleRuleSetDraftWhatIf)
}

// maxRuleSetFile caps an uploaded rule-set file: the defaults are ~15 KB.
const maxRuleSetFile = 1 << 20

// CanReadRules reports whether the page's user may read some park's rule
// sets (the nav's 规则集 link for the committee and auditors).
func (p *page) CanReadRules() bool {
	if p.User == nil {
		return false
	}
	parks, err := p.s.svc.RuleSetReadableParks(context.Background(), p.User)
	return err == nil && len(parks) > 0
}

type ruleSetsData struct {
	Parks      []engine.Park // whose rules this user may read
	Park       engine.Park
	Changes    []engine.RuleSetChange
	Versions   []engine.RuleSetRecord
	CanPropose bool
	Problems   []rules.Problem // of a refused proposal
	File       string
	Error      string
}

func (s *Server) ruleSetsPage(c echo.Context, status int, park string, d ruleSetsData) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	parks, err := s.svc.RuleSetReadableParks(ctx, u)
	if err != nil {
		return err
	}
	if len(parks) == 0 {
		return engine.Fail(engine.EFORBIDDEN, "err.only_admin_committee_auditor_read_rules", nil)
	}
	d.Parks, d.Park = parks, parks[0]
	for _, p := range parks {
		if p.ID == park {
			d.Park = p
		}
	}
	if d.Changes, err = s.svc.RuleSetChanges(ctx, u, d.Park.ID); err != nil {
		return err
	}
	if d.Versions, err = s.svc.RuleSetVersions(ctx, u, d.Park.ID); err != nil {
		return err
	}
	d.CanPropose = s.svc.CanProposeRuleSet(u, d.Park.ID)
	pd := s.page(c, s.i18n.T(s.lang(c), "page.admin_rules.title", nil))
	pd.Data = d
	return s.render(c, status, "admin_rules", pd)
}

func (s *Server) handleRuleSets(c echo.Context) error {
	return s.ruleSetsPage(c, http.StatusOK, c.QueryParam("park"), ruleSetsData{})
}

func (s *Server) handleRuleSetPropose(c echo.Context) error {
	park := c.FormValue("park")
	name, data, err := uploadedRuleSet(c, park)
	if err != nil {
		return s.ruleSetsPage(c, http.StatusBadRequest, park, ruleSetsData{Error: s.refusalMessage(c, err)})
	}
	ch, err := s.svc.ProposeRuleSet(c.Request().Context(), currentUser(c), park, name, data, c.FormValue("note"))
	var ve *rules.ValidationError
	switch {
	case errors.As(err, &ve):
		return s.ruleSetsPage(c, http.StatusBadRequest, park, ruleSetsData{Problems: ve.Problems, File: name,
			Error: s.i18n.T(s.lang(c), "err.rule_file_has_mistakes", nil)})
	case engine.ErrorCode(err) == engine.EINVALID || engine.ErrorCode(err) == engine.ECONFLICT:
		status := http.StatusBadRequest
		if engine.ErrorCode(err) == engine.ECONFLICT {
			status = http.StatusConflict
		}
		return s.ruleSetsPage(c, status, park, ruleSetsData{Error: s.refusalMessage(c, err)})
	case err != nil:
		return err
	}
	s.flash(c, true, s.i18n.T(s.lang(c), "flash.rules_proposed", catalog.Args{"Version": shortVersion(ch.Version)}))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/rules/changes/%d", ch.ID))
}

// uploadedRuleSet reads the page's rule-set file field, if one was chosen.
func uploadedRuleSet(c echo.Context, park string) (name string, data []byte, err error) {
	name = park + ".yaml"
	fh, ferr := c.FormFile("file")
	if ferr != nil {
		return name, nil, nil
	}
	if fh.Size > maxRuleSetFile {
		return name, nil, engine.FieldFail("file", "err.api_rules_file_too_large", nil)
	}
	f, err := fh.Open()
	if err != nil {
		return name, nil, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxRuleSetFile))
	return filepath.Base(fh.Filename), data, err
}

// handleRuleSetDraftWhatIf shows the what-if of an uploaded draft, and its
// diff, before anyone proposes it: nothing is stored and nothing decided,
// but the look is logged (engine.Service.WhatIf).
func (s *Server) handleRuleSetDraftWhatIf(c echo.Context) error {
	park := c.FormValue("park")
	name, data, err := uploadedRuleSet(c, park)
	if err != nil {
		return s.ruleSetsPage(c, http.StatusBadRequest, park, ruleSetsData{Error: s.refusalMessage(c, err)})
	}
	rep, sha, err := s.svc.WhatIfFile(c.Request().Context(), currentUser(c), park, name, data)
	var ve *rules.ValidationError
	switch {
	case errors.As(err, &ve):
		return s.ruleSetsPage(c, http.StatusBadRequest, park, ruleSetsData{Problems: ve.Problems, File: name,
			Error: s.i18n.T(s.lang(c), "err.rule_file_has_mistakes", nil)})
	case engine.ErrorCode(err) == engine.EINVALID:
		return s.ruleSetsPage(c, http.StatusBadRequest, park, ruleSetsData{Error: s.refusalMessage(c, err)})
	case err != nil:
		return err
	}
	d := ruleSetChangeData{WhatIf: rep, DraftFile: name, DraftSHA: sha}
	parks, err := s.svc.RuleSetReadableParks(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	for _, p := range parks {
		if p.ID == park {
			d.DraftPark = p
		}
	}
	d.chart()
	pd := s.page(c, s.i18n.T(s.lang(c), "page.admin_rule_draft.title", nil))
	pd.Data = d
	return s.render(c, http.StatusOK, "admin_rule_draft", pd)
}

type ruleSetSourceData struct {
	Record engine.RuleSetRecord
	Lines  []string
}

func (s *Server) handleRuleSetSource(c echo.Context) error {
	rec, err := s.svc.RuleSetSource(c.Request().Context(), currentUser(c), c.Param("version"))
	if err != nil {
		return err
	}
	if c.QueryParam("download") != "" {
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+rec.Park+"-"+shortVersion(rec.Version)+`.yaml"`)
		return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", rec.Source)
	}
	pd := s.page(c, s.i18n.T(s.lang(c), "page.admin_rule_set.title", catalog.Args{"Version": shortVersion(rec.Version)}))
	pd.Data = ruleSetSourceData{Record: rec, Lines: strings.Split(strings.TrimRight(string(rec.Source), "\n"), "\n")}
	return s.render(c, http.StatusOK, "admin_rule", pd)
}

func (s *Server) handleRuleSetRestore(c echo.Context) error {
	ch, err := s.svc.ProposeRestore(c.Request().Context(), currentUser(c), c.Param("version"), c.FormValue("note"))
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.i18n.T(s.lang(c), "flash.rules_restore_proposed", catalog.Args{"Version": shortVersion(ch.Version)}))
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/rules/changes/%d", ch.ID))
	case engine.ECONFLICT, engine.EINVALID:
		s.flash(c, false, s.refusalMessage(c, err))
		return c.Redirect(http.StatusSeeOther, "/admin/rules")
	}
	return err
}

type ruleSetChangeData struct {
	Change      *engine.RuleSetChange
	WhatIf      *engine.WhatIfReport
	WhatIfRec   *engine.WhatIfRecord
	Stale       bool // the what-if compares with a version no longer in force
	CanWhatIf   bool
	CanApprove  bool
	CanRefuse   bool
	CanWithdraw bool
	Proposer    bool // the reader proposed it: no approve button, and why
	Now         string
	Chart       []chartBar
	// Of a draft's what-if (issue 12): the file, the park and the SHA-256
	// of a report that was computed and logged but not stored.
	DraftFile string
	DraftPark engine.Park
	DraftSHA  string
}

// chartBar is one class of the rating replay's before/after chart, as
// heights in per cent of the tallest.
type chartBar struct {
	Class                     string
	Before, After             int
	BeforePct, AfterPct       int // bar heights, 0–100
	X, BeforeY, AfterY        int
	BeforeLabelY, AfterLabelY int
}

// chart draws the rating replay's before/after bars, if the report has one.
func (d *ruleSetChangeData) chart() {
	if d.WhatIf == nil || d.WhatIf.Rating == nil {
		return
	}
	most := 1
	for _, cl := range d.WhatIf.RatingClasses() {
		most = max(most, d.WhatIf.Rating.Before[cl], d.WhatIf.Rating.After[cl])
	}
	for _, cl := range d.WhatIf.RatingClasses() {
		b, a := d.WhatIf.Rating.Before[cl], d.WhatIf.Rating.After[cl]
		if a+b > 0 {
			bp, ap := b*100/most, a*100/most
			d.Chart = append(d.Chart, chartBar{Class: cl, Before: b, After: a, BeforePct: bp, AfterPct: ap, X: 100 * len(d.Chart),
				BeforeY: 112 - bp, AfterY: 112 - ap, BeforeLabelY: 109 - bp, AfterLabelY: 109 - ap})
		}
	}
}

// ReportSHA is the SHA-256 of the report shown: the stored one's, or the draft's.
func (d ruleSetChangeData) ReportSHA() string {
	if d.WhatIfRec != nil {
		return d.WhatIfRec.SHA256
	}
	return d.DraftSHA
}

// ChartWidth is the chart's width in its own units: 100 a class, at least
// room for the legend.
func (d ruleSetChangeData) ChartWidth() int { return max(200, 100*len(d.Chart)) }

func (s *Server) changeParam(c echo.Context) (*engine.RuleSetChange, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, engine.Fail(engine.ENOTFOUND, "err.rule_set_proposal_not", nil)
	}
	return s.svc.RuleSetChangeFor(c.Request().Context(), currentUser(c), id)
}

func (s *Server) handleRuleSetChange(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	ch, err := s.changeParam(c)
	if err != nil {
		return err
	}
	d := ruleSetChangeData{Change: ch, CanWhatIf: s.svc.CanActOnRuleSet(u, ch, engine.EventRulesWhatIf),
		CanApprove: s.svc.CanActOnRuleSet(u, ch, engine.EventRulesApprove), CanRefuse: s.svc.CanActOnRuleSet(u, ch, engine.EventRulesRefuse),
		CanWithdraw: s.svc.CanActOnRuleSet(u, ch, engine.EventRulesWithdraw), Proposer: u.Username == ch.ProposedBy,
		Now: s.svc.Now().In(s.loc).Format("2006-01-02T15:04")}
	if ch.WhatIfID != 0 {
		d.WhatIf, d.WhatIfRec, err = s.svc.StoredWhatIf(ctx, u, ch.WhatIfID)
	} else {
		d.WhatIf, d.WhatIfRec, err = s.svc.LatestWhatIf(ctx, u, ch)
	}
	if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
		return err
	}
	if d.WhatIf != nil && ch.State == engine.RuleSetProposed {
		if cur, err := s.svc.ActiveRuleSet(ctx, ch.Park); err == nil && cur.Version() != d.WhatIf.BaseVersion {
			d.Stale = true
		}
	}
	d.chart()
	pd := s.page(c, s.i18n.T(s.lang(c), "page.admin_rule_change.title", catalog.Args{"ID": ch.ID}))
	pd.Data = d
	return s.render(c, http.StatusOK, "admin_rule_change", pd)
}

// handleRuleSetChangeDiff downloads the proposal's diff as text, one change a line.
func (s *Server) handleRuleSetChangeDiff(c echo.Context) error {
	ch, err := s.changeParam(c)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "规则集变更 #%d  园区 %s\n现行版本 %s\n拟启用版本 %s\n提案人 %s  %s\n变更说明:%s\n\n", ch.ID, ch.Park, ch.BaseVersion, ch.Version,
		ch.ProposedBy, ch.ProposedAt.In(s.loc).Format("2006-01-02 15:04"), ch.Note)
	for i, d := range ch.Diff {
		fmt.Fprintf(&b, "%d. %s\n", i+1, d.TextZH)
	}
	if len(ch.Diff) == 0 {
		b.WriteString("(规则内容无变化)\n")
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="rules-change-%d-diff.txt"`, ch.ID))
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
}

// changeRedirect answers a POST on a proposal: back to its page with the
// outcome. A refusal the actor's role could not avoid knowing about — four
// eyes, no what-if yet — is shown on the page to whoever may take the event
// in principle; anyone else gets the plain 403.
func (s *Server) changeRedirect(c echo.Context, id int64, event string, err error, ok catalog.Message) error {
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.i18n.T(s.lang(c), ok.ID, ok.Args))
	case engine.EINVALID, engine.ECONFLICT:
		s.flash(c, false, s.refusalMessage(c, err))
	case engine.EFORBIDDEN:
		ch, rerr := s.svc.RuleSetChangeFor(c.Request().Context(), currentUser(c), id)
		obj, act := "ruleset:proposed", event
		if event == engine.EventRulesWhatIf {
			obj, act = "rules", "whatif"
		}
		if rerr != nil || !s.svc.Authorizer().Allowed(currentUser(c).Username, ch.Park, obj, act) {
			return err
		}
		s.flash(c, false, engine.ErrorMessage(err, s.lang(c)))
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/rules/changes/%d", id))
}

func (s *Server) handleRuleSetWhatIf(c echo.Context) error {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	_, rec, err := s.svc.GenerateWhatIf(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return s.changeRedirect(c, id, engine.EventRulesWhatIf, err, catalog.Message{})
	}
	return s.changeRedirect(c, id, engine.EventRulesWhatIf, nil, catalog.Message{ID: "flash.whatif_generated", Args: catalog.Args{"SHA": rec.SHA256[:16]}})
}

func (s *Server) handleRuleSetApprove(c echo.Context) error {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	in := engine.ApproveInput{Opinion: c.FormValue("opinion")}
	in.WhatIfID, _ = strconv.ParseInt(c.FormValue("whatif"), 10, 64)
	if v := strings.TrimSpace(c.FormValue("effective")); v != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", v, s.loc)
		if err != nil {
			if t, err = time.ParseInLocation(time.DateOnly, v, s.loc); err != nil {
				return s.changeRedirect(c, id, engine.EventRulesApprove, engine.FieldFail("effective", "err.effective_time_should_read", nil), catalog.Message{})
			}
		}
		in.Effective = t
	}
	ch, err := s.svc.ApproveRuleSet(c.Request().Context(), currentUser(c), id, in)
	if err != nil {
		return s.changeRedirect(c, id, engine.EventRulesApprove, err, catalog.Message{})
	}
	return s.changeRedirect(c, id, engine.EventRulesApprove, nil, catalog.Message{ID: "flash.rules_approved", Args: catalog.Args{"At": ch.EffectiveAt.In(s.loc).Format("2006-01-02 15:04")}})
}

func (s *Server) handleRuleSetRefuse(c echo.Context) error {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	_, err := s.svc.RefuseRuleSet(c.Request().Context(), currentUser(c), id, c.FormValue("reason"))
	return s.changeRedirect(c, id, engine.EventRulesRefuse, err, catalog.Message{ID: "flash.rules_refused"})
}

func (s *Server) handleRuleSetWithdraw(c echo.Context) error {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	_, err := s.svc.WithdrawRuleSet(c.Request().Context(), currentUser(c), id, c.FormValue("reason"))
	return s.changeRedirect(c, id, engine.EventRulesWithdraw, err, catalog.Message{ID: "flash.rules_withdrawn"})
}

func (s *Server) handleWhatIfXLSX(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.what_if_report_not", nil)
	}
	rep, rec, err := s.svc.StoredWhatIf(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	return sendWhatIfXLSX(c, rep, rec)
}

// sendWhatIfXLSX sends a stored what-if report as its workbook.
func sendWhatIfXLSX(c echo.Context, rep *engine.WhatIfReport, rec *engine.WhatIfRecord) error {
	body, err := rep.XLSX(rec.SHA256)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="whatif-%d-%s.xlsx"`, rec.ID, url.PathEscape(rec.Park)))
	return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body)
}

func shortVersion(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

// StateLabel names a change state for the page.
func (ruleSetsData) StateLabel(lang string, st engine.RuleSetState) string {
	return engine.RuleSetStateLabel(st, lang)
}

// StateLabel names a change state for the page.
func (ruleSetChangeData) StateLabel(lang string, st engine.RuleSetState) string {
	return engine.RuleSetStateLabel(st, lang)
}

// ProjectState names a project state for the page.
func (ruleSetChangeData) ProjectState(lang string, st engine.State) string {
	return engine.StateLabel(st, lang)
}

// rulesBadge is the badge colour of a change state.
func rulesBadge(st engine.RuleSetState) string {
	switch st {
	case engine.RuleSetInForce:
		return "badge-go"
	case engine.RuleSetProposed:
		return "badge-attention"
	case engine.RuleSetApproved:
		return "badge-review"
	case engine.RuleSetRefused:
		return "badge-stop"
	}
	return "badge-muted"
}

// Badge is the badge class of a change state.
func (ruleSetsData) Badge(st engine.RuleSetState) string { return rulesBadge(st) }

// Badge is the badge class of a change state.
func (ruleSetChangeData) Badge(st engine.RuleSetState) string { return rulesBadge(st) }
