package tlog

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Suite is the cryptography a decision log is built with, chosen once at
// `zonevet init` and recorded in the log's first entry: the hash of the
// chain and of the Merkle tree, and the kind of key that signs its
// checkpoints. Every hash of either suite is 32 bytes, so the entry format,
// the genesis hash and the tree's stored rows are the same for both.
type Suite struct {
	// Name is what `init --crypto` takes and the first entry records.
	Name string
	// KeyType prefixes the text form of the suite's public keys ("ed25519:…", "sm2:…").
	KeyType string
	// Sum is the chain's hash function.
	Sum func([]byte) [32]byte
	// Tree hashes the Merkle tree (RFC 6962's construction over Sum).
	Tree Hasher
}

// Default is SHA-256 for the chain and the tree, Ed25519 for checkpoints.
var Default = &Suite{Name: "ed25519", KeyType: "ed25519", Sum: sha256.Sum256, Tree: rfc6962.DefaultHasher}

// SM is the 国密 suite (GB/T 39786): SM3 (GB/T 32905) for the chain and the
// tree, SM2 (GB/T 32918) for checkpoints, with emmansun/gmsm.
var SM = &Suite{Name: "sm", KeyType: "sm2", Sum: sm3.Sum, Tree: SM3}

// SuiteByName returns the suite init's --crypto names; "" is Default.
func SuiteByName(name string) (*Suite, error) {
	switch name {
	case "", Default.Name, "sha256":
		return Default, nil
	case SM.Name, "sm2", "sm3", "gm":
		return SM, nil
	}
	return nil, fmt.Errorf("crypto suite %q: want %q (SHA-256, Ed25519) or %q (SM3, SM2)", name, Default.Name, SM.Name)
}

// SuiteOfKey returns the suite whose checkpoints pub signs.
func SuiteOfKey(pub crypto.PublicKey) (*Suite, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return Default, nil
	case *ecdsa.PublicKey:
		if k.Curve == sm2.P256() {
			return SM, nil
		}
	}
	return nil, fmt.Errorf("public key of type %T is neither Ed25519 nor SM2", pub)
}

// GenerateKey makes a new checkpoint signing key of the suite.
func (s *Suite) GenerateKey() (crypto.Signer, error) {
	if s == SM {
		return sm2.GenerateKey(rand.Reader)
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	return k, err
}

// HexSum is Sum in lower-case hex, the form entries keep their hashes in.
func (s *Suite) HexSum(msg []byte) string {
	sum := s.Sum(msg)
	return fmt.Sprintf("%x", sum[:])
}

// sm3Hasher is RFC 6962's tree hashing with SM3 in place of SHA-256: a
// leaf is H(0x00 || data), a node H(0x01 || left || right), the empty tree
// H(""). transparency-dev/merkle takes any LogHasher, so its proofs and
// their verification serve both suites unchanged.
type sm3Hasher struct{}

// SM3 hashes the tree of the SM suite.
var SM3 Hasher = sm3Hasher{}

func (sm3Hasher) EmptyRoot() []byte { s := sm3.Sum(nil); return s[:] }
func (sm3Hasher) HashLeaf(leaf []byte) []byte {
	h := sm3.New()
	h.Write([]byte{rfc6962.RFC6962LeafHashPrefix})
	h.Write(leaf)
	return h.Sum(nil)
}
func (sm3Hasher) HashChildren(l, r []byte) []byte {
	h := sm3.New()
	h.Write([]byte{rfc6962.RFC6962NodeHashPrefix})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}
func (sm3Hasher) Size() int { return sm3.Size }

// KeyBytes is the public key's raw form: Ed25519's 32 bytes, or SM2's
// uncompressed point (0x04 || X || Y, 65 bytes).
func KeyBytes(pub crypto.PublicKey) []byte {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return k
	case *ecdsa.PublicKey:
		return elliptic.Marshal(k.Curve, k.X, k.Y) //nolint:staticcheck // gmsm's SM2 keys are ecdsa keys; this is their uncompressed point
	}
	return nil
}

// KeyString renders a public key as "ed25519:<base64>" or "sm2:<base64 of
// the uncompressed point>", the form the UI shows and --pubkey takes.
func KeyString(pub crypto.PublicKey) string {
	s, err := SuiteOfKey(pub)
	if err != nil {
		return ""
	}
	return s.KeyType + ":" + base64.StdEncoding.EncodeToString(KeyBytes(pub))
}

// ParseKeyString reads KeyString's form; ok is false when s has neither prefix.
func ParseKeyString(s string) (pub crypto.PublicKey, ok bool, err error) {
	if b64, found := strings.CutPrefix(s, SM.KeyType+":"); found {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, true, errors.New(`public key: want "sm2:<base64 of the 65-byte uncompressed point>"`)
		}
		x, y := elliptic.Unmarshal(sm2.P256(), raw) //nolint:staticcheck // checks the point is on the curve
		if x == nil {
			return nil, true, errors.New("public key: not a point on the SM2 curve")
		}
		return &ecdsa.PublicKey{Curve: sm2.P256(), X: x, Y: y}, true, nil
	}
	if b64, found := strings.CutPrefix(s, Default.KeyType+":"); found {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return nil, true, errors.New(`public key: want "ed25519:<base64 of 32 bytes>"`)
		}
		return ed25519.PublicKey(raw), true, nil
	}
	return nil, false, nil
}

// Public is key's public half.
func Public(key crypto.Signer) crypto.PublicKey {
	if k, ok := key.(*sm2.PrivateKey); ok {
		return &k.PublicKey // *ecdsa.PublicKey, as SM2 public keys are everywhere else
	}
	return key.Public()
}

// SignMessage signs msg with key: Ed25519 over the message, or SM2 with
// the standard's default user ID (GB/T 32918.2: Z_A over "1234567812345678",
// then SM3), ASN.1-encoded as GM/T 0009 writes it.
func SignMessage(key crypto.Signer, msg []byte) ([]byte, error) {
	if k, ok := key.(*sm2.PrivateKey); ok {
		return k.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, nil))
	}
	if k, ok := key.(ed25519.PrivateKey); ok {
		return ed25519.Sign(k, msg), nil
	}
	return nil, fmt.Errorf("signing key of type %T is neither Ed25519 nor SM2", key)
}

// VerifyMessage checks SignMessage's signature.
func VerifyMessage(pub crypto.PublicKey, msg, sig []byte) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig)
	case *ecdsa.PublicKey:
		return k.Curve == sm2.P256() && sm2.VerifyASN1WithSM2(k, nil, msg, sig)
	}
	return false
}

// SM2NoteAlg is the signature-type byte of SM2 note signatures. The C2SP
// signed-note registry assigns none to SM2; zonevet takes 0xff, which no
// registered type uses, so no verifier of another type can mistake one of
// these for its own (the key hash, which the byte enters, differs).
const SM2NoteAlg = 0xff

func noteKeyHash(name string, alg byte, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{alg})
	h.Write(key)
	sum := h.Sum(nil)
	return uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
}

// sm2NoteVerifier and sm2NoteSigner are note.Verifier and note.Signer for
// SM2 (golang.org/x/mod/sumdb/note knows only Ed25519). The key hash is
// note's construction with SM2NoteAlg: SHA-256(name || "\n" || 0xff ||
// uncompressed point)[:4], big-endian; the signature is SignMessage's.
type sm2NoteVerifier struct {
	name string
	hash uint32
	pub  *ecdsa.PublicKey
}

func (v *sm2NoteVerifier) Name() string                { return v.name }
func (v *sm2NoteVerifier) KeyHash() uint32             { return v.hash }
func (v *sm2NoteVerifier) Verify(msg, sig []byte) bool { return VerifyMessage(v.pub, msg, sig) }

type sm2NoteSigner struct {
	sm2NoteVerifier
	key *sm2.PrivateKey
}

func (s *sm2NoteSigner) Sign(msg []byte) ([]byte, error) { return SignMessage(s.key, msg) }
