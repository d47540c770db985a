package engine

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"time"

	"zonevet/engine/tlog"
)

// Cosignature is a witness's cosignature of one checkpoint (C2SP
// tlog-cosignature): Note is the checkpoint's signed note with the
// witness's signature line added.
type Cosignature struct {
	WitnessURL string    `json:"witness_url"`
	Name       string    `json:"name"` // the witness's key name
	Seq        int64     `json:"seq"`
	Time       time.Time `json:"time"`
	Note       string    `json:"note"`
}

// CosignatureStore keeps the cosignatures the witnesses returned. store.DB
// implements it.
type CosignatureStore interface {
	AddCosignature(ctx context.Context, c *Cosignature) error
	Cosignatures(ctx context.Context) ([]Cosignature, error)
}

// WitnessClient talks to one witness (C2SP tlog-witness add-checkpoint).
// A witness that holds another size than oldSize answers with it: conflict
// true and knownSize.
type WitnessClient interface {
	AddCheckpoint(ctx context.Context, oldSize int64, proof [][]byte, note string) (line string, knownSize int64, conflict bool, err error)
}

// cosigs is where the log's cosignatures are kept: the checkpoint store's when it
// keeps them (a test's own), the service's store otherwise.
func (l *AuditLog) cosigs() CosignatureStore {
	if cs, ok := l.cps.(CosignatureStore); ok {
		return cs
	}
	return l.svc.store
}

// WitnessState is what the proof page shows per witness.
type WitnessState struct {
	URL       string
	Name      string
	Seq       int64     // the last size it cosigned, 0 for none
	Time      time.Time // when
	Behind    int64     // signed checkpoints' size not yet cosigned by it
	LastError string
}

// PushCheckpoint hands the latest checkpoint with a tree to the witness at
// url, with the consistency proof from the size it last cosigned, and
// stores its cosignature. A witness already at that size is left alone. A
// witness that is down makes this fail and nothing else: the checkpoint
// waits, and the next push sends the latest one with a proof from what the
// witness holds (the queue is the gap between the two).
func (l *AuditLog) PushCheckpoint(ctx context.Context, url string, wc WitnessClient) (*Cosignature, error) {
	c, err := l.latestTreeCheckpoint(ctx, 1)
	if err != nil {
		return nil, err
	}
	all, err := l.cosigs().Cosignatures(ctx)
	if err != nil {
		return nil, err
	}
	old := lastCosigned(all, url).Seq
	if old >= c.Seq {
		return nil, nil
	}
	for try := 0; ; try++ {
		var proof [][]byte
		if old > 0 {
			if proof, err = l.trees().ConsistencyProof(ctx, old, c.Seq); err != nil {
				return nil, err
			}
		}
		line, known, conflict, err := wc.AddCheckpoint(ctx, old, proof, c.Note)
		if conflict && try == 0 && known <= c.Seq {
			old = known // the witness knows another size (a lost answer): prove from it
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("witness %s: %w", url, err)
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "— "), " ")
		co := &Cosignature{WitnessURL: url, Name: name, Seq: c.Seq, Time: l.svc.now().UTC(), Note: c.Note + line}
		if err := l.cosigs().AddCosignature(ctx, co); err != nil {
			return nil, err
		}
		return co, nil
	}
}

// lastCosigned is the witness at url's cosignature of the largest tree (the
// zero value when it has cosigned none).
func lastCosigned(all []Cosignature, url string) Cosignature {
	var last Cosignature
	for _, x := range all {
		if x.WitnessURL == url && x.Seq >= last.Seq {
			last = x
		}
	}
	return last
}

// WitnessStates says, per witness url, the last size it cosigned and when.
func (l *AuditLog) WitnessStates(ctx context.Context, urls []string) ([]WitnessState, error) {
	all, err := l.cosigs().Cosignatures(ctx)
	if err != nil {
		return nil, err
	}
	head := int64(0)
	if c, err := l.latestTreeCheckpoint(ctx, 1); err == nil {
		head = c.Seq
	}
	out := make([]WitnessState, len(urls))
	for i, u := range urls {
		last := lastCosigned(all, u)
		out[i].URL, out[i].Seq, out[i].Time, out[i].Name = u, last.Seq, last.Time, last.Name
		out[i].Behind = max(head-out[i].Seq, 0)
		l.svc.signer.mu.Lock()
		out[i].LastError = l.svc.signer.witnessErr[u]
		l.svc.signer.mu.Unlock()
	}
	return out, nil
}

// SetWitnessError records why the last push to url failed ("" : it worked),
// for the proof page.
func (l *AuditLog) SetWitnessError(url, msg string) {
	l.svc.signer.mu.Lock()
	defer l.svc.signer.mu.Unlock()
	if l.svc.signer.witnessErr == nil {
		l.svc.signer.witnessErr = map[string]string{}
	}
	l.svc.signer.witnessErr[url] = msg
}

// WitnessKey is a witness an auditor trusts: its key name and public key.
type WitnessKey struct {
	Name string
	Key  ed25519.PublicKey
}

// ParseWitnessKey reads NAME=KEY (KEY as ParsePublicKey takes it).
func ParseWitnessKey(s string) (WitnessKey, error) {
	name, key, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return WitnessKey{}, errors.New(`witness key: want NAME=ed25519:<base64>, the name and key the witness printed`)
	}
	pub, err := ParsePublicKey(key)
	if err != nil {
		return WitnessKey{}, fmt.Errorf("witness key %s: %w", name, err)
	}
	// Cosignatures are C2SP tlog-cosignature/v1, which is Ed25519 only:
	// a witness keeps an Ed25519 key whatever suite the log it watches has.
	ed, ok := pub.(ed25519.PublicKey)
	if !ok {
		return WitnessKey{}, fmt.Errorf("witness key %s: cosignatures are Ed25519 (C2SP tlog-cosignature/v1); want ed25519:<base64>", name)
	}
	return WitnessKey{Name: name, Key: ed}, nil
}

// WitnessedCheckpoints returns, for each witness, the checkpoints it
// cosigned (cosignature and log signature both checked), for VerifyWith to
// match against the log like any checkpoint kept outside the database: a
// rewrite or a cut after a cosigned checkpoint cannot then pass. A witness
// with no valid cosignature at all is an error: requiring one is the point.
func (l *AuditLog) WitnessedCheckpoints(ctx context.Context, trusted crypto.PublicKey, ws []WitnessKey) ([]Checkpoint, error) {
	all, err := l.cosigs().Cosignatures(ctx)
	if err != nil {
		return nil, err
	}
	var out []Checkpoint
	for _, w := range ws {
		n := 0
		for _, x := range all {
			if x.Name != w.Name {
				continue
			}
			if _, err := tlog.VerifyCosignature(x.Note, w.Name, w.Key); err != nil {
				continue
			}
			c, err := ParseCheckpoint([]byte(stripSignatureLine(x.Note, w.Name)), trusted)
			if err != nil {
				continue
			}
			out = append(out, *c)
			n++
		}
		if n == 0 {
			return nil, Fail(ECONFLICT, "err.database_holds_no_valid", Args{"Name": w.Name})
		}
	}
	return out, nil
}

// WitnessedNote checks a checkpoint note as a witness handed it over (its
// latest cosigned, fetched by the auditor from the witness itself): the
// cosignature of one of ws and the log's signature; it returns the
// checkpoint for VerifyWith. Taken from the witness rather than the
// database, it catches a database whose newer checkpoints, cosignatures
// and tail were all removed.
func WitnessedNote(note string, trusted crypto.PublicKey, ws []WitnessKey) (*Checkpoint, error) {
	for _, w := range ws {
		if _, err := tlog.VerifyCosignature(note, w.Name, w.Key); err != nil {
			continue
		}
		return ParseCheckpoint([]byte(stripSignatureLine(note, w.Name)), trusted)
	}
	return nil, errors.New("the witness's checkpoint carries no valid cosignature by a witness key given")
}

// LogOriginOf is the origin of the stored log (from its first entry).
func (l *AuditLog) LogOriginOf(ctx context.Context) (string, error) {
	cps, err := l.store()
	if err != nil {
		return "", err
	}
	first, err := cps.AuditEntry(ctx, 1)
	if err != nil {
		return "", err
	}
	return LogOrigin(first.Hash), nil
}

// stripSignatureLine drops name's signature line from a note, leaving the
// log's own signed checkpoint.
func stripSignatureLine(note, name string) string {
	var keep []string
	for _, line := range strings.SplitAfter(note, "\n") {
		if !strings.HasPrefix(line, "— "+name+" ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}
