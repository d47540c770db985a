package web

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"zonevet/engine"
)

// latinToken is a run of letters, digits and joiners in visible text; one
// with a letter and no digit is a word (codes such as C3985 and hashes carry
// digits and are data, not wording).
var latinToken = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9_\-]*`)

// urlPath is a site path shown as data ("GET /audit → 403").
var urlPath = regexp.MustCompile(`(^|\s)/[^\s]*`)

// chineseAllowlist are the Latin words a Chinese page may show: the product's
// name, the other language's name on the switch, standards, units and file
// formats.
var chineseAllowlist = map[string]bool{
	"zonevet": true, "English": true,
	"GB": true, "T": true, "API": true, "CSV": true, "Excel": true, "XLSX": true, "xlsx": true, "JSON": true, "Lines": true, "JSONL": true,
	"YAML": true, "PDF": true, "JPEG": true, "PNG": true, "docx": true, "html": true, "HTML": true, "KB": true, "MB": true, "kWh": true, "ID": true,
	"A": true, "B": true, "C": true, "D": true, // rating bands, GB/T 4754 sections
	"m": true, "GET": true, "POST": true, // m², and the HTTP method of a refused request in the log
}

// chineseLeaks lists the Latin words outside the allowlist (and the names in
// names) in text.
func chineseLeaks(text string, names map[string]bool) []string {
	text = urlPath.ReplaceAllString(text, " ") // a refused request's path in the log is data
	seen := map[string]bool{}
	for _, tok := range latinToken.FindAllString(text, -1) {
		if strings.ContainsAny(tok, "0123456789") || chineseAllowlist[tok] || names[tok] {
			continue
		}
		seen[tok] = true
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// TestBrowserChineseOnly walks the main pages of every role in the Chinese
// UI as a browser shows them and finds no English word or raw code in the
// visible text (the page's innerText: no scripts, no hidden elements), bar
// the allowlist and the people's and projects' own names; a page with a leak
// is saved as a screenshot (zh-<role>-<n>.png), and so is every page checked
// with ZONEVET_SCREENSHOTS=all.
func TestBrowserChineseOnly(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	names := map[string]bool{}
	for n, u := range w.users { // the test world's people are named by their logins
		names[n], names[u.Username], names[u.DisplayName] = true, true, true
	}
	p := w.project(engine.StateScreening)
	d := w.project(engine.StateDraft)
	tr := w.tracked(engine.StateInProduction)
	// A calendar proposal making the next working day a day off: the
	// committee's preview lists the screening deadline it moves.
	cal := w.proposeCalendar(bytes.Replace(engine.DefaultCalendarSource(), []byte("      - 2025-01-01 # 元旦\n"),
		[]byte("      - 2025-01-01 # 元旦\n      - "+w.svc.Today().AddDate(0, 0, 1).Format(time.DateOnly)+"\n"), 1))
	sub, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventSubmit}})
	if err != nil || len(sub) != 1 {
		t.Fatalf("submit entry %v %v", sub, err)
	}
	pages := []struct{ who, path string }{
		{"promoter", "/"}, {"promoter", "/projects"}, {"promoter", "/projects/new"},
		{"promoter", fmt.Sprintf("/projects/%d", p.ID)}, {"promoter", fmt.Sprintf("/projects/%d", d.ID)},
		{"promoter", fmt.Sprintf("/projects/%d/tracking", tr.ID)}, {"promoter", "/audit"}, {"promoter", "/no-such-page"},
		{"reviewer", "/"}, {"reviewer", fmt.Sprintf("/projects/%d", p.ID)},
		{"committee", "/"}, {"committee", "/dashboard"}, {"committee", "/tracking"}, {"committee", fmt.Sprintf("/projects/%d", tr.ID)},
		{"committee", "/admin/calendar"}, {"committee", fmt.Sprintf("/admin/calendar/changes/%d", cal.ID)},
		{"auditor", "/audit"}, {"auditor", "/audit/stats"}, {"auditor", "/audit/proof"}, {"auditor", fmt.Sprintf("/audit/entries/%d", sub[0].Seq)}, {"auditor", "/"}, {"auditor", fmt.Sprintf("/projects/%d/dossier", p.ID)},
		{"admin", "/admin/users"}, {"admin", "/admin/rules"},
	}
	current := ""
	for i, pg := range pages {
		if pg.who != current {
			if current != "" {
				if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
					chromedp.WaitVisible(chromedp.CSS(`input[name=username]`))); err != nil {
					t.Fatalf("sign out %s: %v", current, err)
				}
			}
			current = pg.who
			u := w.users[pg.who]
			if err := chromedp.Do(ctx,
				chromedp.Navigate(ts.URL+"/login"),
				chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
				chromedp.SendKeys(chromedp.CSS(`input[name=username]`), u.Username),
				chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "password-"+u.Username),
				chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`.mainnav`)),
			); err != nil {
				t.Fatalf("login %s: %v", pg.who, err)
			}
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+pg.path), chromedp.WaitReady(chromedp.CSS(`body`))); err != nil {
			t.Fatalf("%s %s: %v", pg.who, pg.path, err)
		}
		visible, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			// A command or a file's text in <code> is data, not wording.
			const code = [...document.querySelectorAll("code, kbd, pre")].filter(e => e.style.visibility !== "hidden");
			code.forEach(e => e.style.visibility = "hidden");
			const text = document.body.innerText.replace(/\s+/g, " ");
			code.forEach(e => e.style.visibility = "");
			return text;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		leaks := chineseLeaks(visible, names)
		walkShot(t, ctx, fmt.Sprintf("zh-%s-%02d", pg.who, i), len(leaks) > 0)
		if len(leaks) > 0 {
			t.Errorf("%s %s shows %q", pg.who, pg.path, leaks)
		}
	}
}

// TestChineseWording pins the leaks of raw codes and English the Chinese UI
// had (issue 15, "Layout and wording"), each on the page where it showed.
func TestChineseWording(t *testing.T) {
	w := mustWorld(t)
	promoter := w.login("promoter")
	visible := func(t *testing.T, body string) string { t.Helper(); return text(parseHTML(t, body)) }

	t.Run("DocumentKindInHistory", func(t *testing.T) {
		p := w.project(engine.StateDraft)
		if rec := promoter.do("POST", fmt.Sprintf("/projects/%d/documents", p.ID), w.multipart("feasibility", "可研报告.pdf", pdfBytes())); rec.Code != 303 {
			t.Fatalf("upload: %d", rec.Code)
		}
		got := visible(t, promoter.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil).Body.String())
		if !strings.Contains(got, "可行性研究报告:可研报告.pdf") || strings.Contains(got, "feasibility") {
			t.Errorf("history does not name the kind in Chinese:\n%s", got)
		}
	})
	t.Run("YesNoCheck", func(t *testing.T) {
		in := goodInput(ownPark)
		in.Figures.BadCredit = bp(true) // the veto 严重失信 answered 是
		p, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in)
		if err != nil {
			t.Fatal(err)
		}
		if p, err = w.svc.Act(w.ctx, w.users["promoter"], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version}); err != nil {
			t.Fatal(err)
		}
		doc := parseHTML(t, promoter.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil).Body.String())
		var row string
		for _, tr := range findAll(doc, func(n *html.Node) bool { return n.Data == "tr" }) {
			if s := text(tr); strings.Contains(s, "失信") {
				row = s
			}
		}
		if !strings.Contains(row, "是") || !strings.Contains(row, "否") || strings.Contains(row, "= 0") {
			t.Errorf("credit veto row %q, want actual 是 against 否", row)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		got := visible(t, promoter.do("GET", "/no-such-page", nil).Body.String())
		if !strings.Contains(got, "页面不存在") || strings.Contains(got, "Not Found") {
			t.Errorf("404 page: %s", got)
		}
	})
	t.Run("DraftShowsNoRound", func(t *testing.T) {
		p := w.project(engine.StateDraft)
		if got := visible(t, promoter.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil).Body.String()); strings.Contains(got, "第 0 轮") {
			t.Error("a draft shows round 0")
		}
	})
	t.Run("USCCNamedOnce", func(t *testing.T) {
		in := goodInput(ownPark)
		in.USCC = "91440300708461136X" // check character wrong (GB 32100: T)
		rec := promoter.do("POST", "/projects", formOf(in))
		got := visible(t, rec.Body.String())
		if !strings.Contains(got, "统一社会信用代码“91440300708461136X”无效") || strings.Contains(got, "统一社会信用代码: 统一社会信用代码") {
			t.Errorf("status %d, USCC error:\n%s", rec.Code, got)
		}
	})
	t.Run("RefusalNamesPark", func(t *testing.T) {
		p := w.project(engine.StateScreening)
		_, err := w.svc.Act(w.ctx, w.users["reviewer@other"], p.ID, engine.Action{Event: engine.EventPass, Version: p.Version})
		if got := engine.ErrorMessage(err, langZH); !strings.Contains(got, "清远高新区") || strings.Contains(got, ownPark) {
			t.Errorf("refusal %q, want the park's name", got)
		}
	})
}
