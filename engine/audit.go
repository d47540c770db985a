package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"zonevet/engine/tlog"
)

// GenesisHash is the PrevHash of the first entry of the log.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ChainHash is the hash of an entry chained to its predecessor: SHA-256 over
// prev and every field of e except Hash, each field written as an 8-byte
// big-endian length followed by its bytes, so no two different entries encode
// alike (no separator can be forged inside a reason).
func ChainHash(prev string, e *AuditEntry) string {
	return ChainHashWith(tlog.Default, prev, e)
}

// ChainHashWith is ChainHash with the suite's hash (SM3 for the 国密
// suite); the message hashed is the same.
func ChainHashWith(s *tlog.Suite, prev string, e *AuditEntry) string {
	sum := s.Sum(appendChainMessage(make([]byte, 0, chainMessageSize(prev, e)), prev, e))
	return hex.EncodeToString(sum[:])
}

// chainHashSuite returns the suite whose ChainHashWith(e.PrevHash, e) is
// e.Hash, or nil for none, with buf as scratch space (returned for reuse):
// a verifier hashes a million entries, and building the message in one
// buffer and comparing the digest in place saves the allocations ChainHash
// makes. first (the suite the previous entry had; nil for the default) is
// tried first, so each entry of an intact log is hashed once; the caller
// checks the suite is the log's.
func chainHashSuite(buf []byte, e *AuditEntry, first *tlog.Suite) ([]byte, *tlog.Suite) {
	buf = appendChainMessage(buf[:0], e.PrevHash, e)
	order := [...]*tlog.Suite{tlog.Default, tlog.SM}
	if first == tlog.SM {
		order = [...]*tlog.Suite{tlog.SM, tlog.Default}
	}
	for _, s := range order {
		sum := s.Sum(buf)
		var hx [2 * sha256.Size]byte
		hex.Encode(hx[:], sum[:])
		if string(hx[:]) == e.Hash {
			return buf, s
		}
	}
	return buf, nil
}

// EntryHasher says with which suite an entry's hash is its own (nil: none).
// One is used by one goroutine at a time (it keeps its scratch buffer).
type EntryHasher func(*AuditEntry) *tlog.Suite

// NewEntryHasher tries first first (nil: the default suite first).
func NewEntryHasher(first *tlog.Suite) EntryHasher {
	var buf []byte
	return func(e *AuditEntry) *tlog.Suite {
		var s *tlog.Suite
		buf, s = chainHashSuite(buf, e, first)
		return s
	}
}

// EventLogSuite is the first entry of a log initialised with a crypto suite
// other than the default (`zonevet init --crypto sm`): its payload names
// the suite, and every hash of the log, this entry's included, is that
// suite's. A log whose first entry is anything else is of the default suite.
const EventLogSuite = "log_crypto"

// logSuiteRecord is an EventLogSuite entry's payload.
type logSuiteRecord struct {
	Suite     string `json:"suite"`
	Hash      string `json:"hash"`
	Signature string `json:"signature"`
	Library   string `json:"library"`
}

// LogSuiteEntry is the first entry of a log of suite s.
func LogSuiteEntry(s *tlog.Suite, t time.Time) AuditEntry {
	rec := logSuiteRecord{Suite: s.Name, Hash: "SHA-256", Signature: "Ed25519", Library: "Go standard library"}
	if s == tlog.SM {
		rec.Hash, rec.Signature, rec.Library = "SM3 (GB/T 32905-2016)", "SM2 (GB/T 32918.2-2016)", "github.com/emmansun/gmsm"
	}
	return AuditEntry{Time: t.UTC(), Actor: OperatorActor, Event: EventLogSuite,
		Reason:  fmt.Sprintf("决策日志密码套件:%s 杂凑,%s 签名 / decision log crypto suite: %s hash, %s signatures", rec.Hash, rec.Signature, rec.Hash, rec.Signature),
		Payload: payload(rec)}
}

// SuiteOf returns the suite the log's first entry records: the one it
// names when it is an EventLogSuite entry, the default otherwise (nil too).
func SuiteOf(first *AuditEntry) *tlog.Suite {
	if first == nil || first.Event != EventLogSuite {
		return tlog.Default
	}
	var rec logSuiteRecord
	if json.Unmarshal([]byte(first.Payload), &rec) != nil {
		return tlog.Default
	}
	s, err := tlog.SuiteByName(rec.Suite)
	if err != nil {
		return tlog.Default
	}
	return s
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
			if s == "" && f.Optional {
				continue
			}
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
	Suite   *tlog.Suite // the log's hash; nil is the default suite
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
	s := v.Suite
	if s == nil {
		s = tlog.Default
	}
	return v.check(e, ChainHashWith(s, e.PrevHash, e) == e.Hash)
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
	err := s.EachAuditEntry(ctx, func(e AuditEntry) error {
		if e.Seq == 1 {
			v.Suite = SuiteOf(&e)
		}
		return v.Check(&e)
	})
	if err != nil && v.Bad == nil {
		return nil, err
	}
	return v, nil
}
