package store_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"zonevet/engine"
	"zonevet/engine/tlog"
	"zonevet/store"
	"zonevet/store/storetest"
)

// smKey is the SM2 checkpoint key of the 国密 tests.
var smKey = func() crypto.Signer {
	k, err := tlog.SM.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
}()

// smWorld is signerWorld for a log initialised with the 国密 suite: its
// first entry records the suite, 12 entries follow, and the head is signed
// with an SM2 key.
func smWorld(t *testing.T) (*store.DB, *engine.Service, *engine.AuditLog, string) {
	t.Helper()
	ctx := context.Background()
	db := mustOpen(t)
	svc, err := engine.NewService(ctx, engine.Config{Store: db, Checkpoints: db})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RecordLogSuite(ctx, tlog.SM); err != nil {
		t.Fatal(err)
	}
	mustLog(t, db, 12)
	file := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	svc.UseCheckpointFile(file)
	l := svc.AuditLog(smKey)
	if c, _, err := l.Checkpoint(ctx, false); err != nil || c.Seq != 13 {
		t.Fatalf("first checkpoint %+v %v", c, err)
	}
	return db, svc, l, file
}

// rehashWith is rehash for a log of suite s: the forger uses the log's own hash.
func rehashWith(t *testing.T, db *store.DB, s *tlog.Suite, seq int64) {
	t.Helper()
	dropTriggers(t, db, "audit_log_no_update", "audit_log_no_delete", "audit_log_extend")
	es, err := db.AuditEntries(context.Background(), engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	prev := engine.GenesisHash
	if seq > 1 {
		prev = es[seq-2].Hash
	}
	for _, e := range es[seq-1:] {
		if e.Seq == seq {
			e.Reason = "改过的理由"
		}
		e.PrevHash = prev
		e.Hash = engine.ChainHashWith(s, prev, &e)
		if _, err := db.Writer().Exec(`UPDATE audit_log SET reason = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Reason, e.PrevHash, e.Hash, e.Seq); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
	}
}

// sm3Root is RFC 6962's root over SM3 written out from sm3.Sum alone: the
// leaves are SM3(0x00 || entry hash), a node SM3(0x01 || left || right),
// the split at the largest power of two below the size.
func sm3Root(hashes [][]byte) []byte {
	switch len(hashes) {
	case 0:
		s := sm3.Sum(nil)
		return s[:]
	case 1:
		s := sm3.Sum(append([]byte{0}, hashes[0]...))
		return s[:]
	}
	k := 1
	for k*2 < len(hashes) {
		k *= 2
	}
	s := sm3.Sum(append(append([]byte{1}, sm3Root(hashes[:k])...), sm3Root(hashes[k:])...))
	return s[:]
}

// TestSMLogHashesWithSM3: a log initialised with the 国密 suite records it
// in entry 1, chains every entry with SM3 (not SHA-256), keeps a tree whose
// root is RFC 6962 over SM3 computed from sm3.Sum, signs its checkpoints
// with SM2 ("sm2:" keys, SM2 notes), and passes verification with the SM2
// public key; the same log checked with an Ed25519 key fails.
func TestSMLogHashesWithSM3(t *testing.T) {
	ctx := context.Background()
	db, _, l, file := smWorld(t)
	if db.LogSuite() != tlog.SM {
		t.Fatalf("suite %q", db.LogSuite().Name)
	}
	es, err := db.AuditEntries(ctx, engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if es[0].Event != engine.EventLogSuite || !strings.Contains(es[0].Payload, `"suite":"sm"`) {
		t.Fatalf("first entry %+v", es[0])
	}
	var raw [][]byte
	for _, e := range es {
		if e.Hash == engine.ChainHash(e.PrevHash, &e) {
			t.Fatalf("entry %d is chained with SHA-256", e.Seq)
		}
		if e.Hash != engine.ChainHashWith(tlog.SM, e.PrevHash, &e) {
			t.Fatalf("entry %d is not chained with SM3", e.Seq)
		}
		b, _ := hex.DecodeString(e.Hash)
		raw = append(raw, b)
	}
	for _, size := range []int64{1, 2, 5, 8, 13} {
		root, err := db.TreeRoot(ctx, size)
		if err != nil {
			t.Fatal(err)
		}
		if want := sm3Root(raw[:size]); string(root) != string(want) {
			t.Fatalf("tree root at %d: %x, want %x", size, root, want)
		}
	}
	cps, _ := db.Checkpoints(ctx)
	if len(cps) != 1 || !strings.HasPrefix(cps[0].Key, "sm2:") || cps[0].Note == "" {
		t.Fatalf("checkpoints %+v", cps)
	}
	kept, _ := engine.ReadCheckpointFile(file)
	res, err := l.VerifyWith(ctx, tlog.Public(smKey), kept)
	if err != nil || !res.OK || res.CheckpointsGood != 1 {
		t.Fatalf("verify: %+v %v", res, err)
	}
	// The chain walk a backup runs on its copy (no key: the suite from entry 1).
	if v, err := engine.VerifyLog(ctx, db); err != nil || v.Bad != nil || v.Count != 13 {
		t.Fatalf("VerifyLog: %+v %v", v, err)
	}
	other := ed25519.NewKeyFromSeed(make([]byte, 32))
	if res, _ := l.VerifyWith(ctx, other.Public(), nil); res.OK {
		t.Fatal("an Ed25519 key verified an SM log's checkpoints")
	}
	// The key of the wrong kind cannot sign the log.
	svc2, _ := engine.NewService(ctx, engine.Config{Store: db, Checkpoints: db})
	if _, _, err := svc2.AuditLog(other).Checkpoint(ctx, true); err == nil || !strings.Contains(err.Error(), "sm2 keys") {
		t.Fatalf("an Ed25519 key signed an SM log: %v", err)
	}
}

// TestSMInclusionProofOffline: an inclusion proof of an SM log verifies
// with nothing but the SM2 public key, and not after its entry is edited.
func TestSMInclusionProofOffline(t *testing.T) {
	ctx := context.Background()
	_, _, l, _ := smWorld(t)
	d, err := l.Prove(ctx, 6)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := engine.ParsePublicKey(engine.PublicKeyString(tlog.Public(smKey)))
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.VerifyProof(d, pub, nil); err != nil {
		t.Fatalf("proof: %v", err)
	}
	d.Entry.Reason += "x"
	if err := engine.VerifyProof(d, pub, nil); err == nil || !strings.Contains(err.Error(), "entry altered") {
		t.Fatalf("edited proof: %v", err)
	}
}

// TestSMTamperTable is TestTamperTable's rows for a log of the 国密 suite,
// the forger using SM3 like the log: each is caught by the same check.
func TestSMTamperTable(t *testing.T) {
	ctx := context.Background()
	pub := tlog.Public(smKey)
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
		{"RecomputeChainSM3", func(t *testing.T, db *store.DB) { rehashWith(t, db, tlog.SM, 5) }, "verify", "rewritten after it was signed"},
		{"RecomputeChainAndTreeSM3", func(t *testing.T, db *store.DB) {
			rehashWith(t, db, tlog.SM, 5)
			tamper(t, db, `DELETE FROM audit_tree`, "audit_tree_no_delete")
		}, "consistency", "does not extend"},
		{"TruncateAfterLastCheckpoint", func(t *testing.T, db *store.DB) {
			dropLogGuards(t, db)
			tamper(t, db, `DELETE FROM audit_log WHERE seq > 14`)
		}, "verify", "the tail was cut"},
		{"SuiteRecordEdited", func(t *testing.T, db *store.DB) {
			dropLogGuards(t, db)
			edit := `replace(payload, '"suite":"sm"', '"suite":"ed25519"')`
			if storetest.OnPostgres() {
				edit = `convert_to(replace(convert_from(payload, 'UTF8'), '"suite":"sm"', '"suite":"ed25519"'), 'UTF8')`
			}
			tamper(t, db, `UPDATE audit_log SET payload = `+edit+` WHERE seq = 1`)
		}, "verify", "entry altered"},
		{"RewrittenAsSHA256Log", func(t *testing.T, db *store.DB) {
			// The whole log re-chained with SHA-256 and its suite record
			// removed, as a forger without the SM2 key would.
			dropLogGuards(t, db)
			tamper(t, db, `UPDATE audit_log SET event = 'login', payload = '' WHERE seq = 1`)
			rehashWith(t, db, tlog.Default, 1)
		}, "verify", "the trusted key is an sm2 key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _, l, file := smWorld(t)
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

// TestSMWitnessCosigns: a witness (its own key Ed25519, as C2SP
// tlog-cosignature/v1 requires) watching an SM log checks the SM2
// signature and the SM3 consistency proofs: it cosigns the first
// checkpoint and a consistent later one — the cosigned note verifies with
// the witness key and the sm2 log key — and refuses a fork (history
// re-chained with SM3, tree rebuilt, signed with the log's own key).
func TestSMWitnessCosigns(t *testing.T) {
	ctx := context.Background()
	db, svc, l, _ := smWorld(t)
	wkey := ed25519.NewKeyFromSeed(make([]byte, 32))
	dir := t.TempDir()
	w := &tlog.Witness{Name: "audit-office", Key: wkey, LogKey: tlog.Public(smKey),
		State: filepath.Join(dir, "state.json"), Refused: filepath.Join(dir, "refusals.jsonl"), Now: func() time.Time { return t0 }}
	first, _ := db.Checkpoints(ctx)
	line, err := w.AddCheckpoint(0, nil, first[0].Note)
	if err != nil {
		t.Fatalf("first checkpoint: %v", err)
	}
	ws := []engine.WitnessKey{{Name: "audit-office", Key: wkey.Public().(ed25519.PublicKey)}}
	if c, err := engine.WitnessedNote(first[0].Note+line, tlog.Public(smKey), ws); err != nil || c.Seq != 13 {
		t.Fatalf("cosigned note: %+v %v", c, err)
	}
	mustLog(t, db, 4)
	next, _, err := l.Checkpoint(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.ConsistencyProof(ctx, 13, next.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddCheckpoint(13, p, next.Note); err != nil {
		t.Fatalf("consistent checkpoint refused: %v", err)
	}

	rehashWith(t, db, tlog.SM, 5)
	tamper(t, db, `DELETE FROM audit_tree`, "audit_tree_no_delete")
	forked := mustOpenPath(t, db.Path())
	mustLog(t, forked, 2)
	seq, hash, _ := forked.AuditHead(ctx)
	root, _ := forked.TreeRoot(ctx, seq)
	origin, _ := svc.AuditLog(nil).LogOriginOf(ctx)
	b, err := engine.SignTreeCheckpoint(smKey, origin, seq, hash, root, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := forked.ConsistencyProof(ctx, next.Seq, seq)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddCheckpoint(uint64(next.Seq), fp, b.Note); err == nil || !strings.Contains(err.Error(), "does not extend") {
		t.Fatalf("fork: %v", err)
	}
}
