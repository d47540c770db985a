package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"
)

// landUserBook builds a land-user sheet: the four land columns, then the
// annual template's columns from revenue on.
func landUserBook(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	head := []any{}
	for _, h := range landUserHead {
		head = append(head, h)
	}
	for _, c := range annualColumns[2:] {
		head = append(head, columnLabel(c.field, langZH))
	}
	f.SetSheetRow("Sheet1", "A1", &head)
	for i, r := range rows {
		f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &r)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLandUsersImportAndRating: a promoter imports the park's existing land
// users from a sheet (a bad row refuses the whole sheet, listed by row and
// field), the committee's run rates them with the projects, and the run's
// page shows them as land users without a project link.
func TestLandUsersImportAndRating(t *testing.T) {
	w := mustWorld(t)
	year := lastYear(w)
	w.ratingRun() // a project with figures, so a run is possible
	code := nextUSCC()
	good := []any{code, "清远市老厂制造有限公司", 30, "2015-06-01", 30000, 32000, 8000, 1200, 600, 6000, 4, 200, "否", "是"}
	fields := url.Values{"park": {ownPark}, "year": {strconv.Itoa(year)}}
	promoter := w.login("promoter")
	bad := []any{nextUSCC(), "错行企业", "三十", "2015-06-01", 1, 1, 1, 1, 1, 1, 1, 1, "否", "是"}
	rec := promoter.do("POST", "/tracking/land-users", w.multipartFields(fields, "存量.xlsx", landUserBook(t, [][]any{good, bad})))
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "用地面积") {
		t.Fatalf("sheet with a bad row: %d", rec.Code)
	}
	rec = promoter.do("POST", "/tracking/land-users", w.multipartFields(fields, "存量.xlsx", landUserBook(t, [][]any{good})))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "已导入 1 家存量用地企业") {
		t.Fatalf("import: %d\n%.400s", rec.Code, rec.Body.String())
	}
	committee := w.login("committee")
	rec = committee.do("POST", "/tracking/runs", url.Values{"park": {ownPark}, "year": {strconv.Itoa(year)}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("run: %d", rec.Code)
	}
	doc := parseHTML(t, committee.do("GET", rec.Header().Get("Location"), nil).Body.String())
	tags := findAll(doc, func(n *html.Node) bool { return hasAttr(n, "data-land-user") })
	if len(tags) != 1 || !strings.Contains(text(tags[0].Parent), "清远市老厂制造有限公司") {
		t.Errorf("land user on the run page: %d tags", len(tags))
	}
}
