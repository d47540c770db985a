package engine_test

import (
	"testing"

	"zonevet/engine"
)

// TestAuthenticateUnknownUserSpendsHashWork: signing in as a name nobody has
// does the argon2id work a real password check does (TestEqualiseLoginTime
// checks that work is real), so the answer's timing does not tell which names
// exist. Observed through the dummy hash, which only that path makes — not by
// timing. A known name never touches it.
func TestAuthenticateUnknownUserSpendsHashWork(t *testing.T) {
	w := mustWorld(t)

	w.svc.ForgetDummyHash()
	if _, err := w.svc.Authenticate(w.ctx, "reviewer-qingyuan", "wrong-password"); engine.ErrorCode(err) != engine.EUNAUTHORIZED {
		t.Fatalf("known user, wrong password: %v, want unauthorized", err)
	}
	if w.svc.DummyHashMade() {
		t.Fatal("a known user's sign-in made the dummy hash")
	}

	if _, err := w.svc.Authenticate(w.ctx, "no-such-user", "password"); engine.ErrorCode(err) != engine.EUNAUTHORIZED {
		t.Fatalf("unknown user: %v, want unauthorized", err)
	}
	if !w.svc.DummyHashMade() {
		t.Fatal("an unknown user's sign-in skipped the argon2id work: its answer comes back faster than a wrong password's")
	}
}
