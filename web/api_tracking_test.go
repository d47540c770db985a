package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

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
		{"POST", "/api/v1/projects/:id/figures", "", on(engine.StateInProduction, "/api/v1/projects/{id}/figures", figuresInput{Year: year,
			Revenue: 1000, Output: 1000, ValueAdded: 300, Tax: 100, RDExpense: 40, EnergyUse: 100, Emissions: 1, Employees: 20}),
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
		{"PUT", "/api/v1/users/:id/roles", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			u := w.staff("s")
			return "/api/v1/users/" + strconv.FormatInt(u.ID, 10) + "/roles", rolesInput{Park: ownPark, Roles: []engine.Role{engine.RoleReviewer, engine.RoleCommittee}}
		}, "anon=401 own=403 admin=200 other=403"},
		{"GET", "/api/v1/rulesets", "", get("/api/v1/rulesets?park=qingyuan"), "anon=401 own=403 admin=200 other=404"},
		{"GET", "/api/v1/rulesets/:version", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/api/v1/rulesets/" + defaultVersion(w.t), nil
		}, "anon=401 own=403 admin=200 other=403"},
	}
}
