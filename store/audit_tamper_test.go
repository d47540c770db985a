package store_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"

	"zonevet/engine"
	"zonevet/store"
)

// TestTamperTable is README's "What the decision log can and cannot prove"
// as a table: each way of tampering, done as someone with the database
// would, and the check named there that catches it — `audit verify` (the
// chain, the signed checkpoints and the signed Merkle roots, with the
// checkpoint file kept outside the database), or `audit consistency` from
// a checkpoint an auditor kept, checked with `audit verify-proof`.
func TestTamperTable(t *testing.T) {
	ctx := context.Background()
	pub := cpKey.Public().(ed25519.PublicKey)
	verify := func(t *testing.T, l *engine.AuditLog, file string) string {
		t.Helper()
		kept, err := engine.ReadCheckpointFile(file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := l.VerifyWith(ctx, pub, kept)
		if err != nil {
			t.Fatal(err)
		}
		if res.OK {
			return ""
		}
		return res.Summary()
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, db *store.DB)
		check  string // "verify" or "consistency"
		want   string
	}{
		{"ByteChange", func(t *testing.T, db *store.DB) {
			dropLogGuards(t, db)
			tamper(t, db, `UPDATE audit_log SET reason = reason || 'x' WHERE seq = 5`)
		}, "verify", "entry altered"},
		{"Delete", func(t *testing.T, db *store.DB) {
			dropLogGuards(t, db)
			tamper(t, db, `DELETE FROM audit_log WHERE seq = 5`)
		}, "verify", "sequence gap"},
		{"Swap", func(t *testing.T, db *store.DB) {
			dropLogGuards(t, db)
			tamper(t, db, `UPDATE audit_log SET seq = -5 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = -5`)
		}, "verify", "previous hash does not match"},
		{"Insert", func(t *testing.T, db *store.DB) {
			dropLogGuards(t, db)
			tamper(t, db, `UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5; UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000; INSERT INTO audit_log SELECT 5, time, actor, role, park, project_id, event, from_state, to_state, reason, rule_set_version, payload, prev_hash, hash, on_behalf_of FROM audit_log WHERE seq = 4`)
		}, "verify", "previous hash does not match"},
		{"RecomputeChain", func(t *testing.T, db *store.DB) { rehash(t, db, 5) }, "verify", "rewritten after it was signed"},
		{"RecomputeChainAndTree", func(t *testing.T, db *store.DB) {
			rehash(t, db, 5)
			tamper(t, db, `DELETE FROM audit_tree`, "audit_tree_no_delete")
		}, "consistency", "does not extend"},
		{"DeletedCheckpoints", func(t *testing.T, db *store.DB) {
			tamper(t, db, `DELETE FROM audit_checkpoints`, "audit_checkpoints_no_delete")
		}, "verify", "deleted from the database"},
		{"RewriteTailReSignedWithReplacedKey", func(t *testing.T, db *store.DB) {
			rehash(t, db, 10)
			other := ed25519.NewKeyFromSeed(make([]byte, 32))
			svc, _ := engine.NewService(ctx, engine.Config{Store: db, Checkpoints: db})
			if err := svc.LogSigningKeyChange(ctx, other.Public().(ed25519.PublicKey)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := svc.AuditLog(other).Checkpoint(ctx, true); err != nil {
				t.Fatal(err)
			}
		}, "verify", "rewritten after it was signed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _, l, file := signerWorld(t)
			kept, _ := db.Checkpoints(ctx)
			mustLog(t, db, 3)
			if _, _, err := l.Checkpoint(ctx, false); err != nil {
				t.Fatal(err)
			}
			if got := verify(t, l, file); got != "" {
				t.Fatalf("intact log: %s", got)
			}
			tc.tamper(t, db)
			var got string
			if tc.check == "verify" {
				got = verify(t, l, file)
			} else {
				again := mustOpenPath(t, db.Path()) // the tree rebuilt from the rewritten log
				svc, _ := engine.NewService(ctx, engine.Config{Store: again, Checkpoints: again})
				d, err := svc.AuditLog(nil).Consistency(ctx, &kept[0])
				if err != nil {
					t.Fatal(err)
				}
				if err := engine.VerifyProof(d, pub, &kept[0]); err != nil {
					got = err.Error()
				}
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("%s found %q, want %q", tc.check, got, tc.want)
			}
		})
	}
}

// TestForkShownToTwoAuditors: the operator shows auditor A the real log and
// auditor B a fork (history rewritten, tree rebuilt, signed with the same
// key). Each alone sees a well-signed checkpoint; B's consistency proof
// from the checkpoint A kept does not verify, so comparing checkpoints
// (a witness, or the two auditors) finds the fork.
func TestForkShownToTwoAuditors(t *testing.T) {
	ctx := context.Background()
	pub := cpKey.Public().(ed25519.PublicKey)
	db, _, l, _ := signerWorld(t)
	a, _, err := l.Checkpoint(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	// The fork: the history rewritten and the tree rebuilt from it.
	rehash(t, db, 4)
	tamper(t, db, `DELETE FROM audit_tree`, "audit_tree_no_delete")
	forked := mustOpenPath(t, db.Path())
	mustLog(t, forked, 2)
	svc, _ := engine.NewService(ctx, engine.Config{Store: forked, Checkpoints: forked})
	fl := svc.AuditLog(cpKey)
	// A signer refuses to sign the fork; the operator holding the key signs
	// it without the signer's check.
	if _, _, err := fl.Checkpoint(ctx, true); err == nil {
		t.Fatal("the signer signed a rewritten log")
	}
	seq, hash, _ := forked.AuditHead(ctx)
	root, _ := forked.TreeRoot(ctx, seq)
	first, _ := forked.AuditEntry(ctx, 1)
	b, err := engine.SignTreeCheckpoint(cpKey, engine.LogOrigin(first.Hash), seq, hash, root, a.Time.Add(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(pub); err != nil {
		t.Fatalf("B's checkpoint is well signed: %v", err)
	}
	p, err := forked.ConsistencyProof(ctx, a.Seq, b.Seq)
	if err != nil {
		t.Fatal(err)
	}
	d := &engine.ProofDoc{Format: engine.ConsistencyProofFormat, Old: a, Checkpoint: b, Proof: encodeB64(p)}
	if err := engine.VerifyProof(d, pub, a); err == nil || !strings.Contains(err.Error(), "does not extend") {
		t.Fatalf("fork: %v", err)
	}
}

func encodeB64(p [][]byte) []string {
	out := make([]string, len(p))
	for i, h := range p {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}
