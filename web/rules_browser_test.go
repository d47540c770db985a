package web

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"zonevet/engine"
)

// TestBrowserRuleChange walks a rule change as people make it (issue 12):
// the admin uploads a draft raising the investment-intensity floor with a
// change note and generates the what-if; the committee reads the what-if
// page (screenshot rules-whatif.png) and approves; the 规则集 page then
// shows the new version in force and the old one superseded.
func TestBrowserRuleChange(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	for range 3 {
		w.project(engine.StateScreening)
	}
	w.project(engine.StateExpertReview)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	fail := func(what string, err error) {
		t.Helper()
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%s: %v (at %s)\n%.800s", what, err, loc, body)
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			fail(what, err)
		}
	}
	textOf := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail("read "+sel, err)
		}
		return s
	}
	login := func(user string, first bool) {
		t.Helper()
		if !first {
			run("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)))
		}
		run("login "+user,
			chromedp.Navigate(ts.URL+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=username]`), user),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "password-"+user),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`.mainnav`)),
		)
	}
	// The draft: investment intensity ≥ 300 → ≥ 450 万元/亩. goodFigures has
	// 400 万元/亩, so every screened project would now fail that rule.
	draft := filepath.Join(t.TempDir(), "qingyuan-450.yaml")
	src := bytes.Replace(ruleSetFile(t, "draft"), []byte("value: 300 # 国家级园区取 300"), []byte("value: 450 # 对标广佛园"), 1)
	if err := os.WriteFile(draft, src, 0o644); err != nil {
		t.Fatal(err)
	}

	login("admin", true)
	// First the draft's what-if, before proposing anything (screenshot
	// rules-draft-whatif.png): the diff and the replay, nothing stored.
	run("what-if of the draft",
		chromedp.Navigate(ts.URL+"/admin/rules"),
		chromedp.WaitVisible(chromedp.CSS(`#draft-whatif`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#draft-whatif input[type=file]`), []string{draft}),
		chromedp.Click(chromedp.CSS(`#draft-whatif-run`)),
		chromedp.WaitVisible(chromedp.CSS(`#whatif-summary`)),
	)
	if got := textOf("#diff"); !strings.Contains(got, "450") {
		t.Fatalf("the draft's diff: %s", got)
	}
	if got := textOf("#whatif-summary"); !strings.Contains(got, "4") {
		t.Fatalf("the draft's replay: %s", got)
	}
	screenshot(t, ctx, "rules-draft-whatif")
	if cs, err := w.db.RuleSetChanges(w.ctx, ownPark); err != nil || len(cs) != 1 {
		t.Fatalf("the draft's what-if stored a change: %d %v", len(cs), err)
	}
	run("propose the draft",
		chromedp.Navigate(ts.URL+"/admin/rules"),
		chromedp.WaitVisible(chromedp.CSS(`#upload`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#upload input[type=file]`), []string{draft}),
		chromedp.SendKeys(chromedp.CSS(`#upload textarea[name=note]`), "提高固定资产投资强度门槛至 450 万元/亩"),
		chromedp.Click(chromedp.CSS(`#upload button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#whatif-generate`)),
	)
	if got := textOf("#diff"); !strings.Contains(got, "固定资产投资强度 门槛:≥ 300 万元/亩 → ≥ 450 万元/亩") {
		t.Errorf("diff on the proposal page: %q", got)
	}
	changeURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	run("generate the what-if", chromedp.Click(chromedp.CSS(`#whatif-generate`)), chromedp.WaitVisible(chromedp.CSS(`#whatif-summary`)))

	login("committee", false)
	run("open the proposal", chromedp.Navigate(changeURL), chromedp.WaitVisible(chromedp.CSS(`#whatif-summary`)))
	summary := textOf("#whatif-summary")
	// 4 screened projects, all at 400 万元/亩: each passes → fails.
	if !strings.Contains(summary, "4") || !strings.Contains(textOf("#whatif-projects"), "固定资产投资强度") {
		t.Errorf("what-if summary %q", summary)
	}
	screenshot(t, ctx, "rules-whatif")
	run("approve",
		chromedp.SendKeys(chromedp.CSS(`#approve textarea[name=opinion]`), "同意,经管委会审议"),
		chromedp.Click(chromedp.CSS(`#approve-button`)),
		// The proposal page itself has #change-state: wait for the page the
		// approval answers with (no approve form), not the one clicked on.
		chromedp.WaitNotPresent(chromedp.CSS(`#approve-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#change-state`)),
	)
	if got := textOf("#change-state"); got != "执行中" {
		t.Errorf("state after approval %q", got)
	}
	run("the pipeline", chromedp.Navigate(ts.URL+"/admin/rules"), chromedp.WaitVisible(chromedp.CSS(`#pipeline`)))
	if got := textOf("#pipeline"); !strings.Contains(got, "执行中") || !strings.Contains(got, "已被取代") || !strings.Contains(got, "450") {
		t.Errorf("pipeline %q", got)
	}
	screenshot(t, ctx, "rules-pipeline")
}
