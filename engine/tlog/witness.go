package tlog

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Witness is an independent cosigner of a log's checkpoints (the audit
// office's, on its own machine, with its own key). It keeps the last
// checkpoint it cosigned per log, and cosigns a new one only if a
// consistency proof shows it extends that one: it never cosigns a smaller
// tree, another tree of the same size, or a fork, and it records every
// refusal. A log that rewrote history after a cosigned checkpoint can then
// show its auditors no cosignature for the rewrite.
type Witness struct {
	Name    string             // the cosigner's key name
	Key     ed25519.PrivateKey // the witness's own key
	LogKey  crypto.PublicKey   // the log's checkpoint key (Ed25519 or SM2), obtained independently; its type says the log's suite
	State   string             // file: the last cosigned checkpoint per origin (JSON)
	Refused string             // file: every refusal, one JSON line each
	Now     func() time.Time

	mu sync.Mutex
}

// WitnessState is what a witness keeps per log origin.
type WitnessState struct {
	Size uint64 `json:"size"`
	Root string `json:"root"` // base64
	Note string `json:"note"` // the checkpoint with the witness's cosignature
}

// WitnessError is a refusal or a request the witness cannot take; Status
// is the HTTP status C2SP tlog-witness gives it, KnownSize the size the
// witness holds when the request's old size was another (409).
type WitnessError struct {
	Status    int
	Msg       string
	KnownSize uint64
}

func (e *WitnessError) Error() string { return e.Msg }

// Refusal is one line of the witness's refusal file.
type Refusal struct {
	Time    time.Time `json:"time"`
	Origin  string    `json:"origin"`
	OldSize uint64    `json:"old_size"`
	Size    uint64    `json:"size"`
	Reason  string    `json:"reason"`
	Note    string    `json:"note"`
}

func (w *Witness) load() (map[string]WitnessState, error) {
	data, err := os.ReadFile(w.State)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]WitnessState{}, nil
	} else if err != nil {
		return nil, err
	}
	st := map[string]WitnessState{}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("witness state %s: %w", w.State, err)
	}
	return st, nil
}

// save writes the state to a temporary file and renames it into place, so
// a crash leaves the old state or the new, never half of one.
func (w *Witness) save(st map[string]WitnessState) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := w.State + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, w.State)
}

func (w *Witness) refuse(origin string, old, size uint64, note string, status int, reason string) error {
	line, _ := json.Marshal(Refusal{Time: w.Now().UTC(), Origin: origin, OldSize: old, Size: size, Reason: reason, Note: note})
	if err := os.MkdirAll(filepath.Dir(w.Refused), 0o700); err == nil {
		if f, err := os.OpenFile(w.Refused, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
			f.Write(append(line, '\n'))
			f.Sync()
			f.Close()
		}
	}
	return &WitnessError{Status: status, Msg: reason}
}

// Refusals reads the refusal file.
func (w *Witness) Refusals() ([]Refusal, error) {
	data, err := os.ReadFile(w.Refused)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []Refusal
	dec := json.NewDecoder(bytesReader(data))
	for dec.More() {
		var r Refusal
		if err := dec.Decode(&r); err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Latest returns the last cosigned checkpoint of origin, or "".
func (w *Witness) Latest(origin string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := w.load()
	if err != nil {
		return "", err
	}
	return st[origin].Note, nil
}

// AddCheckpoint is C2SP tlog-witness's add-checkpoint: note is the log's
// signed checkpoint, oldSize the size the log believes the witness holds,
// proof the consistency proof from oldSize to the checkpoint's size. It
// returns the cosignature line.
func (w *Witness) AddCheckpoint(oldSize uint64, proof [][]byte, note string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	origin, _, _ := cutLine(note)
	v, err := NoteVerifier(origin, w.LogKey)
	if err != nil {
		return "", w.refuse(origin, oldSize, 0, note, http.StatusForbidden, "the checkpoint's origin is not a valid key name: "+err.Error())
	}
	n, err := Open(note, v)
	if err != nil {
		return "", w.refuse(origin, oldSize, 0, note, http.StatusForbidden, "the checkpoint is not signed by the log's key")
	}
	b, err := ParseBody(n.Text)
	if err != nil {
		return "", w.refuse(origin, oldSize, 0, note, http.StatusBadRequest, err.Error())
	}
	st, err := w.load()
	if err != nil {
		return "", &WitnessError{Status: http.StatusInternalServerError, Msg: err.Error()}
	}
	known := st[origin]
	if oldSize != known.Size {
		return "", &WitnessError{Status: http.StatusConflict, Msg: fmt.Sprintf("the witness holds size %d, not %d", known.Size, oldSize), KnownSize: known.Size}
	}
	if b.Size < known.Size {
		return "", w.refuse(origin, oldSize, b.Size, note, http.StatusBadRequest,
			fmt.Sprintf("a smaller tree (%d) than the one cosigned (%d): the log was truncated", b.Size, known.Size))
	}
	if known.Size > 0 {
		root, _ := base64.StdEncoding.DecodeString(known.Root)
		suite, err := SuiteOfKey(w.LogKey)
		if err != nil {
			return "", err
		}
		if err := VerifyConsistency(suite.Tree, known.Size, b.Size, proof, root, b.Root); err != nil {
			return "", w.refuse(origin, oldSize, b.Size, note, http.StatusUnprocessableEntity,
				fmt.Sprintf("the tree of size %d does not extend the one cosigned at size %d (a fork or rewritten history): %v", b.Size, known.Size, err))
		}
	}
	line := Cosign(w.Name, w.Key, n.Text, w.Now())
	st[origin] = WitnessState{Size: b.Size, Root: base64.StdEncoding.EncodeToString(b.Root), Note: note + line}
	if err := w.save(st); err != nil {
		return "", &WitnessError{Status: http.StatusInternalServerError, Msg: err.Error()}
	}
	return line, nil
}

func cutLine(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
