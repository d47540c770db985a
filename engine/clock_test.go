package engine_test

import (
	"testing"
	"time"

	"zonevet/engine"
)

// TestServiceClockIsTheStores guards the one clock: a service wired
// without its own Now keeps the store's time, so what the engine stamps (a
// new project's entry) and what the store stamps agree. Before, the engine
// defaulted to time.Now whatever the store's clock said.
func TestServiceClockIsTheStores(t *testing.T) {
	w := mustWorld(t)
	at := time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC) // a Monday, 09:30 in the zone
	w.db.Now = func() time.Time { return at }
	svc, err := engine.NewService(w.ctx, engine.Config{Store: w.db})
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.Now(); !got.Equal(at) {
		t.Fatalf("service clock = %v, want the store's %v", got, at)
	}
	p, err := svc.CreateProject(w.ctx, w.users["promoter-qingyuan"], input("qingyuan", goodFigures()))
	if err != nil {
		t.Fatal(err)
	}
	if !p.CreatedAt.Equal(at) {
		t.Errorf("project created at %v, want %v", p.CreatedAt, at)
	}
	if _, err := engine.NewService(w.ctx, engine.Config{}); err == nil {
		t.Error("a service without a store was made")
	}
}
