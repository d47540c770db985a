package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"zonevet/engine"
)

// expertRoutes are the expert pool's rows of the permission matrix: admins,
// committee members and auditors read a park's pool (their own park's when
// they name another), only its admin changes it. The change is tried on the
// other park, so the matrix's own-park projects keep review open to all.
func (w *world) expertRoutes() []route {
	return []route{
		{"GET", "/admin/experts", "", get("/admin/experts?park=" + ownPark),
			"anon=303 own=403 admin=200 committee=200 auditor=200 other=403 admin@other=200 committee@other=200 auditor@other=200"},
		{"POST", "/admin/experts", "", post("/admin/experts", url.Values{"park": {otherPark}, "username": {"reviewer-other"},
			"name": {"林晓峰"}, "fields": {"C39"}, "active": {"1"}}), "anon=401 own=403 other=403 admin@other=303"},
	}
}

// poolOfThree puts reviewer, reviewer2 and reviewer3 in qingyuan's pool, so
// every project entering expert review draws exactly them.
func (w *world) poolOfThree() {
	w.t.Helper()
	for i, name := range []string{"reviewer", "reviewer2", "reviewer3"} {
		in := engine.ExpertInput{Park: ownPark, Username: name, Name: []string{"王建国", "赵丽华", "钱志强"}[i], Fields: []string{"C39"},
			EmployerName: "华南理工大学", LoadLimit: 5, Active: true}
		if _, err := w.svc.SaveExpert(w.ctx, w.users["admin"], in); err != nil {
			w.t.Fatal(err)
		}
	}
}

// TestExpertPoolForm: a bad USCC is refused naming the field in Chinese,
// the form keeps what was typed and nothing is saved; a good one is saved
// and listed, with its entry in the decision log.
func TestExpertPoolForm(t *testing.T) {
	w := mustWorld(t)
	admin := w.login("admin")
	form := url.Values{"park": {ownPark}, "username": {"reviewer2"}, "name": {"赵丽华"}, "fields": {"C39, C38"},
		"employer_name": {"广东工业大学"}, "employer_uscc": {"91440000ABC"}, "relations": {""}, "load_limit": {"3"}, "active": {"1"}}
	rec := admin.do("POST", "/admin/experts", form)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("bad USCC: %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	errs := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "expert-error" })
	if len(errs) != 1 || !strings.Contains(text(errs[0]), "工作单位统一社会信用代码") {
		t.Fatalf("refusal does not name the field: %v", errs)
	}
	if !strings.Contains(rec.Body.String(), `value="赵丽华"`) {
		t.Fatal("the refused form lost the name typed")
	}
	if xs, _ := w.db.Experts(w.ctx, ownPark); len(xs) != 0 {
		t.Fatalf("refused expert saved: %v", xs)
	}
	form.Set("employer_uscc", "")
	if rec := admin.do("POST", "/admin/experts", form); rec.Code != http.StatusSeeOther {
		t.Fatalf("good expert: %d %s", rec.Code, rec.Body.String())
	}
	rec = w.login("auditor").do("GET", "/admin/experts?park="+ownPark, nil)
	rows := findAll(parseHTML(t, rec.Body.String()), func(n *html.Node) bool { return n.Data == "tr" && hasAttr(n, "data-expert") })
	if len(rows) != 1 || !strings.Contains(text(rows[0]), "赵丽华") || !strings.Contains(text(rows[0]), "C39, C38") {
		t.Fatalf("pool rows for the auditor: %d", len(rows))
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventExpert}})
	if err != nil || len(es) != 1 || es[0].Actor != "admin" {
		t.Fatalf("expert entries %v, %v", es, err)
	}
}

// TestExpertPoolEdit: an admin opens an expert from the pool into the form
// (filled as stored, with its version), deactivates them and narrows their
// fields; the change is logged; a second save from the same stale form is a
// conflict that keeps what was typed; an auditor gets no edit link.
func TestExpertPoolEdit(t *testing.T) {
	w := mustWorld(t)
	w.poolOfThree()
	xs, _ := w.db.Experts(w.ctx, ownPark)
	x := xs[0]
	admin := w.login("admin")
	doc := parseHTML(t, admin.do("GET", fmt.Sprintf("/admin/experts?park=%s&edit=%d", ownPark, x.ID), nil).Body.String())
	values := map[string]string{}
	checked := false
	for _, in := range findAll(byID(doc, "expert-form"), func(n *html.Node) bool { return n.Data == "input" || n.Data == "textarea" }) {
		values[attr(in, "name")] = attr(in, "value")
		if attr(in, "name") == "active" {
			checked = hasAttr(in, "checked")
		}
	}
	if values["id"] != itoa(x.ID) || values["version"] != fmt.Sprint(x.Version) || values["name"] != x.Name || values["fields"] != "C39" || !checked {
		t.Fatalf("the edit form is not the expert as stored: %v, active %v", values, checked)
	}
	form := url.Values{"park": {ownPark}, "id": {values["id"]}, "version": {values["version"]}, "username": {x.Username}, "name": {x.Name},
		"fields": {"C3985"}, "employer_name": {x.EmployerName}, "load_limit": {"5"}}
	if rec := admin.do("POST", "/admin/experts", form); rec.Code != http.StatusSeeOther {
		t.Fatalf("deactivating: %d %s", rec.Code, rec.Body.String())
	}
	now, _ := w.db.Experts(w.ctx, ownPark)
	for _, y := range now {
		if y.ID == x.ID && (y.Active || !slices.Equal(y.Fields, []string{"C3985"}) || y.Version == x.Version) {
			t.Errorf("after the change: %+v", y)
		}
	}
	form.Set("name", "王建国(重复提交)")
	rec := admin.do("POST", "/admin/experts", form)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "王建国(重复提交)") {
		t.Errorf("a save from a stale form: %d", rec.Code)
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventExpert}})
	if len(es) != 4 || !strings.Contains(es[3].Payload, `"active":false`) {
		t.Errorf("expert entries: %d", len(es))
	}
	doc = parseHTML(t, w.login("auditor").do("GET", "/admin/experts?park="+ownPark, nil).Body.String())
	if len(findAll(doc, func(n *html.Node) bool { return hasAttr(n, "data-edit") })) != 0 {
		t.Error("an auditor is offered to edit experts")
	}
	if rec := admin.do("GET", "/admin/experts?park="+ownPark+"&edit=999999", nil); rec.Code != http.StatusNotFound {
		t.Errorf("editing no such expert: %d", rec.Code)
	}
}

// TestBrowserExpertDraw: the pool page as the admin sees it, and a project
// in expert review: its promoter sees only that experts were drawn (sealed),
// the auditor sees who and the draw entry; screenshots of both.
func TestBrowserExpertDraw(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	w.poolOfThree()
	p := w.project(engine.StateExpertReview)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	first := true
	seen := func(who, path, sel string) string {
		t.Helper()
		var steps []chromedp.Action[chromedp.Void]
		if first {
			steps = append(steps, chromedp.Navigate(ts.URL+"/login"))
		} else {
			steps = append(steps, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
		}
		first = false
		steps = append(steps, chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=username]`), who),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "password-"+who),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`.mainnav`)),
			chromedp.Navigate(ts.URL+path), chromedp.WaitVisible(chromedp.CSS(sel)))
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			t.Fatalf("%s %s: %v\n%.600s", who, path, err, body)
		}
		txt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s %s: %v", who, path, err)
		}
		return txt
	}
	pool := seen("admin", "/admin/experts", "#expert-pool")
	if !strings.Contains(pool, "王建国") || !strings.Contains(pool, "钱志强") {
		t.Fatalf("pool page: %q", pool)
	}
	screenshot(t, ctx, "experts-pool")
	sealed := seen("promoter", "/projects/"+itoa(p.ID), "#expert-draw")
	if strings.Contains(sealed, "王建国") || !strings.Contains(sealed, "3") {
		t.Fatalf("promoter sees %q", sealed)
	}
	open := seen("auditor", "/projects/"+itoa(p.ID), "#expert-draw")
	for _, name := range []string{"王建国", "赵丽华", "钱志强"} {
		if !strings.Contains(open, name) {
			t.Fatalf("auditor's draw panel lacks %s: %q", name, open)
		}
	}
	screenshot(t, ctx, "experts-draw-panel")
}
