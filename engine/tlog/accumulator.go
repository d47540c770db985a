package tlog

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Accumulator computes RFC 6962 SHA-256 roots as leaves stream in, without
// allocating: a verifier of a million entries rebuilds the whole tree, and
// the general Range (any hasher, node visits) allocates several times per
// leaf. It gives exactly Range's roots (a test holds it to that).
type Accumulator struct {
	size  uint64
	peaks [64][sha256.Size]byte // peaks[i]: the perfect subtree of level levels[i]
	n     int
	buf   [1 + 2*sha256.Size]byte
}

// AddEntryHash adds the leaf of an entry whose chain hash is hexHash.
func (a *Accumulator) AddEntryHash(hexHash string) error {
	if len(hexHash) != 2*sha256.Size {
		return errors.New("tlog: entry hash is not 32 bytes of hex")
	}
	a.buf[0] = 0
	if _, err := hex.Decode(a.buf[1:1+sha256.Size], []byte(hexHash)); err != nil {
		return err
	}
	leaf := sha256.Sum256(a.buf[:1+sha256.Size])
	// Merge with the peaks the new leaf completes: one per trailing one bit of size.
	for s := a.size; s&1 == 1; s >>= 1 {
		a.n--
		a.buf[0] = 1
		copy(a.buf[1:], a.peaks[a.n][:])
		copy(a.buf[1+sha256.Size:], leaf[:])
		leaf = sha256.Sum256(a.buf[:])
	}
	a.peaks[a.n] = leaf
	a.n++
	a.size++
	return nil
}

// Size is the number of leaves added.
func (a *Accumulator) Size() uint64 { return a.size }

// Root is the root of the tree of the leaves added so far.
func (a *Accumulator) Root() []byte {
	if a.n == 0 {
		s := sha256.Sum256(nil)
		return s[:]
	}
	root := a.peaks[a.n-1]
	for i := a.n - 2; i >= 0; i-- {
		a.buf[0] = 1
		copy(a.buf[1:], a.peaks[i][:])
		copy(a.buf[1+sha256.Size:], root[:])
		root = sha256.Sum256(a.buf[:])
	}
	return root[:]
}
