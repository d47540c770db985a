package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"zonevet/engine"
	"zonevet/rules"
)

// runWorkbook is one rating run as Excel: every firm's line with its class,
// points, the missing-data policy that applied, the R&D support flag and the
// measures of its class, then the convention the classes follow.
func runWorkbook(run *engine.RatingRun, rs *rules.RuleSet, title string, actions map[string]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "评价结果"
	_ = f.SetSheetName("Sheet1", sheet)
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	cfg := rs.Rating()
	head := []any{"排名", "项目编号", "企业", "类别", "综合得分"}
	for _, ind := range cfg.Indicators {
		head = append(head, ind.NameZH)
	}
	head = append(head, "缺数据口径", "研发倾斜支持", "差别化政策", "处理", "说明", "规下企业评价得分")
	_ = f.SetCellValue(sheet, "A1", title)
	_ = f.SetCellStyle(sheet, "A1", "A1", bold)
	if err := f.SetSheetRow(sheet, "A2", &head); err != nil {
		return nil, err
	}
	last, _ := excelize.ColumnNumberToName(len(head))
	_ = f.SetCellStyle(sheet, "A2", last+"2", bold)
	missing := map[string]string{rules.MissingAverage: "取平均分", rules.MissingZero: "计 0 分", rules.MissingNotRated: "不参评"}
	for i, r := range run.Results {
		rank := any("—")
		if r.Rated {
			rank = r.Rank
		}
		row := []any{rank, r.ProjectID, r.Name, r.Band + " 类", r.Total}
		var gaps, below []string
		inds := cfg.Indicators
		if r.Group == rules.GroupBelowScale && cfg.BelowScale != nil {
			inds = cfg.BelowScale.Indicators
		}
		for j, s := range r.Indicators {
			if r.Group == rules.GroupBelowScale {
				below = append(below, fmt.Sprintf("%s %.2f", inds[j].NameZH, s.Points))
			} else {
				row = append(row, s.Points)
			}
			if s.Missing != "" {
				gaps = append(gaps, inds[j].NameZH+":"+missing[s.Missing])
			}
		}
		for len(row) < 5+len(cfg.Indicators) {
			row = append(row, "")
		}
		support := ""
		if r.RDSupport && cfg.RDSupport != nil {
			support = cfg.RDSupport.MeasureZH
		}
		measures := ""
		if m, ok := rs.Measures(r.Band); ok {
			measures = m.NameZH + ":" + strings.Join(m.MeasuresZH, ";")
		}
		row = append(row, strings.Join(gaps, ";"), support, measures, actions[r.Action], strings.Join(r.ReasonsZH, ";"), strings.Join(below, ";"))
		cell, _ := excelize.CoordinatesToCellName(1, i+3)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			return nil, err
		}
	}
	_ = f.SetColWidth(sheet, "A", last, 14)
	zh, _ := rs.BandConvention()
	note := len(run.Results) + 4
	_ = f.SetCellValue(sheet, fmt.Sprintf("A%d", note), "分类口径")
	_ = f.SetCellStyle(sheet, fmt.Sprintf("A%d", note), fmt.Sprintf("A%d", note), bold)
	_ = f.SetCellValue(sheet, fmt.Sprintf("B%d", note), zh)
	_ = f.SetCellValue(sheet, fmt.Sprintf("A%d", note+1), "规则版本")
	_ = f.SetCellValue(sheet, fmt.Sprintf("B%d", note+1), run.RuleSetVersion)
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// handleRatingRunExport sends a run's results as Excel to whoever may read
// the run (the same check as its page: recomputed and verified first).
func (s *Server) handleRatingRunExport(c echo.Context) error {
	ctx, u := c.Request().Context(), currentUser(c)
	id, err := strconv.ParseInt(c.Param("run"), 10, 64)
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.rating_run_not_found", nil)
	}
	run, err := s.svc.RatingRun(ctx, u, id)
	if err != nil {
		return err
	}
	rs, err := s.svc.RuleSetVersion(ctx, run.RuleSetVersion)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("%s %d 年度亩均效益评价结果(评价记录 #%d)", run.Park, run.Year, run.ID)
	b, err := runWorkbook(run, rs, title, trackingLabels(langZH))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="rating-%s-%d-run%d.xlsx"`, run.Park, run.Year, run.ID))
	return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b)
}
