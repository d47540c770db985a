package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"zonevet/engine"
)

// delegationForm is principal who's delegation of their own role in their
// park to that park's admin, days from..to after today.
func (w *world) delegationForm(who string, from, to int) (engine.DelegationInput, string) {
	park, suffix := ownPark, ""
	if strings.HasSuffix(who, "@other") {
		park, suffix = otherPark, "@other"
	}
	day := func(n int) string { return w.svc.Today().AddDate(0, 0, n).Format("2006-01-02") }
	return engine.DelegationInput{Park: park, Role: engine.Role(strings.TrimSuffix(who, "@other")), Delegate: w.userName("admin" + suffix),
		Starts: day(from), Ends: day(to), Reason: "出差"}, park
}

// delegationRoutes: everyone signed in sees their delegation page; whoever
// decides on projects delegates their role and revokes their delegation.
func (w *world) delegationRoutes() []route {
	const deciders = "anon=401 own=403 promoter=303 reviewer=303 committee=303 other=403 promoter@other=303 reviewer@other=303 committee@other=303"
	return []route{
		{"GET", "/delegations", "", get("/delegations"), "anon=303 own=200 other=200"},
		{"POST", "/delegations", "", func(w *world, _ *engine.Project, who string) (string, any) {
			in, _ := w.delegationForm(who, 30, 31)
			return "/delegations", url.Values{"park": {in.Park}, "role": {string(in.Role)}, "delegate": {in.Delegate},
				"starts": {in.Starts}, "ends": {in.Ends}, "reason": {in.Reason}}
		}, deciders},
		{"POST", "/delegations/:did/revoke", "", func(w *world, _ *engine.Project, who string) (string, any) {
			in, park := w.delegationForm(who, 40, 41)
			maker := who
			if !w.svc.Authorizer().Allowed(w.userName(who), park, "delegation", engine.EventDelegate) {
				// Someone else's delegation, a day of its own: not theirs to revoke.
				maker, w.revokeDay = "reviewer2", w.revokeDay+1
				in, park = w.delegationForm("reviewer", 100+w.revokeDay, 100+w.revokeDay)
			}
			d, err := w.svc.Delegate(w.ctx, w.users[maker], in)
			if err != nil {
				w.t.Fatalf("delegation by %s: %v", maker, err)
			}
			return fmt.Sprintf("/delegations/%d/revoke", d.ID), url.Values{"park": {park}}
		}, deciders},
	}
}

// TestDelegationPage: a reviewer delegates on the page, the delegate acts on
// behalf of the reviewer from the project page's 代办 form, and the log
// entry names both; a refused delegation comes back in Chinese naming the problem.
func TestDelegationPage(t *testing.T) {
	w := mustWorld(t)
	rv := w.login("reviewer")
	in, _ := w.delegationForm("reviewer", 0, 3)
	in.Delegate = w.users["promoter"].Username
	form := url.Values{"park": {in.Park}, "role": {"reviewer"}, "delegate": {in.Delegate}, "starts": {in.Starts}, "ends": {in.Ends}, "reason": {"出差"}}
	if rec := rv.do("POST", "/delegations", form); rec.Code != 303 {
		t.Fatalf("delegate: %d %.300s", rec.Code, rec.Body.String())
	}
	bad := url.Values{"park": {in.Park}, "role": {"reviewer"}, "delegate": {w.users["reviewer2"].Username}, "starts": {in.Ends}, "ends": {in.Starts}, "reason": {"出差"}}
	if rec := rv.do("POST", "/delegations", bad); rec.Code != 422 && rec.Code != 400 || !strings.Contains(rec.Body.String(), "委托结束日期不能早于开始日期") {
		t.Fatalf("ends before starts: %d %.500s", rec.Code, rec.Body.String())
	}
	// The delegate (promoter) registered p: no 代办 form, and the act is refused.
	p := w.project(engine.StateScreening)
	page := w.login("promoter").do("GET", fmt.Sprintf("/projects/%d", p.ID), nil).Body.String()
	if strings.Contains(page, `id="on-behalf"`) {
		t.Fatal("the registrant is offered to pass their own project on behalf of a reviewer")
	}
	pass := url.Values{"event": {"pass"}, "version": {fmt.Sprint(p.Version)}, "on_behalf_of": {w.users["reviewer"].Username}}
	if rec := w.login("promoter").do("POST", fmt.Sprintf("/projects/%d/act", p.ID), pass); rec.Code == 303 {
		t.Fatal("the registrant passed their own project on behalf of a reviewer")
	}
	// reviewer2 delegates to the committee member, who passes p for them.
	in2, _ := w.delegationForm("reviewer", 0, 3)
	in2.Delegate = w.users["committee"].Username
	if _, err := w.svc.Delegate(w.ctx, w.users["reviewer2"], in2); err != nil {
		t.Fatal(err)
	}
	cm := w.login("committee")
	if page := cm.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil).Body.String(); !strings.Contains(page, `data-delegator="`+w.users["reviewer2"].Username+`"`) {
		t.Fatalf("no 代办 form for the committee member: %.2000s", page)
	}
	pass.Set("on_behalf_of", w.users["reviewer2"].Username)
	if rec := cm.do("POST", fmt.Sprintf("/projects/%d/act", p.ID), pass); rec.Code != 303 {
		t.Fatalf("pass on behalf: %d %.500s", rec.Code, rec.Body.String())
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventPass}})
	if err != nil || len(es) != 1 || es[0].Actor != w.users["committee"].Username || es[0].OnBehalfOf != w.users["reviewer2"].Username {
		t.Fatalf("pass entries = %+v, %v", es, err)
	}
}

// userName is principal who's username ("" for anon).
func (w *world) userName(who string) string {
	if u := w.users[who]; u != nil {
		return u.Username
	}
	return ""
}
