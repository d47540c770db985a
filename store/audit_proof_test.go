package store_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"

	"zonevet/engine"
	"zonevet/store"
)

func proofWorld(t *testing.T, n int) (*store.DB, *engine.AuditLog) {
	t.Helper()
	db := mustOpen(t)
	mustLog(t, db, n)
	svc, err := engine.NewService(context.Background(), engine.Config{Store: db, Checkpoints: db})
	if err != nil {
		t.Fatal(err)
	}
	return db, svc.AuditLog(cpKey)
}

var cpPub = cpKey.Public().(ed25519.PublicKey)

// TestCheckpointIsSignedNote: a checkpoint is a C2SP signed note whose
// first three lines are the origin, the size and the RFC 6962 root, and the
// stored verifier accepts it.
func TestCheckpointIsSignedNote(t *testing.T) {
	db, l := proofWorld(t, 9)
	ctx := context.Background()
	c, _, err := l.Checkpoint(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(c.Note, "\n")
	first, _ := db.AuditEntry(ctx, 1)
	root := referenceRoot(t, logHashes(t, db))
	if lines[0] != "zonevet/decision-log/"+first.Hash[:16] || lines[1] != "9" || c.RootBytes() == nil ||
		string(c.RootBytes()) != string(root) || !strings.HasPrefix(lines[len(lines)-2], "— "+lines[0]+" ") {
		t.Fatalf("note:\n%s", c.Note)
	}
	if err := c.Verify(cpPub); err != nil {
		t.Fatal(err)
	}
	res, err := l.Verify(ctx, cpPub)
	if err != nil || !res.OK || res.CheckpointsGood != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	// The note is standard: the text form read back gives the same checkpoint.
	back, err := engine.ParseCheckpoint([]byte(c.Note), cpPub)
	if err != nil || back.Seq != c.Seq || back.Root != c.Root || back.Hash != c.Hash || !back.Time.Equal(c.Time) {
		t.Fatalf("parsed %+v %v", back, err)
	}
}

// TestProveAndVerifyProof: every entry's inclusion proof verifies offline
// from its JSON alone; an altered entry, a proof for another entry, a forged
// root or another key does not.
func TestProveAndVerifyProof(t *testing.T) {
	_, l := proofWorld(t, 13)
	ctx := context.Background()
	for seq := int64(1); seq <= 13; seq++ {
		d, err := l.Prove(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(d)
		var back engine.ProofDoc
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if err := engine.VerifyProof(&back, cpPub, nil); err != nil {
			t.Fatalf("entry %d: %v", seq, err)
		}
	}
	d, _ := l.Prove(ctx, 5)
	other, _ := l.Prove(ctx, 6)
	otherKey := ed25519.NewKeyFromSeed(make([]byte, 32))
	for _, tc := range []struct {
		name   string
		change func(d *engine.ProofDoc)
		key    ed25519.PublicKey
		want   string
	}{
		{"EntryAltered", func(d *engine.ProofDoc) { d.Entry.Reason += "!" }, cpPub, "entry altered"},
		{"EntryRehashed", func(d *engine.ProofDoc) {
			d.Entry.Reason += "!"
			d.Entry.Hash = engine.ChainHash(d.Entry.PrevHash, d.Entry)
		}, cpPub, "leaf hash"},
		{"ProofOfAnother", func(d *engine.ProofDoc) { d.Proof = other.Proof }, cpPub, "not in the log"},
		{"RootForged", func(d *engine.ProofDoc) { d.Checkpoint.Root = other.LeafHash }, cpPub, "differ from the signed note"},
		{"OtherKey", func(d *engine.ProofDoc) {}, otherKey.Public().(ed25519.PublicKey), "another key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, _ := json.Marshal(d)
			var c engine.ProofDoc
			_ = json.Unmarshal(data, &c)
			tc.change(&c)
			if err := engine.VerifyProof(&c, tc.key, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestConsistencyProof: the log after more entries extends the checkpoint
// an auditor kept; a log rewritten and re-treed behind it does not.
func TestConsistencyProof(t *testing.T) {
	db, l := proofWorld(t, 7)
	ctx := context.Background()
	old, _, err := l.Checkpoint(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := engine.ParseCheckpoint([]byte(old.Note), cpPub)
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, db, 6)
	if _, _, err := l.Checkpoint(ctx, true); err != nil {
		t.Fatal(err)
	}
	d, err := l.Consistency(ctx, kept)
	if err != nil || d.Checkpoint.Seq != 13 {
		t.Fatalf("%+v %v", d, err)
	}
	if err := engine.VerifyProof(d, cpPub, kept); err != nil {
		t.Fatal(err)
	}
	// A proof from another old checkpoint is not a proof from the one kept.
	mid := *kept
	mid.Seq = 6
	if err := engine.VerifyProof(d, cpPub, &mid); err == nil {
		t.Fatal("a proof from another checkpoint passed for the kept one")
	}
}
