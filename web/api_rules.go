package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/rules/catalog"
)

// registerRulesAPIRoutes registers rule-set governance for machines (issue
// 19 with issue 12): the pipeline of changes, one change with its diff, the
// diff of any two versions, proposing (a YAML text, or an earlier version
// again), the what-if of a proposal or of a draft never proposed, and the
// committee's approval or refusal and the proposer's withdrawal. Each
// handler calls the engine command of the 规则集 page, so four eyes and the
// what-if-hash guard are the page's.
func (s *Server) registerRulesAPIRoutes(a *echo.Group) {
	a.GET("/rulesets/changes", s.handleAPIRuleChanges)
	a.POST("/rulesets/changes", s.handleAPIRulePropose)
	a.GET("/rulesets/changes/:change", s.handleAPIRuleChange)
	a.POST("/rulesets/changes/:change/whatif", s.handleAPIRuleWhatIf)
	a.POST("/rulesets/changes/:change/approve", s.handleAPIRuleApprove)
	a.POST("/rulesets/changes/:change/refuse", s.handleAPIRuleRefuse)
	a.POST("/rulesets/changes/:change/withdraw", s.handleAPIRuleWithdraw)
	a.GET("/rulesets/diff", s.handleAPIRuleDiff)
	a.POST("/rulesets/whatif", s.handleAPIRuleDraftWhatIf)
	a.GET("/rulesets/whatif/:whatif", s.handleAPIWhatIf)
	a.GET("/rulesets/whatif/:whatif/report.xlsx", s.handleAPIWhatIfXLSX)
}

func (s *Server) handleAPIRuleChanges(c echo.Context) error {
	park, err := s.apiPark(c)
	if err != nil {
		return err
	}
	cs, err := s.svc.RuleSetChanges(c.Request().Context(), currentUser(c), park)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []engine.RuleSetChange{}
	}
	return c.JSON(http.StatusOK, cs)
}

// apiChange is the change named by the path, of a park the token reaches.
func (s *Server) apiChange(c echo.Context) (*engine.RuleSetChange, error) {
	id, err := strconv.ParseInt(c.Param("change"), 10, 64)
	if err != nil || id <= 0 {
		return nil, engine.Fail(engine.ENOTFOUND, "err.rule_set_proposal_not", nil)
	}
	ch, err := s.svc.RuleSetChangeFor(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return nil, err
	}
	if _, err := s.tokenParkFilter(c, []string{ch.Park}); err != nil {
		return nil, engine.Fail(engine.ENOTFOUND, "err.rule_set_proposal_not", nil)
	}
	return ch, nil
}

func (s *Server) handleAPIRuleChange(c echo.Context) error {
	ch, err := s.apiChange(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ch)
}

// proposeInput is the body of POST /rulesets/changes: a rule-set file's
// text, or the version to restore, with the change note.
type proposeInput struct {
	Park     string `json:"park"`
	FileName string `json:"file_name,omitempty"`
	File     string `json:"file,omitempty"`
	Restore  string `json:"restore,omitempty"`
	Note     string `json:"note"`
}

func (s *Server) handleAPIRulePropose(c echo.Context) error {
	var in proposeInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	var ch *engine.RuleSetChange
	var err error
	if in.Restore != "" {
		if in.File != "" {
			return engine.FieldFail("restore", "err.api_rules_file_or_restore", nil)
		}
		rec, rerr := s.svc.RuleSetSource(ctx, u, in.Restore)
		if rerr != nil {
			return rerr
		}
		if _, err := s.tokenParkFilter(c, []string{rec.Park}); err != nil {
			return engine.Fail(engine.ENOTFOUND, "err.rule_set_version_not", nil)
		}
		ch, err = s.svc.ProposeRestore(ctx, u, in.Restore, in.Note)
	} else {
		if in.Park == "" {
			return engine.FieldFail("park", "err.give_park", nil)
		}
		if _, err := s.tokenParkFilter(c, []string{in.Park}); err != nil {
			return err
		}
		if len(in.File) > maxRuleSetFile {
			return engine.FieldFail("file", "err.api_rules_file_too_large", nil)
		}
		ch, err = s.svc.ProposeRuleSet(ctx, u, in.Park, draftName(in.Park, in.FileName), []byte(in.File), in.Note)
	}
	if err != nil {
		return fileMistakes(err)
	}
	return c.JSON(http.StatusCreated, ch)
}

// draftName is the file name a draft's problems are reported under.
func draftName(park, name string) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return park + ".yaml"
}

// fileMistakes turns a rule-set file's problems into one API error on the
// field "file" listing each with its line, in the reader's language.
func fileMistakes(err error) error {
	var ve *rules.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	list := catalog.List{SepZH: ";", SepEN: "; "}
	for _, p := range ve.Problems {
		list.Items = append(list.Items, catalog.Message{ID: "err.api_rules_problem", Args: catalog.Args{
			"Rule": p.Rule, "Field": p.Field, "Line": p.Line, "Problem": catalog.Text{ZH: p.Text(catalog.ZH), EN: p.Text(catalog.EN)}}})
	}
	return engine.FieldFail("file", "err.api_rules_file_mistakes", engine.Args{"Problems": list})
}

// whatIfAnswer is a what-if report with the stored record that names it
// (none for a draft's) and the SHA-256 of the report's JSON.
type whatIfAnswer struct {
	ID     int64                `json:"id,omitempty"`
	SHA256 string               `json:"sha256"`
	Report *engine.WhatIfReport `json:"report"`
}

func (s *Server) handleAPIRuleWhatIf(c echo.Context) error {
	ch, err := s.apiChange(c)
	if err != nil {
		return err
	}
	rep, rec, err := s.svc.GenerateWhatIf(c.Request().Context(), currentUser(c), ch.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, whatIfAnswer{ID: rec.ID, SHA256: rec.SHA256, Report: rep})
}

// draftWhatIfInput is the body of POST /rulesets/whatif: a draft never proposed.
type draftWhatIfInput struct {
	Park     string `json:"park"`
	FileName string `json:"file_name,omitempty"`
	File     string `json:"file"`
}

// handleAPIRuleDraftWhatIf answers the what-if of a draft without storing
// it or proposing anything; the look is logged (engine.Service.WhatIf).
func (s *Server) handleAPIRuleDraftWhatIf(c echo.Context) error {
	var in draftWhatIfInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Park == "" {
		return engine.FieldFail("park", "err.give_park", nil)
	}
	if _, err := s.tokenParkFilter(c, []string{in.Park}); err != nil {
		return err
	}
	if len(in.File) > maxRuleSetFile {
		return engine.FieldFail("file", "err.api_rules_file_too_large", nil)
	}
	rep, sha, err := s.svc.WhatIfFile(c.Request().Context(), currentUser(c), in.Park, draftName(in.Park, in.FileName), []byte(in.File))
	if err != nil {
		return fileMistakes(err)
	}
	return c.JSON(http.StatusOK, whatIfAnswer{SHA256: sha, Report: rep})
}

// approveInput is the body of POST /rulesets/changes/{change}/approve.
type approveInput struct {
	Effective string `json:"effective,omitempty"` // RFC 3339, or YYYY-MM-DD (the zone's midnight); "" is now
	WhatIfID  int64  `json:"whatif_id,omitempty"`
	Opinion   string `json:"opinion,omitempty"`
}

func (s *Server) handleAPIRuleApprove(c echo.Context) error {
	ch, err := s.apiChange(c)
	if err != nil {
		return err
	}
	var in approveInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	ai := engine.ApproveInput{WhatIfID: in.WhatIfID, Opinion: in.Opinion}
	if v := strings.TrimSpace(in.Effective); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.ParseInLocation(time.DateOnly, v, s.loc); err != nil {
				return engine.FieldFail("effective", "err.effective_time_should_read", nil)
			}
		}
		ai.Effective = t
	}
	out, err := s.svc.ApproveRuleSet(c.Request().Context(), currentUser(c), ch.ID, ai)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// reasonInput is the body of a refusal or a withdrawal.
type reasonInput struct {
	Reason string `json:"reason"`
}

func (s *Server) handleAPIRuleRefuse(c echo.Context) error {
	return s.closeAPIChange(c, s.svc.RefuseRuleSet)
}

func (s *Server) handleAPIRuleWithdraw(c echo.Context) error {
	return s.closeAPIChange(c, s.svc.WithdrawRuleSet)
}

func (s *Server) closeAPIChange(c echo.Context, close func(ctx context.Context, u *engine.User, id int64, reason string) (*engine.RuleSetChange, error)) error {
	ch, err := s.apiChange(c)
	if err != nil {
		return err
	}
	var in reasonInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	out, err := close(c.Request().Context(), currentUser(c), ch.ID, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// ruleDiff is GET /rulesets/diff: what changes from one version to another.
type ruleDiff struct {
	From  string           `json:"from"`
	To    string           `json:"to"`
	Items []rules.DiffItem `json:"items"`
}

func (s *Server) handleAPIRuleDiff(c echo.Context) error {
	ctx, u := c.Request().Context(), currentUser(c)
	var full [2]string
	for i, field := range []string{"from", "to"} {
		v := c.QueryParam(field)
		if v == "" {
			return engine.FieldFail(field, "err.api_rules_give_version", nil)
		}
		rec, err := s.svc.RuleSetSource(ctx, u, v)
		if err != nil {
			return err
		}
		if _, err := s.tokenParkFilter(c, []string{rec.Park}); err != nil {
			return engine.Fail(engine.ENOTFOUND, "err.rule_set_version_not", nil)
		}
		full[i] = rec.Version
	}
	items, err := s.svc.RuleSetDiff(ctx, u, full[0], full[1])
	if err != nil {
		return err
	}
	if items == nil {
		items = []rules.DiffItem{}
	}
	return c.JSON(http.StatusOK, ruleDiff{From: full[0], To: full[1], Items: items})
}

// apiWhatIf is the stored report named by the path, of a park the token reaches.
func (s *Server) apiWhatIf(c echo.Context) (*engine.WhatIfReport, *engine.WhatIfRecord, error) {
	id, err := strconv.ParseInt(c.Param("whatif"), 10, 64)
	if err != nil || id <= 0 {
		return nil, nil, engine.Fail(engine.ENOTFOUND, "err.what_if_report_not", nil)
	}
	rep, rec, err := s.svc.StoredWhatIf(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.tokenParkFilter(c, []string{rec.Park}); err != nil {
		return nil, nil, engine.Fail(engine.ENOTFOUND, "err.what_if_report_not", nil)
	}
	return rep, rec, nil
}

func (s *Server) handleAPIWhatIf(c echo.Context) error {
	rep, rec, err := s.apiWhatIf(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, whatIfAnswer{ID: rec.ID, SHA256: rec.SHA256, Report: rep})
}

func (s *Server) handleAPIWhatIfXLSX(c echo.Context) error {
	rep, rec, err := s.apiWhatIf(c)
	if err != nil {
		return err
	}
	return sendWhatIfXLSX(c, rep, rec)
}
