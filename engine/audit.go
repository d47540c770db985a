package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// GenesisHash is the PrevHash of the first entry of the log.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ChainHash is the hash of an entry chained to its predecessor: SHA-256 over
// prev and every field of e except Hash, each field written as an 8-byte
// big-endian length followed by its bytes, so no two different entries encode
// alike (no separator can be forged inside a reason).
func ChainHash(prev string, e *AuditEntry) string {
	sum := sha256.Sum256(appendChainMessage(make([]byte, 0, chainMessageSize(prev, e)), prev, e))
	return hex.EncodeToString(sum[:])
}

// chainHashMatches reports whether e.Hash is ChainHash(e.PrevHash, e), with
// buf as scratch space (returned for reuse): a verifier hashes a million
// entries, and building the message in one buffer and comparing the digest
// in place saves the allocations ChainHash makes.
func chainHashMatches(buf []byte, e *AuditEntry) ([]byte, bool) {
	buf = appendChainMessage(buf[:0], e.PrevHash, e)
	sum := sha256.Sum256(buf)
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	return buf, string(hx[:]) == e.Hash
}

const chainTag = "zonevet-audit-v1"

func chainMessageSize(prev string, e *AuditEntry) int {
	n := chainedFixedSize + len(prev)
	for i := range EntryFields {
		if f := &EntryFields[i]; f.Chained && f.Kind == FieldText {
			n += len(*f.text(e))
		}
	}
	return n
}

// appendChainMessage appends the bytes ChainHash hashes: the tag, prev, and
// every chained field of EntryFields in order, each after its length.
func appendChainMessage(b []byte, prev string, e *AuditEntry) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(chainTag)))
	b = append(b, chainTag...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(prev)))
	b = append(b, prev...)
	for i := range EntryFields {
		f := &EntryFields[i]
		if !f.Chained {
			continue
		}
		if f.Kind == FieldText {
			s := *f.text(e)
			b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
			b = append(b, s...)
			continue
		}
		// A number or a time is written into place after its length's slot.
		n := len(b)
		b = f.AppendValue(append(b, make([]byte, 8)...), e)
		binary.BigEndian.PutUint64(b[n:], uint64(len(b)-n-8))
	}
	return b
}

// ChainVerifier checks a log entry by entry, in the order given. Feed it with
// Check; it remembers the first break.
type ChainVerifier struct {
	Count   int64
	Head    string // hash of the last good entry
	HeadSeq int64
	Bad     *ChainBreak
}

// ChainBreak says where and why a chain is broken.
type ChainBreak struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

func (b *ChainBreak) Error() string { return fmt.Sprintf("entry %d: %s", b.Seq, b.Reason) }

// NewChainVerifier starts at the genesis hash.
func NewChainVerifier() *ChainVerifier { return &ChainVerifier{Head: GenesisHash} }

// Check verifies e against the entries seen so far and returns the first break, if any.
func (v *ChainVerifier) Check(e *AuditEntry) error {
	if v.Bad != nil {
		return v.Bad
	}
	return v.check(e, ChainHash(e.PrevHash, e) == e.Hash)
}

// check is Check with the entry's own hash already checked (hashOK: e.Hash
// is ChainHash(e.PrevHash, e)), as parallel verifiers do beside the stream;
// the links to the preceding entry are checked here, in order.
func (v *ChainVerifier) check(e *AuditEntry, hashOK bool) error {
	if v.Bad != nil {
		return v.Bad
	}
	switch {
	case e.Seq != v.HeadSeq+1:
		v.Bad = &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("sequence gap or reorder: expected %d", v.HeadSeq+1)}
	case e.PrevHash != v.Head:
		v.Bad = &ChainBreak{Seq: e.Seq, Reason: "previous hash does not match the preceding entry (entry deleted, inserted or reordered)"}
	case !hashOK:
		v.Bad = &ChainBreak{Seq: e.Seq, Reason: "content does not match its hash (entry altered)"}
	}
	if v.Bad != nil {
		return v.Bad
	}
	v.Count++
	v.Head, v.HeadSeq = e.Hash, e.Seq
	return nil
}

// VerifyLog walks the store's whole log and returns the verifier's result.
func VerifyLog(ctx context.Context, s Store) (*ChainVerifier, error) {
	v := NewChainVerifier()
	err := s.EachAuditEntry(ctx, func(e AuditEntry) error { return v.Check(&e) })
	if err != nil && v.Bad == nil {
		return nil, err
	}
	return v, nil
}
