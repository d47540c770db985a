package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// TestCommitmentForms drives the tracking page's forms as a committee member
// would: the 达产复核 due and done (a tax shortfall opens rectification and the
// page shows each figure), the idle-land fee, and "rectified" refused on a
// plan and a short reason.
func TestCommitmentForms(t *testing.T) {
	w := mustWorld(t)
	committee := w.login("committee")
	page := func(p *engine.Project) *html.Node {
		rec := committee.do("GET", "/projects/"+strconv.FormatInt(p.ID, 10)+"/tracking", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("tracking page: %d", rec.Code)
		}
		return parseHTML(t, rec.Body.String())
	}
	byID := func(doc *html.Node, id string) *html.Node {
		for _, n := range findAll(doc, func(n *html.Node) bool { return attr(n, "id") == id }) {
			return n
		}
		return nil
	}
	version := func(p *engine.Project) string {
		q, err := w.db.Project(w.ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(q.Version, 10)
	}

	// Land delivered five years ago: full production was agreed two years ago.
	p := w.tracked(engine.StateInProduction)
	f := engine.AnnualFigures{Year: lastYear(w), Revenue: 50000, Output: 60000 * 2, ValueAdded: 13000, Tax: 1500, RDExpense: 1500,
		EnergyUse: 10000, Emissions: 8, Employees: 400, AboveScale: true}
	if err := w.svc.SaveFigures(w.ctx, w.users["promoter"], p.ID, f); err != nil {
		t.Fatal(err)
	}
	if byID(page(p), "review-due") == nil {
		t.Fatal("the page does not say the full-production review is due")
	}
	rec := committee.do("POST", "/projects/"+strconv.FormatInt(p.ID, 10)+"/review", url.Values{"version": {version(p)},
		"year": {strconv.Itoa(lastYear(w))}, "fixed_asset_investment": {"20,000"}})
	if rec.Code != http.StatusSeeOther || !strings.Contains(flashOf(t, rec), "达产复核已记录") {
		t.Fatalf("review: %d %q", rec.Code, flashOf(t, rec))
	}
	doc := page(p)
	var short []string
	for _, n := range findAll(doc, func(n *html.Node) bool {
		return attr(n, "data-metric") != "" && strings.Contains(attr(n, "class"), "row-fail")
	}) {
		short = append(short, attr(n, "data-metric"))
	}
	// 1500 万元 over 50 亩 = 30.00 < 44.00 × 90 % = 39.60; 1500 ÷ 50000 = 3.00 % meets 3 % × 90 %.
	if strings.Join(short, ",") != "tax_per_mu,tax_per_mu" { // once in the review, once in the order it opened
		t.Errorf("short figures on the page: %v", short)
	}
	if q, _ := w.db.Project(w.ctx, p.ID); q.State != engine.StateRectification {
		t.Errorf("after a shortfall: %s", q.State)
	}

	// "Rectified" on a plan and a short reason is refused with the field named.
	if err := w.svc.SubmitPlan(w.ctx, w.users["promoter"], p.ID, "扩大产能,补缴税款"); err != nil {
		t.Fatal(err)
	}
	rec = committee.do("POST", "/projects/"+strconv.FormatInt(p.ID, 10)+"/decision", url.Values{"version": {version(p)}, "outcome": {"rectified"}, "reason": {"已整改"}})
	if msg := flashOf(t, rec); !strings.Contains(msg, "理由") || !strings.Contains(msg, "20") {
		t.Errorf("rectified on a short reason: %q", msg)
	}
	if q, _ := w.db.Project(w.ctx, p.ID); q.State != engine.StateRectification {
		t.Errorf("refused rectified moved the project to %s", q.State)
	}

	// Idle land: agreed start four and a half years ago, never started.
	s := w.tracked(engine.StateSigned)
	rec = committee.do("POST", "/projects/"+strconv.FormatInt(s.ID, 10)+"/land", url.Values{"version": {version(s)}, "event": {"idle_land"},
		"land_price": {"1000"}, "reason": {"超过约定开工日期满一年未动工"}})
	if rec.Code != http.StatusSeeOther || !strings.Contains(flashOf(t, rec), "处置决定已记录") {
		t.Fatalf("idle land: %d %q", rec.Code, flashOf(t, rec))
	}
	if text := text(page(s)); !strings.Contains(text, "征缴土地闲置费 200.00 万元") {
		t.Errorf("the page does not show the fee")
	}
}
