package engine_test

import (
	"testing"

	"github.com/alexedwards/argon2id"

	"zonevet/engine"
)

// TestPasswordHashingDefault: a service configured without PasswordHashing,
// as production's always is, hashes a new account's password with the
// library's RFC 9106 defaults (64 MiB), not the cheap cost the test worlds
// use. The one production-cost hash of the engine's tests besides
// TestEqualiseLoginTime's.
func TestPasswordHashingDefault(t *testing.T) {
	w := mustWorld(t)
	svc, err := engine.NewService(w.ctx, engine.Config{Store: w.db})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(w.ctx, "zhou", "周", "long-enough", []engine.RoleAssignment{{Role: engine.RolePromoter, Park: "qingyuan"}})
	if err != nil {
		t.Fatal(err)
	}
	params, _, _, err := argon2id.DecodeHash(u.PasswordHash)
	if err != nil || *params != *argon2id.DefaultParams {
		t.Fatalf("new account's hash parameters %+v, want the defaults %+v (%v)", params, argon2id.DefaultParams, err)
	}
	if ok, err := argon2id.ComparePasswordAndHash("long-enough", u.PasswordHash); err != nil || !ok {
		t.Fatalf("the password does not match its hash: %v %v", ok, err)
	}
}
