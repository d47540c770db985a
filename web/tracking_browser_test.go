package web

import (
	"fmt"
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

// TestBrowserRatingDashboard is the annual rating as people do it in the
// browser: the promoter imports the park's annual sheet, the committee runs
// the rating, and the dashboard draws its charts. Screenshots go to
// testdata/output for people to look at.
func TestBrowserRatingDashboard(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	year := lastYear(w)
	// Six firms: a spread of tax and output per mu, one below the 5 万元/亩 floor.
	var rows [][]any
	var first *engine.Project
	for i, x := range []struct {
		tax, output, rd float64
		ht              string
	}{{45, 1300, 5, "是"}, {36, 950, 4, "是"}, {31, 820, 3.2, "是"}, {22, 600, 2.5, "否"}, {12, 420, 1.5, "否"}, {3.5, 260, 0.8, "否"}} {
		p := w.tracked(engine.StateInProduction)
		if first == nil {
			first = p
		}
		land := 50.0
		rev := x.output * land * 0.95
		rows = append(rows, []any{p.USCC, p.Name, rev, x.output * land, x.output * land / 4, x.tax * land, rev * x.rd / 100,
			x.output * land * 0.012, 3 + i, 250 + 20*i, x.ht, "是"})
	}
	sheet := filepath.Join(t.TempDir(), "年度数据.xlsx")
	if err := os.WriteFile(sheet, annualBook(t, rows), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			t.Fatalf("%s: %v\n%.600s", what, err, body)
		}
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
	page := fmt.Sprintf("%s/tracking?park=qingyuan&year=%d", ts.URL, year)

	login("promoter", true)
	// A slip in the tracking form's figures (value added above output)
	// comes back beside its field, with the other figures as typed.
	typed := [][2]string{{"revenue", "12,000"}, {"output", "9000"}, {"value_added", "9500"}, {"tax", "800"}, {"rd_expense", "500"},
		{"energy_use", "1200"}, {"emissions", "3"}, {"employees", "150"}}
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(fmt.Sprintf("%s/projects/%d/tracking", ts.URL, first.ID)),
		evalVoid(`document.querySelector("form.figuresform").closest("details").open = true; true`)}
	for _, f := range typed {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(`form.figuresform [name=`+f[0]+`]`), f[1]))
	}
	run("send figures with a slip", append(steps, chromedp.Click(chromedp.CSS(`form.figuresform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#e-figures-value_added`)))...)
	for _, f := range typed {
		if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("form.figuresform [name=`+f[0]+`]").value`)); v != f[1] {
			t.Errorf("refused figures: %s reads %q, typed %q", f[0], v, f[1])
		}
	}
	screenshot(t, ctx, "tracking-figures-refused")
	run("import the annual sheet",
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(`form.importform`)),
		chromedp.SetUploadFiles(chromedp.CSS(`form.importform input[type=file]`), []string{sheet}),
		chromedp.Click(chromedp.CSS(`form.importform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#import-result`)),
	)
	result, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#import-result`)))
	if !strings.Contains(result, "已导入 6 行") {
		t.Fatalf("import result %q", result)
	}

	login("committee", false)
	run("run the rating",
		chromedp.Navigate(page),
		chromedp.Click(chromedp.CSS(`button[data-run-rating]`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify`)),
	)
	screenshot(t, ctx, "rating-run")
	counts, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.counts`)))
	if !strings.Contains(strings.Join(strings.Fields(counts), " "), "1 D") {
		t.Errorf("band counts %q, want one D (the firm below the floor)", counts)
	}

	run("open the dashboard",
		chromedp.Navigate(ts.URL+"/dashboard?park=qingyuan&year="+strconv.Itoa(year)),
		chromedp.WaitVisible(chromedp.CSS(`[data-chart=bands] canvas`)),
		chromedp.Poll[chromedp.Void](`document.documentElement.dataset.chartsReady === "1"`, chromedp.WithPollingTimeout(time.Minute)),
	)
	targets, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#targets`)))
	if !strings.Contains(targets, "50 %") { // 3 of 6 above-scale firms are high-tech
		t.Errorf("targets %q", targets)
	}
	screenshot(t, ctx, "dashboard")

	// The zone view of someone who reads both parks: the zone-wide output
	// target on a row of its own (all parks together), then each park's.
	w.user("zone-committee", engine.RoleAssignment{Role: engine.RoleCommittee, Park: ownPark},
		engine.RoleAssignment{Role: engine.RoleCommittee, Park: otherPark})
	login("zone-committee", false)
	run("open the zone dashboard",
		chromedp.Navigate(ts.URL+"/dashboard?year="+strconv.Itoa(year)),
		chromedp.WaitVisible(chromedp.CSS(`#targets tr[data-scope=zone]`)),
		chromedp.Poll[chromedp.Void](`document.documentElement.dataset.chartsReady === "1"`, chromedp.WithPollingTimeout(time.Minute)),
	)
	zone, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#targets tr[data-scope=zone]`)))
	if !strings.Contains(zone, "全区(各园区合计)") || !strings.Contains(zone, "> 1,000 亿元") {
		t.Errorf("zone target row %q", zone)
	}
	screenshot(t, ctx, "dashboard-zone")
}
