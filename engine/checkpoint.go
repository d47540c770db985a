package engine

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
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
	Signature string    `json:"sig"` // base64 Ed25519 signature over CheckpointMessage
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
func SignCheckpoint(key ed25519.PrivateKey, seq int64, hash string, t time.Time) Checkpoint {
	t = t.UTC()
	sig := ed25519.Sign(key, CheckpointMessage(seq, hash, t))
	return Checkpoint{Seq: seq, Hash: hash, Time: t, Key: PublicKeyString(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(sig)}
}

// Verify checks the signature against trusted, the key the verifier got by
// an independent channel; the key named inside the checkpoint is a hint and
// is never trusted by itself.
func (c *Checkpoint) Verify(trusted ed25519.PublicKey) error {
	if c.Key != PublicKeyString(trusted) {
		return fmt.Errorf("checkpoint #%d was signed by another key (%s)", c.Seq, shortKey(c.Key))
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("checkpoint #%d: malformed signature", c.Seq)
	}
	if !ed25519.Verify(trusted, CheckpointMessage(c.Seq, c.Hash, c.Time), sig) {
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

// PublicKeyString renders a public key as "ed25519:<base64>", the form the UI
// shows, `zonevet audit pubkey` prints and `audit verify --pubkey` takes.
func PublicKeyString(pub ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// KeyFingerprint is a short, readable digest of a public key for people to
// compare over the phone: the first 16 bytes of its SHA-256 in groups.
func KeyFingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	var b strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02x%02x", sum[i], sum[i+1])
	}
	return b.String()
}

// ParsePublicKey reads a public key given as "ed25519:<base64>", bare base64,
// a PEM "PUBLIC KEY" block, or the name of a file holding any of these.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "ed25519:") && !strings.HasPrefix(s, "-----") {
		if data, err := os.ReadFile(s); err == nil {
			s = strings.TrimSpace(string(data))
		}
	}
	if blk, _ := pem.Decode([]byte(s)); blk != nil {
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("public key: not an Ed25519 key")
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "ed25519:"))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New(`public key: want "ed25519:<base64 of 32 bytes>", a PEM public key, or a file holding one`)
	}
	return ed25519.PublicKey(raw), nil
}

// LoadOrCreateSigningKey reads the Ed25519 signing key at path (PKCS#8 PEM,
// the form openssl reads), creating it with mode 0600 if the file does not
// exist. The key lives outside the database on purpose: whoever can rewrite
// the database must not thereby be able to sign a rewritten log.
func LoadOrCreateSigningKey(path string) (key ed25519.PrivateKey, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, false, gerr
		}
		der, merr := x509.MarshalPKCS8PrivateKey(priv)
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
			return LoadOrCreateSigningKey(path)
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
	return key, false, nil
}

// LoadSigningKey reads an existing signing key; a missing file is an error.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return ParseSigningKey(data)
}

// ParseSigningKey reads a PKCS#8 PEM Ed25519 private key.
func ParseSigningKey(data []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("not an Ed25519 key")
	}
	return priv, nil
}
