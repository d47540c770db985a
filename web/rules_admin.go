package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules"
)

// Rule-set administration (admin role): a park's rule-set versions, each
// one's text, uploading a new version and putting an earlier one back in
// force. A version is the hash of its text, so what a report names can
// always be read here.
func (s *Server) registerRulesAdminRoutes(e *echo.Echo) {
	g := e.Group("/admin", requireUser)
	g.GET("/rules", s.handleRuleSets)
	g.POST("/rules", s.handleRuleSetUpload)
	g.GET("/rules/:version", s.handleRuleSetSource)
	g.POST("/rules/:version/activate", s.handleRuleSetActivate)
}

// maxRuleSetFile caps an uploaded rule-set file: the defaults are ~15 KB.
const maxRuleSetFile = 1 << 20

type ruleSetsData struct {
	Parks    []engine.Park // where this admin manages rules
	Park     engine.Park
	Versions []engine.RuleSetRecord
	Problems []rules.Problem // of a refused upload
	File     string
	Error    string
}

func (s *Server) ruleSetsPage(c echo.Context, status int, park string, d ruleSetsData) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	parks, err := s.svc.RuleSetParks(ctx, u)
	if err != nil {
		return err
	}
	if len(parks) == 0 {
		return engine.Fail(engine.EFORBIDDEN, "err.only_administrator_manages_rule_sets", nil)
	}
	d.Parks, d.Park = parks, parks[0]
	for _, p := range parks {
		if p.ID == park {
			d.Park = p
		}
	}
	if d.Versions, err = s.svc.RuleSetVersions(ctx, u, d.Park.ID); err != nil {
		return err
	}
	pd := s.page(c, pickLang(s.lang(c), "规则集版本", "Rule-set versions"))
	pd.Data = d
	return s.render(c, status, "admin_rules", pd)
}

func (s *Server) handleRuleSets(c echo.Context) error {
	return s.ruleSetsPage(c, http.StatusOK, c.QueryParam("park"), ruleSetsData{})
}

func (s *Server) handleRuleSetUpload(c echo.Context) error {
	park := c.FormValue("park")
	var data []byte
	name := park + ".yaml"
	if fh, err := c.FormFile("file"); err == nil {
		if fh.Size > maxRuleSetFile {
			return s.ruleSetsPage(c, http.StatusBadRequest, park, ruleSetsData{Error: pickLang(s.lang(c), "文件:规则集文件不超过 1 MB", "file: a rule-set file may have at most 1 MB")})
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		if data, err = io.ReadAll(io.LimitReader(f, maxRuleSetFile)); err != nil {
			return err
		}
		name = filepath.Base(fh.Filename)
	}
	rs, err := s.svc.UploadRuleSet(c.Request().Context(), currentUser(c), park, name, data)
	var ve *rules.ValidationError
	switch {
	case errors.As(err, &ve):
		return s.ruleSetsPage(c, http.StatusBadRequest, park, ruleSetsData{Problems: ve.Problems, File: name,
			Error: pickLang(s.lang(c), "文件有误,未启用:请逐条修改后重新上传", "The file has mistakes and was not put in force: fix each and upload again")})
	case engine.ErrorCode(err) == engine.EINVALID || engine.ErrorCode(err) == engine.ECONFLICT:
		status := http.StatusBadRequest
		if engine.ErrorCode(err) == engine.ECONFLICT {
			status = http.StatusConflict
		}
		return s.ruleSetsPage(c, status, park, ruleSetsData{Error: s.refusalMessage(c, err)})
	case err != nil:
		return err
	}
	s.flash(c, true, pickLang(s.lang(c), "新版本已启用:", "New version in force: ")+shortVersion(rs.Version()))
	return c.Redirect(http.StatusSeeOther, "/admin/rules?park="+url.QueryEscape(park))
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
	pd := s.page(c, pickLang(s.lang(c), "规则集 ", "Rule set ")+shortVersion(rec.Version))
	pd.Data = ruleSetSourceData{Record: rec, Lines: strings.Split(strings.TrimRight(string(rec.Source), "\n"), "\n")}
	return s.render(c, http.StatusOK, "admin_rule", pd)
}

func (s *Server) handleRuleSetActivate(c echo.Context) error {
	rs, err := s.svc.ActivateRuleSet(c.Request().Context(), currentUser(c), c.Param("version"))
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, pickLang(s.lang(c), "已恢复启用版本 ", "Version back in force: ")+shortVersion(rs.Version()))
		return c.Redirect(http.StatusSeeOther, "/admin/rules?park="+url.QueryEscape(rs.Park()))
	case engine.ECONFLICT:
		s.flash(c, false, engine.ErrorMessage(err, s.lang(c)))
		return c.Redirect(http.StatusSeeOther, "/admin/rules")
	}
	return err
}

func shortVersion(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}
