package tlog

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Accumulator computes RFC 6962 roots (SHA-256, or the suite's hash) as leaves stream in, without
// allocating: a verifier of a million entries rebuilds the whole tree, and
// the general Range (any hasher, node visits) allocates several times per
// leaf. It gives exactly Range's roots (a test holds it to that).
type Accumulator struct {
	size  uint64
	peaks [64][sha256.Size]byte // peaks[i]: the perfect subtree of level levels[i]
	n     int
	buf   [1 + 2*sha256.Size]byte
	sum   func([]byte) [32]byte // nil: SHA-256
}

// NewAccumulator is an accumulator for the suite's tree (RFC 6962 over its
// hash; both suites' hashes are 32 bytes). The zero Accumulator is SHA-256's.
func NewAccumulator(s *Suite) *Accumulator { return &Accumulator{sum: s.Sum} }

func (a *Accumulator) hash(b []byte) [32]byte {
	if a.sum == nil {
		return sha256.Sum256(b)
	}
	return a.sum(b)
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
	leaf := a.hash(a.buf[:1+sha256.Size])
	// Merge with the peaks the new leaf completes: one per trailing one bit of size.
	for s := a.size; s&1 == 1; s >>= 1 {
		a.n--
		a.buf[0] = 1
		copy(a.buf[1:], a.peaks[a.n][:])
		copy(a.buf[1+sha256.Size:], leaf[:])
		leaf = a.hash(a.buf[:])
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
		s := a.hash(nil)
		return s[:]
	}
	root := a.peaks[a.n-1]
	for i := a.n - 2; i >= 0; i-- {
		a.buf[0] = 1
		copy(a.buf[1:], a.peaks[i][:])
		copy(a.buf[1+sha256.Size:], root[:])
		root = a.hash(a.buf[:])
	}
	return root[:]
}
