package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"zonevet/engine"
)

// TestIdempotencyKeyConcurrentDecisions: 50 identical decisions sent at once
// with one Idempotency-Key give exactly one transition, and every caller gets
// the same answer: the project as the one decision left it.
func TestIdempotencyKeyConcurrentDecisions(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateScreening)
	c := w.login("reviewer")
	body, _ := json.Marshal(engine.Action{Event: engine.EventPass, Version: p.Version})
	const n = 50
	codes := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			r := newJSONRequest("POST", fmt.Sprintf("/api/v1/projects/%d/actions", p.ID), body)
			r.Header.Set("Idempotency-Key", "one-decision")
			r.AddCookie(c.cookie)
			r.Header.Set(csrfHeader, c.csrf)
			<-start
			rec := serve(w, r)
			codes[i], bodies[i] = rec.Code, rec.Body.String()
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if codes[i] != http.StatusOK || bodies[i] != bodies[0] {
			t.Fatalf("request %d: %d %s; want 200 and the first answer %s", i, codes[i], bodies[i], bodies[0])
		}
	}
	got := decode[engine.Project](t, []byte(bodies[0]))
	if got.State != engine.StateExpertReview || got.Version != p.Version+1 {
		t.Fatalf("answer v%d %s, want v%d expert_review", got.Version, got.State, p.Version+1)
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

// TestIdempotencyKeyRefusalReplayed: a request refused without effect keeps
// its refusal under the key (the retry gets the same 4xx, it does not run
// again), and a refusal leaves the project untouched.
func TestIdempotencyKeyRefusalReplayed(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateScreening)
	c := w.login("reviewer")
	send := func(act engine.Action) (int, string, string) {
		body, _ := json.Marshal(act)
		r := newJSONRequest("POST", fmt.Sprintf("/api/v1/projects/%d/actions", p.ID), body)
		r.Header.Set("Idempotency-Key", "refused")
		r.AddCookie(c.cookie)
		r.Header.Set(csrfHeader, c.csrf)
		rec := serve(w, r)
		return rec.Code, rec.Body.String(), rec.Header().Get("Idempotent-Replayed")
	}
	stale := engine.Action{Event: engine.EventPass, Version: p.Version + 5}
	s1, b1, _ := send(stale)
	s2, b2, replayed := send(stale)
	if s1 != http.StatusConflict || s2 != s1 || b2 != b1 || replayed != "true" {
		t.Fatalf("first %d %s; retry %d %s (replayed %q)", s1, b1, s2, b2, replayed)
	}
	got, err := w.svc.Project(w.ctx, w.users["reviewer"], p.ID)
	if err != nil || got.Version != p.Version {
		t.Fatalf("project after refusals: v%d (%v), want v%d", got.Version, err, p.Version)
	}
}
