package engine

import (
	"zonevet/engine/tlog"

	"crypto"

	"fmt"
	"sort"
	"strings"
	"time"
)

// VerifyResult is what a verification found, for people (UI, CLI) and for
// the audit_verify entry that records it.
type VerifyResult struct {
	OK       bool        `json:"ok"`
	Partial  bool        `json:"partial,omitempty"` // a filtered export: links between entries not checkable
	Entries  int64       `json:"entries"`
	HeadSeq  int64       `json:"head_seq"`
	HeadHash string      `json:"head_hash"`
	Break    *ChainBreak `json:"break,omitempty"`
	// Checkpoints seen, and how many had a valid signature and matched the chain.
	Checkpoints      int           `json:"checkpoints"`
	CheckpointsGood  int           `json:"checkpoints_good"`
	LatestCheckpoint *Checkpoint   `json:"latest_checkpoint,omitempty"`
	Problems         []string      `json:"problems,omitempty"` // checkpoint findings, first maxProblems
	MoreProblems     int           `json:"more_problems,omitempty"`
	Duration         time.Duration `json:"duration_ns"`
	PublicKey        string        `json:"public_key,omitempty"`
	// KeyChanges are the signing-key changes the log records (signed by
	// nothing), under which checkpoints of another key were accepted.
	KeyChanges []string `json:"key_changes,omitempty"`
}

// Summary is one line saying what is wrong, or "intact".
func (r *VerifyResult) Summary() string {
	if r.OK {
		return "intact"
	}
	var parts []string
	if r.Break != nil {
		parts = append(parts, r.Break.Error())
	}
	parts = append(parts, r.Problems...)
	if r.MoreProblems > 0 {
		parts = append(parts, fmt.Sprintf("… and %d more", r.MoreProblems))
	}
	return strings.Join(parts, "; ")
}

const maxProblems = 20

// LogVerifier checks a stream of entries and the checkpoints that vouch for
// it: the hash chain (ChainVerifier), every checkpoint's signature against
// the trusted key, and that every checkpoint's (seq, hash) is on the chain.
// Feed it checkpoints (AddCheckpoints, before or alongside the entries they
// name) and entries in order (Entry), then call Finish.
//
// What each finding means: a checkpoint whose hash differs from the entry at
// its seq says the history up to that entry was rewritten after the
// checkpoint was signed (even if the rewritten chain is consistent in
// itself); a checkpoint beyond the last entry says the tail was cut.
type LogVerifier struct {
	chain   *ChainVerifier
	trusted crypto.PublicKey
	partial bool
	lastSeq int64
	pending map[int64][]Checkpoint // good signatures, waiting for their entry
	// handover: keys a signing_key_change entry names, with the range of
	// checkpoint seqs each may sign (HandOver).
	handover map[string][2]int64
	res      VerifyResult
	buf      []byte    // scratch for hashing
	tree     treeCheck // the Merkle tree rebuilt from the entries read
	// suite is the log's: the trusted key's, or else the one its first
	// entry records (nil until then).
	suite *tlog.Suite
}

// NewLogVerifier checks signatures against trusted (nil: every checkpoint
// counts as unverifiable). partial is for filtered exports: entries may skip
// seqs, so each entry's own hash is checked but not the links between them,
// and a checkpoint past the end proves nothing.
func NewLogVerifier(trusted crypto.PublicKey, partial bool) *LogVerifier {
	v := &LogVerifier{chain: NewChainVerifier(), trusted: trusted, partial: partial, pending: map[int64][]Checkpoint{}}
	v.res.Partial = partial
	if trusted != nil {
		v.res.PublicKey = PublicKeyString(trusted)
		v.suite, _ = tlog.SuiteOfKey(trusted)
	}
	return v
}

func (v *LogVerifier) problem(format string, args ...any) {
	if len(v.res.Problems) >= maxProblems {
		v.res.MoreProblems++
		return
	}
	v.res.Problems = append(v.res.Problems, fmt.Sprintf(format, args...))
}

// AddCheckpoints checks the signatures of cs and queues the good ones to be
// matched against the chain. A checkpoint for a seq already passed is
// matched against nothing and reported: checkpoints must come first.
func (v *LogVerifier) AddCheckpoints(cs []Checkpoint) {
	for _, c := range cs {
		v.res.Checkpoints++
		if v.trusted == nil {
			v.problem("checkpoint #%d: no public key to check its signature against", c.Seq)
			continue
		}
		if err := v.verifySignature(c); err != nil {
			v.problem("%v", err)
			continue
		}
		if c.Seq <= v.lastSeq && v.lastSeq > 0 {
			v.problem("checkpoint #%d arrived after its entry", c.Seq)
			continue
		}
		v.pending[c.Seq] = append(v.pending[c.Seq], c)
		if v.res.LatestCheckpoint == nil || c.Seq > v.res.LatestCheckpoint.Seq ||
			c.Seq == v.res.LatestCheckpoint.Seq && c.Time.After(v.res.LatestCheckpoint.Time) {
			cc := c
			v.res.LatestCheckpoint = &cc
		}
	}
}

// HandOver accepts checkpoints signed by key with seqs in [from, to]
// besides the trusted key's: the log recorded a signing-key change there
// (serve --new-signing-key), which the old key could not sign. note says so
// in the result.
func (v *LogVerifier) HandOver(key string, from, to int64, note string) {
	if v.handover == nil {
		v.handover = map[string][2]int64{}
	}
	v.handover[key] = [2]int64{from, to}
	v.res.KeyChanges = append(v.res.KeyChanges, note)
}

func (v *LogVerifier) verifySignature(c Checkpoint) error {
	err := c.Verify(v.trusted)
	if err == nil || c.Key == PublicKeyString(v.trusted) {
		return err
	}
	r, ok := v.handover[c.Key]
	if !ok || c.Seq < r[0] || c.Seq > r[1] {
		return err
	}
	pub, perr := ParsePublicKey(c.Key)
	if perr != nil {
		return err
	}
	return c.Verify(pub)
}

// Entry checks the next entry of the stream.
func (v *LogVerifier) Entry(e *AuditEntry) {
	var s *tlog.Suite
	v.buf, s = chainHashSuite(v.buf, e, v.suite)
	v.entry(e, s)
}

// entry is Entry with the entry's own hash already checked (hashedWith: the
// suite whose hash it is, nil for none), as the parallel verifiers do beside
// the stream: what needs the order (the links, the checkpoints, the log's
// suite) is done here.
func (v *LogVerifier) entry(e *AuditEntry, hashedWith *tlog.Suite) {
	v.res.Entries++
	if e.Seq == 1 && !v.partial {
		recorded := SuiteOf(e)
		if v.suite == nil {
			v.suite = recorded
		} else if recorded != v.suite {
			v.problem("the log's first entry records the %q crypto suite, but the trusted key is an %s key: the log was rewritten under another suite",
				recorded.Name, v.suite.KeyType)
		}
	}
	if v.res.Entries == 1 && !v.partial {
		if v.suite == nil {
			v.suite = tlog.Default // entry 1 is missing: the chain check says so
		}
		v.tree.acc = *tlog.NewAccumulator(v.suite)
	}
	hashOK := hashedWith != nil && (v.suite == nil || hashedWith == v.suite)
	if v.partial {
		switch {
		case e.Seq <= v.lastSeq:
			v.breakAt(e.Seq, fmt.Sprintf("out of order: after %d", v.lastSeq))
		case !hashOK:
			v.breakAt(e.Seq, "content does not match its hash (entry altered)")
		}
	} else {
		if v.chain.Bad == nil {
			_ = v.chain.check(e, hashOK)
		}
		v.tree.add(e.Hash)
	}
	v.lastSeq = e.Seq
	v.res.HeadSeq, v.res.HeadHash = e.Seq, e.Hash
	if cs, ok := v.pending[e.Seq]; ok {
		delete(v.pending, e.Seq)
		for _, c := range cs {
			if c.Hash != e.Hash {
				v.problem("checkpoint #%d signed %s says hash %.16s…, the log has %.16s…: history up to #%d was rewritten after it was signed",
					c.Seq, c.Time.Format(time.RFC3339), c.Hash, e.Hash, c.Seq)
				continue
			}
			if c.Root != "" && !v.partial && v.tree.root() != c.Root {
				v.problem("checkpoint #%d signed %s says Merkle root %.16s…, the log's tree has %.16s…: entries up to #%d were altered",
					c.Seq, c.Time.Format(time.RFC3339), c.Root, v.tree.root(), c.Seq)
				continue
			}
			v.res.CheckpointsGood++
		}
	}
}

func (v *LogVerifier) breakAt(seq int64, reason string) {
	if v.res.Break == nil {
		v.res.Break = &ChainBreak{Seq: seq, Reason: reason}
	}
}

// Finish reports checkpoints left unmatched and returns the result.
func (v *LogVerifier) Finish() *VerifyResult {
	if !v.partial && v.chain.Bad != nil {
		v.res.Break = v.chain.Bad
	}
	seqs := make([]int64, 0, len(v.pending))
	for s := range v.pending {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, s := range seqs {
		for _, c := range v.pending[s] {
			switch {
			case v.partial:
				// A filtered export need not hold the entry a checkpoint names.
			case s > v.lastSeq:
				v.problem("checkpoint #%d signed %s vouches for entries up to #%d, but the log ends at #%d: the tail was cut",
					c.Seq, c.Time.Format(time.RFC3339), c.Seq, v.lastSeq)
			default:
				v.problem("checkpoint #%d names an entry the log does not have", c.Seq)
			}
		}
	}
	v.res.OK = v.res.Break == nil && len(v.res.Problems) == 0 && v.res.MoreProblems == 0
	return &v.res
}
