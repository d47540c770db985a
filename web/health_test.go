package web

import (
	"net/http/httptest"
	"testing"
)

// TestHealth: /healthz says ok while the database answers, and 503 once it
// does not, so a monitor takes the server out of rotation.
func TestHealth(t *testing.T) {
	w := mustWorld(t)
	if rec := serve(w, httptest.NewRequest("GET", "/healthz", nil)); rec.Code != 200 || rec.Body.String() != "ok" {
		t.Fatalf("healthy: %d %q", rec.Code, rec.Body)
	}
	w.db.Close() // the disk is gone, as far as the server can tell
	if rec := serve(w, httptest.NewRequest("GET", "/healthz", nil)); rec.Code != 503 || rec.Body.String() != "database unavailable" {
		t.Fatalf("database closed: %d %q", rec.Code, rec.Body)
	}
}
