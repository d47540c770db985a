package web

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/rules/catalog"
)

// annualColumn is one column of the annual-figures sheet: the engine field
// it fills (its header is the catalogue's annual.column.<field>) and how to
// read it.
type annualColumn struct {
	field    string
	kind     byte // 's' text, 'f' number, 'i' whole number, 'b' yes/no
	optional bool
}

// annualColumns is the sheet's layout, A to L. The template and the reader
// share it, so a row error names the column the user sees.
var annualColumns = []annualColumn{
	{"uscc", 's', false},
	{"name", 's', true},
	{"revenue", 'f', false},
	{"output", 'f', false},
	{"value_added", 'f', false},
	{"tax", 'f', false},
	{"rd_expense", 'f', false},
	{"energy_use", 'f', false},
	{"emissions", 'f', false},
	{"employees", 'i', false},
	{"high_tech", 'b', false},
	{"above_scale", 'b', false},
	{"electricity", 'f', true},
}

const annualSheet = "年度数据"

// columnOf names the sheet column of an engine field ("C"), or "".
func columnOf(field string) string {
	for i, c := range annualColumns {
		if c.field == field {
			name, _ := excelize.ColumnNumberToName(i + 1)
			return name
		}
	}
	return ""
}

// columnLabel is the header of a field's column in lang.
func columnLabel(field, lang string) string {
	for _, c := range annualColumns {
		if c.field == field {
			return c.header().Text(lang)
		}
	}
	return field
}

// header is the column's header as a message.
func (c annualColumn) header() catalog.Message {
	return catalog.Message{ID: "annual.column." + c.field}
}

// annualTemplate is the downloadable sheet for a park and year, with one row
// per firm that reports (code and name filled in) so staff only add numbers.
func annualTemplate(year int, firms []engine.TrackedProject) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", annualSheet); err != nil {
		return nil, err
	}
	head, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"DDE7F3"}, Pattern: 1},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}})
	for i, c := range annualColumns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellValue(annualSheet, cell, c.header().Text(catalog.ZH)); err != nil {
			return nil, err
		}
	}
	_ = f.SetCellStyle(annualSheet, "A1", "L1", head)
	_ = f.SetColWidth(annualSheet, "A", "A", 24)
	_ = f.SetColWidth(annualSheet, "B", "B", 30)
	_ = f.SetColWidth(annualSheet, "C", "L", 16)
	_ = f.SetRowHeight(annualSheet, 1, 32)
	_ = f.SetPanes(annualSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	for r, p := range firms {
		_ = f.SetCellValue(annualSheet, fmt.Sprintf("A%d", r+2), p.USCC)
		_ = f.SetCellValue(annualSheet, fmt.Sprintf("B%d", r+2), p.Name)
	}
	yn := excelize.NewDataValidation(true)
	yn.Sqref = "K2:L5000"
	_ = yn.SetDropList([]string{"是", "否"})
	_ = f.AddDataValidation(annualSheet, yn)
	note, _ := f.NewSheet("说明")
	_ = note
	for i, line := range []string{
		fmt.Sprintf("%d 年度企业亩均效益评价数据填报模板", year),
		"每行一家企业,以统一社会信用代码识别;企业名称仅供核对,不导入。",
		"金额单位为万元,可带千分位逗号;能耗为吨标准煤;排放量为吨。",
		"“高新技术企业”“规上工业企业”填“是”或“否”。",
		"导入时逐行校验:有错误的行会列出行号、列和原因;默认有任何错误则整表不导入,可选择仅导入正确的行。",
	} {
		_ = f.SetCellValue("说明", fmt.Sprintf("A%d", i+1), line)
	}
	_ = f.SetColWidth("说明", "A", "A", 100)
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Bounds on an uploaded annual-figures workbook. A zone reports a few
// hundred firms; a sheet of maxAnnualRows filled rows unpacks to 3.6 MB
// (TestAnnualSheetFullSizeFitsLimits). Beyond these the upload is refused
// before it is read: a 271 KB zip bomb unpacking to 60 MB once took 15.5 s
// and most of the server's memory.
const (
	maxAnnualRows     = 10000    // sheet rows, header included, blank rows too
	maxAnnualUnzipped = 16 << 20 // bytes of all the workbook's parts unpacked
)

// readAnnualSheet reads an uploaded sheet into rows and cell errors: a cell
// that is not a number where one is needed is reported with its row and
// column, and its row is left out of rows. Blank rows are skipped.
func readAnnualSheet(r io.Reader, year int) ([]engine.AnnualRow, []engine.RowError, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	if err := checkUnzippedSize(data); err != nil {
		return nil, nil, err
	}
	// The same bound for excelize, which also keeps every part in memory
	// rather than spilling large sheets to temporary files.
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxAnnualUnzipped, UnzipXMLSizeLimit: maxAnnualUnzipped})
	if err != nil {
		return nil, nil, errUnreadableBook()
	}
	defer f.Close()
	sheet := annualSheet
	if idx, _ := f.GetSheetIndex(sheet); idx < 0 {
		sheet = f.GetSheetName(0)
	}
	rows, err := sheetRows(f, sheet)
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 || len(rows[0]) == 0 || !strings.Contains(rows[0][0], "统一社会信用代码") && !strings.Contains(strings.ToLower(rows[0][0]), "credit") {
		return nil, nil, engine.FieldFail("file", "err.header_row_does_not_match_template", nil)
	}
	var out []engine.AnnualRow
	var errs []engine.RowError
	for i, row := range rows[1:] {
		if blank(row) {
			continue
		}
		ar, rowErrs := parseAnnualRow(i+2, row, year)
		if len(rowErrs) == 0 {
			out = append(out, ar)
		}
		errs = append(errs, rowErrs...)
	}
	return out, errs, nil
}

func errUnreadableBook() error {
	return engine.FieldFail("file", "err.cannot_read_file_upload_xlsx_excel", nil)
}

// checkUnzippedSize refuses a workbook whose parts unpack to more than
// maxAnnualUnzipped, by the sizes its zip directory declares (archive/zip
// fails a part that inflates past its declared size, so they cannot lie).
func checkUnzippedSize(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return errUnreadableBook()
	}
	var total uint64
	for _, zf := range zr.File {
		total += zf.UncompressedSize64
		if total > maxAnnualUnzipped || total < zf.UncompressedSize64 {
			return engine.FieldFail("file", "err.file_unpacks_to_more_than_mb", engine.Args{"Arg1": maxAnnualUnzipped >> 20})
		}
	}
	return nil
}

// sheetRows reads a sheet's rows as text, row by row, refusing a sheet of
// more than maxAnnualRows rows (an empty row in between counts as one)
// without reading the rest.
func sheetRows(f *excelize.File, sheet string) ([][]string, error) {
	it, err := f.Rows(sheet)
	if err != nil {
		return nil, engine.FieldFail("file", "err.cannot_read_worksheet", nil)
	}
	defer it.Close()
	var rows [][]string
	for it.Next() {
		if len(rows) == maxAnnualRows {
			return nil, engine.FieldFail("file", "err.worksheet_has_more_than_rows_one", engine.Args{"MaxAnnualRows": maxAnnualRows})
		}
		row, err := it.Columns()
		if err != nil {
			return nil, engine.FieldFail("file", "err.cannot_read_worksheet", nil)
		}
		rows = append(rows, row)
	}
	if it.Error() != nil {
		return nil, engine.FieldFail("file", "err.cannot_read_worksheet", nil)
	}
	return rows, nil
}

// parseAnnualRow reads one data row (sheet row n) in annualColumns' order.
func parseAnnualRow(n int, row []string, year int) (engine.AnnualRow, []engine.RowError) {
	var errs []engine.RowError
	cell := func(j int) string {
		if j < len(row) {
			return strings.TrimSpace(row[j])
		}
		return ""
	}
	ar := engine.AnnualRow{Row: n, USCC: strings.ToUpper(cell(0)), Figures: engine.AnnualFigures{Year: year}}
	for j, col := range annualColumns {
		v := cell(j)
		bad := func(id string, args catalog.Args) {
			errs = append(errs, engine.RowError{Row: n, Field: col.field, Msg: catalog.Message{ID: id, Args: args}})
		}
		if v == "" && !col.optional && col.kind != 's' {
			bad("row.empty", catalog.Args{"Column": col.header()})
			continue
		}
		if v == "" && col.optional {
			continue
		}
		switch col.kind {
		case 'f', 'i':
			x, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) { // ParseFloat reads "NaN" and "Inf"
				bad("row.not_a_number", catalog.Args{"Value": v})
				continue
			}
			if col.kind == 'i' && x != float64(int64(x)) {
				bad("row.not_whole", catalog.Args{"Value": v})
				continue
			}
			setFigure(&ar.Figures, col.field, x)
		case 'b':
			b, good := yesNo(v)
			if !good {
				bad("row.not_yes_no", catalog.Args{"Value": v})
				continue
			}
			if col.field == "high_tech" {
				ar.Figures.HighTech = b
			} else {
				ar.Figures.AboveScale = b
			}
		}
	}
	return ar, errs
}

func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func yesNo(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "是", "y", "yes", "1", "true", "√":
		return true, true
	case "否", "n", "no", "0", "false", "×":
		return false, true
	}
	return false, false
}

func setFigure(f *engine.AnnualFigures, field string, x float64) {
	switch field {
	case "revenue":
		f.Revenue = x
	case "output":
		f.Output = x
	case "value_added":
		f.ValueAdded = x
	case "tax":
		f.Tax = x
	case "rd_expense":
		f.RDExpense = x
	case "energy_use":
		f.EnergyUse = x
	case "emissions":
		f.Emissions = x
	case "employees":
		f.Employees = int(x)
	case "electricity":
		f.Electricity = x
	}
}

// dashboardWorkbook is the dashboard's figures as Excel, one sheet per panel.
func dashboardWorkbook(d *engine.Dashboard, title string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	num, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("#,##0.00")})
	sheets := []struct {
		name  string
		head  []string
		rows  [][]any
		money []int // columns (0-based) formatted with thousands separators
	}{
		{"政策目标", []string{"范围", "指标", "目标", "实际", "单位", "是否达标", "口径"}, nil, []int{2, 3}},
		{"各园区", []string{"园区", "项目数", "跟踪项目", "本年签约", "本年签约固定资产投资(万元)", "A 类", "B 类", "C 类", "D 类", "T 类(不参评)", "宽限期", "整改中", "已退出", "工业总产值(万元)", "规上工业企业", "规上高新技术企业", "高新技术企业工业总产值(万元)"}, nil, []int{4, 13, 16}},
		{"评价分类", []string{"类别", "企业数"}, nil, nil},
		{"亩均税收分布", []string{"区间(万元/亩)", "企业数"}, nil, nil},
		{"亩均产值分布", []string{"区间(万元/亩)", "企业数"}, nil, nil},
		{"整改与退出", []string{"项目编号", "园区", "企业", "状态", "开始", "期限", "说明"}, nil, nil},
	}
	for _, t := range d.Targets {
		met := "否"
		if t.Met {
			met = "是"
		}
		scope := "全区(各园区合计)"
		for _, p := range d.Parks {
			if p.ID == t.Scope {
				scope = p.NameZH
			}
		}
		sheets[0].rows = append(sheets[0].rows, []any{scope, t.NameZH, t.Target, t.Actual, t.Unit, met, t.BasisZH})
	}
	for _, p := range d.PerPark {
		// The class names are rules.BandNames and NotRatedClassName: validation refuses any other.
		sheets[1].rows = append(sheets[1].rows, []any{p.Park.NameZH, p.Projects, p.Tracked, p.SignedThisYear, p.InvestmentSigned,
			p.Bands["A"], p.Bands["B"], p.Bands["C"], p.Bands["D"], p.Bands["T"], p.Bands["grace"], p.Rectifying, p.Exited, p.Output, p.AboveScale, p.HighTechAbove, p.HighTechOutput})
	}
	for _, b := range append(slices.Clone(rules.BandNames), rules.NotRatedClassName, "grace") {
		label := b + " 类"
		switch b {
		case rules.NotRatedClassName:
			label = b + " 类(不参评)"
		case "grace":
			label = "宽限期(不参评)"
		}
		sheets[2].rows = append(sheets[2].rows, []any{label, d.Bands[b]})
	}
	for _, b := range d.TaxPerMu {
		sheets[3].rows = append(sheets[3].rows, []any{b.Label, b.Count})
	}
	for _, b := range d.OutputPerMu {
		sheets[4].rows = append(sheets[4].rows, []any{b.Label, b.Count})
	}
	for _, l := range append(append([]engine.FirmLine{}, d.Rectifying...), d.Exited...) {
		due := ""
		if !l.Due.IsZero() {
			due = l.Due.Format("2006-01-02")
		}
		sheets[5].rows = append(sheets[5].rows, []any{l.ProjectID, l.Park, l.Name, engine.StateLabel(l.State, "zh"), l.Since.Format("2006-01-02"), due, l.Detail})
	}
	for i, sh := range sheets {
		if i == 0 {
			_ = f.SetSheetName("Sheet1", sh.name)
		} else if _, err := f.NewSheet(sh.name); err != nil {
			return nil, err
		}
		_ = f.SetCellValue(sh.name, "A1", title)
		_ = f.SetCellStyle(sh.name, "A1", "A1", bold)
		if err := f.SetSheetRow(sh.name, "A2", &sh.head); err != nil {
			return nil, err
		}
		last, _ := excelize.ColumnNumberToName(len(sh.head))
		_ = f.SetCellStyle(sh.name, "A2", last+"2", bold)
		for r, row := range sh.rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+3)
			if err := f.SetSheetRow(sh.name, cell, &row); err != nil {
				return nil, err
			}
		}
		for _, c := range sh.money {
			col, _ := excelize.ColumnNumberToName(c + 1)
			_ = f.SetCellStyle(sh.name, col+"3", fmt.Sprintf("%s%d", col, len(sh.rows)+2), num)
		}
		_ = f.SetColWidth(sh.name, "A", last, 16)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }
