package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// GenesisHash is the PrevHash of the first entry of the log.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ChainHash is the hash of an entry chained to its predecessor: SHA-256 over
// prev and every field of e except Hash, each field written as an 8-byte
// big-endian length followed by its bytes, so no two different entries encode
// alike (no separator can be forged inside a reason).
func ChainHash(prev string, e *AuditEntry) string {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("zonevet-audit-v1")
	field(prev)
	field(strconv.FormatInt(e.Seq, 10))
	field(e.Time.UTC().Format(time.RFC3339Nano))
	field(e.Actor)
	field(string(e.Role))
	field(e.Park)
	field(strconv.FormatInt(e.ProjectID, 10))
	field(e.Event)
	field(string(e.FromState))
	field(string(e.ToState))
	field(e.Reason)
	field(e.RuleSetVersion)
	field(e.Payload)
	return hex.EncodeToString(h.Sum(nil))
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
	switch {
	case e.Seq != v.HeadSeq+1:
		v.Bad = &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("sequence gap or reorder: expected %d", v.HeadSeq+1)}
	case e.PrevHash != v.Head:
		v.Bad = &ChainBreak{Seq: e.Seq, Reason: "previous hash does not match the preceding entry (entry deleted, inserted or reordered)"}
	case ChainHash(e.PrevHash, e) != e.Hash:
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
