package web

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"zonevet/engine"
)

// rewriteSheet returns book with its first sheet's XML passed through edit,
// every part deflated.
func rewriteSheet(t testing.TB, book []byte, edit func(w io.Writer, sheet []byte)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		w, err := zw.CreateHeader(&zip.FileHeader{Name: zf.Name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if zf.Name == "xl/worksheets/sheet1.xml" {
			edit(w, data)
		} else {
			w.Write(data)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// zipBomb is a real annual-figures workbook whose sheet XML carries pad
// bytes of whitespace after its first row: legal XML, compressing a
// thousandfold.
func zipBomb(t testing.TB, book []byte, pad int) []byte {
	return rewriteSheet(t, book, func(w io.Writer, sheet []byte) {
		i := bytes.Index(sheet, []byte("</row>")) + len("</row>")
		w.Write(sheet[:i])
		spaces := bytes.Repeat([]byte(" "), 1<<20)
		for n := pad; n > 0; n -= len(spaces) {
			w.Write(spaces[:min(n, len(spaces))])
		}
		w.Write(sheet[i:])
	})
}

func heapAllocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestAnnualImportRefusesZipBomb: a workbook of a few hundred KB that
// unpacks to 60 MB is refused from its zip directory, in both languages,
// without being unpacked; the same workbook without the padding reads.
func TestAnnualImportRefusesZipBomb(t *testing.T) {
	book := annualBook(t, [][]any{{"91441800MA4UJ8XQ1T", "甲", 1, 1, 1, 1, 1, 1, 1, 1, "是", "否"}})
	bomb := zipBomb(t, book, 60<<20)
	if len(bomb) > 400<<10 {
		t.Fatalf("bomb is %d KB, want a few hundred", len(bomb)>>10)
	}
	var err error
	if got := heapAllocated(func() { _, _, err = readAnnualSheet(bytes.NewReader(bomb), 2025) }); got > 8<<20 {
		t.Errorf("refusing a %d KB bomb allocated %d MB", len(bomb)>>10, got>>20)
	}
	if engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(engine.ErrorMessage(err, "zh"), "解压后超过 16 MB") ||
		!strings.Contains(engine.ErrorMessage(err, "en"), "unpacks to more than 16 MB") {
		t.Fatalf("bomb: %v / %s", err, engine.ErrorMessage(err, "en"))
	}
	if rows, errs, err := readAnnualSheet(bytes.NewReader(zipBomb(t, book, 1<<20)), 2025); err != nil || len(rows) != 1 || len(errs) != 0 {
		t.Fatalf("1 MB of padding: rows %v, errors %v, %v", rows, errs, err)
	}
}

// TestAnnualImportRefusesTooManyRows: a sheet past 10000 rows is
// refused without reading the rest, also when the rows are empty ones
// before a far-away cell (a few bytes of XML).
func TestAnnualImportRefusesTooManyRows(t *testing.T) {
	book := annualBook(t, [][]any{{"91441800MA4UJ8XQ1T", "甲", 1, 1, 1, 1, 1, 1, 1, 1, "是", "否"}})
	far := rewriteSheet(t, book, func(w io.Writer, sheet []byte) {
		i := bytes.Index(sheet, []byte("</sheetData>"))
		w.Write(sheet[:i])
		io.WriteString(w, `<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>91441800MA4UJ8XQ1T</t></is></c></row>`)
		w.Write(sheet[i:])
	})
	var err error
	if got := heapAllocated(func() { _, _, err = readAnnualSheet(bytes.NewReader(far), 2025) }); got > 8<<20 {
		t.Errorf("refusing allocated %d MB", got>>20)
	}
	if engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(engine.ErrorMessage(err, "zh"), "超过 10000 行") ||
		!strings.Contains(engine.ErrorMessage(err, "en"), "more than 10000 rows") {
		t.Fatalf("a row at 1048576: %v", err)
	}
}

// TestTrackingImportZipBombRefused: through the import form a bomb is a
// 400 naming the limit, and nothing is imported.
func TestTrackingImportZipBombRefused(t *testing.T) {
	w := mustWorld(t)
	a := w.tracked(engine.StateInProduction)
	year := lastYear(w)
	book := annualBook(t, [][]any{{a.USCC, a.Name, 40000, 42000, 10000, 2000, 1600, 9000, 5, 300, "是", "是"}})
	rec := w.login("promoter").do("POST", "/tracking/import",
		w.multipartFields(url.Values{"park": {ownPark}, "year": {strconv.Itoa(year)}}, "年度数据.xlsx", zipBomb(t, book, 20<<20))) // past the limit; the 60 MB case is above
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("bomb upload: %d\n%.500s", rec.Code, rec.Body.String())
	}
	doc := parseHTML(t, rec.Body.String())
	if !strings.Contains(text(doc), "文件解压后超过 16 MB") {
		t.Errorf("no message naming the limit:\n%.1000s", text(doc))
	}
	if figs, _ := w.db.AnnualFigures(w.ctx, ownPark, year); len(figs) != 0 {
		t.Fatalf("imported %d rows from a zip bomb", len(figs))
	}
}

// TestAnnualSheetFullSizeFitsLimits: a filled sheet of maxAnnualRows rows
// (the most a zone could report) unpacks well within maxAnnualUnzipped, so
// the limits refuse only what no zone sends. By default a tenth of the rows
// is built and its size scaled up (the size grows linearly in rows);
// ZONEVET_LONG_TESTS=1 builds all of them.
func TestAnnualSheetFullSizeFitsLimits(t *testing.T) {
	n := maxAnnualRows / 10
	if os.Getenv("ZONEVET_LONG_TESTS") != "" {
		n = maxAnnualRows - 1
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{"91441800MA4UJ8XQ1T", "某某新材料科技有限公司", 40000.5, 42000, 10000, 2000, 1600, 9000, 5, 300, "是", "是"}
	}
	book := annualBook(t, rows)
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, zf := range zr.File {
		total += zf.UncompressedSize64
	}
	full := total * maxAnnualRows / uint64(n+1)
	t.Logf("%d rows: %d KB packed, %d KB unpacked; %d rows: about %d KB", n+1, len(book)>>10, total>>10, maxAnnualRows, full>>10)
	if full > maxAnnualUnzipped/2 {
		t.Errorf("a full sheet unpacks to about %d KB, too near the %d KB limit", full>>10, maxAnnualUnzipped>>10)
	}
	got, errs, err := readAnnualSheet(bytes.NewReader(book), 2025)
	if err != nil || len(got) != n || len(errs) != 0 {
		t.Fatalf("full sheet: %d rows, %d errors, %v", len(got), len(errs), err)
	}
}

// FuzzReadAnnualSheet feeds the annual-figures reader arbitrary bytes: it
// returns rows or an invalid-input error naming the file, never panics;
// every row and row error it reports lies within the sheet's bounds, every
// figure is a finite number. Seeds: a good sheet, one with bad cells, a
// padded one and the template; testdata/fuzz/FuzzReadAnnualSheet.
func FuzzReadAnnualSheet(f *testing.F) {
	good := annualBook(f, [][]any{
		{"91441800MA4UJ8XQ1T", "甲", "40,000", 42000, 10000, 2000, 1600, 9000, 5, 300, "是", "是"},
		{"91440300708461136T", "乙", "NaN", "Inf", "三万", "1e400", -1, "", 5.5, 2.5, "x", "否"},
		{"91440300708461136T", "丙", 1, 1, 1, "NaN", 1, 1, 1, 1, "是", "否"},
	})
	f.Add(good)
	f.Add(zipBomb(f, good, 4<<10))
	tmpl, err := annualTemplate(2025, []engine.TrackedProject{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tmpl)
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, errs, err := readAnnualSheet(bytes.NewReader(data), 2025)
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.EINVALID || e.Field != "file" || e.Text("zh") == "" || e.Text("en") == "" {
				t.Fatalf("error %T %v, want an invalid file in both languages", err, err)
			}
			return
		}
		for _, r := range rows {
			fs := r.Figures
			if r.Row < 2 || r.Row > maxAnnualRows || fs.Year != 2025 {
				t.Fatalf("row %d, year %d", r.Row, fs.Year)
			}
			for _, x := range []float64{fs.Revenue, fs.Output, fs.ValueAdded, fs.Tax, fs.RDExpense, fs.EnergyUse, fs.Emissions} {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("row %d: figure %v", r.Row, x)
				}
			}
		}
		for _, e := range errs {
			if e.Row < 2 || e.Row > maxAnnualRows || columnOf(e.Field) == "" || e.Text("zh") == "" || e.Text("en") == "" {
				t.Fatalf("row error %+v", e)
			}
		}
	})
}

// TestTrackingImportOversizedIs413: an annual-figures workbook over the
// upload limit, in a body within the body limit, is answered 413 "文件超过
// 2 MB" beside the import form, never a refusal in the log, and nothing is
// imported. The world's limit is 2 MB instead of the default 20 MB: the
// same path with a tenth of the bytes through the race detector.
func TestTrackingImportOversizedIs413(t *testing.T) {
	w := mustWorldConfig(t, Config{MaxUpload: 2 << 20})
	a := w.tracked(engine.StateInProduction)
	year := lastYear(w)
	book := annualBook(t, [][]any{{a.USCC, a.Name, 40000, 42000, 10000, 2000, 1600, 9000, 5, 300, "是", "是"}})
	big := append(book, make([]byte, 2<<20+100<<10-len(book))...) // the file over 2 MB, the body under 3 MB
	rec := w.login("promoter").do("POST", "/tracking/import",
		w.multipartFields(url.Values{"park": {ownPark}, "year": {strconv.Itoa(year)}}, "年度数据.xlsx", big))
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(text(parseHTML(t, rec.Body.String())), "文件超过 2 MB") {
		t.Fatalf("oversized import: %d\n%.500s", rec.Code, rec.Body.String())
	}
	if es := w.entries(engine.EventRefused); len(es) != 0 {
		t.Errorf("an oversized import logged as %d refusals", len(es))
	}
	if figs, _ := w.db.AnnualFigures(w.ctx, ownPark, year); len(figs) != 0 {
		t.Fatalf("imported %d rows from an oversized file", len(figs))
	}
}
