// Package tlog is the decision log's transparency-log layer: an RFC 6962
// Merkle tree over the entries' chain hashes, the proofs it answers
// (inclusion, consistency) and checkpoints in the C2SP tlog-checkpoint
// signed-note format. It knows nothing of entries or of SQL: the store keeps
// the tree's nodes and hands them in through a NodeReader.
//
// The tree hashing and the proofs are github.com/transparency-dev/merkle's
// (RFC 6962 with SHA-256, as Certificate Transparency and Go's checksum
// database use); the notes are golang.org/x/mod/sumdb/note's. What is here
// is only the mapping of a zonevet log onto them.
package tlog

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"

	"github.com/transparency-dev/merkle"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Hasher hashes the tree: RFC 6962's leaf and node hashes.
type Hasher = merkle.LogHasher

// SHA256 is the default hasher, RFC 6962 over SHA-256.
var SHA256 Hasher = rfc6962.DefaultHasher

// NodeID names a node of the tree: level 0 are the leaves.
type NodeID = compact.NodeID

// LeafHash is the tree's leaf for an entry: RFC 6962's leaf hash of the
// entry's chain hash as bytes. The chain hash already commits to every
// field of the entry (and to its predecessors), so the tree needs nothing
// else of it.
func LeafHash(h Hasher, entryHash string) ([]byte, error) {
	raw, err := hex.DecodeString(entryHash)
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("tlog: entry hash %.16q is not hex", entryHash)
	}
	return h.HashLeaf(raw), nil
}

// NodeReader returns the stored hashes of the given (perfect) nodes, in order.
type NodeReader func(ids []NodeID) ([][]byte, error)

// Range is the right border of a tree of some size: all the tree needs to
// take the next leaf and to give its root. Append reports the nodes each
// leaf completes, for the store to keep.
type Range struct {
	h Hasher
	r *compact.Range
}

// NewRange starts an empty tree.
func NewRange(h Hasher) *Range {
	f := &compact.RangeFactory{Hash: h.HashChildren}
	return &Range{h: h, r: f.NewEmptyRange(0)}
}

// LoadRange rebuilds the border of a tree of size from the stored nodes.
func LoadRange(h Hasher, size uint64, read NodeReader) (*Range, error) {
	ids := compact.RangeNodes(0, size, nil)
	hashes, err := read(ids)
	if err != nil {
		return nil, err
	}
	f := &compact.RangeFactory{Hash: h.HashChildren}
	r, err := f.NewRange(0, size, hashes)
	if err != nil {
		return nil, fmt.Errorf("tlog: %w", err)
	}
	return &Range{h: h, r: r}, nil
}

// Size is the number of leaves.
func (r *Range) Size() uint64 { return r.r.End() }

// Append adds a leaf hash; visit gets the leaf and every node it completes,
// level by level upwards (CompletedNodes says which).
func (r *Range) Append(leaf []byte, visit func(id NodeID, hash []byte)) error {
	return r.r.Append(leaf, visit)
}

// Root is the tree's root hash (the empty tree's for size 0).
func (r *Range) Root() []byte {
	if r.r.End() == 0 {
		return r.h.EmptyRoot()
	}
	root, _ := r.r.GetRootHash(nil) // begin is 0, so it cannot fail
	return root
}

// Clone copies the range, so that an append can be tried and thrown away.
func (r *Range) Clone() *Range {
	f := &compact.RangeFactory{Hash: r.h.HashChildren}
	hs := append([][]byte(nil), r.r.Hashes()...)
	c, _ := f.NewRange(0, r.r.End(), hs)
	return &Range{h: r.h, r: c}
}

// CompletedNodes is how many nodes the leaf at index completes, itself
// included: levels 0 to the number of trailing ones of index. The store
// keeps them together, in one row for the leaf, level by level.
func CompletedNodes(index uint64) int { return bits.TrailingZeros64(index+1) + 1 }

// NodeRow says where a perfect node is kept: with the leaf that completed
// it (its last leaf), at position level in that row.
func NodeRow(id NodeID) (leafIndex uint64, pos int) {
	return (id.Index+1)<<id.Level - 1, int(id.Level)
}

// Root computes the root of the tree of size from the stored nodes: log(size) reads.
func Root(h Hasher, size uint64, read NodeReader) ([]byte, error) {
	r, err := LoadRange(h, size, read)
	if err != nil {
		return nil, err
	}
	return r.Root(), nil
}

// InclusionProof proves leaf index is in the tree of size, from stored nodes.
func InclusionProof(h Hasher, index, size uint64, read NodeReader) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("tlog: %w", err)
	}
	return fetchProof(h, nodes, read)
}

// ConsistencyProof proves the tree of size2 extends the tree of size1.
func ConsistencyProof(h Hasher, size1, size2 uint64, read NodeReader) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("tlog: %w", err)
	}
	return fetchProof(h, nodes, read)
}

func fetchProof(h Hasher, nodes proof.Nodes, read NodeReader) ([][]byte, error) {
	hashes, err := read(nodes.IDs)
	if err != nil {
		return nil, err
	}
	out, err := nodes.Rehash(hashes, h.HashChildren)
	if err != nil {
		return nil, fmt.Errorf("tlog: %w", err)
	}
	return out, nil
}

// VerifyInclusion checks an inclusion proof against a root.
func VerifyInclusion(h Hasher, index, size uint64, leaf []byte, p [][]byte, root []byte) error {
	if err := proof.VerifyInclusion(h, index, size, leaf, p, root); err != nil {
		return fmt.Errorf("inclusion proof: %w", err)
	}
	return nil
}

// VerifyConsistency checks that the tree (size2, root2) extends (size1, root1).
func VerifyConsistency(h Hasher, size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	if err := proof.VerifyConsistency(h, size1, size2, p, root1, root2); err != nil {
		return fmt.Errorf("consistency proof: %w", err)
	}
	return nil
}

// ErrMissingNode is returned by a NodeReader when the store lacks a node.
var ErrMissingNode = errors.New("tlog: tree node missing")
