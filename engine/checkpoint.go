package engine

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"zonevet/engine/tlog"
)

// Checkpoint is a signed statement "at Time the decision log ended at entry
// Seq, whose hash is Hash". The hash commits to every entry before it, so one
// signature vouches for the whole prefix: whoever rewrites history after a
// checkpoint was taken (even recomputing every hash) cannot make the
// checkpoint's hash reappear at its seq, and whoever cuts the tail leaves a
// checkpoint pointing past the end.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	Key       string    `json:"key"` // the signer's public key, "ed25519:<base64>"
	Signature string    `json:"sig"` // base64 Ed25519 signature over CheckpointMessage, or the note's signature
	// Root is the Merkle tree's root over entries 1..Seq (base64), and Note
	// the whole signed note (C2SP tlog-checkpoint) that vouches for Seq,
	// Hash, Time and Root together. Checkpoints signed before the tree have
	// neither and are checked as before.
	Root string `json:"root,omitempty"`
	Note string `json:"note,omitempty"`
}

// CheckpointStore keeps the signed checkpoints of the decision log's head,
// beside Store, and the auditor's reads of the log that Store does not have:
// filtered pages with a total, filtered streams, and one-snapshot exports.
// store.DB implements it.
type CheckpointStore interface {
	// AddCheckpoint stores a signed checkpoint (append-only).
	AddCheckpoint(ctx context.Context, c *Checkpoint) error
	// Checkpoints lists every stored checkpoint, ascending by seq then time.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
	// AuditHead returns the last entry's seq and hash (0 and GenesisHash for an empty log).
	AuditHead(ctx context.Context) (int64, string, error)
	// AuditPage returns one page of entries matching q and the total number matching.
	AuditPage(ctx context.Context, q AuditQuery) ([]AuditEntry, int, error)
	// AuditEntry returns one entry by seq.
	AuditEntry(ctx context.Context, seq int64) (*AuditEntry, error)
	// ExportAudit reads the checkpoints, then streams the entries matching q
	// in seq order, both from one read snapshot, so the checkpoints handed
	// over belong to exactly the log that is streamed. Memory stays constant.
	ExportAudit(ctx context.Context, q AuditQuery, checkpoints func([]Checkpoint) error, entry func(*AuditEntry) error) error
}

// SigningLocker is a CheckpointStore that several processes share (store.DB
// on PostgreSQL): LockSigning holds a lock across processes until release,
// so one signer at a time reads the head, signs and stores its checkpoint,
// and a second finds the head already vouched for instead of signing it again.
type SigningLocker interface {
	LockSigning(ctx context.Context) (release func(), err error)
}

// CheckpointMessage is the byte string a checkpoint signs: a domain tag and
// the three fields, each length-prefixed like ChainHash's encoding so that no
// choice of values can make two different checkpoints sign the same bytes.
func CheckpointMessage(seq int64, hash string, t time.Time) []byte {
	var b []byte
	field := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	field("zonevet-checkpoint-v1")
	field(strconv.FormatInt(seq, 10))
	field(hash)
	field(t.UTC().Format(time.RFC3339Nano))
	return b
}

// SignCheckpoint signs the head (seq, hash) at time t with key.
func SignCheckpoint(key crypto.Signer, seq int64, hash string, t time.Time) Checkpoint {
	t = t.UTC()
	sig, _ := tlog.SignMessage(key, CheckpointMessage(seq, hash, t)) // the suite's two key types cannot fail
	return Checkpoint{Seq: seq, Hash: hash, Time: t, Key: PublicKeyString(tlog.Public(key)),
		Signature: base64.StdEncoding.EncodeToString(sig)}
}

// Verify checks the signature against trusted, the key the verifier got by
// an independent channel; the key named inside the checkpoint is a hint and
// is never trusted by itself.
func (c *Checkpoint) Verify(trusted crypto.PublicKey) error {
	if c.Key != PublicKeyString(trusted) {
		return fmt.Errorf("checkpoint #%d was signed by another key (%s)", c.Seq, shortKey(c.Key))
	}
	if c.Note != "" {
		return c.verifyNote(trusted)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("checkpoint #%d: malformed signature", c.Seq)
	}
	if !tlog.VerifyMessage(trusted, CheckpointMessage(c.Seq, c.Hash, c.Time), sig) {
		return fmt.Errorf("checkpoint #%d: signature invalid (forged or altered)", c.Seq)
	}
	return nil
}

func shortKey(k string) string {
	if len(k) > 20 {
		return k[:20] + "…"
	}
	return k
}

// PublicKeyString renders a public key as "ed25519:<base64>" or
// "sm2:<base64>" (tlog.KeyString), the form the UI shows, `zonevet audit
// pubkey` prints and `audit verify --pubkey` takes.
func PublicKeyString(pub crypto.PublicKey) string { return tlog.KeyString(pub) }

// KeyFingerprint is a short, readable digest of a public key for people to
// compare over the phone: the first 16 bytes of its SHA-256 in groups.
func KeyFingerprint(pub crypto.PublicKey) string {
	sum := sha256.Sum256(tlog.KeyBytes(pub))
	var b strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02x%02x", sum[i], sum[i+1])
	}
	return b.String()
}

// ParsePublicKey reads a public key given as "ed25519:<base64>",
// "sm2:<base64>", bare base64 (Ed25519), a PEM "PUBLIC KEY" block (Ed25519
// or SM2), or the name of a file holding any of these.
func ParsePublicKey(s string) (crypto.PublicKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "ed25519:") && !strings.HasPrefix(s, "sm2:") && !strings.HasPrefix(s, "-----") {
		if data, err := os.ReadFile(s); err == nil {
			s = strings.TrimSpace(string(data))
		}
	}
	if blk, _ := pem.Decode([]byte(s)); blk != nil {
		k, err := smx509.ParsePKIXPublicKey(blk.Bytes) // x509's, and SM2's OID besides
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		if _, err := tlog.SuiteOfKey(k); err != nil {
			return nil, errors.New("public key: neither an Ed25519 nor an SM2 key")
		}
		return k, nil
	}
	if pub, ok, err := tlog.ParseKeyString(s); ok {
		return pub, err
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New(`public key: want "ed25519:<base64 of 32 bytes>", "sm2:<base64 of 65 bytes>", a PEM public key, or a file holding one`)
	}
	return ed25519.PublicKey(raw), nil
}

// LoadOrCreateSigningKey reads the Ed25519 signing key at path (PKCS#8 PEM,
// the form openssl reads), creating it with mode 0600 if the file does not
// exist. The key lives outside the database on purpose: whoever can rewrite
// the database must not thereby be able to sign a rewritten log.
func LoadOrCreateSigningKey(path string) (key crypto.Signer, created bool, err error) {
	return LoadOrCreateSigningKeyFor(path, tlog.Default)
}

// LoadOrCreateSigningKeyFor is LoadOrCreateSigningKey for a log of suite:
// a new key is of the suite's type (SM2 for the 国密 suite), and an
// existing key of another type is refused, since it could not sign for
// that log.
func LoadOrCreateSigningKeyFor(path string, suite *tlog.Suite) (key crypto.Signer, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		priv, gerr := suite.GenerateKey()
		if gerr != nil {
			return nil, false, gerr
		}
		der, merr := smx509.MarshalPKCS8PrivateKey(priv)
		if merr != nil {
			return nil, false, merr
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("signing key: %w", err)
		}
		// O_EXCL: two processes starting at once must not each write a key
		// and sign with different ones; the loser reads the winner's.
		f, oerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(oerr, fs.ErrExist) {
			return LoadOrCreateSigningKeyFor(path, suite)
		} else if oerr != nil {
			return nil, false, fmt.Errorf("signing key: %w", oerr)
		}
		werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, false, fmt.Errorf("signing key: write %s: %w", path, werr)
		}
		return priv, true, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("signing key: %w", err)
	}
	key, err = ParseSigningKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("signing key %s: %w", path, err)
	}
	if s, _ := tlog.SuiteOfKey(tlog.Public(key)); s != suite {
		return nil, false, fmt.Errorf("signing key %s is a %s key; the decision log's suite %q signs with %s keys", path, s.KeyType, suite.Name, suite.KeyType)
	}
	return key, false, nil
}

// LoadSigningKey reads an existing signing key; a missing file is an error.
func LoadSigningKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return ParseSigningKey(data)
}

// ParseSigningKey reads a PKCS#8 PEM Ed25519 or SM2 private key.
func ParseSigningKey(data []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := smx509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	switch priv := k.(type) {
	case ed25519.PrivateKey:
		return priv, nil
	case *sm2.PrivateKey:
		return priv, nil
	}
	return nil, errors.New("neither an Ed25519 nor an SM2 key")
}

// signerState is what the signer keeps beside the service: where it
// appends its checkpoints outside the database, and the alarm it raised
// when it last refused to sign. The alarm lives in the process, not in the
// decision log, because it says the log itself cannot be trusted.
type signerState struct {
	mu         sync.Mutex
	file       string
	alarm      *SignerAlarm
	witnessErr map[string]string // witness url → why the last push failed
}

// SignerAlarm is the signer's refusal to vouch for the log: the chain from
// the previous checkpoint to the head does not link, or checkpoints were
// deleted from the database. It stays raised until a signing succeeds.
type SignerAlarm struct {
	Time    time.Time `json:"time"`
	Problem string    `json:"problem"`
}

// ErrSignerRefused wraps every refusal of the signer, so the CLI and the
// periodic signer can tell it from an ordinary failure.
var ErrSignerRefused = errors.New("checkpoint signer refused to sign")

// UseCheckpointFile makes every signing of this service also append its
// checkpoint to path (JSON Lines, created if missing), a copy outside the
// database: whoever deletes checkpoints from the database cannot delete
// them there, and `audit verify --checkpoints FILE` finds them missing.
func (s *Service) UseCheckpointFile(path string) {
	s.signer.mu.Lock()
	defer s.signer.mu.Unlock()
	s.signer.file = path
}

// CheckpointFile is the path set by UseCheckpointFile, or "".
func (s *Service) CheckpointFile() string {
	s.signer.mu.Lock()
	defer s.signer.mu.Unlock()
	return s.signer.file
}

// SignerAlarm returns the signer's raised alarm, or nil.
func (s *Service) SignerAlarm() *SignerAlarm {
	s.signer.mu.Lock()
	defer s.signer.mu.Unlock()
	return s.signer.alarm
}

func (s *Service) raiseAlarm(problem string) error {
	s.signer.mu.Lock()
	s.signer.alarm = &SignerAlarm{Time: s.now().UTC(), Problem: problem}
	s.signer.mu.Unlock()
	return fmt.Errorf("%w: %s", ErrSignerRefused, problem)
}

func (s *Service) clearAlarm() {
	s.signer.mu.Lock()
	s.signer.alarm = nil
	s.signer.mu.Unlock()
}

// checkpointFileLine is one line of the checkpoint file: the shape of an
// export line's "checkpoints" array, so ReadExportCheckpoints reads the file
// as it reads an export.
type checkpointFileLine struct {
	Checkpoints []Checkpoint `json:"checkpoints"`
}

// ReadCheckpointFile reads the checkpoints appended to path; a file that
// does not exist holds none. A last line without its newline is a write the
// process did not finish (a crash mid-append) and is not a checkpoint: the
// database got it first, and the next append cuts it off.
func ReadCheckpointFile(path string) ([]Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("checkpoint file: %w", err)
	}
	complete := data[:bytes.LastIndexByte(data, '\n')+1]
	cps, err := ReadExportCheckpoints(bytes.NewReader(complete))
	if err != nil {
		return nil, fmt.Errorf("checkpoint file %s: %w", path, err)
	}
	return cps, nil
}

// appendCheckpointFile appends c to path as one line and syncs it, first
// cutting off an unfinished last line a crash left.
func appendCheckpointFile(path string, c Checkpoint) error {
	line, err := json.Marshal(checkpointFileLine{Checkpoints: []Checkpoint{c}})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("checkpoint file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("checkpoint file: %w", err)
	}
	err = func() error {
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		end := int64(bytes.LastIndexByte(data, '\n') + 1)
		if end != int64(len(data)) {
			if err := f.Truncate(end); err != nil {
				return err
			}
		}
		if _, err := f.WriteAt(append(line, '\n'), end); err != nil {
			return err
		}
		return f.Sync()
	}()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("checkpoint file %s: %w", path, err)
	}
	return nil
}

// sameCheckpoint reports whether a and b are the same signed statement.
func sameCheckpoint(a, b Checkpoint) bool {
	return a.Seq == b.Seq && a.Hash == b.Hash && a.Signature == b.Signature && a.Time.Equal(b.Time)
}

// selfSigned checks c's signature against the key it names: the file is
// ours, so the key it names there is trusted; whoever edits it must sign.
func selfSigned(c Checkpoint) bool {
	pub, err := ParsePublicKey(c.Key)
	return err == nil && c.Verify(pub) == nil
}

// headToSign checks, before anything is signed, that the log still holds
// what was vouched for and that everything since links to it, and returns
// the head to sign. The anchor is the latest checkpoint the signer can trust:
// one in the checkpoint file (written by a signer, outside the database) or
// one in the database signed by this key. Checkpoints in the database under
// another key are not anchors: anyone can sign a rewritten log with a key of
// their own. Without an anchor (the first signing, or the first with a new
// key) the whole chain is checked from its first entry.
//
// It refuses (an error wrapping ErrSignerRefused) when a checkpoint of the
// file is missing from the database (checkpoints deleted), when the log ends
// before the anchor (tail cut), when the entry at the anchor has another
// hash (history rewritten), or when the chain after it does not link.
func (l *AuditLog) headToSign(ctx context.Context, stored []Checkpoint) (seq int64, hash string, err error) {
	own := PublicKeyString(l.PublicKey())
	var anchor *Checkpoint
	consider := func(c Checkpoint) {
		if anchor == nil || c.Seq > anchor.Seq {
			cc := c
			anchor = &cc
		}
	}
	file := l.svc.CheckpointFile()
	if file != "" {
		fromFile, err := ReadCheckpointFile(file)
		if err != nil {
			return 0, "", err
		}
		for _, c := range fromFile {
			if !selfSigned(c) {
				return 0, "", l.svc.raiseAlarm(fmt.Sprintf("checkpoint #%d in %s has a bad signature: the file was edited", c.Seq, file))
			}
			if !slices.ContainsFunc(stored, func(d Checkpoint) bool { return sameCheckpoint(c, d) }) {
				return 0, "", l.svc.raiseAlarm(fmt.Sprintf("checkpoint #%d signed %s is in %s but not in the database: checkpoints were deleted from the database",
					c.Seq, c.Time.Format(time.RFC3339), file))
			}
			consider(c)
		}
	}
	for _, c := range stored {
		if c.Key == own && c.Verify(l.PublicKey()) == nil {
			consider(c)
		}
	}

	after := int64(0)
	if anchor != nil {
		after = anchor.Seq - 1
	}
	suite, err := l.Suite(ctx)
	if err != nil {
		return 0, "", err
	}
	chain := NewChainVerifier()
	chain.Suite = suite
	var broken error
	seen := false
	err = l.cps.ExportAudit(ctx, AuditQuery{AuditFilter: AuditFilter{AfterSeq: after}},
		func([]Checkpoint) error { return nil },
		func(e *AuditEntry) error {
			if broken != nil {
				return nil
			}
			if anchor != nil && !seen {
				seen = true
				switch {
				case e.Seq != anchor.Seq:
					broken = fmt.Errorf("the log has no entry #%d, which checkpoint #%d vouched for (entries deleted)", anchor.Seq, anchor.Seq)
				case e.Hash != anchor.Hash || ChainHashWith(suite, e.PrevHash, e) != e.Hash:
					broken = fmt.Errorf("entry #%d is not the one checkpoint #%d signed %s vouched for: history up to it was rewritten",
						e.Seq, anchor.Seq, anchor.Time.Format(time.RFC3339))
				default:
					chain.Head, chain.HeadSeq = e.Hash, e.Seq
				}
				return nil
			}
			if err := chain.Check(e); err != nil {
				broken = fmt.Errorf("the chain since the last checkpoint does not link: %w", err)
			}
			return nil
		})
	if err != nil {
		return 0, "", err
	}
	if broken == nil && anchor != nil && !seen {
		broken = fmt.Errorf("the log ends before entry #%d, which checkpoint #%d signed %s vouched for: the tail was cut",
			anchor.Seq, anchor.Seq, anchor.Time.Format(time.RFC3339))
	}
	if broken != nil {
		return 0, "", l.svc.raiseAlarm(broken.Error())
	}
	if chain.HeadSeq == 0 {
		return 0, GenesisHash, nil
	}
	return chain.HeadSeq, chain.Head, nil
}

// EventSigningKeyChange records that the checkpoint signing key changed
// without the old key vouching for it (the old key was lost, or not
// restored with a backup). Nothing signs this entry when it is written: the
// next checkpoint, under the new key, covers it with everything before.
const EventSigningKeyChange = "signing_key_change"

// keyChange is the payload of a signing_key_change entry.
type keyChange struct {
	OldKey         string `json:"old_key"`
	OldFingerprint string `json:"old_fingerprint"`
	NewKey         string `json:"new_key"`
	NewFingerprint string `json:"new_fingerprint"`
	LastCheckpoint int64  `json:"last_checkpoint_seq"` // the last entry the old key vouched for
	SignedBy       string `json:"signed_by"`           // always "nothing"
}

// ErrKeyMismatch is returned by CheckSigningKey when the log was last
// vouched for by another key than the one at hand.
var ErrKeyMismatch = errors.New("signing key does not match the decision log's checkpoints")

// CheckSigningKey says whether pub may sign this log's next checkpoint: the
// log has no checkpoint yet, or its last checkpoint was signed by pub, or a
// signing_key_change entry after that checkpoint handed over to pub. A
// restored backup started without its key file would otherwise get a new
// key silently, and every later checkpoint would contradict the old ones.
// The error wraps ErrKeyMismatch and names the key the log expects.
func (s *Service) CheckSigningKey(ctx context.Context, pub crypto.PublicKey) error {
	last, err := s.lastCheckpoint(ctx)
	if err != nil || last == nil {
		return err
	}
	own := PublicKeyString(pub)
	if last.Key == own {
		return nil
	}
	changes, err := s.store.AuditEntries(ctx, AuditFilter{Events: []string{EventSigningKeyChange}, AfterSeq: last.Seq})
	if err != nil {
		return err
	}
	for _, e := range changes {
		var kc keyChange
		if json.Unmarshal([]byte(e.Payload), &kc) == nil && kc.NewKey == own {
			return nil
		}
	}
	old, _ := ParsePublicKey(last.Key)
	return fmt.Errorf("%w: checkpoint #%d was signed by %s (fingerprint %s), the key at hand is %s (fingerprint %s)",
		ErrKeyMismatch, last.Seq, last.Key, KeyFingerprint(old), own, KeyFingerprint(pub))
}

// LogSigningKeyChange writes the signing_key_change entry that lets pub
// sign a log last vouched for by another key, as the operator at the
// command line decided (serve --new-signing-key). The entry says that
// nothing signs it.
func (s *Service) LogSigningKeyChange(ctx context.Context, pub crypto.PublicKey) error {
	last, err := s.lastCheckpoint(ctx)
	if err != nil {
		return err
	}
	kc := keyChange{NewKey: PublicKeyString(pub), NewFingerprint: KeyFingerprint(pub), SignedBy: "nothing"}
	if last != nil {
		kc.OldKey, kc.LastCheckpoint = last.Key, last.Seq
		if old, err := ParsePublicKey(last.Key); err == nil {
			kc.OldFingerprint = KeyFingerprint(old)
		}
	}
	e := AuditEntry{Time: s.now().UTC(), Actor: OperatorActor, Event: EventSigningKeyChange,
		Reason: fmt.Sprintf("检查点签名密钥更换为 %s;旧密钥未为此作证,本条目无任何签名 / signing key changed to %s; the old key did not vouch for it and nothing signs this entry",
			kc.NewFingerprint, kc.NewFingerprint),
		Payload: payload(kc)}
	return s.store.Apply(ctx, &Change{Entry: e})
}

func (s *Service) lastCheckpoint(ctx context.Context) (*Checkpoint, error) {
	all, err := s.checkpoints.Checkpoints(ctx)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	last := all[0]
	for _, c := range all[1:] {
		if c.Seq > last.Seq || c.Seq == last.Seq && c.Time.After(last.Time) {
			last = c
		}
	}
	return &last, nil
}

// handOverKeys tells v about the signing-key changes the log records: a
// verifier trusting the new key accepts the old key's checkpoints up to the
// change, one trusting the old key the new key's from the change on. Each
// change is named in the result, since nothing signs it.
func (s *Service) handOverKeys(ctx context.Context, v *LogVerifier, trusted crypto.PublicKey) error {
	if trusted == nil {
		return nil
	}
	changes, err := s.store.AuditEntries(ctx, AuditFilter{Events: []string{EventSigningKeyChange}})
	if err != nil {
		return err
	}
	own := PublicKeyString(trusted)
	for _, e := range changes {
		var kc keyChange
		if json.Unmarshal([]byte(e.Payload), &kc) != nil || kc.OldKey == "" {
			continue
		}
		note := fmt.Sprintf("entry #%d: the signing key changed from %s to %s, signed by nothing (checkpoints up to #%d are the old key's)",
			e.Seq, kc.OldFingerprint, kc.NewFingerprint, kc.LastCheckpoint)
		switch own {
		case kc.NewKey:
			v.HandOver(kc.OldKey, 0, kc.LastCheckpoint, note)
		case kc.OldKey:
			v.HandOver(kc.NewKey, e.Seq, 1<<62, note)
		}
	}
	return nil
}
