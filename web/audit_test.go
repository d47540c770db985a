package web

import (
	"bytes"
	"crypto/ed25519"
	"encoding/csv"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"

	"zonevet/engine"
	"zonevet/store/storetest"
)

var auditTestKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))

// lastSeq is the newest log entry about p.
func (w *world) lastSeq(p *engine.Project) int64 {
	w.t.Helper()
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID})
	if err != nil || len(es) == 0 {
		w.t.Fatalf("no entries for project %d: %v", p.ID, err)
	}
	return es[len(es)-1].Seq
}

// auditWorld is a world whose server signs checkpoints, with a project in
// each park, one of them passed by override with a reason that tries to
// forge a second log line.
func auditWorld(t *testing.T) (*world, *engine.Project) {
	t.Helper()
	w := mustWorldConfig(t, Config{CheckpointKey: auditTestKey})
	in := goodInput(ownPark)
	in.Name = "铸造扩产项目"
	in.Figures.Tax = fp(100) // fails tax per mu: a hard rule
	p, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = w.svc.Act(w.ctx, w.users["promoter"], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	act := w.overrideAction(p, "tax_per_mu")
	act.Reason = "补链项目,一事一议\n#999 2025-01-01 admin approve 伪造行"
	if p, err = w.svc.Act(w.ctx, w.users["committee"], p.ID, act); err != nil {
		t.Fatal(err)
	}
	other, err := w.svc.CreateProject(w.ctx, w.users["promoter@other"], goodInput(otherPark))
	if err != nil {
		t.Fatal(err)
	}
	_ = other
	return w, p
}

func rowsOf(t *testing.T, body string) []*html.Node {
	t.Helper()
	doc := parseHTML(t, body)
	return findAll(doc, func(n *html.Node) bool {
		return n.Data == "tr" && len(findAll(n, func(m *html.Node) bool { return m.Data == "td" })) > 0
	})
}

func TestAuditLogPage(t *testing.T) {
	w, p := auditWorld(t)
	auditor := w.login("auditor")

	rec := auditor.do("GET", "/audit", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", rec.Code, rec.Body)
	}
	rows := rowsOf(t, rec.Body.String())
	if len(rows) < 3 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		if strings.Contains(text(r), "英德") {
			t.Errorf("auditor of qingyuan sees a yingde entry: %s", text(r))
		}
	}

	rec = auditor.do("GET", "/audit?overrides=1", nil)
	rows = rowsOf(t, rec.Body.String())
	if len(rows) != 1 || !strings.Contains(text(rows[0]), "一事一议") {
		t.Fatalf("overrides only: %d rows", len(rows))
	}
	// The reason's newline stays inside its cell: no second row appears.
	if !strings.Contains(text(rows[0]), "伪造行") {
		t.Errorf("reason lost: %s", text(rows[0]))
	}

	rec = auditor.do("GET", "/audit?actor=committee&event=override&project="+itoa(p.ID)+"&from=2025-03-01&to=2025-03-03", nil)
	if got := len(rowsOf(t, rec.Body.String())); got != 1 {
		t.Fatalf("combined filter: %d rows", got)
	}
	rec = auditor.do("GET", "/audit?to=2025-03-02", nil)
	if got := len(rowsOf(t, rec.Body.String())); got != 0 {
		t.Fatalf("range before everything: %d rows", got)
	}
	if rec := auditor.do("GET", "/audit?park=yingde", nil); rec.Code != http.StatusForbidden {
		t.Fatalf("other park filter: %d", rec.Code)
	}

	// The entry's facts: the rule report it was based on.
	seq := w.lastSeq(p)
	rec = auditor.do("GET", "/audit/entries/"+itoa(seq), nil)
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "亩均税收") || !strings.Contains(body, "伪造行") {
		t.Fatalf("entry page %d:\n%.500s", rec.Code, body)
	}
	if rec := w.login("auditor@other").do("GET", "/audit/entries/"+itoa(seq), nil); rec.Code != http.StatusNotFound {
		t.Fatalf("other park's auditor reads entry: %d", rec.Code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAuditExports(t *testing.T) {
	w, _ := auditWorld(t)
	auditor := w.login("auditor")

	rec := auditor.do("GET", "/audit/export?format=csv", nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", rec.Code, rec.Header())
	}
	data := rec.Body.Bytes()
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		t.Fatal("csv without BOM")
	}
	rows, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(engine.ExportColumns, name) }
	// The people's columns in Chinese, the codes beside them for machines.
	if rows[0][col("event")] != "事件" || rows[0][col("event_code")] != "事件代码" {
		t.Fatalf("csv header %q", rows[0])
	}
	found := false
	for _, r := range rows[1:] {
		if r[col("park_code")] == ownPark && r[col("park")] == ownPark || r[col("event")] != engine.EventLabel(r[col("event_code")], "zh-CN") {
			t.Errorf("row not named in Chinese beside its codes: %q", r)
		}
		if r[col("park_code")] == otherPark {
			t.Errorf("yingde row in a qingyuan auditor's export: %q", r)
		}
		found = found || strings.Contains(r[9], "补链项目,一事一议\n#999")
	}
	if !found {
		t.Error("the override's Chinese reason did not round-trip")
	}

	rec = auditor.do("GET", "/audit/export?format=xlsx&overrides=1", nil)
	f, err := excelize.OpenReader(rec.Body)
	if err != nil {
		t.Fatalf("xlsx: %d %v", rec.Code, err)
	}
	xr, _ := f.GetRows(engine.XLSXLogSheet)
	f.Close()
	if len(xr) != 2 || xr[1][col("event_code")] != "override" || xr[1][col("event")] != engine.EventLabel("override", "zh-CN") || xr[1][col("event")] == "override" {
		t.Fatalf("xlsx rows %q", xr)
	}

	// The whole log as JSON Lines, as an admin-free auditor of both parks
	// would pull it, verifies offline with the server's public key.
	both := w.user("auditor-both", engine.RoleAssignment{Role: engine.RoleAuditor, Park: ownPark},
		engine.RoleAssignment{Role: engine.RoleAuditor, Park: otherPark})
	_ = both
	rec = w.login("auditor-both").do("GET", "/audit/export?format=jsonl", nil)
	res, err := engine.VerifyExport(bytes.NewReader(rec.Body.Bytes()), auditTestKey.Public().(ed25519.PublicKey), false, nil)
	if err != nil || !res.OK || res.CheckpointsGood == 0 {
		t.Fatalf("jsonl export: %v %+v", err, res)
	}
	// Each export was logged, by its auditor.
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventAuditExport}})
	if len(es) != 3 || es[0].Actor != "auditor" || es[2].Actor != "auditor-both" {
		t.Fatalf("export entries %+v", es)
	}
	if rec := auditor.do("GET", "/audit/export?format=pdf", nil); rec.Code != http.StatusBadRequest {
		t.Fatalf("unknown format: %d", rec.Code)
	}
}

func TestAuditVerifyNow(t *testing.T) {
	w, _ := auditWorld(t)
	auditor := w.login("auditor")
	if rec := auditor.do("POST", "/audit/checkpoints", url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("checkpoint now: %d %s", rec.Code, rec.Body)
	}
	rec := auditor.do("POST", "/audit/verify", url.Values{})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "verify-result") {
		t.Fatalf("verify: %d\n%.400s", rec.Code, rec.Body)
	}
	page := auditor.do("GET", "/audit/proof", nil).Body.String()
	if !strings.Contains(page, engine.PublicKeyString(auditTestKey.Public().(ed25519.PublicKey))) {
		t.Fatal("public key not shown")
	}
	// Tamper below the application: the next verification says where.
	raw, pg := storetest.Raw(t, w.db.Path())
	for _, q := range []string{dropTrigger(pg, "audit_log_no_update", "audit_log"), "UPDATE audit_log SET reason = '同意' WHERE event = 'override'"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rec = auditor.do("POST", "/audit/verify", url.Values{})
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "altered") {
		t.Fatalf("verify after tampering: %d\n%.600s", rec.Code, rec.Body)
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventAuditVerify}})
	if len(es) != 2 || es[0].Reason != "intact" || !strings.HasPrefix(es[1].Reason, "BROKEN") || es[1].ProjectID != 0 {
		t.Fatalf("verifications logged: %+v", es)
	}
}

func TestAuthEventsLogged(t *testing.T) {
	w, p := auditWorld(t)
	// A real sign-in through the form, a failed one, and a refusal.
	anon := w.login("anon")
	if rec := anon.do("POST", "/login", url.Values{"username": {"auditor"}, "password": {"password-auditor"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d", rec.Code)
	}
	if rec := anon.do("POST", "/login", url.Values{"username": {"auditor"}, "password": {"hunter2-secret"}}); rec.Code != http.StatusUnauthorized {
		t.Fatalf("bad login: %d", rec.Code)
	}
	if rec := w.login("promoter").do("GET", "/audit", nil); rec.Code != http.StatusForbidden {
		t.Fatalf("refusal: %d", rec.Code)
	}
	// Approving is the committee's (policy.csv: committee, committee_review,
	// approve); a reviewer's try is refused and changes nothing.
	if rec := w.login("reviewer").do("POST", "/projects/"+itoa(p.ID)+"/act", url.Values{"event": {"approve"}, "version": {itoa(p.Version)}}); rec.Code != http.StatusForbidden {
		t.Fatalf("a reviewer approving: %d, want 403", rec.Code)
	}
	if after, err := w.db.Project(w.ctx, p.ID); err != nil || after.State != p.State || after.Version != p.Version {
		t.Fatalf("the refused approval changed the project: %+v %v", after, err)
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventLogin, engine.EventLoginFailed, engine.EventRefused}})
	got := map[string]int{}
	for _, e := range es {
		got[e.Event]++
		if e.ProjectID != 0 || e.Park != "" {
			t.Errorf("auth event with project %d park %q", e.ProjectID, e.Park)
		}
		if strings.Contains(e.Payload+e.Reason, "hunter2") || strings.Contains(e.Payload+e.Reason, "password-auditor") {
			t.Errorf("a password reached the log: %+v", e)
		}
	}
	if got[engine.EventLogin] != 1 || got[engine.EventLoginFailed] != 1 || got[engine.EventRefused] < 1 {
		t.Fatalf("auth events %v", got)
	}
	// The auditor sees them, as zone-wide entries.
	rec := w.login("auditor").do("GET", "/audit?event=login_failed", nil)
	if rows := rowsOf(t, rec.Body.String()); len(rows) != 1 {
		t.Fatalf("auditor sees %d failed sign-ins", len(rows))
	}
}

func TestDossier(t *testing.T) {
	w, p := auditWorld(t)
	d := w.document(p)
	rec := w.login("auditor").do("GET", "/projects/"+itoa(p.ID)+"/dossier", nil)
	body := rec.Body.String()
	for _, want := range []string{"立项审查档案", "铸造扩产项目", d.SHA256, "伪造行", "亩均税收", "data-print"} {
		if !strings.Contains(body, want) {
			t.Errorf("dossier lacks %q", want)
		}
	}
	if rec := w.login("auditor@other").do("GET", "/projects/"+itoa(p.ID)+"/dossier", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("other park's auditor: %d", rec.Code)
	}
	// A declaration nobody answered reads as not reported, never as a blank
	// cell or "否".
	if p.Figures.EnergyAssessment == nil {
		blank := findAll(parseHTML(t, body), func(n *html.Node) bool { return hasAttr(n, "data-blank") })
		if len(blank) == 0 {
			t.Error("dossier shows no figure as not reported, though energy_assessment is blank")
		}
	} else {
		t.Fatal("auditWorld's project answers energy_assessment: the blank case is not tested")
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventDossierView}})
	if len(es) != 1 || es[0].ProjectID != p.ID || es[0].Actor != "auditor" {
		t.Fatalf("dossier views logged: %+v", es)
	}
	// Inspection is not announced to the inspected: the promoter's project
	// page has no word of it; the auditor's log view lists it.
	if body := w.login("promoter").do("GET", "/projects/"+itoa(p.ID), nil).Body.String(); strings.Contains(body, engine.EventLabel(engine.EventDossierView, "zh-CN")) {
		t.Error("the promoter's history shows the auditor's reading of the dossier")
	}
	if body := w.login("auditor").do("GET", "/audit?event=dossier_view", nil).Body.String(); len(rowsOf(t, body)) != 1 {
		t.Error("the auditor's log view does not list the dossier reading")
	}
}

func TestAuditStatsPage(t *testing.T) {
	w, _ := auditWorld(t)
	w.project(engine.StateCommitteeReview)
	rec := w.login("auditor").do("GET", "/audit/stats", nil)
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("stats: %d\n%.500s", rec.Code, body)
	}
	doc := parseHTML(t, body)
	data := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "stats-data" })
	if len(data) != 1 || !strings.HasPrefix(strings.TrimSpace(text(data[0])), "{") {
		t.Fatalf("chart data not JSON: %v", data)
	}
	for _, want := range []string{"committee", "reviewer2", "50 %"} {
		if !strings.Contains(body, want) {
			t.Errorf("stats lack %q\n%s", want, body)
		}
	}
}

// TestProofCommandNamesDownload: the proof page's command names the file
// the JSON Lines download produces and says --partial exactly when that
// download is partial (an auditor of one park), and the file verifies as
// the command says.
func TestProofCommandNamesDownload(t *testing.T) {
	w, _ := auditWorld(t)
	w.user("auditor-both", engine.RoleAssignment{Role: engine.RoleAuditor, Park: ownPark},
		engine.RoleAssignment{Role: engine.RoleAuditor, Park: otherPark})
	pub := auditTestKey.Public().(ed25519.PublicKey)
	for _, tc := range []struct {
		who     string
		partial bool
	}{{"auditor", true}, {"auditor-both", false}} {
		c := w.login(tc.who)
		cmd := text(byID(parseHTML(t, c.do("GET", "/audit/proof", nil).Body.String()), "verify-command"))
		rec := c.do("GET", "/audit/export?format=jsonl", nil)
		_, params, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
		if err != nil {
			t.Fatal(err)
		}
		name := params["filename"]
		if !strings.Contains(cmd, " --export "+name+" ") || strings.Contains(cmd, "--partial") != tc.partial || strings.Contains(name, "partial") != tc.partial {
			t.Errorf("%s: command %q for the download %q", tc.who, cmd, name)
		}
		res, err := engine.VerifyExport(bytes.NewReader(rec.Body.Bytes()), pub, tc.partial, nil)
		if err != nil || !res.OK {
			t.Errorf("%s: the download does not verify as the command says: %v %+v", tc.who, err, res)
		}
		if tc.partial {
			if res, _ := engine.VerifyExport(bytes.NewReader(rec.Body.Bytes()), pub, false, nil); res != nil && res.OK {
				t.Errorf("%s: a one-park export verifies as the whole log: --partial is not needed", tc.who)
			}
		}
	}
	// A filtered view by an auditor of every park is partial too.
	rec := w.login("auditor-both").do("GET", "/audit/export?format=jsonl&event=create", nil)
	if !strings.Contains(rec.Header().Get("Content-Disposition"), "partial") {
		t.Errorf("a filtered export is named %q", rec.Header().Get("Content-Disposition"))
	}
}
