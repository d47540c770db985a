package engine

import (
	"testing"

	"github.com/alexedwards/argon2id"
)

// TestEqualiseLoginTime: the dummy hash an unknown user's login is checked
// against is made on first use (not at start-up, where its 64 MiB would be
// every process's) and is a real argon2id hash with the default parameters,
// so checking against it costs what checking a real password does.
func TestEqualiseLoginTime(t *testing.T) {
	s := &Service{passwords: argon2id.DefaultParams} // as NewService leaves it without Config.PasswordHashing
	s.equaliseLoginTime("first")
	s.equaliseLoginTime("second")
	ok, err := argon2id.ComparePasswordAndHash("zonevet-timing-equaliser", s.dummyHash.hash)
	if err != nil || !ok {
		t.Fatalf("dummy hash %q: %v %v", s.dummyHash.hash, ok, err)
	}
	params, _, _, err := argon2id.DecodeHash(s.dummyHash.hash)
	if err != nil || *params != *argon2id.DefaultParams {
		t.Fatalf("dummy hash parameters %+v, want the defaults %+v (%v)", params, argon2id.DefaultParams, err)
	}
}
