package web

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserLogin signs user in through the login page (password-<user>, as
// the test world makes them).
func browserLogin(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
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
// does not wait, so a missing element fails the check instead of the test's
// three minutes.
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
