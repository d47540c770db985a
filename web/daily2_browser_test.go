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

// TestBrowserPhoneWidth loads the pages people read on the move at 390 px
// (a phone) in both languages and finds none wider than the screen: the
// page scrolls down, never sideways (document.scrollWidth ≤ the viewport).
// A page too wide is saved as phone-<lang>-<n>.png (every page with
// ZONEVET_SCREENSHOTS=all).
func TestBrowserPhoneWidth(t *testing.T) { widthWalk(t, 390, "phone") }

// TestBrowserDeskWidth is the same walk at 1400 px (a desk), its shots
// wide-<lang>-<n>.png (issue 15's review: both widths, both languages);
// a test of its own so that each walk stays short on a busy machine.
func TestBrowserDeskWidth(t *testing.T) { widthWalk(t, 1400, "wide") }

func widthWalk(t *testing.T, width int64, shot string) {
	ctx := browser(t)
	w := mustWorld(t)
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	p := w.project(engine.StateScreening)
	tr := w.tracked(engine.StateInProduction)
	pages := []struct{ who, path string }{
		{"committee", "/"}, {"committee", "/projects"}, {"committee", "/projects/" + itoa(p.ID)},
		{"committee", "/projects/" + itoa(tr.ID) + "/tracking"}, {"committee", "/tracking"}, {"committee", "/dashboard"},
		{"auditor", "/audit"}, {"auditor", "/audit/stats"}, {"auditor", "/audit/proof"}, {"auditor", "/projects/" + itoa(p.ID) + "/dossier"},
		{"promoter", "/projects/new"},
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 844)); err != nil {
		t.Fatal(err)
	}
	current := ""
	for _, lang := range []string{langZH, langEN} {
		for i, pg := range pages {
			if pg.who != current {
				browserLogin(t, ctx, ts.URL, pg.who)
				current = pg.who
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/lang/"+lang+"?next="+pg.path), chromedp.WaitReady(chromedp.CSS(`body`))); err != nil {
				t.Fatalf("%s %s: %v", pg.who, pg.path, err)
			}
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageOverflow))
			if err != nil {
				t.Fatal(err)
			}
			walkShot(t, ctx, shot+"-"+lang+"-"+itoa(int64(i)), wide != "")
			if wide != "" {
				t.Errorf("%s %s at %d px (%s) is wider than the screen: %s", pg.who, pg.path, width, lang, wide)
			}
		}
	}
}

// pageOverflow is "" when the page fits the screen's width, else the widest
// culprits: elements reaching past the screen's edge.
const pageOverflow = `(() => {
	const vw = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth <= vw) return "";
	return [...document.querySelectorAll("body *")].filter(e => !e.closest("svg, table") && e.getBoundingClientRect().right > vw + 1 && e.parentElement.getBoundingClientRect().right <= vw + 1)
		.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).split(" ")[0] : "") + "(" + Math.round(e.getBoundingClientRect().right) + ")").join(" ") || "?";
})()`
