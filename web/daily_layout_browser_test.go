package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"zonevet/engine"

	"github.com/chromedp/chromedp"
)

// TestBrowserTrackingFiguresAligned: on a firm's tracking page every
// numeric column's header and figures end at the same right edge (实缴税收
// once sat under 研发费用), the rating table's per-mu headers carry their
// unit, and the committed employees read "… 人".
func TestBrowserTrackingFiguresAligned(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	p := w.tracked(engine.StateInProduction)
	if err := w.svc.SaveFigures(w.ctx, w.users["promoter"], p.ID, engine.AnnualFigures{Year: lastYear(w), Revenue: 52000, Output: 60000,
		ValueAdded: 15000, Tax: 2200, RDExpense: 186, EnergyUse: 900, Emissions: 3, Employees: 280}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	browserLogin(t, ctx, ts.URL, "promoter")
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/projects/"+itoa(p.ID)+"/tracking"), chromedp.WaitVisible(chromedp.CSS(`table.annual`))); err != nil {
		t.Fatal(err)
	}
	// For each th.num of each table: the right edges of the header's text
	// and of every figure below it, in px, must agree.
	misaligned, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(function(){
	  var bad = [];
	  document.querySelectorAll('main table').forEach(function(tb){
	    var ths = tb.querySelectorAll('thead th');
	    ths.forEach(function(th, i){
	      if (!th.classList.contains('num')) return;
	      var h = document.createRange(); h.selectNodeContents(th);
	      var edge = h.getBoundingClientRect().right;
	      tb.querySelectorAll('tbody tr').forEach(function(tr){
	        var td = tr.children[i]; if (!td) return;
	        var r = document.createRange(); r.selectNodeContents(td);
	        var right = r.getBoundingClientRect().right;
	        if (!td.classList.contains('num') || Math.abs(right - edge) > 2) bad.push(th.innerText.replace(/\s+/g,' ') + ': ' + td.innerText + ' ends at ' + Math.round(right) + ', header at ' + Math.round(edge));
	      });
	    });
	  });
	  return bad;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range misaligned {
		t.Errorf("not right-aligned under its header: %s", m)
	}
	if got := jsText(t, ctx, `table.annual tbody tr`); !strings.Contains(got, "186") {
		t.Errorf("annual figures row %q lacks the R&D expense", got)
	}
	employees, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){
	  var th = Array.from(document.querySelectorAll('main th')).find(function(th){ return th.innerText.trim() === '就业人数' });
	  return th && th.nextElementSibling ? th.nextElementSibling.innerText : '';
	})()`))
	if err != nil || !strings.HasSuffix(strings.TrimSpace(employees), " 人") {
		t.Errorf("committed employees %q (%v), want a figure in 人", employees, err)
	}
	screenshot(t, ctx, "tracking-aligned")
}
