package engine

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"zonevet/engine/tlog"
)

// TreeStore answers from the Merkle tree over the log (engine/tlog) without
// re-hashing the log: the root of any prefix, inclusion and consistency
// proofs. store.DB implements it; it keeps the tree's nodes beside the
// entries, written in the entry's transaction.
type TreeStore interface {
	// TreeRoot is the root of the tree over entries 1..size.
	TreeRoot(ctx context.Context, size int64) ([]byte, error)
	// InclusionProof proves entry seq is in the tree over entries 1..size.
	InclusionProof(ctx context.Context, seq, size int64) ([][]byte, error)
	// ConsistencyProof proves the tree of size2 extends the tree of size1.
	ConsistencyProof(ctx context.Context, size1, size2 int64) ([][]byte, error)
}

// Extension lines of a zonevet checkpoint note, after the C2SP three: the
// chain hash of the head entry and the signing time, so the one signature
// vouches for the chain (which the existing verifiers check) and the tree.
const (
	noteHeadExt = "zonevet-head"
	noteTimeExt = "zonevet-time"
)

// LogOrigin is the checkpoint origin (and note key name) of a log whose
// first entry has hash first: unique per log, unchanged when keys change.
func LogOrigin(first string) string {
	if len(first) > 16 {
		first = first[:16]
	}
	return "zonevet/decision-log/" + first
}

// SignTreeCheckpoint signs the head (seq, hash) with the tree's root over
// entries 1..seq as a C2SP signed note.
func SignTreeCheckpoint(key crypto.Signer, origin string, seq int64, hash string, root []byte, t time.Time) (Checkpoint, error) {
	t = t.UTC()
	body := tlog.Body{Origin: origin, Size: uint64(seq), Root: root, Extensions: []string{
		noteHeadExt + " " + hash, noteTimeExt + " " + t.Format(time.RFC3339Nano)}}
	s, err := tlog.NoteSigner(origin, key)
	if err != nil {
		return Checkpoint{}, err
	}
	msg, err := tlog.Sign(body.Text(), s)
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Seq: seq, Hash: hash, Time: t, Key: PublicKeyString(tlog.Public(key)),
		Signature: tlog.SignatureLine(msg, origin), Root: base64.StdEncoding.EncodeToString(root), Note: msg}, nil
}

// noteBody opens c's note with trusted and returns its parsed body.
func (c *Checkpoint) noteBody(trusted crypto.PublicKey) (tlog.Body, error) {
	origin, _, _ := strings.Cut(c.Note, "\n")
	v, err := tlog.NoteVerifier(origin, trusted)
	if err != nil {
		return tlog.Body{}, fmt.Errorf("checkpoint #%d: %w", c.Seq, err)
	}
	n, err := tlog.Open(c.Note, v)
	if err != nil {
		return tlog.Body{}, fmt.Errorf("checkpoint #%d: signature invalid (forged or altered): %v", c.Seq, err)
	}
	return tlog.ParseBody(n.Text)
}

// verifyNote checks the note's signature and that the fields beside it say
// what the note says.
func (c *Checkpoint) verifyNote(trusted crypto.PublicKey) error {
	b, err := c.noteBody(trusted)
	if err != nil {
		return err
	}
	if int64(b.Size) != c.Seq || base64.StdEncoding.EncodeToString(b.Root) != c.Root || b.Extension(noteHeadExt) != c.Hash ||
		b.Extension(noteTimeExt) != c.Time.UTC().Format(time.RFC3339Nano) {
		return fmt.Errorf("checkpoint #%d: its fields differ from the signed note (altered)", c.Seq)
	}
	return nil
}

// RootBytes is the checkpoint's tree root, or nil for one signed before the tree.
func (c *Checkpoint) RootBytes() []byte {
	r, err := base64.StdEncoding.DecodeString(c.Root)
	if err != nil || c.Root == "" {
		return nil
	}
	return r
}

// ParseCheckpoint reads a checkpoint kept by an auditor: the signed note
// as `zonevet audit prove` and the proof page give it, or the JSON object of
// an export's "checkpoints" array. The trusted key is needed to read a bare
// note's fields back; they are checked, not trusted.
func ParseCheckpoint(data []byte, trusted crypto.PublicKey) (*Checkpoint, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var c Checkpoint
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
		return &c, nil
	}
	c := Checkpoint{Note: string(data) + "\n", Key: PublicKeyString(trusted)}
	b, err := c.noteBody(trusted)
	if err != nil {
		return nil, err
	}
	c.Seq, c.Hash, c.Root = int64(b.Size), b.Extension(noteHeadExt), base64.StdEncoding.EncodeToString(b.Root)
	if c.Time, err = time.Parse(time.RFC3339Nano, b.Extension(noteTimeExt)); err != nil {
		return nil, fmt.Errorf("checkpoint: no %s line", noteTimeExt)
	}
	c.Signature = tlog.SignatureLine(c.Note, b.Origin)
	return &c, nil
}

// Proof document formats.
const (
	InclusionProofFormat   = "zonevet-inclusion-proof-v1"
	ConsistencyProofFormat = "zonevet-consistency-proof-v1"
)

// ProofDoc is what `zonevet audit prove` and `audit consistency` print and
// `audit verify-proof` checks with no database: an entry, its leaf hash and
// an inclusion proof to a signed checkpoint; or a consistency proof from an
// older checkpoint to a newer one. Hashes are base64, as in checkpoints.
type ProofDoc struct {
	Format     string      `json:"format"`
	Entry      *AuditEntry `json:"entry,omitempty"`
	LeafIndex  int64       `json:"leaf_index,omitempty"`
	LeafHash   string      `json:"leaf_hash,omitempty"`
	Old        *Checkpoint `json:"old_checkpoint,omitempty"`
	Checkpoint Checkpoint  `json:"checkpoint"`
	Proof      []string    `json:"proof"`
}

// trees is where the log's tree are kept: the checkpoint store's when it
// keeps them (a test's own), the service's store otherwise.
func (l *AuditLog) trees() TreeStore {
	if ts, ok := l.cps.(TreeStore); ok {
		return ts
	}
	return l.svc.store
}

// latestTreeCheckpoint is the newest stored checkpoint with a root that
// covers at least seq entries, signing the head first when none does and
// this process can sign.
func (l *AuditLog) latestTreeCheckpoint(ctx context.Context, seq int64) (*Checkpoint, error) {
	cps, err := l.store()
	if err != nil {
		return nil, err
	}
	find := func() (*Checkpoint, error) {
		all, err := cps.Checkpoints(ctx)
		if err != nil {
			return nil, err
		}
		for i := len(all) - 1; i >= 0; i-- {
			if all[i].Note != "" && all[i].Seq >= seq {
				return &all[i], nil
			}
		}
		return nil, nil
	}
	c, err := find()
	if err != nil || c != nil {
		return c, err
	}
	if l.CanSign() {
		if _, _, err := l.Checkpoint(ctx, true); err != nil {
			return nil, err
		}
		if c, err = find(); err != nil || c != nil {
			return c, err
		}
	}
	return nil, Fail(ECONFLICT, "err.no_signed_checkpoint_covers", Args{"Seq": seq})
}

// Prove builds the inclusion proof of entry seq in the latest checkpoint
// that covers it (signing one first when none does and this view can sign).
func (l *AuditLog) Prove(ctx context.Context, seq int64) (*ProofDoc, error) {
	ts := l.trees()
	cps, err := l.store()
	if err != nil {
		return nil, err
	}
	e, err := cps.AuditEntry(ctx, seq)
	if err != nil {
		return nil, err
	}
	c, err := l.latestTreeCheckpoint(ctx, seq)
	if err != nil {
		return nil, err
	}
	return l.proveIn(ctx, ts, e, c)
}

func (l *AuditLog) proveIn(ctx context.Context, ts TreeStore, e *AuditEntry, c *Checkpoint) (*ProofDoc, error) {
	p, err := ts.InclusionProof(ctx, e.Seq, c.Seq)
	if err != nil {
		return nil, err
	}
	suite, err := l.Suite(ctx)
	if err != nil {
		return nil, err
	}
	leaf, err := tlog.LeafHash(suite.Tree, e.Hash)
	if err != nil {
		return nil, err
	}
	return &ProofDoc{Format: InclusionProofFormat, Entry: e, LeafIndex: e.Seq - 1,
		LeafHash: base64.StdEncoding.EncodeToString(leaf), Checkpoint: *c, Proof: encodeProof(p)}, nil
}

// ProveEntries gives an inclusion proof for each of es that the latest
// checkpoint with a tree covers, all against that checkpoint (a dossier's
// entries, so the printed dossier can be checked without the database).
// Entries after it get none until the next signing; nothing is signed here.
func (l *AuditLog) ProveEntries(ctx context.Context, es []AuditEntry) (map[int64]*ProofDoc, *Checkpoint, error) {
	ts := l.trees()
	if len(es) == 0 {
		return nil, nil, nil
	}
	all, err := l.cps.Checkpoints(ctx)
	if err != nil {
		return nil, nil, err
	}
	var c *Checkpoint
	for i := len(all) - 1; i >= 0 && c == nil; i-- {
		if all[i].Note != "" {
			c = &all[i]
		}
	}
	if c == nil {
		return nil, nil, nil
	}
	out := make(map[int64]*ProofDoc, len(es))
	for i := range es {
		if es[i].Seq > c.Seq {
			continue
		}
		d, err := l.proveIn(ctx, ts, &es[i], c)
		if err != nil {
			return nil, nil, err
		}
		out[es[i].Seq] = d
	}
	return out, c, nil
}

// JSON is the document as `zonevet audit verify-proof` reads it.
func (d *ProofDoc) JSON() string {
	b, _ := json.MarshalIndent(d, "", "  ")
	return string(b)
}

// Consistency proves the log now extends old, a checkpoint an auditor kept:
// the proof runs from old to the latest checkpoint with a tree, which is
// the head signed now when this view holds the key.
func (l *AuditLog) Consistency(ctx context.Context, old *Checkpoint) (*ProofDoc, error) {
	ts := l.trees()
	if old.RootBytes() == nil {
		return nil, Fail(EINVALID, "err.old_checkpoint_has_no", nil)
	}
	if l.CanSign() {
		// Prove up to the head as it is now; a signer that refuses (the
		// log was cut or rewritten) ends it here, with the alarm raised.
		if _, _, err := l.Checkpoint(ctx, false); err != nil {
			return nil, err
		}
	}
	c, err := l.latestTreeCheckpoint(ctx, old.Seq)
	if err != nil {
		return nil, err
	}
	p, err := ts.ConsistencyProof(ctx, old.Seq, c.Seq)
	if err != nil {
		return nil, err
	}
	o := *old
	return &ProofDoc{Format: ConsistencyProofFormat, Old: &o, Checkpoint: *c, Proof: encodeProof(p)}, nil
}

func encodeProof(p [][]byte) []string {
	out := make([]string, len(p))
	for i, h := range p {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}

func decodeProof(p []string) ([][]byte, error) {
	out := make([][]byte, len(p))
	for i, s := range p {
		h, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("proof hash %d is not base64", i)
		}
		out[i] = h
	}
	return out, nil
}

// VerifyProof checks a proof document offline against trusted, the log's
// public key obtained independently: the checkpoint's signature and, for an
// inclusion proof, that the entry matches its own chain hash, that the leaf
// is that hash's, and that the proof leads from the leaf to the signed root;
// for a consistency proof, both checkpoints' signatures and that the newer
// tree extends the older. kept, if not nil, is a checkpoint the auditor
// stored earlier: the document's old checkpoint must be it.
//
// The log's suite follows from trusted: an SM2 key's log hashes with SM3.
func VerifyProof(d *ProofDoc, trusted crypto.PublicKey, kept *Checkpoint) error {
	suite, err := tlog.SuiteOfKey(trusted)
	if err != nil {
		return err
	}
	if err := d.Checkpoint.Verify(trusted); err != nil {
		return err
	}
	root := d.Checkpoint.RootBytes()
	if root == nil || d.Checkpoint.Note == "" {
		return errors.New("the checkpoint carries no signed tree root")
	}
	p, err := decodeProof(d.Proof)
	if err != nil {
		return err
	}
	size := uint64(d.Checkpoint.Seq)
	switch d.Format {
	case InclusionProofFormat:
		e := d.Entry
		if e == nil {
			return errors.New("the document has no entry")
		}
		if ChainHashWith(suite, e.PrevHash, e) != e.Hash {
			return fmt.Errorf("entry #%d: content does not match its hash (entry altered)", e.Seq)
		}
		leaf, err := tlog.LeafHash(suite.Tree, e.Hash)
		if err != nil {
			return err
		}
		if base64.StdEncoding.EncodeToString(leaf) != d.LeafHash || d.LeafIndex != e.Seq-1 {
			return fmt.Errorf("entry #%d: leaf hash or index does not belong to the entry", e.Seq)
		}
		if e.Seq == d.Checkpoint.Seq && e.Hash != d.Checkpoint.Hash {
			return fmt.Errorf("entry #%d is the checkpoint's head but has another hash", e.Seq)
		}
		if err := tlog.VerifyInclusion(suite.Tree, uint64(d.LeafIndex), size, leaf, p, root); err != nil {
			return fmt.Errorf("entry #%d is not in the log checkpoint #%d signed: %w", e.Seq, d.Checkpoint.Seq, err)
		}
		return nil
	case ConsistencyProofFormat:
		old := d.Old
		if old == nil {
			return errors.New("the document has no old checkpoint")
		}
		if kept != nil && (kept.Seq != old.Seq || kept.Root != old.Root) {
			return fmt.Errorf("the proof starts from checkpoint #%d, not the one kept (#%d)", old.Seq, kept.Seq)
		}
		if err := old.Verify(trusted); err != nil {
			return fmt.Errorf("old %w", err)
		}
		if old.RootBytes() == nil {
			return errors.New("the old checkpoint carries no tree root")
		}
		if err := tlog.VerifyConsistency(suite.Tree, uint64(old.Seq), size, p, old.RootBytes(), root); err != nil {
			return fmt.Errorf("the log of checkpoint #%d does not extend the one of checkpoint #%d (history rewritten or forked): %w",
				d.Checkpoint.Seq, old.Seq, err)
		}
		return nil
	}
	return fmt.Errorf("unknown proof format %q", d.Format)
}

// treeCheck is the LogVerifier's Merkle tree: it rebuilds the tree from the
// entries it reads, so each checkpoint's signed root is checked against the
// log as it is.
type treeCheck struct {
	acc tlog.Accumulator
	bad bool
}

func (t *treeCheck) add(hash string) {
	if !t.bad && t.acc.AddEntryHash(hash) != nil {
		t.bad = true // an entry hash that is not one: the chain check says so
	}
}

func (t *treeCheck) root() string {
	if t.bad {
		return ""
	}
	return base64.StdEncoding.EncodeToString(t.acc.Root())
}

// Suite is the log's crypto suite, as its first entry records it (the
// default for an empty log or one whose first entry records none).
func (l *AuditLog) Suite(ctx context.Context) (*tlog.Suite, error) {
	cps, err := l.store()
	if err != nil {
		return nil, err
	}
	first, err := cps.AuditEntry(ctx, 1)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return tlog.Default, nil
		}
		return nil, err
	}
	return SuiteOf(first), nil
}

// RecordLogSuite makes suite the log's by writing its first entry
// (EventLogSuite). Only an empty log can take it: every later hash depends
// on the suite, so it is chosen once, at init. A log that already has the
// suite is left as it is.
func (s *Service) RecordLogSuite(ctx context.Context, suite *tlog.Suite) error {
	l := s.AuditLog(nil)
	have, err := l.Suite(ctx)
	if err != nil {
		return err
	}
	seq, _, err := s.checkpoints.AuditHead(ctx)
	if err != nil {
		return err
	}
	if seq > 0 {
		if have != suite {
			return Fail(EINVALID, "err.log_crypto_suite_fixed", Args{"Have": have.Name, "Want": suite.Name})
		}
		return nil
	}
	return s.store.Apply(ctx, &Change{Entry: LogSuiteEntry(suite, s.now())})
}

// CheckKeySuite says whether pub is of the kind of key the log's suite
// signs with (SM2 for the 国密 suite, Ed25519 otherwise).
func (s *Service) CheckKeySuite(ctx context.Context, pub crypto.PublicKey) error {
	suite, err := s.AuditLog(nil).Suite(ctx)
	if err != nil {
		return err
	}
	if ks, err := tlog.SuiteOfKey(pub); err != nil || ks != suite {
		return fmt.Errorf("%w: the decision log's %q suite signs with %s keys, the key at hand is %s", ErrKeyMismatch, suite.Name, suite.KeyType, PublicKeyString(pub))
	}
	return nil
}
