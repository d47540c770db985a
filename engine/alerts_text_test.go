package engine_test

import (
	"fmt"
	"testing"
	"time"

	"zonevet/engine"
)

// TestAlertTexts: every kind of workbench alert reads, in Chinese and in
// English, the sentence written out here by hand; only the dates and day
// counts come from the alert. Qingyuan's rule set: 30 days' escalation
// grace, idle-land fee after 1 year, recovery after 2, 90 days to rectify.
func TestAlertTexts(t *testing.T) {
	w := mustWorld(t)
	promoter, committee := w.users["promoter-qingyuan"], w.users["committee-qingyuan"]
	today := w.svc.Today()
	day := func(d time.Time) string { return d.Format(time.DateOnly) }

	recent := w.firm(401, engine.StateSigned, 3)
	w.setStart(recent, today.AddDate(0, 0, -10)) // within the grace period
	fee := w.firm(402, engine.StateSigned, 3)
	w.setStart(fee, today.AddDate(-1, -1, 0)) // idle a year: the fee
	recovery := w.firm(403, engine.StateSigned, 3)
	w.setStart(recovery, today.AddDate(-2, -1, 0)) // idle two years: recovery
	due := w.firm(404, engine.StateInProduction, 5)
	short := w.firm(405, engine.StateInProduction, 5)
	year := time.Now().Year() - 1
	if err := w.svc.SaveFigures(w.ctx, promoter, short.ID, figuresFor(year, 30, 4)); err != nil {
		t.Fatal(err)
	}
	if _, after, err := w.svc.ReviewFullProduction(w.ctx, committee, short.ID, engine.ReviewInput{Version: short.Version, Year: year, FixedAssetInvestment: 20000}); err != nil || after.State != engine.StateRectification {
		t.Fatalf("review: %v", err)
	}

	// texts finds the one alert of kind on project p and returns its texts
	// with the alert, so the expected sentence can take its dates.
	texts := func(svc *engine.Service, u *engine.User, p *engine.Project, kind string) (engine.Alert, string) {
		t.Helper()
		as, err := svc.Alerts(w.ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var found []engine.Alert
		for _, a := range as {
			if a.ProjectID == p.ID && a.Kind == kind {
				found = append(found, a)
			}
		}
		if len(found) == 0 {
			t.Fatalf("no %s alert on project %d", kind, p.ID)
		}
		return found[0], found[0].TextZH + "\n" + found[0].TextEN // the latest milestone first
	}
	check := func(name, got, zh, en string) {
		t.Helper()
		if want := zh + "\n" + en; got != want {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
		}
	}

	a, got := texts(w.svc, promoter, recent, "milestone_overdue")
	check("overdue", got, fmt.Sprintf("开工节点逾期 %d 天", a.DaysLate), fmt.Sprintf("construction start %d days overdue", a.DaysLate))
	a, got = texts(w.svc, committee, recovery, "milestone_escalated")
	check("escalated", got, fmt.Sprintf("开工节点逾期 %d 天,已超过 30 天宽限期,上报管委会督办", a.DaysLate),
		fmt.Sprintf("construction start %d days overdue, past the 30-day grace period: escalated to the committee", a.DaysLate))
	a, got = texts(w.svc, committee, fee, "idle_land")
	check("idle land, fee", got, "闲置土地(满 1 年,征缴土地闲置费)(约定开工 "+day(a.Due)+",至今未开工)",
		"idle land (1 year: idle-land fee) (agreed start "+day(a.Due)+", not started)")
	a, got = texts(w.svc, committee, recovery, "idle_land")
	check("idle land, recovery", got, "闲置满 2 年,可无偿收回(约定开工 "+day(a.Due)+",至今未开工)",
		"idle 2 years: liable for recovery (agreed start "+day(a.Due)+", not started)")
	a, got = texts(w.svc, committee, due, "review_due")
	check("review due", got, "约定达产日期 "+day(a.Due)+" 已到,待达产复核", "agreed full production "+day(a.Due)+": full-production review due")
	a, got = texts(w.svc, committee, short, "rectification")
	check("rectification", got, "整改期限 "+day(a.Due)+":达产复核未达协议承诺;尚未提交整改方案",
		"rectification due "+day(a.Due)+": full-production review short of the commitments; no plan yet")

	later, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return time.Now().AddDate(0, 0, 95) }})
	if err != nil {
		t.Fatal(err)
	}
	a, got = texts(later, committee, short, "rectification")
	if a.DaysLate < 1 {
		t.Fatalf("rectification not late 95 days on: %+v", a)
	}
	check("rectification, late", got, fmt.Sprintf("整改期限 %s:达产复核未达协议承诺,已逾期 %d 天,请作出整改结论;尚未提交整改方案", day(a.Due), a.DaysLate),
		fmt.Sprintf("rectification due %s: full-production review short of the commitments, %d days past the deadline: decide the outcome; no plan yet", day(a.Due), a.DaysLate))
	if err := w.svc.SubmitPlan(w.ctx, promoter, short.ID, "三个月内补足投资"); err != nil {
		t.Fatal(err)
	}
	a, got = texts(later, committee, short, "rectification")
	check("rectification, late, planned", got, fmt.Sprintf("整改期限 %s:达产复核未达协议承诺,已逾期 %d 天,请作出整改结论", day(a.Due), a.DaysLate),
		fmt.Sprintf("rectification due %s: full-production review short of the commitments, %d days past the deadline: decide the outcome", day(a.Due), a.DaysLate))
	a, got = texts(w.svc, committee, short, "rectification")
	check("rectification, planned", got, "整改期限 "+day(a.Due)+":达产复核未达协议承诺", "rectification due "+day(a.Due)+": full-production review short of the commitments")
}
