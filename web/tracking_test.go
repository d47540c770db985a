package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"

	"zonevet/engine"
)

// trackedUSCC gives each tracked test project its own valid credit code, so
// an annual sheet can name it.
var trackedSeq struct {
	sync.Mutex
	n int
}

func nextUSCC() string {
	trackedSeq.Lock()
	trackedSeq.n++
	n := trackedSeq.n
	trackedSeq.Unlock()
	base := fmt.Sprintf("9144180%09d", n)
	for _, o := range "0123456789X" { // the organisation code's check digit (GB 11714)
		for _, c := range "0123456789ABCDEFGHJKLMNPQRTUWXY" {
			if code := base + string(o) + string(c); engine.ValidUSCC(code) {
				return code
			}
		}
	}
	panic("no check character")
}

// tracked makes a qingyuan project with its own USCC and moves it through
// the engine to st (signed or later), its land delivered five years ago so
// it is rated.
func (w *world) tracked(st engine.State) *engine.Project {
	w.t.Helper()
	in := goodInput(ownPark)
	in.USCC = nextUSCC()
	in.Name = "企业 " + in.USCC[10:16]
	p, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in)
	if err != nil {
		w.t.Fatal(err)
	}
	steps := []struct{ who, ev string }{{"promoter", "submit"}, {"reviewer", "pass"}}
	for _, s := range steps {
		if p, err = w.svc.Act(w.ctx, w.users[s.who], p.ID, engine.Action{Event: s.ev, Version: p.Version}); err != nil {
			w.t.Fatal(err)
		}
	}
	p = w.scoreAll(p, 0.9, "reviewer", "reviewer2", "reviewer3")
	p = w.decide(p) // approve: a decision of a committee meeting (issue 14)
	path := []struct{ who, ev string }{{"promoter", "sign"}, {"promoter", "start_construction"},
		{"promoter", "start_production"}, {"committee", "rectify"}}
	for _, s := range path {
		if p.State == st {
			break
		}
		if p, err = w.svc.Act(w.ctx, w.users[s.who], p.ID, engine.Action{Event: s.ev, Version: p.Version, Reason: "测试"}); err != nil {
			w.t.Fatalf("%s: %v", s.ev, err)
		}
		if s.ev == "sign" {
			ag, err := w.svc.AgreementDefaults(w.ctx, w.users["promoter"], p.ID)
			if err != nil {
				w.t.Fatal(err)
			}
			five := w.svc.Today().AddDate(-5, 0, 0)
			ag.SignedOn, ag.LandDeliveredOn, ag.RDIntensity = five, five, 3
			ag.StartBy, ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if _, err := w.svc.SaveAgreement(w.ctx, w.users["promoter"], p.ID, *ag); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	if p.State != st {
		w.t.Fatalf("tracked project in %s, want %s", p.State, st)
	}
	return p
}

func lastYear(w *world) int { return w.svc.Today().Year() - 1 }

// runs caches one rating run per world for the matrix rows that read one.
var runs sync.Map // *world → int64

func (w *world) ratingRun() int64 {
	if id, ok := runs.Load(w); ok {
		return id.(int64)
	}
	p := w.tracked(engine.StateInProduction)
	f := engine.AnnualFigures{Year: lastYear(w), Revenue: 50000, Output: 52000, ValueAdded: 13000, Tax: 2000, RDExpense: 2000,
		EnergyUse: 10000, Emissions: 8, Employees: 400, HighTech: true, AboveScale: true}
	if err := w.svc.SaveFigures(w.ctx, w.users["promoter"], p.ID, f); err != nil {
		w.t.Fatal(err)
	}
	run, err := w.svc.RunRating(w.ctx, w.users["committee"], ownPark, lastYear(w))
	if err != nil {
		w.t.Fatal(err)
	}
	runs.Store(w, run.ID)
	return run.ID
}

var published, objections sync.Map // per world: the published run (with its firm and a document), one objection

// publishedRun is w's rating run, published, with the firm in it and one of
// the firm's documents to object with.
func (w *world) publishedRun() (run, project, doc int64) {
	w.t.Helper()
	if v, ok := published.Load(w); ok {
		a := v.([3]int64)
		return a[0], a[1], a[2]
	}
	run = w.ratingRun()
	full, err := w.svc.RatingRun(w.ctx, w.users["committee"], run)
	if err != nil {
		w.t.Fatal(err)
	}
	project = full.Results[0].ProjectID
	if _, err := w.svc.PublishRun(w.ctx, w.users["committee"], run); err != nil && engine.ErrorCode(err) != engine.ECONFLICT {
		w.t.Fatal(err)
	}
	d := &engine.Document{Kind: "other", FileName: "完税证明.pdf", StoredName: "evidence", MediaType: "application/pdf", Size: 1, SHA256: "00"}
	if err := w.svc.AddDocument(w.ctx, w.users["promoter"], project, d); err != nil {
		w.t.Fatal(err)
	}
	published.Store(w, [3]int64{run, project, d.ID})
	return run, project, d.ID
}

// ratingObjection is an objection filed to w's published run.
func (w *world) ratingObjection() int64 {
	w.t.Helper()
	if v, ok := objections.Load(w); ok {
		return v.(int64)
	}
	run, p, doc := w.publishedRun()
	o, err := w.svc.FileObjection(w.ctx, w.users["promoter"], run, engine.ObjectionInput{ProjectID: p, Text: "用地面积应为 40 亩,附不动产权证书。", Evidence: []int64{doc}})
	if err != nil {
		w.t.Fatal(err)
	}
	objections.Store(w, o.ID)
	return o.ID
}

// trackingRoutes are the permission-matrix rows of registerTrackingRoutes.
func (w *world) trackingRoutes() []route {
	on := func(st engine.State, target string, body url.Values) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, _ string) (string, any) {
			p := w.tracked(st)
			t := strings.ReplaceAll(target, "{id}", strconv.FormatInt(p.ID, 10))
			if body == nil {
				return t, nil
			}
			b := cloneValues(body)
			if b.Has("version") {
				b.Set("version", strconv.FormatInt(p.Version, 10))
			}
			return t, b
		}
	}
	year := strconv.Itoa(lastYear(w))
	today := w.svc.Today().Format("2006-01-02")
	return []route{
		{"GET", "/projects/:id/tracking", "", on(engine.StateInProduction, "/projects/{id}/tracking", nil), "anon=303 own=200 other=404"},
		{"POST", "/projects/:id/agreement", "", on(engine.StateSigned, "/projects/{id}/agreement", url.Values{"signed_on": {today}, "land_area": {"50"},
			"fixed_asset_investment": {"20,000"}, "output_per_mu": {"1200"}, "tax_per_mu": {"44"}, "rd_intensity": {"5"}, "employees": {"300"}}),
			"anon=401 own=403 promoter=303 other=404"},
		{"POST", "/projects/:id/milestones", "", on(engine.StateUnderConstruction, "/projects/{id}/milestones", url.Values{"kind": {"completion"}, "done_on": {today}}),
			"anon=401 own=403 promoter=303 other=404"},
		{"POST", "/projects/:id/figures", "", on(engine.StateInProduction, "/projects/{id}/figures", url.Values{"year": {year}, "revenue": {"1000"},
			"output": {"1000"}, "value_added": {"300"}, "tax": {"100"}, "rd_expense": {"40"}, "energy_use": {"100"}, "emissions": {"1"}, "employees": {"20"}}),
			"anon=401 own=403 promoter=303 other=404"},
		{"POST", "/projects/:id/plan", "", on(engine.StateRectification, "/projects/{id}/plan", url.Values{"plan": {"追加研发投入"}}),
			"anon=401 own=403 promoter=303 other=404"},
		{"POST", "/projects/:id/decision", "", on(engine.StateRectification, "/projects/{id}/decision", url.Values{"version": {"0"}, "outcome": {"failed"},
			"clauses": {"land_buyback"}, "reason": {"逾期未整改"}}), "anon=401 own=403 committee=303 other=404"},
		{"POST", "/projects/:id/review", "", on(engine.StateInProduction, "/projects/{id}/review", url.Values{"version": {"0"}, "year": {year},
			"fixed_asset_investment": {"20000"}}), "anon=401 own=403 committee=303 other=404"},
		{"POST", "/projects/:id/land", "", on(engine.StateSigned, "/projects/{id}/land", url.Values{"version": {"0"}, "event": {"idle_land"},
			"reason": {"超过约定开工日期满一年未动工"}}), "anon=401 own=403 committee=303 other=404"},
		{"GET", "/tracking", "", get("/tracking?park=qingyuan"), "anon=303 own=200 other=404"},
		{"GET", "/tracking/template.xlsx", "", get("/tracking/template.xlsx?park=qingyuan&year=" + year), "anon=303 own=403 promoter=200 other=404"},
		{"POST", "/tracking/import", "", post("/tracking/import", url.Values{"park": {"qingyuan"}, "year": {year}}), "anon=401 own=403 promoter=400 other=404"},
		{"POST", "/tracking/land-users", "", post("/tracking/land-users", url.Values{"park": {"qingyuan"}, "year": {year}}), "anon=401 own=403 promoter=400 other=404"},
		{"POST", "/tracking/runs", "", post("/tracking/runs", url.Values{"park": {"qingyuan"}, "year": {"2001"}}), "anon=401 own=403 committee=303 other=404"},
		{"GET", "/tracking/runs/:run", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return fmt.Sprintf("/tracking/runs/%d", w.ratingRun()), nil
		}, "anon=303 own=200 other=404"},
		{"GET", "/tracking/runs/:run/results.xlsx", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return fmt.Sprintf("/tracking/runs/%d/results.xlsx", w.ratingRun()), nil
		}, "anon=303 own=200 other=404"},
		{"POST", "/tracking/runs/:run/publish", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return fmt.Sprintf("/tracking/runs/%d/publish", w.ratingRun()), url.Values{}
		}, "anon=401 own=403 committee=303 other=404"},
		{"POST", "/tracking/runs/:run/objections", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			run, p, doc := w.publishedRun()
			return fmt.Sprintf("/tracking/runs/%d/objections", run), url.Values{"project_id": {strconv.FormatInt(p, 10)},
				"text": {"税收数据漏报第四季度入库税款,请予更正。"}, "evidence": {strconv.FormatInt(doc, 10)}}
		}, "anon=401 own=403 promoter=303 other=404"},
		{"POST", "/tracking/objections/:id/decision", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return fmt.Sprintf("/tracking/objections/%d/decision", w.ratingObjection()), url.Values{"outcome": {"dismissed"}, "reason": {"经税务部门核实,税款已计入年度数据。"}}
		}, "anon=401 own=403 committee=303 other=404"},
		{"POST", "/tracking/runs/:run/final", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			run, _, _ := w.publishedRun()
			return fmt.Sprintf("/tracking/runs/%d/final", run), url.Values{"version": {"1"}}
		}, "anon=401 own=403 committee=303 other=404"},
		{"GET", "/tracking/alerts", "", get("/tracking/alerts"), "anon=303 own=200 other=200"},
		{"GET", "/dashboard", "", get("/dashboard"), "anon=303 own=200 other=200"},
		{"GET", "/dashboard.xlsx", "", get("/dashboard.xlsx?park=qingyuan"), "anon=303 own=200 other=404"},
	}
}

// annualBook builds an annual sheet: header plus the given rows.
func annualBook(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", annualSheet)
	head := make([]any, len(annualColumns))
	for i, c := range annualColumns {
		head[i] = columnLabel(c.field, langZH)
	}
	f.SetSheetRow(annualSheet, "A1", &head)
	for i, r := range rows {
		f.SetSheetRow(annualSheet, fmt.Sprintf("A%d", i+2), &r)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// multipartFields builds an upload form with extra fields and one file.
func (w *world) multipartFields(fields url.Values, file string, data []byte) *multipartBody {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile("file", file)
	fw.Write(data)
	mw.Close()
	return &multipartBody{data: buf.Bytes(), ctype: mw.FormDataContentType()}
}

// TestTrackingImportRunDashboard: a sheet with a bad row is refused whole
// with the row, column and reason listed; importing its good rows works;
// the committee's run lists every firm; the dashboard and its Excel follow.
func TestTrackingImportRunDashboard(t *testing.T) {
	w := mustWorld(t)
	a, b := w.tracked(engine.StateInProduction), w.tracked(engine.StateInProduction)
	year := lastYear(w)
	book := annualBook(t, [][]any{
		{a.USCC, a.Name, "40,000", 42000, 10000, 2000, 1600, 9000, 5, 300, "是", "是"},
		{b.USCC, b.Name, 30000, "三万", 8000, 900, 900, 7000, 4, 200, "否", "是"},
		{"91440300708461136X", "未知", 1, 1, 1, 1, 1, 1, 1, 1, "否", "否"},
	})
	fields := url.Values{"park": {ownPark}, "year": {strconv.Itoa(year)}}
	promoter := w.login("promoter")
	rec := promoter.do("POST", "/tracking/import", w.multipartFields(fields, "年度数据.xlsx", book))
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("import with errors: %d\n%.500s", rec.Code, rec.Body.String())
	}
	doc := parseHTML(t, rec.Body.String())
	var errs []string
	for _, tr := range findAll(doc, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "class") == "row-fail" }) {
		errs = append(errs, text(tr))
	}
	if len(errs) != 2 || !strings.HasPrefix(errs[0], "3D") || !strings.Contains(errs[0], "不是数字") || !strings.HasPrefix(errs[1], "4A") {
		t.Errorf("error rows %q", errs)
	}
	if figs, _ := w.db.AnnualFigures(w.ctx, ownPark, year); len(figs) != 0 {
		t.Fatalf("imported %d rows from a sheet with errors", len(figs))
	}
	var token string
	for _, in := range findAll(doc, func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == "token" }) {
		token = attr(in, "value")
	}
	if token == "" {
		t.Fatal("no offer to import the good rows")
	}
	rec = promoter.do("POST", "/tracking/import", url.Values{"park": {ownPark}, "year": {strconv.Itoa(year)}, "token": {token}, "accept_good": {"1"}, "file_name": {"年度数据.xlsx"}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "已导入") {
		t.Fatalf("import good rows: %d\n%.500s", rec.Code, rec.Body.String())
	}
	if figs, _ := w.db.AnnualFigures(w.ctx, ownPark, year); len(figs) != 1 || figs[0].Revenue != 40000 || !figs[0].HighTech {
		t.Fatalf("imported %+v", figs)
	}

	committee := w.login("committee")
	rec = committee.do("POST", "/tracking/runs", url.Values{"park": {ownPark}, "year": {strconv.Itoa(year)}})
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/tracking/runs/") {
		t.Fatalf("run: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	rec = committee.do("GET", rec.Header().Get("Location"), nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("run page %d", rec.Code)
	}
	doc = parseHTML(t, rec.Body.String())
	// b filed nothing: under qingyuan's rule set it has a line of its own,
	// class T (not rated), instead of only a "missing" count.
	rows := findAll(doc, func(n *html.Node) bool {
		return n.Data == "tr" && n.Parent.Data == "tbody" && n.Parent.Parent != nil && attr(n.Parent.Parent, "class") == "table results"
	})
	if len(rows) != 2 || attr(rows[0], "data-project") != strconv.FormatInt(a.ID, 10) ||
		attr(rows[1], "data-project") != strconv.FormatInt(b.ID, 10) || attr(rows[1], "data-class") != "T" {
		t.Errorf("%d result rows, want a rated and b in class T", len(rows))
	}
	if c := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "convention" }); len(c) != 1 || !strings.Contains(text(c[0]), "round(n×20%)") {
		t.Error("run page does not print the class convention")
	}
	// The run's Excel carries each firm's class and the measures that go with it.
	var export string
	for _, a := range findAll(doc, func(n *html.Node) bool { return n.Data == "a" && hasAttr(n, "data-export") }) {
		export = attr(a, "href")
	}
	rec = committee.do("GET", export, nil)
	rf, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("results.xlsx %q: %d %v", export, rec.Code, err)
	}
	defer rf.Close()
	if class, _ := rf.GetCellValue("评价结果", "D4"); class != "T 类" {
		t.Errorf("results.xlsx D4 = %q, want T 类", class)
	}
	if m, _ := rf.GetCellValue("评价结果", "N4"); !strings.Contains(m, "不参评") || !strings.Contains(m, "督促补报") {
		t.Errorf("results.xlsx measures of the T firm %q", m)
	}
	// The firm's page shows its class and the measures: a lone rated firm is
	// B (round(1 × 20 %) = 0 firms in A), 积极支持.
	rec = committee.do("GET", fmt.Sprintf("/projects/%d/tracking", a.ID), nil)
	if m := findAll(parseHTML(t, rec.Body.String()), func(n *html.Node) bool { return attr(n, "id") == "class-measures" }); len(m) != 1 || !strings.Contains(text(m[0]), "B 类:积极支持") {
		t.Errorf("firm page measures: %d blocks", len(m))
	}
	if v := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "verify" }); len(v) != 1 || !strings.Contains(text(v[0]), "一致") {
		t.Error("run page does not show the verification")
	}

	rec = committee.do("GET", "/dashboard?park=qingyuan&year="+strconv.Itoa(year), nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("dashboard %d", rec.Code)
	}
	doc = parseHTML(t, rec.Body.String())
	if n := len(findAll(doc, func(n *html.Node) bool { return attr(n, "data-chart") != "" })); n != 4 {
		t.Errorf("%d charts", n)
	}
	// A park's view carries the park's two targets, not the zone-wide one.
	if n := len(findAll(doc, func(n *html.Node) bool { return attr(n, "data-target") != "" })); n != 2 {
		t.Errorf("%d targets", n)
	}
	rec = committee.do("GET", "/dashboard.xlsx?park=qingyuan&year="+strconv.Itoa(year), nil)
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("dashboard.xlsx: %v", err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 6 || got[0] != "政策目标" {
		t.Errorf("sheets %v", got)
	}
	// 1 of 1 above-scale firms is high-tech: 100 % > 55 %.
	if v, _ := f.GetCellValue("政策目标", "D3"); v != "100.00" {
		t.Errorf("high-tech share %q", v)
	}

	// The template lists the park's reporting firms.
	rec = promoter.do("GET", "/tracking/template.xlsx?park=qingyuan&year="+strconv.Itoa(year), nil)
	tf, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	if v, _ := tf.GetCellValue(annualSheet, "A3"); v != b.USCC {
		t.Errorf("template A3 = %q, want %s", v, b.USCC)
	}
}
