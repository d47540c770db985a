package web

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// principals are who the matrix tries every route as: nobody, each role in
// the project's park, and each role in the other park only.
var principals = []string{
	"anon",
	"promoter", "reviewer", "committee", "auditor", "admin",
	"promoter@other", "reviewer@other", "committee@other", "auditor@other", "admin@other",
}

// route is one row of the permission matrix: a registered route, the state
// of the project it is tried on, how to build the request, and the status
// each principal must get. want is "key=status" pairs: "anon", "own" (every
// role in the park), "other" (every role of the other park), or a principal
// name, the most specific key winning. Anything unlisted must be denied.
type route struct {
	method, path string
	state        engine.State // a fresh project in this state per request; "" = none
	req          func(w *world, p *engine.Project, who string) (string, any)
	want         string
}

func get(target string) func(*world, *engine.Project, string) (string, any) {
	return func(w *world, p *engine.Project, _ string) (string, any) { return expand(target, p), nil }
}

func post(target string, body any) func(*world, *engine.Project, string) (string, any) {
	return func(w *world, p *engine.Project, _ string) (string, any) {
		if v, ok := body.(url.Values); ok && p != nil {
			v = cloneValues(v)
			if v.Has("version") {
				v.Set("version", strconv.FormatInt(p.Version, 10))
			}
			if v.Has("round") {
				v.Set("round", strconv.Itoa(p.Round))
			}
			return expand(target, p), v
		}
		return expand(target, p), body
	}
}

func expand(target string, p *engine.Project) string {
	if p != nil {
		target = strings.ReplaceAll(target, "{id}", strconv.FormatInt(p.ID, 10))
	}
	return target
}

func (w *world) matrixRoutes() []route {
	scoreForm := url.Values{"round": {"0"}, "comment": {"ok"}}
	for id, v := range w.fullMarks(&engine.Project{Park: ownPark}, 0.8) {
		scoreForm.Set("item."+id, fmt.Sprint(v))
	}
	jsonIn := goodInput(ownPark)
	return []route{
		{"GET", "/static/:file", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return w.srv.static.urlFor["app.css"], nil
		}, "anon=200 own=200 other=200"},
		{"GET", "/healthz", "", get("/healthz"), "anon=200 own=200 other=200"},
		{"GET", "/lang/:lang", "", get("/lang/en?next=/projects"), "anon=303 own=303 other=303"},
		{"GET", "/login", "", get("/login"), "anon=200 own=303 other=303"},
		{"POST", "/login", "", func(w *world, _ *engine.Project, who string) (string, any) {
			return "/login", url.Values{"username": {"nobody-" + who}, "password": {"wrong-password"}}
		}, "anon=401 own=401 other=401"},
		{"POST", "/logout", "", post("/logout", url.Values{}), "anon=303 own=303 other=303"},
		{"GET", "/", "", get("/"), "anon=303 own=200 other=200"},
		{"GET", "/projects", "", get("/projects?q=铜箔&sort=name"), "anon=303 own=200 other=200"},
		{"GET", "/projects/new", "", get("/projects/new"), "anon=303 own=403 promoter=200 promoter@other=200 other=403"},
		{"GET", "/projects/same-uscc", "", get("/projects/same-uscc?uscc=" + goodUSCC + "&investor_name=x"), "anon=303 own=200 other=200"},
		{"POST", "/projects", "", post("/projects", formOf(goodInput(ownPark))), "anon=401 own=403 promoter=303 other=403"},
		{"GET", "/projects/:id", engine.StateDraft, get("/projects/{id}"), "anon=303 own=200 other=404"},
		{"GET", "/projects/:id/edit", engine.StateDraft, get("/projects/{id}/edit"), "anon=303 own=403 promoter=200 other=404"},
		{"POST", "/projects/:id/edit", engine.StateDraft, post("/projects/{id}/edit", withVersion(formOf(goodInput(ownPark)))), "anon=401 own=403 promoter=303 other=404"},
		{"POST", "/projects/:id/act", engine.StateDraft, post("/projects/{id}/act", url.Values{"event": {"submit"}, "version": {"0"}}), "anon=401 own=403 promoter=303 other=404"},
		{"POST", "/projects/:id/score", engine.StateExpertReview, post("/projects/{id}/score", scoreForm), "anon=401 own=403 reviewer=303 other=404"},
		{"POST", "/projects/:id/conflict", engine.StateScreening, post("/projects/{id}/conflict", url.Values{"reason": {"亲属任职于投资方"}}), "anon=401 own=403 reviewer=303 other=404"},
		{"POST", "/projects/:id/documents", engine.StateDraft, func(w *world, p *engine.Project, _ string) (string, any) {
			return expand("/projects/{id}/documents", p), w.multipart("feasibility", "study.pdf", pdfBytes())
		}, "anon=401 own=403 promoter=303 committee=303 other=404"}, // the committee files the minutes an override cites
		{"GET", "/projects/:id/documents/:doc", engine.StateDraft, func(w *world, p *engine.Project, _ string) (string, any) {
			d := w.document(p)
			return fmt.Sprintf("/projects/%d/documents/%d", p.ID, d.ID), nil
		}, "anon=303 own=200 other=404"},
		{"GET", "/settings/tokens", "", get("/settings/tokens"), "anon=303 own=200 other=200"},
		{"POST", "/settings/tokens", "", post("/settings/tokens", url.Values{"name": {"script"}, "scope": {"projects:read"}}), "anon=401 own=200 other=200"},
		{"POST", "/settings/tokens/:id/revoke", "", func(w *world, _ *engine.Project, who string) (string, any) {
			id := int64(1)
			if u := w.users[who]; u != nil {
				t := &engine.APIToken{UserID: u.ID, Name: "t", Hash: hashToken(randomToken()), CreatedAt: w.clock.now()}
				if err := w.db.CreateAPIToken(w.ctx, t); err != nil {
					w.t.Fatal(err)
				}
				id = t.ID
			}
			return fmt.Sprintf("/settings/tokens/%d/revoke", id), url.Values{}
		}, "anon=401 own=303 other=303"},
		{"GET", "/api/v1/openapi.json", "", get("/api/v1/openapi.json"), "anon=200 own=200 other=200"},
		{"GET", "/api/v1/projects", "", get("/api/v1/projects?state=draft"), "anon=401 own=200 other=200"},
		{"POST", "/api/v1/projects", "", post("/api/v1/projects", jsonIn), "anon=401 own=403 promoter=201 other=403"},
		{"GET", "/api/v1/projects/:id", engine.StateDraft, get("/api/v1/projects/{id}"), "anon=401 own=200 other=404"},
		{"PUT", "/api/v1/projects/:id", engine.StateDraft, func(w *world, p *engine.Project, _ string) (string, any) {
			return expand("/api/v1/projects/{id}", p), projectUpdate{ProjectInput: goodInput(ownPark), Version: p.Version}
		}, "anon=401 own=403 promoter=200 other=404"},
		{"POST", "/api/v1/projects/:id/actions", engine.StateDraft, func(w *world, p *engine.Project, _ string) (string, any) {
			return expand("/api/v1/projects/{id}/actions", p), engine.Action{Event: "submit", Version: p.Version}
		}, "anon=401 own=403 promoter=200 other=404"},
		{"POST", "/api/v1/projects/:id/scores", engine.StateExpertReview, func(w *world, p *engine.Project, _ string) (string, any) {
			return expand("/api/v1/projects/{id}/scores", p), engine.ScoreInput{Round: p.Round, Items: w.fullMarks(p, 0.8)}
		}, "anon=401 own=403 reviewer=201 other=404"},
		{"GET", "/api/v1/projects/:id/report", engine.StateScreening, get("/api/v1/projects/{id}/report"), "anon=401 own=200 other=404"},
		{"GET", "/api/v1/projects/:id/history", engine.StateDraft, get("/api/v1/projects/{id}/history"), "anon=401 own=200 other=404"},
		// The decision log (issue 4): auditors read, export and verify in their parks;
		// admin may verify (the chain is one for the zone); everyone else is refused.
		{"GET", "/audit", "", get("/audit?park=qingyuan"), "anon=303 own=403 auditor=200 other=403 auditor@other=403"},
		{"GET", "/audit/entries/:seq", engine.StateScreening, func(w *world, p *engine.Project, _ string) (string, any) {
			return fmt.Sprintf("/audit/entries/%d", w.lastSeq(p)), nil
		}, "anon=303 own=403 auditor=200 other=403 auditor@other=404"},
		{"GET", "/audit/export", "", get("/audit/export?format=csv&park=qingyuan"), "anon=303 own=403 auditor=200 other=403 auditor@other=403"},
		{"GET", "/audit/stats", "", get("/audit/stats"), "anon=303 own=403 auditor=200 other=403 auditor@other=200"},
		{"GET", "/audit/proof", "", get("/audit/proof"), "anon=303 own=403 auditor=200 admin=200 other=403 auditor@other=200 admin@other=200"},
		{"POST", "/audit/verify", "", post("/audit/verify", url.Values{}), "anon=401 own=403 auditor=200 admin=200 other=403 auditor@other=200 admin@other=200"},
		// The matrix world has no signing key: allowed callers get 409 (TestAuditCheckpointNow signs with one).
		{"POST", "/audit/checkpoints", "", post("/audit/checkpoints", url.Values{}), "anon=401 own=403 auditor=409 admin=409 other=403 auditor@other=409 admin@other=409"},
		{"GET", "/projects/:id/dossier", engine.StateScreening, get("/projects/{id}/dossier"), "anon=303 own=404 auditor=200 other=404"},
	}
}

func withVersion(v url.Values) url.Values { v.Set("version", "0"); return v }

// formOf renders an input as the project form would post it.
func formOf(in engine.ProjectInput) url.Values {
	v := url.Values{"park": {in.Park}, "name": {in.Name}, "investor_name": {in.InvestorName}, "uscc": {in.USCC}}
	p := &engine.Project{Name: in.Name, InvestorName: in.InvestorName, USCC: in.USCC, Figures: in.Figures}
	for k, x := range formFromProject(p) {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// wantFor resolves the expected status of principal who from a want spec.
func wantFor(t *testing.T, spec, who string) int {
	t.Helper()
	m := map[string]int{}
	for _, kv := range strings.Fields(spec) {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("bad spec %q", spec)
		}
		m[k] = n
	}
	if n, ok := m[who]; ok {
		return n
	}
	group := "own"
	if who == "anon" {
		group = "anon"
	} else if strings.HasSuffix(who, "@other") {
		group = "other"
	}
	if n, ok := m[group]; ok {
		return n
	}
	t.Fatalf("spec %q says nothing about %s", spec, who)
	return 0
}

// TestPermissionMatrix walks every route × every principal and checks the
// status, and that every registered route has exactly one row.
func TestPermissionMatrix(t *testing.T) {
	w := mustWorld(t)
	rows := append(append(append(w.matrixRoutes(), w.trackingRoutes()...), w.adminRoutes()...), append(w.rulesAdminRoutes(), w.calendarRoutes()...)...)
	rows = append(append(rows, w.apiAuditRoutes()...), w.apiWorkRoutes()...)
	rows = append(append(rows, w.meetingRoutes()...), w.apiGovernRoutes()...)
	rows = append(append(rows, w.expertRoutes()...), w.delegationRoutes()...)
	rows = append(append(rows, w.inboxRoutes()...), w.apiCalendarRoutes()...)
	rows = append(append(rows, w.shareRoutes()...), w.apiVerbRoutes()...)
	rows = append(rows, w.verbs2Routes()...)
	have := map[string]bool{}
	for _, r := range rows {
		key := r.method + " " + r.path
		if have[key] {
			t.Errorf("route %s has two rows", key)
		}
		have[key] = true
	}
	var registered []string
	for _, r := range w.srv.Echo().Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		key := r.Method + " " + r.Path
		registered = append(registered, key)
		if !have[key] {
			t.Errorf("route %s has no row in the permission matrix: add one", key)
		}
		delete(have, key)
	}
	for key := range have {
		t.Errorf("matrix row %s matches no registered route", key)
	}
	sort.Strings(registered)
	if len(registered) < 25 {
		t.Fatalf("only %d routes registered: %v", len(registered), registered)
	}

	for _, r := range rows {
		cells := rowProjects{w: w, r: r}
		for _, who := range principals {
			t.Run(r.method+" "+r.path+"/"+who, func(t *testing.T) {
				want := wantFor(t, r.want, who)
				p := cells.project(who, want)
				target, body := r.req(w, p, who)
				rec := w.login(who).do(r.method, target, body)
				if got := rec.Code; got != want {
					t.Errorf("%s %s as %s: status %d, want %d\n%.300s", r.method, target, who, got, want, rec.Body.String())
				}
			})
		}
	}
}

// rowProjects gives a matrix row's cells their projects in the row's state:
// a fresh one to each principal the row lets through, and one shared by the
// principals it refuses, since a refused request changes nothing (each cell
// used to build its own through the lifecycle). A refusal that wrongly goes
// through still fails its own cell.
type rowProjects struct {
	w       *world
	r       route
	refused *engine.Project
}

func (c *rowProjects) project(who string, want int) *engine.Project {
	if c.r.state == "" {
		return nil
	}
	refused := want == 401 || want == 403 || want == 404 || (who == "anon" && want == 303)
	if !refused {
		return c.w.project(c.r.state)
	}
	if c.refused == nil {
		c.refused = c.w.project(c.r.state)
	}
	return c.refused
}

// document stores a small PDF on p as its promoter.
func (w *world) document(p *engine.Project) *engine.Document {
	w.t.Helper()
	name := randomToken()
	if err := os.WriteFile(filepath.Join(w.srv.cfg.DocsDir, name), pdfBytes(), 0o600); err != nil {
		w.t.Fatal(err)
	}
	d := &engine.Document{Kind: "feasibility", FileName: "可研报告.pdf", StoredName: name, MediaType: "application/pdf",
		Size: int64(len(pdfBytes())), SHA256: "00"}
	if err := w.svc.AddDocument(w.ctx, w.users["promoter"], p.ID, d); err != nil {
		w.t.Fatal(err)
	}
	return d
}

func pdfBytes() []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}
