package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
	"zonevet/rules/catalog"
)

// TestTrackingFormRefusedKeepsTyping: a refused tracking form comes back
// open, with everything that was typed and the message beside the field at
// fault; nothing is saved until the corrected form is sent.
func TestTrackingFormRefusedKeepsTyping(t *testing.T) {
	w := mustWorld(t)
	promoter := w.login("promoter")

	p := w.tracked(engine.StateInProduction)
	year := lastYear(w)
	figures := url.Values{"year": {strconv.Itoa(year)}, "revenue": {"1,000"}, "output": {"800"}, "value_added": {"900"}, "tax": {"100"},
		"rd_expense": {"40"}, "energy_use": {"100"}, "emissions": {"1"}, "electricity": {"12.5"}, "employees": {"20"}, "high_tech": {"1"}}
	target := fmt.Sprintf("/projects/%d/figures", p.ID)
	form := sendRefused(t, promoter, target, figures)
	if formValue(form, "above_scale") != "" {
		t.Error("an unticked box came back ticked")
	}
	fieldRefusal(t, form, "figures", "value_added", catalog.T(langZH, "err.value_added_cannot_exceed_output", nil))
	_, tr, err := w.svc.Tracking(w.ctx, w.users["promoter"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Figures) != 0 {
		t.Fatalf("refused figures saved: %+v", tr.Figures)
	}
	figures.Set("value_added", "300")
	if rec := promoter.do("POST", target, figures); rec.Code != http.StatusSeeOther {
		t.Fatalf("corrected figures: %d\n%.500s", rec.Code, rec.Body.String())
	}
	if _, tr, _ = w.svc.Tracking(w.ctx, w.users["promoter"], p.ID); len(tr.Figures) != 1 || tr.Figures[0].Revenue != 1000 || !tr.Figures[0].HighTech {
		t.Fatalf("corrected figures saved as %+v", tr.Figures)
	}

	q := w.tracked(engine.StateUnderConstruction)
	milestone := url.Values{"kind": {"completion"}, "done_on": {w.svc.Today().AddDate(0, 0, 1).Format("2006-01-02")}, "note": {"竣工验收备案"}}
	target = fmt.Sprintf("/projects/%d/milestones", q.ID)
	form = sendRefused(t, promoter, target, milestone)
	fieldRefusal(t, form, "milestone", "done_on", catalog.T(langZH, "err.date_cannot_be_in_future", nil))

	// The agreement form keeps what was typed over what is on record.
	target = fmt.Sprintf("/projects/%d/agreement", p.ID)
	agreement := url.Values{"signed_on": {"2024-01-10"}, "land_area": {"0"}, "employees": {"120"}, "review_clause": {"第十二条"}}
	form = sendRefused(t, promoter, target, agreement)
	fieldRefusal(t, form, "agreement", "land_area", catalog.T(langZH, "err.land_area_must_be_greater_than", nil))
}

// sendRefused posts typed to target, expects the refusal (400), and checks
// that the form comes back with every typed value; it returns the form.
func sendRefused(t *testing.T, c *client, target string, typed url.Values) *html.Node {
	t.Helper()
	rec := c.do("POST", target, typed)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("%s: %d, want the refusal\n%.500s", target, rec.Code, rec.Body.String())
	}
	form := refusedForm(t, rec.Body.String(), target)
	for name, v := range typed {
		if got := formValue(form, name); got != v[0] {
			t.Errorf("%s %s: %q after the refusal, typed %q", target, name, got, v[0])
		}
	}
	return form
}

// refusedForm finds the form posting to action on a page, and checks that
// the <details> holding it is open.
func refusedForm(t *testing.T, body, action string) *html.Node {
	t.Helper()
	doc := parseHTML(t, body)
	forms := findAll(doc, func(n *html.Node) bool { return n.Data == "form" && attr(n, "action") == action })
	if len(forms) != 1 {
		t.Fatalf("%d forms to %s on the page", len(forms), action)
	}
	for n := forms[0].Parent; n != nil; n = n.Parent {
		if n.Data == "details" {
			if !hasAttr(n, "open") {
				t.Errorf("the refused form to %s is folded away", action)
			}
			break
		}
	}
	return forms[0]
}

// formValue is what a form would send for name: an input's value (a
// checkbox's if ticked), a select's chosen option, a textarea's text.
func formValue(form *html.Node, name string) string {
	for _, n := range findAll(form, func(n *html.Node) bool { return attr(n, "name") == name }) {
		switch n.Data {
		case "input":
			if attr(n, "type") == "checkbox" && !hasAttr(n, "checked") {
				continue
			}
			return attr(n, "value")
		case "textarea":
			return text(n)
		case "select":
			for _, o := range findAll(n, func(o *html.Node) bool { return o.Data == "option" && hasAttr(o, "selected") }) {
				return attr(o, "value")
			}
		}
	}
	return ""
}

// fieldRefusal checks that msg stands beside field, the form's only refusal.
func fieldRefusal(t *testing.T, form *html.Node, name, field, msg string) {
	t.Helper()
	errs := findAll(form, func(n *html.Node) bool { return attr(n, "class") == "fielderr" })
	if len(errs) != 1 || attr(errs[0], "id") != "e-"+name+"-"+field || text(errs[0]) != msg {
		var got []string
		for _, e := range errs {
			got = append(got, attr(e, "id")+" "+text(e))
		}
		t.Errorf("%s: refusals shown %q, want %q beside %s", name, got, msg, field)
	}
	for _, in := range findAll(form, func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == field }) {
		if attr(in, "aria-invalid") != "true" {
			t.Errorf("%s: %s not marked invalid", name, field)
		}
	}
}
