package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"zonevet/engine"
)

// TestBrowserAuditorReads: what an auditor reads agrees with what the
// others are told. An entry's basis reads as tables (figures with units,
// the rule report), the raw JSON behind a toggle; the workbench shows the
// committee's tracking alerts, each marked read-only, not "nothing overdue".
func TestBrowserAuditorReads(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	p := w.project(engine.StateScreening)
	w.tracked(engine.StateRectification) // an open rectification: a committee alert
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventSubmit}})
	if err != nil || len(es) != 1 {
		t.Fatalf("submit entries %v %v", es, err)
	}
	browserLogin(t, ctx, ts.URL, "auditor")
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/audit/entries/"+itoa(es[0].Seq)), chromedp.WaitVisible(chromedp.CSS(`#facts`))); err != nil {
		t.Fatal(err)
	}
	facts := jsText(t, ctx, `#facts`)
	if !strings.Contains(facts, "万元") || !strings.Contains(facts, "亩均税收") || strings.Contains(facts, `"figures"`) {
		t.Errorf("the basis is not a readable table, or shows its JSON unasked:\n%s", facts)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`details.rawjson summary`)), chromedp.WaitVisible(chromedp.CSS(`details.rawjson pre`))); err != nil {
		t.Fatal(err)
	}
	if raw := jsText(t, ctx, `details.rawjson pre`); !strings.Contains(raw, `"figures"`) {
		t.Errorf("the toggle does not show the raw JSON: %.200s", raw)
	}
	screenshot(t, ctx, "auditor-entry-basis")

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#tracking-alerts`))); err != nil {
		t.Fatal(err)
	}
	alerts := jsText(t, ctx, `#tracking-alerts`)
	if !strings.Contains(alerts, "只读") || !strings.Contains(alerts, "整改") || strings.Contains(alerts, "没有逾期节点") {
		t.Errorf("the auditor's workbench alerts contradict the committee's:\n%s", alerts)
	}
	screenshot(t, ctx, "auditor-workbench-alerts")
}
