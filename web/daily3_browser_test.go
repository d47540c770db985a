package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
