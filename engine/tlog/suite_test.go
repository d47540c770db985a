package tlog

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// TestSM3StandardVectors: gmsm's SM3, as the SM suite uses it, gives the
// digests printed in GB/T 32905-2016 Annex A (testdata/gm/sm3.tsv).
func TestSM3StandardVectors(t *testing.T) {
	f, err := os.Open("testdata/gm/sm3.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		rep, err := strconv.Atoi(cols[1])
		if err != nil || len(cols) != 3 {
			t.Fatalf("bad row %q", line)
		}
		msg := strings.Repeat(cols[0], rep)
		got := SM.HexSum([]byte(msg))
		if got != cols[2] {
			t.Errorf("SM3(%q×%d) = %s, want %s", cols[0], rep, got, cols[2])
		}
		n++
	}
	if n != 2 {
		t.Fatalf("read %d vectors, want 2", n)
	}
}

type sm2Vector struct {
	PrivateKey, PublicX, PublicY, UID, Message, K, R, S string
}

func loadSM2Vector(t *testing.T) sm2Vector {
	t.Helper()
	data, err := os.ReadFile("testdata/gm/sm2_sign.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]string
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	return sm2Vector{raw["private_key"], raw["public_x"], raw["public_y"], raw["uid"], raw["message"], raw["k"], raw["r"], raw["s"]}
}

func hexInt(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("not hex: %s", s)
	}
	return n
}

// TestSM2StandardVector: the signature example of GB/T 32918.2 on the
// recommended curve (testdata/gm/sm2_sign.json) verifies with gmsm, its
// public key is d·G, and a changed message or s does not verify.
func TestSM2StandardVector(t *testing.T) {
	v := loadSM2Vector(t)
	curve := sm2.P256()
	x, y := curve.ScalarBaseMult(hexInt(t, v.PrivateKey).Bytes())
	if x.Cmp(hexInt(t, v.PublicX)) != 0 || y.Cmp(hexInt(t, v.PublicY)) != 0 {
		t.Fatalf("d·G = (%X, %X), not the standard's public key", x, y)
	}
	pub := &ecdsa.PublicKey{Curve: curve, X: x, Y: y}
	r, s := hexInt(t, v.R), hexInt(t, v.S)
	if !sm2.VerifyWithSM2(pub, []byte(v.UID), []byte(v.Message), r, s) {
		t.Fatal("the standard's signature does not verify")
	}
	if sm2.VerifyWithSM2(pub, []byte(v.UID), []byte(v.Message+"."), r, s) {
		t.Fatal("a changed message verifies")
	}
	if sm2.VerifyWithSM2(pub, []byte(v.UID), []byte(v.Message), r, new(big.Int).Add(s, big.NewInt(1))) {
		t.Fatal("a changed s verifies")
	}
	// The standard's ID is the default one SignMessage uses, so the
	// example is also a checkpoint signature of "message digest".
	der, err := encodeSig(r, s)
	if err != nil {
		t.Fatal(err)
	}
	if !VerifyMessage(pub, []byte(v.Message), der) {
		t.Fatal("VerifyMessage rejects the standard's signature")
	}
}

func encodeSig(r, s *big.Int) ([]byte, error) {
	// ASN.1 SEQUENCE { INTEGER r, INTEGER s }, as GM/T 0009 and gmsm write it.
	enc := func(n *big.Int) []byte {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{0x02, byte(len(b))}, b...)
	}
	body := append(enc(r), enc(s)...)
	if len(body) > 127 {
		return nil, fmt.Errorf("signature too long")
	}
	return append([]byte{0x30, byte(len(body))}, body...), nil
}

// TestSM3TreeIsRFC6962OverSM3: the SM suite's tree hashes are RFC 6962's
// with SM3 — computed here by hand from sm3.Sum — and the allocation-free
// accumulator gives the library's SM3 roots at every size up to 300.
func TestSM3TreeIsRFC6962OverSM3(t *testing.T) {
	a, b := sm3.Sum([]byte("a")), sm3.Sum([]byte("b"))
	leafA := sm3.Sum(append([]byte{0}, a[:]...))
	leafB := sm3.Sum(append([]byte{0}, b[:]...))
	root := sm3.Sum(append(append([]byte{1}, leafA[:]...), leafB[:]...))
	r := NewRange(SM3)
	for _, h := range [][32]byte{a, b} {
		leaf, _ := LeafHash(SM3, hex.EncodeToString(h[:]))
		if err := r.Append(leaf, nil); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(r.Root(), root[:]) {
		t.Fatalf("SM3 root of two leaves %x, want %x", r.Root(), root)
	}
	empty := sm3.Sum(nil)
	if !bytes.Equal(NewRange(SM3).Root(), empty[:]) {
		t.Fatal("empty SM3 tree's root is not SM3(\"\")")
	}

	acc, rng := NewAccumulator(SM), NewRange(SM3)
	for i := range 300 {
		s := sm3.Sum([]byte(fmt.Sprint(i)))
		h := hex.EncodeToString(s[:])
		if err := acc.AddEntryHash(h); err != nil {
			t.Fatal(err)
		}
		leaf, _ := LeafHash(SM3, h)
		if err := rng.Append(leaf, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(acc.Root(), rng.Root()) {
			t.Fatalf("size %d: accumulator %x, range %x", i+1, acc.Root(), rng.Root())
		}
	}
}

// TestSM2NoteSignature: a checkpoint note signed with an SM2 key opens with
// that key's verifier, not with another SM2 key's nor after a byte of its
// text changed; the key text form round-trips.
func TestSM2NoteSignature(t *testing.T) {
	key, err := SM.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := SM.GenerateKey()
	body := Body{Origin: "zonevet/decision-log/test", Size: 3, Root: make([]byte, 32)}.Text()
	s, err := NoteSigner("zonevet/decision-log/test", key)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Sign(body, s)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := NoteVerifier("zonevet/decision-log/test", Public(key))
	if _, err := Open(msg, v); err != nil {
		t.Fatalf("own key: %v", err)
	}
	w, _ := NoteVerifier("zonevet/decision-log/test", Public(other))
	if _, err := Open(msg, w); err == nil {
		t.Fatal("another SM2 key opened the note")
	}
	if _, err := Open(strings.Replace(msg, "\n3\n", "\n4\n", 1), v); err == nil {
		t.Fatal("a changed tree size verified")
	}
	text := KeyString(Public(key))
	if !strings.HasPrefix(text, "sm2:") {
		t.Fatalf("key text %q", text)
	}
	back, ok, err := ParseKeyString(text)
	if !ok || err != nil || KeyString(back) != text {
		t.Fatalf("round trip: %v %v %q", ok, err, KeyString(back))
	}
	if _, _, err := ParseKeyString("sm2:" + strings.Repeat("A", 88)); err == nil {
		t.Fatal("a point off the curve was taken")
	}
}
