package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
)

// TestFormKeyConcurrentCreatesOneProject: the new-project form posted twice
// at once with its one form key (a double click, a resend) registers one
// project, and both posts are sent to that project's page.
func TestFormKeyConcurrentCreatesOneProject(t *testing.T) {
	w := mustWorld(t)
	c := w.login("promoter")
	form := formOf(goodInput(ownPark))
	form.Set(formKeyField, "rendered-once-0123456789")
	const n = 2
	locs := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			rec := c.do("POST", "/projects", form)
			codes[i], locs[i] = rec.Code, rec.Header().Get("Location")
		})
	}
	close(start)
	wg.Wait()
	_, total, err := w.svc.Projects(w.ctx, w.users["promoter"], engine.ProjectFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 {
		t.Fatalf("%d projects registered, want 1", total)
	}
	for i := range n {
		if codes[i] != http.StatusSeeOther || locs[i] != locs[0] || !strings.HasPrefix(locs[0], "/projects/") {
			t.Fatalf("post %d: %d → %q; want 303 to the first post's project %q", i, codes[i], locs[i], locs[0])
		}
	}
	// A third post of the same form, later, is answered the same way.
	if rec := c.do("POST", "/projects", form); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != locs[0] {
		t.Fatalf("a later repeat: %d → %q, want 303 → %q", rec.Code, rec.Header().Get("Location"), locs[0])
	}
	// Without a key (a form from before this change) the post acts as before.
	form.Del(formKeyField)
	if rec := c.do("POST", "/projects", form); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") == locs[0] {
		t.Fatalf("a post without a key: %d → %q, want a second project", rec.Code, rec.Header().Get("Location"))
	}
}

// TestFormKeyRepeatedDecisionActsOnce: the project page's 通过初审 posted
// twice with its form key passes screening once; the repeat is no
// "stale version" error but the first result.
func TestFormKeyRepeatedDecisionActsOnce(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateScreening)
	c := w.login("reviewer")
	form := url.Values{"event": {engine.EventPass}, "version": {itoa(p.Version)}, formKeyField: {"pass-form-0123456789"}}
	for i := range 2 {
		rec := c.do("POST", "/projects/"+itoa(p.ID)+"/act", form)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("post %d: %d, want 303\n%.400s", i, rec.Code, rec.Body.String())
		}
	}
	h, err := w.svc.History(w.ctx, w.users["reviewer"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	passes := 0
	for _, e := range h {
		if e.Event == engine.EventPass {
			passes++
		}
	}
	if passes != 1 {
		t.Fatalf("%d pass entries, want 1", passes)
	}
}

// TestApproveIsAMeetingsDecision: 批准 posted from the project page, with or
// without an opinion, is refused: in committee review approval is a
// meeting's decision (its votes carry the opinions), and the project stays.
func TestApproveIsAMeetingsDecision(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateCommitteeReview)
	c := w.login("committee")
	for _, reason := range []string{"", "同意立项"} {
		rec := c.do("POST", "/projects/"+itoa(p.ID)+"/act", url.Values{"event": {engine.EventApprove}, "version": {itoa(p.Version)}, "reason": {reason}})
		if rec.Code != http.StatusForbidden {
			t.Fatalf("approve alone (opinion %q): %d, want 403", reason, rec.Code)
		}
	}
	if got, err := w.svc.Project(w.ctx, w.users["committee"], p.ID); err != nil || got.State != engine.StateCommitteeReview {
		t.Fatalf("after refused approvals: %v %v", got.State, err)
	}
}

// TestSignAsksLandDelivery: signing on 2025-03-03 (the test clock) with land
// delivered 2025-04-02 records that delivery date and runs the deadlines
// from it (qingyuan.yaml start_within_months: 6 → start by 2025-10-02); a
// delivery before the signing is refused on its field.
func TestSignAsksLandDelivery(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateCommitteeReview)
	p = w.decide(p)
	c := w.login("promoter")
	sign := func(on string) *httptest.ResponseRecorder {
		return c.do("POST", "/projects/"+itoa(p.ID)+"/act", url.Values{"event": {engine.EventSign}, "version": {itoa(p.Version)}, "land_delivered_on": {on}})
	}
	if rec := sign("2025-03-01"); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "交地日期 2025-03-01 早于签约日期 2025-03-03") {
		t.Fatalf("delivery before signing: %d, want 400 naming both dates", rec.Code)
	}
	if rec := sign("2025-04-02"); rec.Code != http.StatusSeeOther {
		t.Fatalf("sign: %d, want 303\n%.400s", rec.Code, rec.Body.String())
	}
	_, tr, err := w.svc.Tracking(w.ctx, w.users["promoter"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	ag := tr.Agreement
	if got := ag.LandDeliveredOn.Format(time.DateOnly); got != "2025-04-02" {
		t.Errorf("land delivered on %s, want 2025-04-02", got)
	}
	if got := ag.StartBy.Format(time.DateOnly); got != "2025-10-02" {
		t.Errorf("start by %s, want 2025-10-02", got)
	}
}
