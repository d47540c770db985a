package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// TestProjectFormKeepsBlanks: an empty input is stored as a blank, never as
// 0, an unanswered declaration stays unanswered, and the edit form shows
// them empty again; the draft is saved although it is incomplete.
func TestProjectFormKeepsBlanks(t *testing.T) {
	w := mustWorld(t)
	promoter := w.login("promoter")
	form := formOf(goodInput(ownPark))
	for _, k := range []string{"office_share", "energy_use", "negative_list", "eco_red_line"} {
		form.Del(k)
	}
	form.Set("bad_credit", "no")
	form.Set("energy_assessment", "no")
	rec := promoter.do("POST", "/projects", form)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: %d\n%.500s", rec.Code, rec.Body)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(rec.Header().Get("Location"), "/projects/"), 10, 64)
	p, err := w.db.Project(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	f := p.Figures
	if f.OfficeShare != nil || f.EnergyUse != nil || f.NegativeList != nil || f.EcoRedLine != nil {
		t.Errorf("blanks stored as values: %+v", f)
	}
	if f.BadCredit == nil || *f.BadCredit {
		t.Errorf("bad_credit = %v, want an explicit no", f.BadCredit)
	}
	doc := parseHTML(t, promoter.do("GET", fmt.Sprintf("/projects/%d/edit", id), nil).Body.String())
	// The form marks what submit will require, from the park's rule set.
	need := map[string]string{}
	for _, n := range findAll(doc, func(n *html.Node) bool { return hasAttr(n, "data-need") }) {
		need[attr(n.Parent, "for")] = attr(n, "data-need")
	}
	if need["f-tax"] != "required" || need["f-land_area"] != "land" || need["f-employees"] != "" {
		t.Errorf("required markers %v", need)
	}
	for _, in := range findAll(doc, func(n *html.Node) bool { return n.Data == "input" }) {
		switch name := attr(in, "name"); {
		case name == "office_share" || name == "energy_use":
			if attr(in, "value") != "" {
				t.Errorf("%s shows %q, want empty", name, attr(in, "value"))
			}
		case name == "negative_list" || name == "eco_red_line":
			if hasAttr(in, "checked") {
				t.Errorf("%s %s is checked, want unanswered", name, attr(in, "value"))
			}
		case name == "bad_credit":
			if hasAttr(in, "checked") != (attr(in, "value") == "no") {
				t.Errorf("bad_credit %s checked %v", attr(in, "value"), hasAttr(in, "checked"))
			}
		}
	}
	// The project page says "not reported", never 0 or "no".
	page := promoter.do("GET", fmt.Sprintf("/projects/%d", id), nil).Body.String()
	if n := len(findAll(parseHTML(t, page), func(n *html.Node) bool { return hasAttr(n, "data-blank") })); n != 4 {
		t.Errorf("project page marks %d figures not reported, want 4", n)
	}
	// and names what submit is waiting for.
	if box := findAll(parseHTML(t, page), func(n *html.Node) bool { return hasAttr(n, "data-incomplete") }); len(box) != 1 ||
		!strings.Contains(text(box[0]), w.srv.i18n.T(langZH, "field.eco_red_line", nil)) || !strings.Contains(text(box[0]), "4") {
		t.Errorf("project page does not say the draft is incomplete")
	}
}

// TestSubmitIncompleteWebAndAPI: submitting an incomplete project is refused
// with every missing field named at once, on the page and in the API's
// fields list, and the draft stays as it was.
func TestSubmitIncompleteWebAndAPI(t *testing.T) {
	w := mustWorld(t)
	in := goodInput(ownPark)
	in.Figures.OfficeShare, in.Figures.Tax, in.Figures.EcoRedLine = nil, nil, nil
	promoter := w.login("promoter")
	want := []string{"office_share", "tax", "eco_red_line"} // form order

	p, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in)
	if err != nil {
		t.Fatal(err)
	}
	rec := promoter.do("POST", fmt.Sprintf("/projects/%d/act", p.ID), url.Values{"event": {"submit"}, "version": {fmt.Sprint(p.Version)}})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("web submit: %d", rec.Code)
	}
	alert := findAll(parseHTML(t, rec.Body.String()), func(n *html.Node) bool { return attr(n, "id") == "action-error" })
	if len(alert) != 1 {
		t.Fatal("no error on the page")
	}
	for _, name := range want {
		if label := w.srv.i18n.T(langZH, "field."+name, nil); !strings.Contains(text(alert[0]), label) {
			t.Errorf("page error %q does not name %s (%s)", text(alert[0]), name, label)
		}
	}

	rec = promoter.do("POST", fmt.Sprintf("/api/v1/projects/%d/actions", p.ID), engine.Action{Event: "submit", Version: p.Version})
	got := decode[apiError](t, rec.Body.Bytes())
	if rec.Code != http.StatusBadRequest || got.Code != "invalid" || !slices.Equal(got.Fields, want) || got.Field != want[0] {
		t.Errorf("API submit: %d %+v, want invalid with fields %v", rec.Code, got, want)
	}
	if after, _ := w.db.Project(w.ctx, p.ID); after.State != engine.StateDraft || after.Version != p.Version {
		t.Errorf("refused submit changed the draft: %s v%d", after.State, after.Version)
	}
}

// TestFigureUpperBoundsWebAndAPI: a figure no person could mean (1e308 万元)
// is refused naming the field, by the form and by the API, and nothing is saved.
func TestFigureUpperBoundsWebAndAPI(t *testing.T) {
	w := mustWorld(t)
	promoter := w.login("promoter")
	form := formOf(goodInput(ownPark))
	form.Set("total_investment", "1e308")
	rec := promoter.do("POST", "/projects", form)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), w.srv.i18n.T(langZH, "field.total_investment", nil)) {
		t.Errorf("form: %d, want 400 naming total investment", rec.Code)
	}
	in := goodInput(ownPark)
	in.Figures.LandArea = fp(1e6) // 1,000,000 亩 is 667 km²
	rec = promoter.do("POST", "/api/v1/projects", in)
	if got := decode[apiError](t, rec.Body.Bytes()); rec.Code != http.StatusBadRequest || got.Field != "land_area" {
		t.Errorf("API: %d %+v, want 400 on land_area", rec.Code, got)
	}
	if _, n, _ := w.db.Projects(w.ctx, engine.ProjectFilter{}); n != 0 {
		t.Errorf("%d project(s) saved", n)
	}
}

// TestOverrideFormWeb: the committee sees no override for a failed veto;
// for quantitative failures the form has one checkbox per failed rule and
// the project's minutes; a form missing pieces names them all and keeps
// what was typed; a complete one passes.
func TestOverrideFormWeb(t *testing.T) {
	w := mustWorld(t)
	committee := w.login("committee")
	submitted := func(edit func(*engine.ProjectInput)) *engine.Project {
		in := goodInput(ownPark)
		edit(&in)
		p, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in)
		if err != nil {
			t.Fatal(err)
		}
		if p, err = w.svc.Act(w.ctx, w.users["promoter"], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	overrideForms := func(body string) []*html.Node {
		return findAll(parseHTML(t, body), func(n *html.Node) bool { return n.Data == "form" && hasAttr(n, "data-override") })
	}

	veto := submitted(func(in *engine.ProjectInput) { in.Figures.EcoRedLine = bp(true); in.Figures.Tax = fp(100) })
	if page := committee.do("GET", fmt.Sprintf("/projects/%d", veto.ID), nil).Body.String(); len(overrideForms(page)) != 0 {
		t.Error("the committee is offered an override of a veto")
	}

	p := submitted(func(in *engine.ProjectInput) { in.Figures.Tax, in.Figures.FixedAssetInvestment = fp(100), fp(12500) })
	act := w.overrideAction(p, "tax_per_mu", "investment_intensity")
	forms := overrideForms(committee.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil).Body.String())
	if len(forms) != 1 {
		t.Fatal("no override form")
	}
	var boxes []string
	for _, in := range findAll(forms[0], func(n *html.Node) bool { return attr(n, "name") == "waive" }) {
		boxes = append(boxes, attr(in, "value"))
	}
	if !slices.Equal(boxes, []string{"investment_intensity", "tax_per_mu"}) {
		t.Errorf("checkboxes %v, want one per failed hard rule", boxes)
	}
	if opts := findAll(forms[0], func(n *html.Node) bool {
		return n.Data == "option" && attr(n, "value") == fmt.Sprint(act.MinutesDocument)
	}); len(opts) != 1 {
		t.Error("the minutes are not offered")
	}

	target := fmt.Sprintf("/projects/%d/act", p.ID)
	rec := committee.do("POST", target, url.Values{"event": {"override"}, "version": {fmt.Sprint(p.Version)}, "reason": {"重大项目"},
		"waive": {"tax_per_mu"}, "minutes_number": {"清高管纪〔2025〕3号"}})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("incomplete override: %d", rec.Code)
	}
	page := parseHTML(t, rec.Body.String())
	msg := text(findAll(page, func(n *html.Node) bool { return attr(n, "id") == "action-error" })[0])
	for _, want := range []string{"固定资产投资强度", "20 字", "会议纪要", "日期"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %s", msg, want)
		}
	}
	if kept := findAll(page, func(n *html.Node) bool {
		return attr(n, "name") == "minutes_number" && attr(n, "value") == "清高管纪〔2025〕3号"
	}); len(kept) != 1 {
		t.Error("the typed minutes number was lost")
	}

	form := url.Values{"event": {"override"}, "version": {fmt.Sprint(p.Version)}, "reason": {act.Reason}, "waive": act.Waive,
		"minutes_document": {fmt.Sprint(act.MinutesDocument)}, "minutes_number": {act.MinutesNumber}, "minutes_date": {act.MinutesDate}}
	if rec := committee.do("POST", target, form); rec.Code != http.StatusSeeOther {
		t.Fatalf("complete override: %d\n%.400s", rec.Code, rec.Body)
	}
	if after, _ := w.db.Project(w.ctx, p.ID); after.State != engine.StateExpertReview || !after.Override {
		t.Errorf("after override: %s %v", after.State, after.Override)
	}
}

// TestOverrideAPI: the JSON API takes the same 一事一议 as the form: missing
// pieces come back as one 400 naming every field, a veto as a 403, a
// complete override moves the project on.
func TestOverrideAPI(t *testing.T) {
	w := mustWorld(t)
	committee := w.login("committee")
	submit := func(edit func(*engine.ProjectInput)) *engine.Project {
		in := goodInput(ownPark)
		edit(&in)
		p, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in)
		if err != nil {
			t.Fatal(err)
		}
		if p, err = w.svc.Act(w.ctx, w.users["promoter"], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := submit(func(in *engine.ProjectInput) { in.Figures.Tax = fp(100) })
	target := fmt.Sprintf("/api/v1/projects/%d/actions", p.ID)
	rec := committee.do("POST", target, engine.Action{Event: engine.EventOverride, Version: p.Version, Reason: "一事一议"})
	got := decode[apiError](t, rec.Body.Bytes())
	if want := []string{"waive", "reason", "minutes_document", "minutes_number", "minutes_date"}; rec.Code != http.StatusBadRequest || !slices.Equal(got.Fields, want) {
		t.Errorf("incomplete override: %d %+v, want 400 with fields %v", rec.Code, got, want)
	}
	if rec := committee.do("POST", target, w.overrideAction(p, "tax_per_mu")); rec.Code != http.StatusOK {
		t.Errorf("complete override: %d %s", rec.Code, rec.Body)
	}

	veto := submit(func(in *engine.ProjectInput) { in.Figures.BadCredit = bp(true) })
	rec = committee.do("POST", fmt.Sprintf("/api/v1/projects/%d/actions", veto.ID), w.overrideAction(veto, "veto_bad_credit"))
	if got := decode[apiError](t, rec.Body.Bytes()); rec.Code != http.StatusForbidden || !strings.Contains(got.Message, "一票否决") {
		t.Errorf("override of a veto: %d %+v, want 403 saying 一票否决", rec.Code, got)
	}
}
