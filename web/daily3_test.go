package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"zonevet/engine"
)

// TestSameUSCCHeldOnEdit: the edit form holds a USCC changed to one already
// registered under another investor name until the promoter confirms (400,
// nothing saved, the other project listed), saves it once confirmed, and
// does not ask again on a later edit that keeps the code and the name. The
// form's check answers the same block, with the confirmation only where the
// name differs, and nothing for an invalid code.
func TestSameUSCCHeldOnEdit(t *testing.T) {
	w := mustWorld(t)
	first, err := w.svc.CreateProject(w.ctx, w.users["promoter"], goodInput(ownPark))
	if err != nil {
		t.Fatal(err)
	}
	in := goodInput(ownPark)
	in.USCC, in.InvestorName = nextUSCC(), "清远另一家材料有限公司"
	p, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in)
	if err != nil {
		t.Fatal(err)
	}
	promoter := w.login("promoter")
	edit := func(change func(url.Values)) *http.Response {
		t.Helper()
		cur, err := w.svc.Project(w.ctx, w.users["promoter"], p.ID)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"version": {strconv.FormatInt(cur.Version, 10)}}
		for k, v := range formFromProject(cur) {
			form.Set(k, v)
		}
		change(form)
		rec := promoter.do("POST", "/projects/"+itoa(p.ID)+"/edit", form)
		res := rec.Result()
		res.Body = http.NoBody
		if res.StatusCode == http.StatusBadRequest {
			doc := parseHTML(t, rec.Body.String())
			if same := byID(doc, "same-uscc"); same == nil || !strings.Contains(text(same), "#"+itoa(first.ID)) || byID(doc, "uscc-confirm") == nil {
				t.Errorf("the held edit does not list #%d with the confirmation", first.ID)
			}
		}
		return res
	}
	usccNow := func() string {
		cur, _ := w.svc.Project(w.ctx, w.users["promoter"], p.ID)
		return cur.USCC
	}

	if res := edit(func(f url.Values) { f.Set("uscc", goodUSCC) }); res.StatusCode != http.StatusBadRequest || usccNow() != in.USCC {
		t.Fatalf("unconfirmed change to another investor's code: %d, USCC now %s", res.StatusCode, usccNow())
	}
	if res := edit(func(f url.Values) { f.Set("uscc", goodUSCC); f.Set("uscc_confirm", goodUSCC) }); res.StatusCode != http.StatusSeeOther || usccNow() != goodUSCC {
		t.Fatalf("confirmed change: %d, USCC now %s", res.StatusCode, usccNow())
	}
	if res := edit(func(f url.Values) { f.Set("tax", "2300") }); res.StatusCode != http.StatusSeeOther {
		t.Errorf("an edit keeping code and name was held again: %d", res.StatusCode)
	}

	check := func(investor, code string) string {
		t.Helper()
		rec := promoter.do("GET", "/projects/same-uscc?"+url.Values{"uscc": {code}, "investor_name": {investor}, "except": {itoa(p.ID)}}.Encode(), nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("check: %d", rec.Code)
		}
		return rec.Body.String()
	}
	if got := check(in.InvestorName, goodUSCC); !strings.Contains(got, `id="same-uscc"`) || !strings.Contains(got, `id="uscc-confirm"`) {
		t.Errorf("check under another name: %q", got)
	}
	if got := check(first.InvestorName, goodUSCC); !strings.Contains(got, `id="same-uscc"`) || strings.Contains(got, `id="uscc-confirm"`) {
		t.Errorf("check under the same name (listed, nothing to confirm): %q", got)
	}
	if got := check(in.InvestorName, "91441800000000019X"); strings.TrimSpace(got) != "" {
		t.Errorf("check of an invalid code: %q", got)
	}
	if engine.ValidUSCC("91441800000000019X") {
		t.Fatal("the invalid code is valid")
	}
}
