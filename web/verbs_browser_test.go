package web

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"zonevet/engine"
)

// TestBrowserVerbs: a reviewer delegates on the delegation page; the
// delegate sees the 代办 form on a project; a reviewer returns a project
// ticking what to fix; after the promoter corrects a figure and resubmits,
// the project page shows the list and the figure's before → after.
func TestBrowserVerbs(t *testing.T) {
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
	in, _ := w.delegationForm("reviewer", 0, 5)
	browserLogin(t, ctx, ts.URL, "reviewer")
	run("delegate on the page",
		chromedp.Navigate(ts.URL+"/delegations"),
		chromedp.WaitVisible(chromedp.CSS(`form[data-delegate="qingyuan"]`)),
		chromedp.SetValue(chromedp.CSS(`form[data-delegate="qingyuan"] select[name=delegate]`), w.userName("committee")),
		chromedp.SetValue(chromedp.CSS(`form[data-delegate="qingyuan"] input[name=ends]`), in.Ends),
		chromedp.SendKeys(chromedp.CSS(`form[data-delegate="qingyuan"] textarea[name=reason]`), "12月赴省科技厅出差"),
		chromedp.Click(chromedp.CSS(`form[data-delegate="qingyuan"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)),
	)
	if got := jsText(t, ctx, `#delegations-qingyuan table`); !strings.Contains(got, "生效中") || !strings.Contains(got, "出差") {
		t.Fatalf("delegation table = %q", got)
	}
	screenshot(t, ctx, "verbs-delegation-page")

	p := w.project(engine.StateScreening)
	browserLogin(t, ctx, ts.URL, "committee")
	run("the delegate's project page", chromedp.Navigate(fmt.Sprintf("%s/projects/%d", ts.URL, p.ID)), chromedp.WaitVisible(chromedp.CSS(`#on-behalf`)))
	if got := jsText(t, ctx, `#on-behalf`); !strings.Contains(got, "代 "+w.userName("reviewer")) {
		t.Fatalf("代办 form = %q", got)
	}
	screenshot(t, ctx, "verbs-on-behalf")

	browserLogin(t, ctx, ts.URL, "reviewer2")
	run("return with a list",
		chromedp.Navigate(fmt.Sprintf("%s/projects/%d", ts.URL, p.ID)),
		evalVoid(`document.querySelectorAll("#actions details").forEach(function (d) { d.open = d.querySelector('[data-event="return"]') != null }); true`),
		chromedp.Click(chromedp.CSS(`#actions input[name=fix][value="figure:land_area"]`)),
		chromedp.Click(chromedp.CSS(`#actions input[name=fix][value="document:energy"]`)),
		chromedp.SendKeys(chromedp.CSS(`#actions form:has([data-event="return"]) textarea[name=reason]`), "用地面积与规划条件不符,请补充节能报告"),
		evalVoid(`window.confirm = function () { return true }; true`),
		chromedp.Click(chromedp.CSS(`#actions [data-event="return"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#return-note`)),
	)
	p, err := w.svc.Project(w.ctx, w.users["promoter"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	in2 := engine.ProjectInput{Park: p.Park, Name: p.Name, InvestorName: p.InvestorName, USCC: p.USCC, Figures: p.Figures}
	area := *p.Figures.LandArea + 12.5
	in2.Figures.LandArea = &area
	if p, err = w.svc.UpdateProject(w.ctx, w.users["promoter"], p.ID, p.Version, in2); err != nil {
		t.Fatal(err)
	}
	if _, err = w.svc.Act(w.ctx, w.users["promoter"], p.ID, engine.Action{Event: engine.EventResubmit, Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	browserLogin(t, ctx, ts.URL, "promoter")
	run("the promoter's view", chromedp.Navigate(fmt.Sprintf("%s/projects/%d", ts.URL, p.ID)), chromedp.WaitVisible(chromedp.CSS(`#return-note table.diff`)))
	got := jsText(t, ctx, `#return-note`)
	for _, want := range []string{"用地面积", "节能", "已重新提交", "→"} {
		if !strings.Contains(got, want) {
			t.Errorf("return note lacks %q: %q", want, got)
		}
	}
	screenshot(t, ctx, "verbs-return-diff")
}
