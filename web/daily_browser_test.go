package web

import (
	"context"
	"net/http"
	"time"

	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"zonevet/engine"
	"zonevet/store/storetest"

	"github.com/chromedp/chromedp"
)

// browserLogin signs user in through the login page (password-<user>, as
// the test world makes them).
func browserLogin(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	err := chromedp.Do(ctx,
		// Signed in already: sign out first. Either way the sign-in form
		// shows next (signing out and an anonymous visit both lead there).
		chromedp.Navigate(base+"/projects"),
		evalVoid(`var f = document.querySelector('form[action="/logout"]'); if (f) { f.submit() }; true`),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "password-"+user),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.mainnav`)),
	)
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
}

// jsText is the text of the first element matching sel, "" if none: it
// does not wait, so a missing element fails the check instead of waiting
// out the test's deadline.
func jsText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var e=document.querySelector(`+"`"+sel+"`"+`);return e?e.innerText:""})()`))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// TestBrowserProjectFormShowsEveryError submits a form with five faults at
// once — no name, no investor, no USCC, a negative tax, a coverage that is
// not a number — and expects all five beside their fields in one round
// trip, the required fields marked (the identity fields and the industry
// code always; the rule set's required figures by the rule set).
func TestBrowserProjectFormShowsEveryError(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			t.Fatalf("%s: %v\n%.600s", what, err, body)
		}
	}
	browserLogin(t, ctx, ts.URL, "promoter")
	run("fill the form with five faults",
		chromedp.Navigate(ts.URL+"/projects/new"),
		chromedp.WaitVisible(chromedp.CSS(`form.projectform`)),
		chromedp.SendKeys(chromedp.CSS(`#f-tax`), "-1"),
		chromedp.SendKeys(chromedp.CSS(`#f-building_coverage`), "abc"),
		chromedp.Click(chromedp.CSS(`form.projectform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#form-errors`)),
	)
	for _, field := range []string{"name", "investor_name", "uscc", "tax", "building_coverage"} {
		if msg := jsText(t, ctx, `.field:has(#f-`+field+`) .fielderr`); strings.TrimSpace(msg) == "" {
			t.Errorf("no message beside %s", field)
		}
	}
	uscc := jsText(t, ctx, `.field:has(#f-uscc) .fielderr`)
	if !strings.Contains(uscc, "必填") {
		t.Errorf("an empty USCC says %q, want 必填", uscc)
	}
	summary := jsText(t, ctx, `#form-errors`)
	if n := strings.Count(summary, "\n"); n < 5 {
		t.Errorf("the summary lists %d lines, want the 5 faults:\n%s", n, summary)
	}
	for _, field := range []string{"name", "investor_name", "uscc", "industry_code"} {
		if jsText(t, ctx, `label[for=f-`+field+`] .req`) == "" {
			t.Errorf("%s is not marked required", field)
		}
	}
	screenshot(t, ctx, "form-every-error")
}

// TestBrowserSubmitDisablesButton: after a click on 保存为草稿 the button is
// disabled and shows progress while the server works (held for a second
// here), a second submit meanwhile is not sent, and one project is
// registered. The page records the button's state in sessionStorage, which
// outlives the navigation the click starts.
func TestBrowserSubmitDisablesButton(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	var posts atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/projects" {
			posts.Add(1)
			time.Sleep(1500 * time.Millisecond)
		}
		w.srv.ServeHTTP(rw, r)
	}))
	defer ts.Close()
	browserLogin(t, ctx, ts.URL, "promoter")
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/projects/new"),
		chromedp.WaitVisible(chromedp.CSS(`form.projectform`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "电子铜箔项目"),
		chromedp.SendKeys(chromedp.CSS(`#f-investor_name`), "清远华科新材料股份有限公司"),
		chromedp.SendKeys(chromedp.CSS(`#f-uscc`), goodUSCC),
		// Clicked from the page (chromedp's Click waits for the navigation);
		// 100 ms later the state is noted and the form submitted again.
		evalVoid(`var b = document.querySelector("form.projectform button[type=submit]"); b.click();
			setTimeout(function () {
				sessionStorage.setItem("busy", b.disabled + " " + b.getAttribute("aria-busy"));
				document.querySelector("form.projectform").requestSubmit();
			}, 100); true`),
		chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("busy") || ""`))
	if err != nil {
		t.Fatal(err)
	}
	if state != "true true" {
		t.Errorf("the button after a click: disabled, aria-busy = %q, want \"true true\"", state)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("%d posts sent, want 1", n)
	}
	_, total, err := w.svc.Projects(w.ctx, w.users["promoter"], engine.ProjectFilter{Limit: 10})
	if err != nil || total != 1 {
		t.Fatalf("%d projects (%v), want 1", total, err)
	}
	screenshot(t, ctx, "form-submitted-once")
}

// TestBrowserDecisionTakesOpinionAndConfirmation: the committee's 批准 asks
// "确认…批准?" first, takes a 审批意见 that the history then shows; a
// reviewer who may not pass a project whose hard rules failed is told why.
func TestBrowserDecisionTakesOpinionAndConfirmation(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			t.Fatalf("%s: %v\n%.600s", what, err, body)
		}
	}
	// A project whose fixed-asset intensity (1 万元 over its land) fails a hard rule.
	in := goodInput(ownPark)
	one := 1.0
	in.Figures.FixedAssetInvestment = &one
	failing, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in)
	if err != nil {
		t.Fatal(err)
	}
	if failing, err = w.svc.Act(w.ctx, w.users["promoter"], failing.ID, engine.Action{Event: engine.EventSubmit, Version: failing.Version}); err != nil {
		t.Fatal(err)
	}
	if failing.Report == nil || failing.Report.Passed() {
		t.Fatal("the project meant to fail screening passed")
	}
	browserLogin(t, ctx, ts.URL, "reviewer")
	run("open the failed project", chromedp.Navigate(ts.URL+"/projects/"+itoa(failing.ID)), chromedp.WaitVisible(chromedp.CSS(`#actions`)))
	if why := jsText(t, ctx, `#actions .whynot`); !strings.Contains(why, "项硬性指标未通过,不能通过初审;可退回修改或提请管委会一事一议") {
		t.Errorf("the reviewer is not told why 通过初审 is missing: %q", why)
	}
	screenshot(t, ctx, "decision-why-not")

	// Approval is a meeting's decision now (its votes carry the opinions);
	// the reviewer's 退回 shows the same confirmation and opinion.
	p := w.project(engine.StateScreening)
	browserLogin(t, ctx, ts.URL, "reviewer")
	run("return with an opinion",
		chromedp.Navigate(ts.URL+"/projects/"+itoa(p.ID)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-event=return]`)),
		evalVoid(`window.confirm = function (m) { sessionStorage.setItem("asked", m); return true }; true`),
		chromedp.Click(chromedp.CSS(`details.reasonform:has(button[data-event=return]) > summary`)),
		chromedp.SendKeys(chromedp.CSS(`form:has(button[data-event=return]) textarea[name=reason]`), "亩均税收测算依据不足,请补充近三年纳税证明。"),
	)
	screenshot(t, ctx, "decision-approve-form")
	run("confirm", chromedp.Click(chromedp.CSS(`button[data-event=return]`)), chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)))
	asked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("asked") || ""`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(asked, "退回") || !strings.Contains(asked, p.Name) {
		t.Errorf("the confirmation asked %q, want it to name 退回 and the project", asked)
	}
	if h := jsText(t, ctx, `#history`); !strings.Contains(h, "亩均税收测算依据不足,请补充近三年纳税证明。") {
		t.Errorf("the history does not show the opinion:\n%s", h)
	}
	screenshot(t, ctx, "decision-approved-history")
}

// TestBrowserDuplicateUSCCWarned: registering a second project under a USCC
// already registered under another investor name is warned about before the
// save — as the promoter leaves the field (htmx), and by the server, which
// holds the save until the promoter confirms — with the investor's other
// project listed; once confirmed, the registration says so and the project
// page lists the other project in the same block.
func TestBrowserDuplicateUSCCWarned(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	first, err := w.svc.CreateProject(w.ctx, w.users["promoter"], goodInput(ownPark)) // 清远华科新材料股份有限公司
	if err != nil {
		t.Fatal(err)
	}
	projects := func() int {
		t.Helper()
		ps, _, err := w.svc.Projects(w.ctx, w.users["promoter"], engine.ProjectFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}
	lists := func(where string) {
		t.Helper()
		same := jsText(t, ctx, `#same-uscc`)
		for _, want := range []string{"#" + itoa(first.ID), first.Name, "清远华科新材料股份有限公司", "投资方名称不同"} {
			if !strings.Contains(same, want) {
				t.Errorf("%s: the other projects list lacks %q:\n%s", where, want, same)
			}
		}
	}
	browserLogin(t, ctx, ts.URL, "promoter")
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/projects/new"),
		chromedp.WaitVisible(chromedp.CSS(`form.projectform`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "二期扩产项目"),
		chromedp.SendKeys(chromedp.CSS(`#f-investor_name`), "华科新材料(清远)有限公司"),
		chromedp.SendKeys(chromedp.CSS(`#f-uscc`), goodUSCC),
		chromedp.Click(chromedp.CSS(`#f-industry_code`)), // leaving the field asks the server
		chromedp.WaitVisible(chromedp.CSS(`form.projectform #same-uscc #uscc-confirm`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	lists("as the USCC is left")
	screenshot(t, ctx, "duplicate-uscc-before-save")
	if n := projects(); n != 1 {
		t.Fatalf("%d projects before the save, want 1", n)
	}

	// The server's check holds a save without the confirmation (a page
	// whose script did not run, or a box left unticked).
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form.projectform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#form-errors`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if n := projects(); n != 1 {
		t.Fatalf("%d projects after an unconfirmed save, want 1", n)
	}
	if e := jsText(t, ctx, `.field:has(#f-uscc) .fielderr`); !strings.Contains(e, "已在其他投资方名称下登记") {
		t.Errorf("beside the USCC: %q, want the other-name warning", e)
	}
	lists("after the held save")
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#f-name').value`)); got != "二期扩产项目" {
		t.Errorf("the held form lost what was typed: name %q", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#uscc-confirm input`)),
		chromedp.Click(chromedp.CSS(`form.projectform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)),
		chromedp.WaitVisible(chromedp.CSS(`#same-uscc`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if flash := jsText(t, ctx, `.flash-ok`); !strings.Contains(flash, "已有 1 个项目登记") {
		t.Errorf("the registration's message %q does not warn of the earlier project", flash)
	}
	lists("on the project page")
	if jsText(t, ctx, `#uscc-confirm`) != "" {
		t.Error("the project page offers the form's confirmation")
	}
	screenshot(t, ctx, "duplicate-uscc")
}

// TestBrowserPeopleByName: a reviewer whose login is reviewer1 and whose
// name is 王评审 appears as 王评审 in the score table and the history of the
// project page, and in the dossier (the login stays in a tooltip).
func TestBrowserPeopleByName(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	wang := &engine.User{Username: "reviewer1", DisplayName: "王评审", PasswordHash: testHash(t, "password-reviewer1"), CreatedAt: w.clock.now()}
	storetest.Account(t, w.ctx, w.db, wang, engine.RoleAssignment{Role: engine.RoleReviewer, Park: ownPark})
	if err := w.svc.ReloadRoles(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.users["reviewer1"] = wang
	p := w.project(engine.StateExpertReview)
	w.scoreAll(p, 0.9, "reviewer1", "reviewer2", "reviewer3") // scores are shown once all are in
	browserLogin(t, ctx, ts.URL, "auditor")
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/projects/"+itoa(p.ID)), chromedp.WaitVisible(chromedp.CSS(`#history`))); err != nil {
		t.Fatal(err)
	}
	for _, sel := range []string{`#scores table`, `#history`} {
		if got := jsText(t, ctx, sel); !strings.Contains(got, "王评审") || strings.Contains(got, "reviewer1") {
			t.Errorf("%s shows %q, want 王评审 and not the login reviewer1", sel, got)
		}
	}
	screenshot(t, ctx, "people-by-name-project")
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/projects/"+itoa(p.ID)+"/dossier"), chromedp.WaitVisible(chromedp.CSS(`main`))); err != nil {
		t.Fatal(err)
	}
	if got := jsText(t, ctx, `main`); !strings.Contains(got, "王评审") || strings.Contains(got, "reviewer1") {
		t.Errorf("the dossier does not name 王评审, or shows the login reviewer1")
	}
	screenshot(t, ctx, "people-by-name-dossier")
}
