package web

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"zonevet/engine"
)

// TestBrowserShareAndInbox: a reviewer shares a project with 自然资源局 from
// its page; the bureau's staff member sees the nav's 抄送给我 badge, the
// new share in the list and the notice in the inbox (unread badge), opens
// it from the inbox and reads the project with no action form; afterwards
// both badges are gone. Screenshots of each page.
func TestBrowserShareAndInbox(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	w.bureau("natres", ownPark, "自然资源局")
	p := w.project(engine.StateScreening)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			t.Fatalf("%s: %v\n%.600s", what, err, body)
		}
	}
	projectURL := fmt.Sprintf("%s/projects/%d", ts.URL, p.ID)
	browserLogin(t, ctx, ts.URL, "reviewer")
	run("share on the project page",
		chromedp.Navigate(projectURL),
		chromedp.WaitVisible(chromedp.CSS(`#share-form`)),
		chromedp.Click(chromedp.CSS(`#share-form input[name=department][value="自然资源局"]`)),
		chromedp.SendKeys(chromedp.CSS(`#share-form input[name=note]`), "请核对用地规划条件"),
		chromedp.Click(chromedp.CSS(`#share-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)),
	)
	if got := jsText(t, ctx, `#shares`); !strings.Contains(got, "自然资源局") || !strings.Contains(got, "请核对用地规划条件") {
		t.Fatalf("share card: %q", got)
	}
	screenshot(t, ctx, "share-project-page")

	browserLogin(t, ctx, ts.URL, "natres")
	run("抄送给我", chromedp.Navigate(ts.URL+"/shared"), chromedp.WaitVisible(chromedp.CSS(`#shared-with-me tr.unread`)))
	if jsText(t, ctx, `#shared-badge`) != "1" || jsText(t, ctx, `#unread-badge`) != "1" {
		t.Fatalf("badges: shared %q, inbox %q", jsText(t, ctx, `#shared-badge`), jsText(t, ctx, `#unread-badge`))
	}
	screenshot(t, ctx, "share-mine")
	run("the inbox", chromedp.Navigate(ts.URL+"/inbox"), chromedp.WaitVisible(chromedp.CSS(`table.inbox tr.unread`)))
	if got := jsText(t, ctx, `table.inbox tr.unread`); !strings.Contains(got, "抄送给您") {
		t.Fatalf("inbox row: %q", got)
	}
	screenshot(t, ctx, "inbox")
	run("open from the inbox",
		chromedp.Click(chromedp.CSS(`table.inbox tr.unread button`)),
		chromedp.WaitVisible(chromedp.CSS(`#shares`)),
	)
	if got := jsText(t, ctx, `#actions`); strings.Contains(got, "通过") || jsText(t, ctx, `#share-form`) != "" {
		t.Fatalf("the observer is offered actions: %q", got)
	}
	screenshot(t, ctx, "share-observer-reads")
	run("back to the list", chromedp.Navigate(ts.URL+"/shared"), chromedp.WaitVisible(chromedp.CSS(`#shared-with-me tr.read`)))
	if jsText(t, ctx, `#shared-badge`) != "" || jsText(t, ctx, `#unread-badge`) != "" {
		t.Fatal("badges stay after reading")
	}
}
