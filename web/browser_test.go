package web

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zonevet/engine"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for t. Without Chromium the test is
// skipped on a developer's machine and fails in CI, where .ci/run installs it.
// Browser tests run in parallel (each its own world, server and Chromium):
// a page walk waits on the browser as much as it computes, so two of them
// keep both cores busy. Their deadline is the test binary's (-timeout), less
// a minute to report where it stuck: a walk on a busy machine is slow, not
// hung.
func browser(t *testing.T) context.Context {
	t.Helper()
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("browser test skipped: %s not found (install Debian's chromium; in CI this test must run)", chromiumPath)
		}
		t.Fatalf("CI is set but %s is missing: %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	deadline := time.Now().Add(10 * time.Minute) // go test -timeout 0
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-time.Minute)
	}
	ctx, cancelT := context.WithDeadline(ctx, deadline)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shots is where the screenshots go (gitignored), for people to look at.
func shots(t *testing.T) string {
	dir := filepath.Join("testdata", "output")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the whole page as name.png, for people to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(shots(t), name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// walkShot saves a screenshot of a page a walk over many pages checked:
// always when its check failed (failed: there is something to look at),
// else only with ZONEVET_SCREENSHOTS=all. A full-page shot costs Chromium
// about half a second of CPU to lay out and paint; taken of every page of
// every walk they were a third of the browser tests' time.
func walkShot(t *testing.T, ctx context.Context, name string, failed bool) {
	t.Helper()
	if failed || os.Getenv("ZONEVET_SCREENSHOTS") == "all" {
		screenshot(t, ctx, name)
	}
}

// TestBrowserVettingFlow is the whole vetting of one project as people do it
// in the browser: the promoter registers and submits it, a reviewer passes
// screening, three reviewers score it, the committee approves it; the page
// then shows the approved state and the history of every step.
func TestBrowserVettingFlow(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	fail := func(what string, err error) {
		t.Helper()
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%s: %v (at %s)\n%.600s", what, err, loc, body)
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
	signedIn := false
	login := func(user string) {
		t.Helper()
		if signedIn {
			run("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)))
		}
		signedIn = true
		pw := "password-" + user
		run("login "+user,
			chromedp.Navigate(ts.URL+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=username]`), user),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`.mainnav`)),
		)
	}

	// The promoter registers the project through the form and submits it.
	login("promoter")
	var usccMsg string
	run("fill the project form",
		chromedp.Navigate(ts.URL+"/projects/new"),
		chromedp.WaitVisible(chromedp.CSS(`form.projectform`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "年产 2 万吨高端电子铜箔项目"),
		chromedp.SendKeys(chromedp.CSS(`#f-investor_name`), "清远华科新材料股份有限公司"),
		chromedp.SendKeys(chromedp.CSS(`#f-uscc`), strings.ToLower(goodUSCC[:17])+"X"),
	)
	usccMsg = textOf(`[data-uscc-msg]`)
	if !strings.Contains(usccMsg, "✗") {
		t.Errorf("a wrong check character shows %q, want the ✗ message", usccMsg)
	}
	run("fix the USCC",
		evalVoid(`document.querySelector("#f-uscc").value = ""; true`),
		chromedp.SendKeys(chromedp.CSS(`#f-uscc`), goodUSCC),
	)
	usccMsg = textOf(`[data-uscc-msg]`)
	if !strings.Contains(usccMsg, "✓") {
		t.Errorf("a valid USCC shows %q, want the ✓ message", usccMsg)
	}
	for k, v := range formOf(goodInput(ownPark)) {
		if k == "park" || k == "name" || k == "investor_name" || k == "uscc" || v[0] == "on" {
			continue
		}
		if v[0] == "yes" || v[0] == "no" { // a declaration: answered explicitly, 是 or 否
			run("answer "+k, chromedp.Click(chromedp.CSS(`input[name=`+k+`][value=`+v[0]+`]`)))
			continue
		}
		run("type "+k, chromedp.SendKeys(chromedp.CSS(`#f-`+k), v[0]))
	}
	run("save the draft",
		chromedp.Click(chromedp.CSS(`form.projectform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-event=submit]`)),
	)
	projectURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		fail("location", err)
	}
	run("submit", chromedp.Click(chromedp.CSS(`button[data-event=submit]`)), chromedp.WaitVisible(chromedp.CSS(`#report table`)))

	// A reviewer passes screening; three reviewers score.
	login("reviewer")
	run("pass screening", chromedp.Navigate(projectURL), chromedp.Click(chromedp.CSS(`button[data-event=pass]`)), chromedp.WaitVisible(chromedp.CSS(`form[data-scoresheet]`)))
	for i, r := range []string{"reviewer", "reviewer2", "reviewer3"} {
		if i > 0 {
			login(r)
		}
		run("open scoring form "+r,
			chromedp.Navigate(projectURL),
			chromedp.WaitVisible(chromedp.CSS(`form[data-scoresheet]`)),
			evalVoid(`document.querySelectorAll('form[data-scoresheet] input[data-max]').forEach(function(i){i.value=String(Math.round(i.dataset.max*0.85*2)/2); i.dispatchEvent(new Event('input'))}); true`),
			chromedp.SendKeys(chromedp.CSS(`form[data-scoresheet] textarea[name=comment]`), "产业链契合度高,研发投入充足。"),
		)
		if i == 1 {
			run("scroll to scoring", chromedp.ScrollIntoView(chromedp.CSS(`#scoring`)))
			screenshot(t, ctx, "scoring-form")
		}
		run("submit scores "+r, chromedp.Click(chromedp.CSS(`form[data-scoresheet] button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)))
	}

	// The committee sees it on its workbench and decides it in a meeting
	// (issue 14): the park's three members present, two in favour, one
	// against with its reasons; the minutes record the dissent, and the
	// decision files them with the project.
	for _, n := range []string{"committee2", "committee3"} {
		w.user(n, engine.RoleAssignment{Role: engine.RoleCommittee, Park: ownPark})
	}
	login("committee")
	run("workbench", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`.worklist`)))
	screenshot(t, ctx, "workbench")
	run("to the meetings page", chromedp.Navigate(projectURL), chromedp.Click(chromedp.CSS(`a[data-event=meeting]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-open-meeting=qingyuan]`)))
	run("open a meeting",
		chromedp.SendKeys(chromedp.CSS(`#open-qingyuan input[name=number]`), "清高管纪〔2026〕12号"),
		chromedp.Click(chromedp.CSS(`#open-qingyuan input[value=committee2]`)),
		chromedp.Click(chromedp.CSS(`#open-qingyuan input[value=committee3]`)),
	)
	screenshot(t, ctx, "meeting-agenda")
	run("open", chromedp.Click(chromedp.CSS(`button[data-open-meeting=qingyuan]`)), chromedp.WaitVisible(chromedp.CSS(`form.ballot`)))
	meetingURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		fail("meeting url", err)
	}
	meetingURL, _, _ = strings.Cut(meetingURL, "#") // a fragment would make the later visits same-page
	run("vote",
		// The opening's own flash must not pass for the vote's answer.
		evalVoid(`document.querySelectorAll(".flash-ok").forEach(e => e.remove()); true`),
		chromedp.Click(chromedp.CSS(`form.ballot input[value=agree]`)),
		chromedp.SendKeys(chromedp.CSS(`form.ballot textarea[name=opinion]`), "符合园区主导产业方向,同意立项。"),
		chromedp.Click(chromedp.CSS(`form.ballot button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)))
	mid, _ := strconv.ParseInt(meetingURL[strings.LastIndex(meetingURL, "/")+1:], 10, 64)
	pid, _ := strconv.ParseInt(projectURL[strings.LastIndex(projectURL, "/")+1:], 10, 64)
	for n, in := range map[string]engine.VoteInput{"committee2": {Choice: engine.VoteAgree},
		"committee3": {Choice: engine.VoteDisagree, Opinion: "亩均税收承诺依赖二期达产,建议写入协议后再批准。"}} {
		if _, err := w.svc.CastVote(w.ctx, w.users[n], mid, pid, in); err != nil {
			t.Fatal(err)
		}
	}
	run("the votes", chromedp.Navigate(meetingURL), chromedp.WaitVisible(chromedp.CSS(`button[data-decide]`)))
	if tally := textOf(`.tally`); !strings.Contains(tally, "同意 2 票,不同意 1 票") {
		t.Errorf("tally %q, want 2 in favour, 1 against", tally)
	}
	screenshot(t, ctx, "meeting-votes")
	run("the minutes", chromedp.Navigate(meetingURL+"/minutes/"+strconv.FormatInt(pid, 10)), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	if minutes := textOf(`body`); !strings.Contains(minutes, "不同意见") || !strings.Contains(minutes, "建议写入协议后再批准") || !strings.Contains(minutes, "会议决定:批准") {
		t.Errorf("minutes lack the dissent or the decision:\n%s", minutes)
	}
	screenshot(t, ctx, "meeting-minutes")
	run("decide", chromedp.Navigate(meetingURL), chromedp.Click(chromedp.CSS(`button[data-decide]`)), chromedp.WaitVisible(chromedp.CSS(`.flash-ok`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-outcome=approve] a[data-minutes]`)))
	screenshot(t, ctx, "meeting-decided")
	run("back to the project", chromedp.Navigate(projectURL), chromedp.WaitVisible(chromedp.CSS(`#history`)))
	badge, history := textOf(`.pagehead .badge`), textOf(`#history`)
	if badge != "已批准" {
		t.Errorf("state badge %q, want 已批准", badge)
	}
	for _, step := range []string{"登记项目", "提交", "通过初审", "评分", "推荐至管委会", "表决", "批准"} {
		if !strings.Contains(history, step) {
			t.Errorf("history lacks %q:\n%s", step, history)
		}
	}
	screenshot(t, ctx, "project-page")
}

// evalVoid runs a script for its effect.
func evalVoid(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](js)(ctx, t)
		return chromedp.Void{}, err
	}
}
