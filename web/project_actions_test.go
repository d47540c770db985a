package web

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"zonevet/engine"
)

// TestProjectPageNoPassOnFailedHardRule: the reviewer's page of a screening
// project that fails a hard rule has no pass button (only the committee's
// 一事一议 moves it on), while return and reject are there; a passing project
// shows pass.
func TestProjectPageNoPassOnFailedHardRule(t *testing.T) {
	w := mustWorld(t)
	in := goodInput(ownPark)
	in.Figures.Tax = fp(100) // 2 万元/亩 < 30: fails qingyuan's hard tax-per-mu rule
	failed, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in)
	if err != nil {
		t.Fatal(err)
	}
	if failed, err = w.svc.Act(w.ctx, w.users["promoter"], failed.ID, engine.Action{Event: engine.EventSubmit, Version: failed.Version}); err != nil {
		t.Fatal(err)
	}
	if failed.Report == nil || failed.Report.Passed() {
		t.Fatal("the figures should fail a hard rule")
	}
	good := w.project(engine.StateScreening)
	reviewer := w.login("reviewer")
	buttons := func(p *engine.Project) []string {
		rec := reviewer.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("project page: %d", rec.Code)
		}
		return actionButtons(parseHTML(t, rec.Body.String()))
	}
	got := buttons(failed)
	if slices.Contains(got, engine.EventPass) {
		t.Fatalf("buttons %v offer pass on a failed hard rule", got)
	}
	if !slices.Contains(got, engine.EventReturn) || !slices.Contains(got, engine.EventReject) {
		t.Fatalf("buttons %v, want return and reject", got)
	}
	if got := buttons(good); !slices.Contains(got, engine.EventPass) {
		t.Fatalf("buttons %v on a passing project, want pass", got)
	}
}
