package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"zonevet/engine"
)

// apiWorkRoutes are the permission matrix's rows for the browser's work
// through the API (issue 19): the same engine commands as the pages, so the
// same answers as the pages' rows (web/tracking_test.go, admin_test.go,
// rules_admin_test.go) — as JSON: 401 instead of a redirect to sign in, and
// the command's own status on success. Policy: engine/authz/policy.csv
// (promoter records tracking; committee runs ratings; admin manages users
// and rules in its parks; everyone reads what its park shows).
func (w *world) apiWorkRoutes() []route {
	on := func(st engine.State, target string, body any) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, _ string) (string, any) {
			p := w.tracked(st)
			return strings.ReplaceAll(target, "{id}", strconv.FormatInt(p.ID, 10)), body
		}
	}
	year := lastYear(w)
	today := w.svc.Today().Format("2006-01-02")
	return []route{
		{"GET", "/api/v1/projects/:id/tracking", "", on(engine.StateInProduction, "/api/v1/projects/{id}/tracking", nil), "anon=401 own=200 other=404"},
		{"PUT", "/api/v1/projects/:id/agreement", "", on(engine.StateSigned, "/api/v1/projects/{id}/agreement", agreementInput{SignedOn: today,
			LandArea: 50, FixedAssetInvestment: 20000, OutputPerMu: 1200, TaxPerMu: 44, RDIntensity: 5, Employees: 300}),
			"anon=401 own=403 promoter=200 other=404"},
		{"POST", "/api/v1/projects/:id/milestones", "", on(engine.StateUnderConstruction, "/api/v1/projects/{id}/milestones",
			milestoneInput{Kind: engine.MilestoneCompletion, DoneOn: today}), "anon=401 own=403 promoter=201 other=404"},
		{"POST", "/api/v1/projects/:id/figures", "", on(engine.StateInProduction, "/api/v1/projects/{id}/figures", map[string]any{"year": year,
			"revenue": 1000, "output": 1000, "value_added": 300, "tax": 100, "rd_expense": 40, "energy_use": 100, "emissions": 1, "employees": 20}),
			"anon=401 own=403 promoter=201 other=404"},
		{"POST", "/api/v1/tracking/import", "", post("/api/v1/tracking/import", url.Values{"park": {ownPark}, "year": {strconv.Itoa(year)}}),
			"anon=401 own=403 promoter=400 other=404"},
		{"GET", "/api/v1/tracking/alerts", "", get("/api/v1/tracking/alerts"), "anon=401 own=200 other=200"},
		{"GET", "/api/v1/tracking/runs", "", get("/api/v1/tracking/runs"), "anon=401 own=200 other=200"},
		// 2001 has no figures: the committee is let through and told so (400), as the page flashes it.
		{"POST", "/api/v1/tracking/runs", "", post("/api/v1/tracking/runs", ratingRunInput{Park: ownPark, Year: 2001}),
			"anon=401 own=403 committee=400 other=403"},
		{"GET", "/api/v1/tracking/runs/:run", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/tracking/runs/%d", w.ratingRun()), nil
		}, "anon=401 own=200 other=404"},
		{"GET", "/api/v1/tracking/runs/:run/results.xlsx", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/tracking/runs/%d/results.xlsx", w.ratingRun()), nil
		}, "anon=401 own=200 other=404"},
		{"GET", "/api/v1/dashboard", "", get("/api/v1/dashboard"), "anon=401 own=200 other=200"},
		{"GET", "/api/v1/users", "", get("/api/v1/users"), "anon=401 own=403 admin=200 other=403 admin@other=200"},
		{"GET", "/api/v1/users/:id", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/api/v1/users/" + strconv.FormatInt(w.users["reviewer"].ID, 10), nil
		}, "anon=401 own=403 admin=200 other=403 admin@other=404"},
		{"POST", "/api/v1/users", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/api/v1/users", newUserInput{Username: "new-" + randomToken()[:10], DisplayName: "新同事", Password: "initial-password",
				Park: ownPark, Roles: []engine.Role{engine.RoleReviewer}}
		}, "anon=401 own=403 admin=201 other=403"},
		{"PUT", "/api/v1/users/:id/status", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			u := w.staff("s")
			return "/api/v1/users/" + strconv.FormatInt(u.ID, 10) + "/status", statusInput{Disabled: bp(true)}
		}, "anon=401 own=403 admin=200 other=403 admin@other=404"},
		{"PUT", "/api/v1/users/:id/roles", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			u := w.staff("s")
			return "/api/v1/users/" + strconv.FormatInt(u.ID, 10) + "/roles", rolesInput{Park: ownPark, Roles: []engine.Role{engine.RoleReviewer, engine.RoleCommittee}}
		}, "anon=401 own=403 admin=200 other=403"},
		// Rule sets are read by those who propose, decide and audit them (issue 12), as on /admin/rules.
		{"GET", "/api/v1/rulesets", "", get("/api/v1/rulesets?park=qingyuan"), "anon=401 own=403 admin=200 committee=200 auditor=200 other=404"},
		{"GET", "/api/v1/rulesets/:version", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/api/v1/rulesets/" + defaultVersion(w.t), nil
		}, "anon=401 own=403 admin=200 committee=200 auditor=200 other=403"},
	}
}

// TestAPIWorkIdempotent: a POST of the new routes retried with the same
// Idempotency-Key has its effect once and gets the first answer back, as
// the projects' POSTs do; the key on another request is a conflict.
func TestAPIWorkIdempotent(t *testing.T) {
	w := mustWorld(t)
	p := w.tracked(engine.StateUnderConstruction)
	c := w.bearerFor("promoter", engine.APIToken{Scopes: []string{engine.ScopeTrackingWrite}})
	target := fmt.Sprintf("/api/v1/projects/%d/milestones", p.ID)
	send := func(key string, in milestoneInput) (int, string, string) {
		body, _ := json.Marshal(in)
		r := newJSONRequest("POST", target, body)
		r.Header.Set("Idempotency-Key", key)
		r.Header.Set("Authorization", "Bearer "+c.bearer)
		rec := serve(w, r)
		return rec.Code, rec.Body.String(), rec.Header().Get("Idempotent-Replayed")
	}
	in := milestoneInput{Kind: engine.MilestoneCompletion, DoneOn: w.svc.Today().Format("2006-01-02")}
	s1, b1, _ := send("m-1", in)
	s2, b2, replayed := send("m-1", in)
	if s1 != http.StatusCreated || s2 != s1 || b1 != b2 || replayed != "true" {
		t.Fatalf("first %d, retry %d (replayed %q), same body %v\n%s", s1, s2, replayed, b1 == b2, b1)
	}
	es, _, err := w.db.AuditPage(w.ctx, engine.AuditQuery{AuditFilter: engine.AuditFilter{ProjectID: p.ID, Limit: 200}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if strings.Contains(e.Payload, engine.MilestoneCompletion) && e.Actor == "promoter" && e.Event != engine.EventAuditPull {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d log entries for a milestone posted twice with one key", n)
	}
	in.Note = "another"
	if s, _, _ := send("m-1", in); s != http.StatusConflict {
		t.Fatalf("the key on another request: %d", s)
	}
	// The project and its park come from the path: a body naming them is refused, naming the field.
	figures := fmt.Sprintf("/api/v1/projects/%d/figures", w.tracked(engine.StateInProduction).ID)
	for _, field := range []string{"park", "project_id"} {
		body := fmt.Sprintf(`{"year": %d, "revenue": 1000, %q: %s}`, lastYear(w), field, map[string]string{"park": `"yingde"`, "project_id": "1"}[field])
		r := newJSONRequest("POST", figures, []byte(body))
		r.Header.Set("Authorization", "Bearer "+c.bearer)
		rec := serve(w, r)
		if got := decode[apiError](t, rec.Body.Bytes()); rec.Code != http.StatusBadRequest || got.Field != field {
			t.Fatalf("figures with %s in the body: %d %s", field, rec.Code, rec.Body)
		}
	}
	// A date in the wrong form is refused naming the field.
	s, b, _ := send("m-2", milestoneInput{Kind: engine.MilestoneCompletion, DoneOn: "2026/5/6"})
	if got := decode[apiError](t, []byte(b)); s != http.StatusBadRequest || got.Field != "done_on" {
		t.Fatalf("bad date: %d %s", s, b)
	}
}
