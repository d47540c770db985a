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

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"zonevet/engine"
)

// setDate types a date into a date input (its text entry is the browser
// locale's, so the value is set as a person's picker would set it).
func setDate(sel, date string) chromedp.Action[chromedp.Void] {
	return evalVoid(`(function(){var e=document.querySelector('` + sel + `');e.value='` + date + `';e.dispatchEvent(new Event('input',{bubbles:true}));return true})()`)
}

// TestBrowserStartConstructionOneStep: the project page's 开工 asks for the
// 开工 date; a date before the land delivery is refused with the engine's
// message beside the date field (the form open, the date kept), and a good
// date moves the project and records the milestone on that date in one
// step, one log entry.
func TestBrowserStartConstructionOneStep(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	p := w.tracked(engine.StateSigned)
	today := w.svc.Today()
	ag, err := w.svc.AgreementDefaults(w.ctx, w.users["promoter"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	ag.SignedOn, ag.LandDeliveredOn = today.AddDate(0, 0, -60), today.AddDate(0, 0, -30)
	ag.StartBy, ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if _, err := w.svc.SaveAgreement(w.ctx, w.users["promoter"], p.ID, *ag); err != nil {
		t.Fatal(err)
	}
	tooEarly, good := today.AddDate(0, 0, -45).Format(time.DateOnly), today.AddDate(0, 0, -20).Format(time.DateOnly)
	browserLogin(t, ctx, ts.URL, "promoter")
	start := func(date string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(ts.URL+"/projects/"+itoa(p.ID)),
			chromedp.WaitVisible(chromedp.CSS(`button[data-event=start_construction]`)),
			evalVoid(`window.confirm = function () { return true }; true`),
			evalVoid(`document.querySelector('details.reasonform:has(button[data-event=start_construction])').open = true; true`),
			setDate(`#act-done_on`, date),
			chromedp.Click(chromedp.CSS(`button[data-event=start_construction]`)),
			chromedp.WaitVisible(chromedp.CSS(`.flash, #action-error`)),
		)
		if err != nil {
			t.Fatalf("开工 on %s: %v", date, err)
		}
	}
	start(tooEarly)
	beside := jsText(t, ctx, `#e-act-done_on`)
	if !strings.Contains(beside, "早于交地日期 "+ag.LandDeliveredOn.Format(time.DateOnly)) || strings.Contains(beside, "done_on") {
		t.Errorf("beside the 开工 date: %q, want the land-delivery refusal", beside)
	}
	if kept, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#act-done_on').value`)); kept != tooEarly {
		t.Errorf("the refused date was not kept in the field: %q", kept)
	}
	if top := jsText(t, ctx, `#action-error`); strings.Contains(top, "done_on") {
		t.Errorf("the refusal names the raw field: %q", top)
	}
	screenshot(t, ctx, "start-construction-refused")
	if got, _ := w.svc.Project(w.ctx, w.users["promoter"], p.ID); got.State != engine.StateSigned {
		t.Fatalf("after the refusal the project is %s", got.State)
	}
	before := len(w.entries())

	start(good)
	if flash := jsText(t, ctx, `.flash-ok`); !strings.Contains(flash, "在建") {
		t.Errorf("after 开工: %q, want the move to 在建", flash)
	}
	if got, _ := w.svc.Project(w.ctx, w.users["promoter"], p.ID); got.State != engine.StateUnderConstruction {
		t.Errorf("after 开工 the project is %s", got.State)
	}
	if es := w.entries()[before:]; len(es) != 1 || es[0].Event != engine.EventStartConstruction {
		t.Errorf("开工 wrote %d entries (%+v), want one start_construction", len(es), es)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/projects/"+itoa(p.ID)+"/tracking"), chromedp.WaitVisible(chromedp.CSS(`tr[data-milestone=construction_start]`))); err != nil {
		t.Fatal(err)
	}
	if row := jsText(t, ctx, `tr[data-milestone=construction_start]`); !strings.Contains(row, good) {
		t.Errorf("the 开工 milestone row %q lacks the date %s", row, good)
	}
	screenshot(t, ctx, "start-construction-milestone")
}

// TestBrowserProgressOnLongOperations: a long operation's button shows its
// progress after the click — the annual-figures import says 正在导入…
// until its answer's page arrives; an export says 正在生成… and comes back
// once the file has been delivered (the download's cookie answers the
// link's token), with the file on disk and the cookie cleared.
func TestBrowserProgressOnLongOperations(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	p := w.tracked(engine.StateInProduction)
	sheet := filepath.Join(t.TempDir(), "年度数据.xlsx")
	row := []any{p.USCC, p.Name, 57000.0, 60000.0, 15000.0, 2250.0, 2850.0, 720.0, 3, 250, "是", "是"}
	if err := os.WriteFile(sheet, annualBook(t, [][]any{row}), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	browserLogin(t, ctx, ts.URL, "promoter")
	year := strconv.Itoa(lastYear(w))

	// A posted long operation: the state is set in the submit itself, so it
	// is read in the same turn as the click; the answer's page clears it.
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/tracking?park=qingyuan&year="+year),
		chromedp.WaitVisible(chromedp.CSS(`form.importform`)),
		chromedp.SetUploadFiles(chromedp.CSS(`form.importform input[type=file]`), []string{sheet}),
	)
	if err != nil {
		t.Fatal(err)
	}
	label := jsText(t, ctx, `form.importform button[type=submit]`)
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var b=document.querySelector('form.importform button[type=submit]');b.form.requestSubmit(b);return b.textContent})()`))
	if err != nil {
		t.Fatal(err)
	}
	if state != "正在导入…" {
		t.Errorf("after the click the import button says %q, want 正在导入…", state)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#import-result`))); err != nil {
		t.Fatalf("the import's answer: %v", err)
	}
	if got := jsText(t, ctx, `form.importform button[type=submit]`); got != label || strings.Contains(label, "正在") {
		t.Errorf("on the answer's page the import button says %q, want its own words %q", got, label)
	}
	browserLogin(t, ctx, ts.URL, "committee")

	// A download: busy until the file is delivered, then back as it was.
	dir := t.TempDir()
	err = chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir})
			return err
		}),
		chromedp.Navigate(ts.URL+"/dashboard?park=qingyuan&year="+year),
		chromedp.WaitVisible(chromedp.CSS(`a[data-export]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	label = jsText(t, ctx, `a[data-export]`)
	href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('a[data-export]').getAttribute('href')`))
	state, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var a=document.querySelector('a[data-export]');a.click();`+
		`return a.getAttribute('aria-busy')+'|'+a.textContent})()`))
	if err != nil {
		t.Fatal(err)
	}
	if state != "true|正在生成…" {
		t.Errorf("after the click the export link is %q, want busy and 正在生成…", state)
	}
	screenshot(t, ctx, "export-progress")
	err = chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector('a[data-export]').getAttribute('aria-busy') === null`,
		chromedp.WithPollingTimeout(time.Minute)))
	if err != nil {
		t.Fatalf("the export link stayed busy: %v", err)
	}
	after, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var a=document.querySelector('a[data-export]');`+
		`return a.textContent+'|'+a.getAttribute('href')+'|'+document.cookie})()`))
	if want := label + "|" + href + "|"; after != want {
		t.Errorf("after the download the link is %q, want %q (its words, its address, no cookie left)", after, want)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Errorf("%d files delivered, want the one workbook", len(files))
	}
}

// chartOverlaps lists, per chart on the page, the texts ECharts drew over
// its title: every text element of the title component against every other
// text the chart drew (axis names, axis labels, value labels, the legend),
// both as laid out on the canvas.
const chartOverlaps = `(() => {
  const out = [];
  const rect = e => { const r = e.getBoundingRect().clone(); const m = e.getComputedTransform(); if (m) r.applyTransform(m); return r; };
  document.querySelectorAll("[data-chart]").forEach(el => {
    const ch = echarts.getInstanceByDom(el);
    if (!ch) { out.push(el.dataset.chart + ": not drawn"); return; }
    const title = [], other = [];
    ch._componentsViews.concat(ch._chartsViews).forEach(v => {
      const isTitle = v.__model && v.__model.mainType === "title";
      v.group.traverse(e => { if (e.type === "text" && !e.invisible && !e.ignore && e.style.text) (isTitle ? title : other).push(e); });
    });
    if (title.length === 0) out.push(el.dataset.chart + ": no title");
    title.forEach(a => other.forEach(b => {
      if (rect(a).intersect(rect(b))) out.push(el.dataset.chart + ": title " + JSON.stringify(a.style.text) + " over " + JSON.stringify(b.style.text));
    }));
  });
  return out.join("; ");
})()`

// TestBrowserDashboardChartTitlesClear: on the dashboard at 1400 px and at
// 390 px (a phone), in Chinese and in English, no chart's title is drawn
// over an axis name or any other text of its chart; the project chart's
// axis counts projects (项目数), the distributions' firms (企业数).
func TestBrowserDashboardChartTitlesClear(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	w.project(engine.StateScreening)
	w.tracked(engine.StateInProduction)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	browserLogin(t, ctx, ts.URL, "committee")
	for _, width := range []int64{1400, 390} {
		for _, lang := range []string{langZH, langEN} {
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(width, 900),
				chromedp.Navigate(ts.URL+"/lang/"+lang+"?next=/dashboard"),
				chromedp.WaitVisible(chromedp.CSS(`[data-chart=states] canvas`)),
				chromedp.Poll[chromedp.Void](`document.documentElement.dataset.chartsReady === "1"`, chromedp.WithPollingTimeout(time.Minute)),
			)
			if err != nil {
				t.Fatal(err)
			}
			over, err := chromedp.Run(ctx, chromedp.Evaluate[string](chartOverlaps))
			if err != nil {
				t.Fatal(err)
			}
			if over != "" {
				t.Errorf("%d px, %s: %s", width, lang, over)
			}
			axis, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`echarts.getInstanceByDom(document.querySelector('[data-chart=states]')).getOption().yAxis[0].name`))
			if want := map[string]string{langZH: "项目数", langEN: "Projects"}[lang]; axis != want {
				t.Errorf("%s: the state chart's axis is %q, want %q", lang, axis, want)
			}
			screenshot(t, ctx, "dashboard-"+lang+"-"+strconv.FormatInt(width, 10))
		}
	}
}
