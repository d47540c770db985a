package tlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

// TestAccumulatorMatchesRange: the allocation-free accumulator gives the
// library's root at every size up to 1,100 (past several powers of two).
func TestAccumulatorMatchesRange(t *testing.T) {
	var a Accumulator
	r := NewRange(SHA256)
	if !bytes.Equal(a.Root(), r.Root()) {
		t.Fatal("empty roots differ")
	}
	for i := range 1100 {
		s := sha256.Sum256([]byte(fmt.Sprint(i)))
		h := hex.EncodeToString(s[:])
		if err := a.AddEntryHash(h); err != nil {
			t.Fatal(err)
		}
		leaf, _ := LeafHash(SHA256, h)
		if err := r.Append(leaf, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Root(), r.Root()) {
			t.Fatalf("size %d: accumulator %x, range %x", i+1, a.Root(), r.Root())
		}
	}
	if a.AddEntryHash("zz") == nil {
		t.Fatal("a malformed hash was taken")
	}
}
