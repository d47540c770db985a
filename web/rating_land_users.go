package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"zonevet/engine"
	"zonevet/rules/catalog"
)

// The land-user sheet: A 统一社会信用代码, B 企业名称, C 用地面积(亩),
// D 供地日期, then the annual sheet's figure columns from 营业收入 on, for the
// import's year.
var landUserHead = []string{"统一社会信用代码", "企业名称", "用地面积(亩)", "供地日期(2019-05-01)"}

// readLandUserSheet reads a land-user sheet; cell problems come back as
// row errors, those rows left out.
func readLandUserSheet(r io.Reader, year int) ([]engine.LandUserRow, []engine.RowError, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, nil, engine.FieldFail("file", "err.cannot_read_file_upload_xlsx_excel", nil)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		return nil, nil, engine.FieldFail("file", "err.cannot_read_worksheet", nil)
	}
	if len(rows) == 0 || len(rows[0]) < len(landUserHead) || !strings.Contains(rows[0][0], "统一社会信用代码") || !strings.Contains(rows[0][2], "用地面积") {
		return nil, nil, engine.FieldFail("file", "err.header_does_not_match_columns_are", nil)
	}
	var out []engine.LandUserRow
	var errs []engine.RowError
	for i, row := range rows[1:] {
		n := i + 2
		if blank(row) {
			continue
		}
		cell := func(j int) string {
			if j < len(row) {
				return strings.TrimSpace(row[j])
			}
			return ""
		}
		lr := engine.LandUserRow{Row: n, USCC: strings.ToUpper(cell(0)), Name: cell(1)}
		var rowErrs []engine.RowError
		if x, err := strconv.ParseFloat(strings.ReplaceAll(cell(2), ",", ""), 64); err != nil {
			rowErrs = append(rowErrs, engine.RowError{Row: n, Field: "land_area", Msg: catalog.Message{ID: "row.not_a_number", Args: catalog.Args{"Value": cell(2)}}})
		} else {
			lr.LandArea = x
		}
		if d, err := engine.ParseDate(cell(3)); err != nil {
			rowErrs = append(rowErrs, engine.RowError{Row: n, Field: "granted_on", Msg: catalog.Message{ID: "row.date_format"}})
		} else {
			lr.GrantedOn = d
		}
		// The figure columns follow, in the annual sheet's order from 营业收入.
		ar, figErrs := parseAnnualRow(n, append([]string{cell(0), cell(1)}, row[min(len(row), len(landUserHead)):]...), year)
		lr.Figures = ar.Figures
		if rowErrs = append(rowErrs, figErrs...); len(rowErrs) == 0 {
			out = append(out, lr)
		}
		errs = append(errs, rowErrs...)
	}
	return out, errs, nil
}

// handleLandUsersImport imports the park's existing industrial land users
// with their figures of the chosen year.
func (s *Server) handleLandUsersImport(c echo.Context) error {
	ctx, u := c.Request().Context(), currentUser(c)
	d, err := s.parkTracking(c)
	if err != nil {
		return err
	}
	if !d.CanImport {
		return engine.Fail(engine.EFORBIDDEN, "err.you_may_not_enter_this_park", nil)
	}
	data, fileName, err := s.uploadedWorkbook(c)
	if err != nil {
		return s.importFailed(c, d, err)
	}
	rows, cellErrs, err := readLandUserSheet(bytes.NewReader(data), d.Year)
	if err != nil {
		return s.importFailed(c, d, err)
	}
	sum := sha256.Sum256(data)
	res, err := s.svc.ImportLandUsers(ctx, u, engine.LandUserImport{Park: d.Park.ID, Year: d.Year, Rows: rows, Errors: cellErrs,
		FileName: fileName, FileSHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return s.importFailed(c, d, err)
	}
	d.LandImport = res
	if d.LandUsers, err = s.svc.LandUsers(ctx, u, d.Park.ID); err != nil {
		return err
	}
	status := http.StatusOK
	if res.Imported == 0 {
		status = http.StatusUnprocessableEntity
	}
	pd := s.page(c, s.t(c, "page.rating_land_users_go.import_land_users"))
	pd.Data = d
	return s.render(c, status, "tracking_park", pd)
}
