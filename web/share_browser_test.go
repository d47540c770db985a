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
	screenshot(t, ctx, "share-inbox")
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

	// 撤销抄送: the sharer revokes on the dossier; the bureau reads no more.
	browserLogin(t, ctx, ts.URL, "reviewer")
	run("revoke the share",
		chromedp.Navigate(projectURL),
		chromedp.WaitVisible(chromedp.CSS(`#shares form.revoke-share button`)),
		chromedp.Click(chromedp.CSS(`#shares form.revoke-share button`)),
		chromedp.WaitVisible(chromedp.CSS(`#shares li.revoked`)),
	)
	if got := jsText(t, ctx, `#shares li.revoked`); !strings.Contains(got, "已撤销") || !strings.Contains(got, "撤销人") {
		t.Fatalf("revoked share: %q", got)
	}
	screenshot(t, ctx, "share-revoked")
	browserLogin(t, ctx, ts.URL, "natres")
	run("the former sharee", chromedp.Navigate(projectURL), chromedp.WaitVisible(chromedp.CSS(`main`)))
	if got := jsText(t, ctx, `main`); !strings.Contains(got, "抄送已被撤销") {
		t.Fatalf("the former sharee's page: %q", got)
	}
	screenshot(t, ctx, "share-revoked-reader")

	// The admin moves the bureau's reader to another department.
	browserLogin(t, ctx, ts.URL, "admin")
	run("move department",
		chromedp.Navigate(fmt.Sprintf("%s/admin/users/%d", ts.URL, w.users["natres"].ID)),
		chromedp.WaitVisible(chromedp.CSS(`#department input[name=department]`)),
		chromedp.SetValue(chromedp.CSS(`#department input[name=department]`), "生态环境局"),
		chromedp.Click(chromedp.CSS(`#department button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)),
	)
	if got := jsText(t, ctx, `#department`); !strings.Contains(got, "生态环境局") {
		t.Fatalf("department card: %q", got)
	}
	screenshot(t, ctx, "account-department")
}
