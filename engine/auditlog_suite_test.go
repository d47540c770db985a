package engine_test

import (
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// TestSM2KeyFiles: the signing key made for an SM log is SM2, kept as
// PKCS#8 PEM and read back the same; its public key parses from its
// "sm2:" text and from a PEM "PUBLIC KEY" block; an SM2 key file is refused
// for a default log and an Ed25519 one for an SM log.
func TestSM2KeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sm2.pem")
	k1, created, err := engine.LoadOrCreateSigningKeyFor(path, tlog.SM)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	k2, created, err := engine.LoadOrCreateSigningKeyFor(path, tlog.SM)
	if err != nil || created {
		t.Fatalf("reload: %v %v", created, err)
	}
	text := engine.PublicKeyString(tlog.Public(k1))
	if !strings.HasPrefix(text, "sm2:") || engine.PublicKeyString(tlog.Public(k2)) != text {
		t.Fatalf("reloaded key %s, made %s", engine.PublicKeyString(tlog.Public(k2)), text)
	}
	der, err := smx509.MarshalPKIXPublicKey(tlog.Public(k1))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{text, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))} {
		got, err := engine.ParsePublicKey(in)
		if err != nil || engine.PublicKeyString(got) != text {
			t.Fatalf("ParsePublicKey(%.30q) = %v, %v", in, got, err)
		}
	}
	if _, _, err := engine.LoadOrCreateSigningKeyFor(path, tlog.Default); err == nil {
		t.Fatal("an SM2 key file was taken for a default log")
	}
	edPath := filepath.Join(dir, "ed.pem")
	if _, _, err := engine.LoadOrCreateSigningKey(edPath); err != nil {
		t.Fatal(err)
	}
	if _, _, err := engine.LoadOrCreateSigningKeyFor(edPath, tlog.SM); err == nil || !strings.Contains(err.Error(), "sm2 keys") {
		t.Fatalf("an Ed25519 key file for an SM log: %v", err)
	}
}
