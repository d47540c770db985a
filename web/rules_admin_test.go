package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
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
	if err := mw.WriteField("note", "上传新版本"); err != nil {
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

// putInForce walks src through the four-eyes path as the park's admin
// (propose) and committee (what-if, approve), effective now.
func (w *world) putInForce(park string, src []byte) *engine.RuleSetChange {
	w.t.Helper()
	sfx := ""
	if park != ownPark {
		sfx = "@other"
	}
	c := w.propose(park, src)
	if _, _, err := w.svc.GenerateWhatIf(w.ctx, w.users["committee"+sfx], c.ID); err != nil {
		w.t.Fatal(err)
	}
	c, err := w.svc.ApproveRuleSet(w.ctx, w.users["committee"+sfx], c.ID, engine.ApproveInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// propose proposes src as the park's admin.
func (w *world) propose(park string, src []byte) *engine.RuleSetChange {
	w.t.Helper()
	who := "admin"
	if park != ownPark {
		who = "admin@other"
	}
	c, err := w.svc.ProposeRuleSet(w.ctx, w.users[who], park, park+".yaml", src, "测试变更")
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// readers of a park's rule sets: its admin, committee and auditors.
const rulesReaders = "anon=303 own=403 admin=200 committee=200 auditor=200 other=403"

func (w *world) rulesAdminRoutes() []route {
	changePath := func(suffix string, prepare func(w *world, c *engine.RuleSetChange)) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, _ string) (string, any) {
			c := w.propose(ownPark, ruleSetFile(w.t, "m-"+randomToken()[:8]))
			if prepare != nil {
				prepare(w, c)
			}
			return fmt.Sprintf("/admin/rules/changes/%d%s", c.ID, suffix), url.Values{"reason": {"理由"}, "note": {"说明"}}
		}
	}
	whatIf := func(w *world, c *engine.RuleSetChange) {
		if _, _, err := w.svc.GenerateWhatIf(w.ctx, w.users["committee"], c.ID); err != nil {
			w.t.Fatal(err)
		}
	}
	return []route{
		{"GET", "/admin/rules", "", get("/admin/rules"), "anon=303 own=403 admin=200 committee=200 auditor=200 other=403 admin@other=200 committee@other=200 auditor@other=200"},
		{"POST", "/admin/rules", "", func(w *world, _ *engine.Project, who string) (string, any) {
			return "/admin/rules", uploadForm(w.t, ownPark, "q.yaml", ruleSetFile(w.t, "matrix-"+randomToken()[:8]))
		}, "anon=401 own=403 admin=303 other=403"},
		{"GET", "/admin/rules/:version", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/admin/rules/" + defaultVersion(w.t), nil
		}, rulesReaders},
		{"POST", "/admin/rules/:version/restore", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			// Put another version in force first, so the default one can be proposed back.
			w.putInForce(ownPark, ruleSetFile(w.t, "m-"+randomToken()[:8]))
			return "/admin/rules/" + defaultVersion(w.t) + "/restore", url.Values{"note": {"恢复默认"}}
		}, "anon=401 own=403 admin=303 other=403"},
		{"GET", "/admin/rules/changes/:id", "", func(w *world, p *engine.Project, who string) (string, any) {
			path, _ := changePath("", nil)(w, p, who)
			return path, nil
		}, rulesReaders},
		{"GET", "/admin/rules/changes/:id/diff", "", func(w *world, p *engine.Project, who string) (string, any) {
			path, _ := changePath("/diff", nil)(w, p, who)
			return path, nil
		}, rulesReaders},
		{"POST", "/admin/rules/changes/:id/whatif", "", changePath("/whatif", nil), "anon=401 own=403 admin=303 committee=303 other=403"},
		{"POST", "/admin/rules/whatif", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/admin/rules/whatif", uploadForm(w.t, ownPark, "draft.yaml", ruleSetFile(w.t, "draft-"+randomToken()[:8]))
		}, "anon=401 own=403 admin=200 committee=200 other=403"},
		{"POST", "/admin/rules/changes/:id/approve", "", changePath("/approve", whatIf), "anon=401 own=403 committee=303 other=403"},
		{"POST", "/admin/rules/changes/:id/refuse", "", changePath("/refuse", nil), "anon=401 own=403 committee=303 other=403"},
		{"POST", "/admin/rules/changes/:id/withdraw", "", changePath("/withdraw", nil), "anon=401 own=403 admin=303 other=403"},
		{"GET", "/admin/rules/whatif/:id/xlsx", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			c := w.propose(ownPark, ruleSetFile(w.t, "m-"+randomToken()[:8]))
			_, rec, err := w.svc.GenerateWhatIf(w.ctx, w.users["committee"], c.ID)
			if err != nil {
				w.t.Fatal(err)
			}
			return fmt.Sprintf("/admin/rules/whatif/%d/xlsx", rec.ID), nil
		}, rulesReaders},
	}
}

// TestAdminRuleSets: a broken file is refused with its mistakes by line and
// nothing changes; a good one is proposed, not put in force; the committee
// generates the what-if, reads it and approves; the proposer may not; its
// text can be read and downloaded; the default version can be proposed back.
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

	form := uploadForm(t, ownPark, "qingyuan-v2.yaml", ruleSetFile(t, "v2"))
	rec = admin.do("POST", "/admin/rules", form)
	if rec.Code != http.StatusSeeOther || !strings.Contains(flashOf(t, rec), "已提请管委会审议") {
		t.Fatalf("proposal: %d %q", rec.Code, flashOf(t, rec))
	}
	changePage := rec.Header().Get("Location")
	if rs, _ := w.svc.ActiveRuleSet(w.ctx, ownPark); rs.Version() != defaultVersion(t) {
		t.Fatal("a proposal put the rules in force")
	}
	committee := w.login("committee")
	doc = parseHTML(t, committee.get(t, changePage))
	if !hasID(doc, "whatif-missing") || hasID(doc, "approve-button") {
		t.Error("approve offered before any what-if")
	}
	if rec := committee.do("POST", changePage+"/whatif", url.Values{}); rec.Code != http.StatusSeeOther || !strings.Contains(flashOf(t, rec), "SHA-256") {
		t.Fatalf("what-if: %d %q", rec.Code, flashOf(t, rec))
	}
	doc = parseHTML(t, committee.get(t, changePage))
	sha := text(byID(doc, "whatif-sha"))
	if len(sha) != 64 || !hasID(doc, "approve-button") || !hasID(doc, "whatif-summary") {
		t.Fatalf("what-if page: sha %q", sha)
	}
	if rec := committee.do("POST", changePage+"/approve", url.Values{"opinion": {"同意"}}); rec.Code != http.StatusSeeOther || !strings.Contains(flashOf(t, rec), "已批准") {
		t.Fatalf("approve: %d %q", rec.Code, flashOf(t, rec))
	}
	active, err := w.svc.ActiveRuleSet(w.ctx, ownPark)
	if err != nil || active.Version() == defaultVersion(t) {
		t.Fatalf("approved version not in force: %v", err)
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventRulesApprove}})
	if len(es) != 1 || !strings.Contains(es[0].Payload, sha) || es[0].Actor != "committee" {
		t.Errorf("approval entry %+v", es)
	}
	doc = parseHTML(t, admin.do("GET", "/admin/rules?park="+ownPark, nil).Body.String())
	badges := findAll(byID(doc, "pipeline"), func(n *html.Node) bool { return n.Data == "span" && strings.Contains(attr(n, "class"), "badge") })
	var states []string
	for _, b := range badges {
		states = append(states, text(b))
	}
	if strings.Join(states, ",") != "执行中,已被取代" {
		t.Errorf("pipeline badges %v", states)
	}

	src := admin.do("GET", "/admin/rules/"+active.Version(), nil)
	if src.Code != http.StatusOK || !strings.Contains(text(byID(parseHTML(t, src.Body.String()), "source")), "v2 Qingyuan") {
		t.Errorf("source page: %d", src.Code)
	}
	dl := admin.do("GET", "/admin/rules/"+active.Version()+"?download=1", nil)
	if dl.Code != http.StatusOK || !bytes.Equal(dl.Body.Bytes(), active.Source()) || !strings.Contains(dl.Header().Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q", dl.Code, dl.Header().Get("Content-Disposition"))
	}

	rec = admin.do("POST", "/admin/rules/"+defaultVersion(t)+"/restore", url.Values{"note": {"恢复默认版本"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("restore: %d", rec.Code)
	}
	if rs, _ := w.svc.ActiveRuleSet(w.ctx, ownPark); rs.Version() != active.Version() {
		t.Error("a restore took effect without approval")
	}
	restore := rec.Header().Get("Location")
	admin.do("POST", restore+"/whatif", url.Values{})
	if rec := admin.do("POST", restore+"/approve", url.Values{}); rec.Code != http.StatusForbidden {
		t.Errorf("the admin approved: %d", rec.Code)
	}
	diff := admin.do("GET", restore+"/diff", nil)
	if diff.Code != http.StatusOK || !strings.Contains(diff.Body.String(), "1. 园区 英文名称:v2 Qingyuan") {
		t.Errorf("diff download: %d %s", diff.Code, diff.Body)
	}
}

// hasID says whether the page has an element with the id.
func hasID(doc *html.Node, id string) bool { return byID(doc, id).Data != "" }

// TestDossierShowsScreeningReplay: the dossier re-runs the project's latest
// screening from its submit entry under its pinned version and says it is
// reproduced — also after the rules in force changed.
func TestDossierShowsScreeningReplay(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateScreening)
	w.putInForce(ownPark, bytes.Replace(ruleSetFile(t, "v2"), []byte("value: 300 # 国家级园区取 300"), []byte("value: 450 #"), 1))
	doc := parseHTML(t, w.login("auditor").get(t, fmt.Sprintf("/projects/%d/dossier", p.ID)))
	got := text(byID(doc, "screening-replay"))
	if !strings.Contains(got, "初筛可复现") || !strings.Contains(got, "zonevet rules replay "+fmt.Sprint(p.ID)) {
		t.Errorf("dossier replay: %q", got)
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
