package web

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
	"zonevet/rules"
)

// Two above-scale firms in qingyuan, one of them a high-tech enterprise.
// By hand, against 清远市《关于促进高新技术产业开发区高质量发展的意见》:
//   - 高新技术企业占规上工业企业比重 = 1 / 2 = 50.00 %, target > 55 %: not met
//   - 高新技术企业工业总产值占比 = 30000 / (30000 + 10000) = 75.00 %, target > 60 %: met
//   - 全市高新区工业总产值 = 40000 万元 = 4.00 亿元 (yingde has no figures), target > 1000 亿元
var targetFirms = []engine.AnnualFigures{
	{Revenue: 29000, Output: 30000, ValueAdded: 8000, Tax: 1200, RDExpense: 1200, EnergyUse: 6000, Emissions: 5, Employees: 300, HighTech: true, AboveScale: true},
	{Revenue: 9500, Output: 10000, ValueAdded: 2500, Tax: 400, RDExpense: 300, EnergyUse: 2000, Emissions: 2, Employees: 120, HighTech: false, AboveScale: true},
}

func (w *world) targetFigures() int {
	year := lastYear(w)
	for _, f := range targetFirms {
		p := w.tracked(engine.StateInProduction)
		f.Year = year
		if err := w.svc.SaveFigures(w.ctx, w.users["promoter"], p.ID, f); err != nil {
			w.t.Fatal(err)
		}
	}
	return year
}

type targetKey struct{ scope, id string }

func targetsByKey(ts []engine.Target) map[targetKey]engine.Target {
	m := map[targetKey]engine.Target{}
	for _, t := range ts {
		m[targetKey{t.Scope, t.ID}] = t
	}
	return m
}

// TestDashboardZoneTargetNotAPark: the zone-wide output target is measured
// on all parks together and shown only on the zone view of someone who may
// read every park; a park's view and a partial "whole zone" carry only the
// parks' own targets.
func TestDashboardZoneTargetNotAPark(t *testing.T) {
	w := mustWorld(t)
	year := w.targetFigures()
	zone := w.user("zone-committee", engine.RoleAssignment{Role: engine.RoleCommittee, Park: ownPark},
		engine.RoleAssignment{Role: engine.RoleCommittee, Park: otherPark})

	d, err := w.svc.Dashboard(w.ctx, zone, "", year)
	if err != nil {
		t.Fatal(err)
	}
	got := targetsByKey(d.Targets)
	want := []struct {
		key            targetKey
		target, actual float64
		known, met     bool
	}{
		{targetKey{engine.ZoneScope, "zone_industrial_output"}, 1000, 4, true, false},
		{targetKey{ownPark, "high_tech_share"}, 55, 50, true, false},
		{targetKey{ownPark, "high_tech_output_share"}, 60, 75, true, true},
		{targetKey{otherPark, "high_tech_share"}, 55, 0, false, false},
		{targetKey{otherPark, "high_tech_output_share"}, 60, 0, false, false},
	}
	if len(d.Targets) != len(want) || d.Targets[0].Scope != engine.ZoneScope || d.ZonePartial {
		t.Errorf("zone view targets %+v (partial %v), want the zone's first, then two per park", d.Targets, d.ZonePartial)
	}
	for _, wt := range want {
		g, ok := got[wt.key]
		if !ok || g.Target != wt.target || g.Actual != wt.actual || g.Known != wt.known || g.Met != wt.met {
			t.Errorf("%v: %+v, want target %g actual %g known %v met %v", wt.key, g, wt.target, wt.actual, wt.known, wt.met)
		}
	}

	for _, tc := range []struct {
		who  *engine.User
		park string
	}{{zone, ownPark}, {zone, otherPark}, {w.users["committee"], ownPark}, {w.users["committee"], ""}} {
		d, err := w.svc.Dashboard(w.ctx, tc.who, tc.park, year)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range d.Targets {
			if tg.Scope == engine.ZoneScope || tg.ID == "zone_industrial_output" {
				t.Errorf("%s on %q: the zone target is shown (%+v)", tc.who.Username, tc.park, tg)
			}
		}
		if want := tc.park == "" && tc.who != zone; d.ZonePartial != want {
			t.Errorf("%s on %q: ZonePartial %v, want %v", tc.who.Username, tc.park, d.ZonePartial, want)
		}
	}

	// The page: one zone row on the zone view, labelled as all parks, and
	// none on a park's view.
	zc := w.login("zone-committee")
	doc := parseHTML(t, zc.get(t, "/dashboard?year="+strconv.Itoa(year)))
	rows := targetRows(doc)
	if len(rows) != 5 || attr(rows[0], "data-scope") != "zone" || !strings.Contains(text(rows[0]), "全区(各园区合计)") ||
		!strings.Contains(text(rows[0]), "> 1,000 亿元") {
		t.Errorf("zone page: %d target rows, first %q", len(rows), text(rows[0]))
	}
	doc = parseHTML(t, zc.get(t, "/dashboard?park="+ownPark+"&year="+strconv.Itoa(year)))
	rows = targetRows(doc)
	if len(rows) > 0 && !strings.HasPrefix(text(rows[0]), "清远高新区") {
		t.Errorf("park page: first target row %q does not name the park", text(rows[0]))
	}
	if len(rows) != 2 {
		t.Fatalf("park page: %d target rows, want the park's two", len(rows))
	}
	for i, label := range []string{"高新技术企业占规上工业企业比重", "高新技术企业工业总产值占比"} {
		if attr(rows[i], "data-scope") != ownPark || !strings.Contains(text(rows[i]), label) {
			t.Errorf("park page row %d %q, want %s of %s", i, text(rows[i]), label, ownPark)
		}
	}
	req := httptest.NewRequest("GET", "/dashboard?park="+ownPark+"&year="+strconv.Itoa(year), nil)
	req.AddCookie(zc.cookie)
	req.AddCookie(&http.Cookie{Name: "lang", Value: langEN})
	rec := httptest.NewRecorder()
	w.srv.ServeHTTP(rec, req)
	en := parseHTML(t, rec.Body.String())
	if rows := targetRows(en); len(rows) != 2 || !strings.Contains(text(rows[0]), "High-tech enterprises' share of above-scale industrial firms") {
		t.Errorf("English park page rows %d", len(rows))
	}
}

// TestDashboardParkTargetsFromRuleSet: a park's targets are its rule set's:
// a new version with high_tech_share 45 moves the target on the dashboard's
// data and page, and 50 % now meets it.
func TestDashboardParkTargetsFromRuleSet(t *testing.T) {
	w := mustWorld(t)
	year := w.targetFigures()
	def, err := rules.Default(ownPark)
	if err != nil {
		t.Fatal(err)
	}
	src := string(def.Source())
	changed := strings.Replace(src, "high_tech_share: 55", "high_tech_share: 45", 1)
	if changed == src {
		t.Fatal("fixture: no high_tech_share: 55 in the park's file")
	}
	// A change approved under four eyes puts the new version in force.
	w.putInForce(ownPark, []byte(changed))
	d, err := w.svc.Dashboard(w.ctx, w.users["committee"], ownPark, year)
	if err != nil {
		t.Fatal(err)
	}
	// 1 of 2 above-scale firms = 50 % > 45 %: met.
	if g := targetsByKey(d.Targets)[targetKey{ownPark, "high_tech_share"}]; g.Target != 45 || g.Actual != 50 || !g.Met {
		t.Errorf("after the new rule set: %+v, want target 45, actual 50, met", g)
	}
	doc := parseHTML(t, w.login("committee").get(t, "/dashboard?park="+ownPark+"&year="+strconv.Itoa(year)))
	var row *html.Node
	for _, r := range targetRows(doc) {
		if attr(r, "data-target") == "high_tech_share" {
			row = r
		}
	}
	if row == nil || !strings.Contains(text(row), "> 45 %") || !strings.Contains(text(row), "达标") || strings.Contains(text(row), "未达标") {
		t.Errorf("page row for high_tech_share: %v", row != nil && strings.Contains(text(row), "45"))
	}
}

// TestDashboardParkWithoutTargets: a park whose rule set in force has no
// targets: section (one written before it existed) shows no targets of its
// own, and the page says so rather than inventing them.
func TestDashboardParkWithoutTargets(t *testing.T) {
	w := mustWorld(t)
	year := w.targetFigures()
	def, err := rules.Default(otherPark)
	if err != nil {
		t.Fatal(err)
	}
	block := "targets:\n  high_tech_share: 55        # 高新技术企业占规上工业企业比重,%\n  high_tech_output_share: 60 # 高新技术企业工业总产值占比,%\n"
	old := strings.Replace(string(def.Source()), block, "", 1)
	if old == string(def.Source()) {
		t.Fatal("fixture: the park file's targets: block changed")
	}
	w.putInForce(otherPark, []byte(old))
	zone := w.user("zone-committee", engine.RoleAssignment{Role: engine.RoleCommittee, Park: ownPark},
		engine.RoleAssignment{Role: engine.RoleCommittee, Park: otherPark})
	d, err := w.svc.Dashboard(w.ctx, zone, "", year)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range d.Targets {
		if tg.Scope == otherPark {
			t.Errorf("target %+v for a park whose rule set has none", tg)
		}
	}
	if len(d.UntargetedParks) != 1 || d.UntargetedParks[0] != otherPark {
		t.Errorf("UntargetedParks %v, want [%s]", d.UntargetedParks, otherPark)
	}
	doc := parseHTML(t, w.login("zone-committee").get(t, "/dashboard?year="+strconv.Itoa(year)))
	if n := findAll(doc, func(n *html.Node) bool { return hasAttr(n, "data-untargeted") }); len(n) != 1 || !strings.Contains(text(n[0]), "英德高新区") {
		t.Error("the page does not say which park's rule set sets no targets")
	}
}

func targetRows(doc *html.Node) []*html.Node {
	return findAll(doc, func(n *html.Node) bool { return n.Data == "tr" && hasAttr(n, "data-target") })
}

func (c *client) get(t *testing.T, path string) string {
	t.Helper()
	rec := c.do("GET", path, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%.300s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}
