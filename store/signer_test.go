package store_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// signerWorld is a log of 12 entries checkpointed at #12 by cpKey, with the
// checkpoint file beside the database.
func signerWorld(t *testing.T) (*store.DB, *engine.Service, *engine.AuditLog, string) {
	t.Helper()
	db := mustOpen(t)
	mustLog(t, db, 12)
	svc, err := engine.NewService(context.Background(), engine.Config{Store: db, Checkpoints: db})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	svc.UseCheckpointFile(file)
	l := svc.AuditLog(cpKey)
	if c, _, err := l.Checkpoint(context.Background(), false); err != nil || c.Seq != 12 {
		t.Fatalf("first checkpoint %+v %v", c, err)
	}
	return db, svc, l, file
}

// rehash rewrites entry seq's reason and recomputes every hash from it to the
// head, as someone with the database and the code would: the chain is
// consistent in itself again.
func rehash(t *testing.T, db *store.DB, seq int64) {
	t.Helper()
	dropLogGuards(t, db)
	es, err := db.AuditEntries(context.Background(), engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	prev := es[seq-2].Hash
	for _, e := range es[seq-1:] {
		if e.Seq == seq {
			e.Reason = "改过的理由"
		}
		e.PrevHash = prev
		e.Hash = engine.ChainHash(prev, &e)
		if _, err := db.Writer().Exec(`UPDATE audit_log SET reason = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Reason, e.PrevHash, e.Hash, e.Seq); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
	}
}

// TestSignerVerifiesBeforeSigning: the signer signs a head only if the chain
// from the last checkpoint links to it; a log cut, regrown, rewritten or
// broken since then, or stripped of its checkpoints, is refused with the
// alarm raised and nothing signed.
func TestSignerVerifiesBeforeSigning(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, db *store.DB)
		want   string // in the refusal; "" = signs
	}{
		{"Intact", func(t *testing.T, db *store.DB) { mustLog(t, db, 3) }, ""},
		{"TailCut", func(t *testing.T, db *store.DB) {
			dropLogGuards(t, db)
			db.Writer().Exec(`DELETE FROM audit_log WHERE seq > 9`)
		}, "the tail was cut"},
		{"TailCutAndRegrown", func(t *testing.T, db *store.DB) {
			dropLogGuards(t, db)
			db.Writer().Exec(`DELETE FROM audit_log WHERE seq > 9`)
			mustLog(t, db, 5)
		}, "history up to it was rewritten"},
		{"RewrittenAndRehashed", func(t *testing.T, db *store.DB) { rehash(t, db, 5) }, "history up to it was rewritten"},
		{"BrokenSinceCheckpoint", func(t *testing.T, db *store.DB) {
			mustLog(t, db, 3)
			dropLogGuards(t, db)
			db.Writer().Exec(`UPDATE audit_log SET reason = 'x' WHERE seq = 14`)
		}, "does not link"},
		{"CheckpointsDeleted", func(t *testing.T, db *store.DB) {
			mustLog(t, db, 2)
			dropTriggers(t, db, "audit_checkpoints_no_delete")
			if _, err := db.Writer().Exec(`DELETE FROM audit_checkpoints`); err != nil {
				t.Fatal(err)
			}
		}, "deleted from the database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, svc, l, _ := signerWorld(t)
			tc.tamper(t, db)
			before, _ := db.Checkpoints(ctx)
			c, _, err := l.Checkpoint(ctx, true)
			after, _ := db.Checkpoints(ctx)
			if tc.want == "" {
				if err != nil || c == nil || c.Seq != 15 || svc.SignerAlarm() != nil {
					t.Fatalf("intact log: %+v %v (alarm %+v)", c, err, svc.SignerAlarm())
				}
				return
			}
			if !errors.Is(err, engine.ErrSignerRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("signing = %+v, %v; want a refusal saying %q", c, err, tc.want)
			}
			if a := svc.SignerAlarm(); a == nil || !strings.Contains(a.Problem, tc.want) {
				t.Fatalf("alarm = %+v", a)
			}
			if len(after) != len(before) {
				t.Fatalf("a refused signing stored a checkpoint: %d → %d", len(before), len(after))
			}
		})
	}
}

// TestVerifyCheckpointFile: checkpoints deleted from the database are found
// missing against the checkpoint file, and a log cut back to before a
// deleted checkpoint is caught by it.
func TestVerifyCheckpointFile(t *testing.T) {
	ctx := context.Background()
	db, _, l, file := signerWorld(t)
	mustLog(t, db, 2)
	if _, _, err := l.Checkpoint(ctx, false); err != nil {
		t.Fatal(err)
	}
	pub := cpKey.Public().(ed25519.PublicKey)
	fromFile, err := engine.ReadCheckpointFile(file)
	if err != nil || len(fromFile) != 2 {
		t.Fatalf("file holds %d checkpoints (%v), want 2", len(fromFile), err)
	}
	if res, err := l.VerifyWith(ctx, pub, fromFile); err != nil || !res.OK || res.CheckpointsGood != 2 {
		t.Fatalf("intact: %+v %v", res, err)
	}
	tamper(t, db, `DELETE FROM audit_checkpoints WHERE seq = 14`, "audit_checkpoints_no_delete")
	dropLogGuards(t, db)
	tamper(t, db, `DELETE FROM audit_log WHERE seq > 12`)
	if res, err := l.Verify(ctx, pub); err != nil || !res.OK {
		t.Fatalf("without the file the cut goes unseen (that is why the file exists): %+v %v", res, err)
	}
	res, err := l.VerifyWith(ctx, pub, fromFile)
	if err != nil || res.OK {
		t.Fatalf("with the file: %+v %v; want broken", res, err)
	}
	got := strings.Join(res.Problems, "\n")
	for _, want := range []string{"checkpoint #14", "not in the database", "the tail was cut"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

// TestCheckpointFileTornLine: a crash in the middle of an append leaves a
// last line without its newline; it is not read as a checkpoint, does not
// stop the signer, and the next append cuts it off.
func TestCheckpointFileTornLine(t *testing.T) {
	ctx := context.Background()
	db, svc, l, file := signerWorld(t)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"checkpoints":[{"seq":13,"hash":"ab`)
	f.Close()
	if cps, err := engine.ReadCheckpointFile(file); err != nil || len(cps) != 1 {
		t.Fatalf("torn file reads %d checkpoints, %v; want the 1 whole one", len(cps), err)
	}
	mustLog(t, db, 1)
	if c, _, err := l.Checkpoint(ctx, false); err != nil || c.Seq != 13 || svc.SignerAlarm() != nil {
		t.Fatalf("signing after a torn append: %+v %v", c, err)
	}
	data, _ := os.ReadFile(file)
	if cps, err := engine.ReadCheckpointFile(file); err != nil || len(cps) != 2 || strings.Count(string(data), "\n") != 2 || !strings.HasSuffix(string(data), "\n") {
		t.Fatalf("after the next append: %d checkpoints, %v\n%s", len(cps), err, data)
	}
}

// TestPostgresTwoSignersOneCheckpointPerHead: two processes' signers on one
// PostgreSQL database, signing while decisions are appended, take turns
// (LockSigning): no head is checkpointed twice, the checkpoints climb with
// the log, and every one verifies, so neither signer forks the other.
func TestPostgresTwoSignersOneCheckpointPerHead(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	var logs []*engine.AuditLog
	var dbs []*store.DB
	for range 2 {
		db := mustOpenPath(t, url)
		svc, err := engine.NewService(ctx, engine.Config{Store: db, Checkpoints: db})
		if err != nil {
			t.Fatal(err)
		}
		dbs, logs = append(dbs, db), append(logs, svc.AuditLog(cpKey))
	}
	mustLog(t, dbs[0], 1)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i, l := range logs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 15 {
				if i == 0 {
					mustLog(t, dbs[i], 1)
				}
				if _, _, err := l.Checkpoint(ctx, false); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cps, err := dbs[1].Checkpoints(ctx)
	if err != nil || len(cps) < 2 {
		t.Fatalf("%d checkpoints, %v", len(cps), err)
	}
	for i, c := range cps {
		if i > 0 && c.Seq <= cps[i-1].Seq {
			t.Errorf("checkpoint #%d signed twice (or out of order) after #%d", c.Seq, cps[i-1].Seq)
		}
	}
	if res, err := logs[1].Verify(ctx, cpKey.Public().(ed25519.PublicKey)); err != nil || !res.OK || res.CheckpointsGood != len(cps) {
		t.Fatalf("verify: %+v %v", res, err)
	}
}
