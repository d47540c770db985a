package tlog

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"golang.org/x/mod/sumdb/note"
)

// Body is a checkpoint's signed text in the C2SP tlog-checkpoint format:
// the origin (the log's name), the tree size in decimal, the root hash in
// base64, then extension lines, each line ending in a newline. Tools that
// read checkpoints read the first three lines and skip the rest.
type Body struct {
	Origin     string
	Size       uint64
	Root       []byte
	Extensions []string // without their newlines
}

// Text is the body as signed.
func (b Body) Text() string {
	var s strings.Builder
	s.WriteString(b.Origin)
	s.WriteByte('\n')
	s.WriteString(strconv.FormatUint(b.Size, 10))
	s.WriteByte('\n')
	s.WriteString(base64.StdEncoding.EncodeToString(b.Root))
	s.WriteByte('\n')
	for _, x := range b.Extensions {
		s.WriteString(x)
		s.WriteByte('\n')
	}
	return s.String()
}

// ParseBody reads a checkpoint's text (the note's text, without signatures).
func ParseBody(text string) (Body, error) {
	if !strings.HasSuffix(text, "\n") {
		return Body{}, errors.New("checkpoint: text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return Body{}, errors.New("checkpoint: fewer than three lines")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return Body{}, fmt.Errorf("checkpoint: tree size %q is not a decimal number", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) == 0 {
		return Body{}, fmt.Errorf("checkpoint: root hash %q is not base64", lines[2])
	}
	for _, x := range lines[3:] {
		if x == "" {
			return Body{}, errors.New("checkpoint: empty extension line")
		}
	}
	return Body{Origin: lines[0], Size: size, Root: root, Extensions: lines[3:]}, nil
}

// Extension returns the value of the extension line "key value", or "".
func (b Body) Extension(key string) string {
	for _, x := range b.Extensions {
		if v, ok := strings.CutPrefix(x, key+" "); ok {
			return v
		}
	}
	return ""
}

// signer signs notes with an Ed25519 key the caller already holds (note's
// own NewSigner wants the key as its text encoding).
type signer struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
}

func (s *signer) Name() string    { return s.name }
func (s *signer) KeyHash() uint32 { return s.hash }
func (s *signer) Sign(msg []byte) ([]byte, error) {
	return ed25519.Sign(s.key, msg), nil
}

// Ed25519Signer signs notes as name with key; its key hash is note's, so
// any note verifier for (name, public key) accepts what it signs.
func Ed25519Signer(name string, key ed25519.PrivateKey) (note.Signer, error) {
	v, err := Ed25519Verifier(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	return &signer{name: name, hash: v.KeyHash(), key: key}, nil
}

// Ed25519Verifier verifies notes signed as name by pub.
func Ed25519Verifier(name string, pub ed25519.PublicKey) (note.Verifier, error) {
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, fmt.Errorf("checkpoint key: %w", err)
	}
	return note.NewVerifier(vkey)
}

// NoteSigner signs notes as name with an Ed25519 or SM2 key.
func NoteSigner(name string, key crypto.Signer) (note.Signer, error) {
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return Ed25519Signer(name, k)
	case *sm2.PrivateKey:
		v, err := NoteVerifier(name, &k.PublicKey)
		if err != nil {
			return nil, err
		}
		return &sm2NoteSigner{sm2NoteVerifier: *v.(*sm2NoteVerifier), key: k}, nil
	}
	return nil, fmt.Errorf("checkpoint key: type %T is neither Ed25519 nor SM2", key)
}

// NoteVerifier verifies notes signed as name by an Ed25519 or SM2 key.
func NoteVerifier(name string, pub crypto.PublicKey) (note.Verifier, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return Ed25519Verifier(name, k)
	case *ecdsa.PublicKey:
		if k.Curve != sm2.P256() {
			break
		}
		if name == "" || strings.ContainsAny(name, "+ \n") {
			return nil, fmt.Errorf("checkpoint key: malformed name %q", name)
		}
		return &sm2NoteVerifier{name: name, hash: noteKeyHash(name, SM2NoteAlg, KeyBytes(k)), pub: k}, nil
	}
	return nil, fmt.Errorf("checkpoint key: type %T is neither Ed25519 nor SM2", pub)
}

// VerifierKey is the standard text form of (name, pub) that note tools take:
// "name+hash+base64".
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	return note.NewEd25519VerifierKey(name, pub)
}

// Sign signs text with the signers and returns the whole note: the text, a
// blank line, one signature line per signer.
func Sign(text string, signers ...note.Signer) (string, error) {
	msg, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		return "", fmt.Errorf("checkpoint: sign: %w", err)
	}
	return string(msg), nil
}

// Open checks a note's signatures against the verifiers and returns its
// text and the signatures that verified; signatures by keys not given are
// left aside. At least one given verifier must have signed.
func Open(msg string, verifiers ...note.Verifier) (*note.Note, error) {
	n, err := note.Open([]byte(msg), note.VerifierList(verifiers...))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return n, nil
}

// SignatureLine returns the base64 of the signature by name in a note, or "".
func SignatureLine(msg, name string) string {
	_, sigs, ok := strings.Cut(msg, "\n\n")
	if !ok {
		return ""
	}
	for _, line := range strings.Split(sigs, "\n") {
		if rest, ok := strings.CutPrefix(line, "— "+name+" "); ok {
			return rest
		}
	}
	return ""
}
