package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
	"zonevet/rules"
)

// ruleSetFile is the own park's default rule set with its English name
// changed: a new version that screens exactly like the default.
func ruleSetFile(t testing.TB, tag string) []byte {
	t.Helper()
	rs, err := rules.Default(ownPark)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(rs.Source()), "name_en: ", "name_en: "+tag+" ", 1)
	if src == string(rs.Source()) {
		t.Fatal("fixture: no name_en line")
	}
	return []byte(src)
}

func defaultVersion(t testing.TB) string {
	t.Helper()
	rs, err := rules.Default(ownPark)
	if err != nil {
		t.Fatal(err)
	}
	return rs.Version()
}

// uploadForm is the rule-set upload as the page posts it.
func uploadForm(t testing.TB, park, filename string, data []byte) *multipartBody {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("park", park); err != nil {
		t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return &multipartBody{data: buf.Bytes(), ctype: mw.FormDataContentType()}
}

func (w *world) rulesAdminRoutes() []route {
	return []route{
		{"GET", "/admin/rules", "", get("/admin/rules"), "anon=303 own=403 admin=200 other=403 admin@other=200"},
		{"POST", "/admin/rules", "", func(w *world, _ *engine.Project, who string) (string, any) {
			return "/admin/rules", uploadForm(w.t, ownPark, "q.yaml", ruleSetFile(w.t, "matrix-"+randomToken()[:8]))
		}, "anon=401 own=403 admin=303 other=403"},
		{"GET", "/admin/rules/:version", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/admin/rules/" + defaultVersion(w.t), nil
		}, "anon=303 own=403 admin=200 other=403"},
		{"POST", "/admin/rules/:version/activate", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			// Put another version in force first, so the default one can be put back.
			if _, err := w.svc.UploadRuleSet(w.ctx, w.users["admin"], ownPark, "q.yaml", ruleSetFile(w.t, "m-"+randomToken()[:8])); err != nil {
				w.t.Fatal(err)
			}
			return "/admin/rules/" + defaultVersion(w.t) + "/activate", nil
		}, "anon=401 own=403 admin=303 other=403"},
	}
}

// TestAdminRuleSets: a broken file is refused with its mistakes by line and
// nothing changes; a good one is put in force and listed; its text can be
// read and downloaded; the default version can be put back.
func TestAdminRuleSets(t *testing.T) {
	w := mustWorld(t)
	admin := w.login("admin")
	broken := bytes.Replace(ruleSetFile(t, "v2"), []byte("metric: investment_intensity"), []byte("metric: investment_intensty"), 1)
	rec := admin.do("POST", "/admin/rules", uploadForm(t, ownPark, "qingyuan-v2.yaml", broken))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("broken upload: status %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	rows := findAll(byID(doc, "upload-error"), func(n *html.Node) bool { return n.Data == "tr" })
	if len(rows) < 2 || !strings.Contains(text(rows[1]), "investment_intensity") {
		t.Fatalf("problems table: %q", text(byID(doc, "upload-error")))
	}
	if rs, _ := w.svc.ActiveRuleSet(w.ctx, ownPark); rs.Version() != defaultVersion(t) {
		t.Fatal("a refused upload changed the rules in force")
	}

	rec = admin.do("POST", "/admin/rules", uploadForm(t, ownPark, "qingyuan-v2.yaml", ruleSetFile(t, "v2")))
	if rec.Code != http.StatusSeeOther || !strings.Contains(flashOf(t, rec), "已启用") {
		t.Fatalf("upload: %d %q", rec.Code, flashOf(t, rec))
	}
	active, err := w.svc.ActiveRuleSet(w.ctx, ownPark)
	if err != nil || active.Version() == defaultVersion(t) {
		t.Fatalf("new version not in force: %v", err)
	}
	doc = parseHTML(t, admin.do("GET", "/admin/rules?park="+ownPark, nil).Body.String())
	badges := findAll(doc, func(n *html.Node) bool { return n.Data == "span" && strings.Contains(attr(n, "class"), "badge") })
	var states []string
	for _, b := range badges {
		states = append(states, text(b))
	}
	if strings.Join(states, ",") != "执行中,历史版本" {
		t.Errorf("version badges %v", states)
	}

	src := admin.do("GET", "/admin/rules/"+active.Version(), nil)
	if src.Code != http.StatusOK || !strings.Contains(text(byID(parseHTML(t, src.Body.String()), "source")), "v2 Qingyuan") {
		t.Errorf("source page: %d", src.Code)
	}
	dl := admin.do("GET", "/admin/rules/"+active.Version()+"?download=1", nil)
	if dl.Code != http.StatusOK || !bytes.Equal(dl.Body.Bytes(), active.Source()) || !strings.Contains(dl.Header().Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q", dl.Code, dl.Header().Get("Content-Disposition"))
	}

	if rec := admin.do("POST", "/admin/rules/"+defaultVersion(t)+"/activate", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("activate: %d", rec.Code)
	}
	if rs, _ := w.svc.ActiveRuleSet(w.ctx, ownPark); rs.Version() != defaultVersion(t) {
		t.Error("default version not back in force")
	}
	var events []string
	w.db.EachAuditEntry(w.ctx, func(e engine.AuditEntry) error {
		if e.Event == engine.EventRulesInstall {
			events = append(events, e.RuleSetVersion)
		}
		return nil
	})
	if len(events) != 2 || events[0] != active.Version() || events[1] != defaultVersion(t) {
		t.Errorf("logged installs %v", events)
	}
}

// TestRuleSetUploadProblemsInReadersLanguage: an upload's problems read in
// the page's language — a misspelt formula name and scoring weights that do
// not add up to 100 (qingyuan.yaml: chain_fit max 20 → 25, so the sheet's
// seven criteria 20+20+20+15+10+10+5 become 105).
func TestRuleSetUploadProblemsInReadersLanguage(t *testing.T) {
	w := mustWorld(t)
	src := ruleSetFile(t, "v2")
	src = bytes.Replace(src, []byte("formula: tax / land_area"), []byte("formula: tax / land_areaa"), 1)
	src = bytes.Replace(src, []byte("name_en: Industrial-chain fit, max: 20"), []byte("name_en: Industrial-chain fit, max: 25"), 1)
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{langZH, []string{"未知名称 land_areaa(公式第 7 列)", "评分项满分(max)合计为 105,应为 100"}},
		{langEN, []string{"unknown name land_areaa (formula column 7)", "criteria weights (max) sum to 105, want 100"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			admin := w.login("admin")
			admin.lang = tc.lang
			rec := admin.do("POST", "/admin/rules", uploadForm(t, ownPark, "qingyuan-v2.yaml", src))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d", rec.Code)
			}
			var problems []string
			for _, row := range findAll(byID(parseHTML(t, rec.Body.String()), "upload-error"), func(n *html.Node) bool { return n.Data == "tr" }) {
				problems = append(problems, text(row))
			}
			got := strings.Join(problems, "\n")
			for _, want := range tc.want {
				if !strings.Contains(got, want) {
					t.Errorf("problems do not say %q:\n%s", want, got)
				}
			}
		})
	}
}
