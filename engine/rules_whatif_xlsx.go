package engine

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"

	"zonevet/rules"
)

// XLSX writes the what-if report as a workbook with Chinese headers: a
// summary, the diff, the screening replay (changed projects, open ones
// first, and the counts per state), the rating replay and the examples.
// sha256 is the stored report's hash, printed on the summary so the
// workbook can be matched to the approval's log entry.
func (rep *WhatIfReport) XLSX(sha256 string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheets := []struct {
		name string
		rows [][]any
	}{
		{"概要", rep.summaryRows(sha256)},
		{"规则变更", rep.diffRows()},
		{"初筛重放", rep.screeningRows()},
		{"各状态统计", rep.stateRows()},
		{"亩均评价重放", rep.ratingRows()},
		{"测试用例", rep.exampleRows()},
	}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			return nil, err
		}
		for r, row := range s.rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(s.name, cell, &row); err != nil {
				return nil, err
			}
		}
		_ = f.SetColWidth(s.name, "A", "H", 18)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func yesNo(ok bool) string {
	if ok {
		return "通过"
	}
	return "不通过"
}

func (rep *WhatIfReport) summaryRows(sha string) [][]any {
	rows := [][]any{
		{"项目", "内容"},
		{"园区", rep.Park},
		{"拟启用版本", rep.Version},
		{"现行版本", rep.BaseVersion},
		{"生成人", rep.GeneratedBy},
		{"生成时间(UTC)", rep.GeneratedAt.Format("2006-01-02 15:04:05")},
		{"报告 SHA-256", sha},
		{"规则变更条数", len(rep.Diff)},
		{"重放项目数", rep.Screening.Total},
		{"结论或检查结果变化的项目数", rep.Screening.Changed},
		{"由通过变为不通过", rep.Screening.PassToFail},
		{"由不通过变为通过", rep.Screening.FailToPass},
	}
	if rep.Rating != nil {
		rows = append(rows, []any{"亩均评价重放年度", rep.Rating.Year}, []any{"评价类别变化的企业数", len(rep.Rating.Changes)})
	}
	return rows
}

func (rep *WhatIfReport) diffRows() [][]any {
	rows := [][]any{{"变更", "规则编号", "规则", "设置", "原值", "新值"}}
	for _, d := range rep.Diff {
		rows = append(rows, []any{d.TextZH, d.Rule, d.Name, d.Field, d.Before, d.After})
	}
	return rows
}

func (rep *WhatIfReport) screeningRows() [][]any {
	rows := [][]any{{"项目编号", "项目名称", "当前状态", "仍在办理", "原结论", "新结论", "新增不通过的检查", "不再不通过的检查"}}
	names := func(ids []string) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = rep.Screening.CheckName("zh", id)
		}
		return strings.Join(out, "、")
	}
	for _, p := range rep.Screening.Projects {
		open := "否"
		if p.Open {
			open = "是"
		}
		rows = append(rows, []any{p.ID, p.Name, StateLabel(p.State, "zh"), open, yesNo(p.Before), yesNo(p.After),
			names(p.NewlyFailed), names(p.NewlyPassed)})
	}
	return rows
}

func (rep *WhatIfReport) stateRows() [][]any {
	rows := [][]any{{"状态", "项目数", "变化", "通过→不通过", "不通过→通过"}}
	for _, s := range rep.Screening.ByState {
		rows = append(rows, []any{StateLabel(s.State, "zh"), s.Total, s.Changed, s.PassToFail, s.FailToPass})
	}
	return rows
}

func (rep *WhatIfReport) ratingRows() [][]any {
	if rep.Rating == nil {
		return [][]any{{"说明"}, {"本园区尚无亩均效益评价记录"}}
	}
	rows := [][]any{{"项目编号", "企业", "原类别", "新类别"}}
	for _, c := range rep.Rating.Changes {
		rows = append(rows, []any{c.ProjectID, c.Name, c.Before, c.After})
	}
	rows = append(rows, []any{}, []any{"类别", "原企业数", "新企业数"})
	for _, b := range rep.RatingClasses() {
		rows = append(rows, []any{b, rep.Rating.Before[b], rep.Rating.After[b]})
	}
	return rows
}

// RatingClasses are the classes of the rating replay in display order.
func (rep *WhatIfReport) RatingClasses() []string {
	if rep.Rating == nil {
		return nil
	}
	out := append([]string{}, rules.BandNames...)
	out = append(out, rules.NotRatedClassName)
	seen := map[string]bool{}
	for _, c := range out {
		seen[c] = true
	}
	for _, m := range []map[string]int{rep.Rating.Before, rep.Rating.After} {
		for c := range m {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

func (rep *WhatIfReport) exampleRows() [][]any {
	rows := [][]any{{"来源", "用例", "结果", "说明"}}
	add := func(src string, rs []rules.ExampleResult) {
		for _, r := range rs {
			rows = append(rows, []any{src, fmt.Sprintf("%s(%s)", r.NameZH, r.ID), yesNo(r.OK), strings.Join(r.Failures, ";")})
		}
	}
	add("拟启用版本自带", rep.Examples)
	add("现行版本用例在新版本下", rep.BaseExamples)
	return rows
}
