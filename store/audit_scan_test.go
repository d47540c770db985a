package store_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/engine/tlog"
	"zonevet/store"
)

// The whole log is read by two connections in chunks of seqs (audit_scan.go).
// These tests make the chunks small so that boundaries, the second
// connection's chunks and the hand-over in order are all exercised.

// mustOddLog appends n entries whose text is what a packed row must survive:
// colons and digits where lengths are parsed, NUL, invalid UTF-8, Chinese,
// empty fields.
func mustOddLog(t *testing.T, db *store.DB, n int) []engine.AuditEntry {
	t.Helper()
	ctx := context.Background()
	odd := []string{"", "12:34:", "\x00\xff非UTF-8\x00", "理由:3:abc", ":", "0", strings.Repeat("长", 3000)}
	for i := 1; i <= n; i++ {
		c := &engine.Change{Entry: engine.AuditEntry{Time: t0.Add(time.Duration(i) * time.Second), Actor: odd[i%len(odd)] + "u",
			Role: engine.RoleReviewer, Park: "qingyuan", ProjectID: int64(i%5 - 2), Event: "score", FromState: engine.StateDraft,
			Reason: odd[(i+1)%len(odd)], RuleSetVersion: odd[(i+2)%len(odd)], Payload: odd[(i+3)%len(odd)]}}
		if err := db.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	es, err := db.AuditEntries(ctx, engine.AuditFilter{})
	if err != nil || len(es) != n {
		t.Fatalf("entries: %d %v", len(es), err)
	}
	return es
}

func TestAuditScanParallel(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	want := mustOddLog(t, db, 41)
	for _, chunk := range []int64{1, 2, 4, 7, 40, 41, 1024} {
		t.Run(fmt.Sprint("Chunk", chunk), func(t *testing.T) {
			defer store.SetAuditScanChunk(chunk)()
			var got []engine.AuditEntry
			if err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error { got = append(got, e); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d entries, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("entry %d = %+v, want %+v", i+1, got[i], want[i])
				}
			}
			got = got[:0]
			err := db.ExportAudit(ctx, engine.AuditQuery{}, func([]engine.Checkpoint) error { return nil },
				func(e *engine.AuditEntry) error { got = append(got, *e); return nil })
			if err != nil || len(got) != len(want) || got[len(got)-1] != want[len(want)-1] || got[0] != want[0] {
				t.Fatalf("export: %d entries, %v", len(got), err)
			}
			if v, err := engine.VerifyLog(ctx, db); err != nil || v.Bad != nil || v.Count != int64(len(want)) {
				t.Fatalf("verify: %+v %v", v, err)
			}
		})
	}
}

// TestAuditScanParallelTamper: whatever chunk a tampered entry falls in (the
// first, the second connection's, either side of a boundary), the first bad
// entry and why are what a single reading in seq order finds.
func TestAuditScanParallelTamper(t *testing.T) {
	alter := func(seq int) string {
		return fmt.Sprintf(`UPDATE audit_log SET reason = reason || 'x' WHERE seq = %d;`, seq)
	}
	const altered = "content does not match its hash (entry altered)"
	const relinked = "previous hash does not match the preceding entry (entry deleted, inserted or reordered)"
	cases := []struct {
		name       string
		sql        string
		wantSeq    int64
		wantReason string
	}{
		{"LastOfFirstChunk", alter(4), 4, altered},
		{"FirstOfSecondChunk", alter(5), 5, altered},
		{"SecondConnection", alter(6), 6, altered},
		{"LastEntry", alter(40), 40, altered},
		{"FirstEntry", alter(1), 1, altered},
		{"TwoReportsTheFirst", alter(30) + alter(10), 10, altered},
		{"BothSidesOfBoundary", alter(9) + alter(8), 8, altered},
		{"SwapAcrossBoundary", `
			UPDATE audit_log SET seq = -4 WHERE seq = 4;
			UPDATE audit_log SET seq = 4 WHERE seq = 5;
			UPDATE audit_log SET seq = 5 WHERE seq = -4;`, 4, relinked},
		{"SwapContentAcrossBoundary", `
			UPDATE audit_log SET reason = (SELECT reason FROM audit_log WHERE seq = 5) || '' WHERE seq = 4;`, 4, altered},
		{"RehashedBeforeBoundary", "rehash 4", 5, relinked},
		// Not contiguous any more: read with one query; still the first bad one.
		{"DeleteAtBoundary", `DELETE FROM audit_log WHERE seq = 5`, 6, "sequence gap or reorder: expected 5"},
		{"DeleteFirst", `DELETE FROM audit_log WHERE seq = 1`, 2, "sequence gap or reorder: expected 1"},
		{"MovedFarPastHead", `UPDATE audit_log SET seq = 9223372036854775807 WHERE seq = 6`, 7, "sequence gap or reorder: expected 6"},
		{"MovedBeforeFirst", `UPDATE audit_log SET seq = -9223372036854775808 WHERE seq = 6`, -9223372036854775808, "sequence gap or reorder: expected 1"},
		{"InsertedAtBoundary", `INSERT INTO audit_log SELECT 0, time, actor, role, park, project_id, event, from_state, to_state,
			reason, rule_set_version, payload, prev_hash, hash, on_behalf_of FROM audit_log WHERE seq = 1`, 0, "sequence gap or reorder: expected 1"},
	}
	for _, chunk := range []int64{4, 5} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("Chunk%d/%s", chunk, tc.name), func(t *testing.T) {
				defer store.SetAuditScanChunk(chunk)()
				ctx := context.Background()
				db := mustOpen(t)
				es := mustLog(t, db, 40)
				w := db.Writer()
				dropLogGuards(t, db)
				q := tc.sql
				if q == "rehash 4" {
					e := es[3]
					e.Reason = "改过的理由"
					q = fmt.Sprintf(`UPDATE audit_log SET reason = '%s', hash = '%s' WHERE seq = 4`, e.Reason, engine.ChainHash(e.PrevHash, &e))
				}
				if _, err := w.ExecContext(ctx, q); err != nil {
					t.Fatalf("tamper: %v", err)
				}
				v, err := engine.VerifyLog(ctx, db)
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				if v.Bad == nil {
					t.Fatal("tampering not detected")
				}
				if v.Bad.Seq != tc.wantSeq || v.Bad.Reason != tc.wantReason {
					t.Fatalf("first bad = %d (%s), want %d (%s)", v.Bad.Seq, v.Bad.Reason, tc.wantSeq, tc.wantReason)
				}
				// What one ORDER BY seq query gives finds the same.
				all, err := db.AuditEntries(ctx, engine.AuditFilter{})
				if err != nil {
					t.Fatal(err)
				}
				ref := engine.NewChainVerifier()
				for i := range all {
					_ = ref.Check(&all[i])
				}
				if ref.Bad == nil || *ref.Bad != *v.Bad {
					t.Fatalf("first bad = %+v, one query in seq order finds %+v", v.Bad, ref.Bad)
				}
				// The same through the export path and the stored-log verification.
				svc, err := engine.NewService(ctx, engine.Config{Store: db, Checkpoints: db})
				if err != nil {
					t.Fatal(err)
				}
				res, err := svc.AuditLog(nil).Verify(ctx, cpKey.Public().(ed25519.PublicKey))
				if err != nil || res.OK || res.Break == nil || *res.Break != *v.Bad {
					t.Fatalf("stored-log verification: %+v %v, want break %+v", res, err, v.Bad)
				}
			})
		}
	}
}

// TestAuditScanParallelErrorsInOrder: a row that cannot be read is reported
// after every entry before it has been handed on, and a later bad row that
// the other connection reached first does not take its place.
func TestAuditScanParallelErrorsInOrder(t *testing.T) {
	defer store.SetAuditScanChunk(3)()
	ctx := context.Background()
	db := mustOpen(t)
	mustLog(t, db, 40)
	tamper(t, db, `
		UPDATE audit_log SET time = 'bad-time-7' WHERE seq = 7;
		UPDATE audit_log SET time = 'bad-time-23' WHERE seq = 23;
		UPDATE audit_log SET time = 'bad-time-38' WHERE seq = 38;`, "audit_log_no_update")
	for i := range 20 { // the two connections race differently each time
		var seen []int64
		err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error { seen = append(seen, e.Seq); return nil })
		if err == nil || !strings.Contains(err.Error(), "bad-time-7") {
			t.Fatalf("run %d: err = %v, want the error at entry 7", i, err)
		}
		if fmt.Sprint(seen) != "[1 2 3 4 5 6]" {
			t.Fatalf("run %d: handed on %v before the error, want 1…6", i, seen)
		}
	}
	t.Run("CallbackErrorStops", func(t *testing.T) {
		stop := errors.New("stop")
		var seen []int64
		err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error {
			seen = append(seen, e.Seq)
			if e.Seq == 5 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || fmt.Sprint(seen) != "[1 2 3 4 5]" {
			t.Fatalf("err = %v after %v, want stop after 1…5", err, seen)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		db := mustOpen(t)
		mustLog(t, db, 40)
		ctx, cancel := context.WithCancel(ctx)
		err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error {
			if e.Seq == 2 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// TestAuditScanUnreadableInPlace: an unreadable row where the scan meets it
// in order (on PostgreSQL an update of the last entry lands right after it
// in the heap, so the stream fails there rather than seeing the seqs break)
// is reported after exactly the entries before it, as everywhere else.
func TestAuditScanUnreadableInPlace(t *testing.T) {
	for _, chunk := range []int64{3, 40, 512} {
		t.Run(fmt.Sprintf("Chunk%d", chunk), func(t *testing.T) {
			defer store.SetAuditScanChunk(chunk)()
			db := mustOpen(t)
			mustLog(t, db, 40)
			tamper(t, db, `UPDATE audit_log SET time = 'bad-time-40' WHERE seq = 40`, "audit_log_no_update")
			var seen []int64
			err := db.EachAuditEntry(context.Background(), func(e engine.AuditEntry) error { seen = append(seen, e.Seq); return nil })
			if err == nil || !strings.Contains(err.Error(), "bad-time-40") {
				t.Fatalf("err = %v, want the error at entry 40", err)
			}
			if len(seen) != 39 || seen[0] != 1 || seen[38] != 39 {
				t.Fatalf("handed on %v before the error, want 1…39", seen)
			}
		})
	}
}

// TestAuditScanHeapOrder: rows whose place in the table is not their seq's
// (on PostgreSQL, deleted and inserted again: they now come last in the
// heap) are still read in seq order, the log unchanged.
//
// Holding at most 3 early rows, the stream gives up at the first moved row
// and the rest is read by the query in seq order: the same log.
func TestAuditScanHeapOrder(t *testing.T) {
	for _, c := range []struct{ chunk, ahead int }{{1, 4096}, {4, 4096}, {512, 4096}, {4, 3}} {
		t.Run(fmt.Sprintf("Chunk%dAhead%d", c.chunk, c.ahead), func(t *testing.T) {
			defer store.SetAuditScanChunk(int64(c.chunk))()
			defer store.SetAuditScanAheadRows(c.ahead)()
			db := mustOpen(t)
			mustLog(t, db, 40)
			tamper(t, db, `
				CREATE TEMP TABLE moved AS SELECT * FROM audit_log WHERE seq IN (1, 5, 6, 17, 40);
				DELETE FROM audit_log WHERE seq IN (1, 5, 6, 17, 40);
				INSERT INTO audit_log SELECT * FROM moved ORDER BY seq DESC;`,
				"audit_log_no_delete", "audit_log_extend")
			if got := mustSameLog(t, db); len(got) != 40 {
				t.Fatalf("%d entries, want 40", len(got))
			}
			// Each entry comes with the hash its reader checked (intact: the default suite's).
			var seqs []int64
			err := db.EachAuditEntryHashed(context.Background(), func() engine.EntryHasher { return engine.NewEntryHasher(nil) },
				func(e *engine.AuditEntry, s *tlog.Suite) error {
					if s != tlog.Default {
						return fmt.Errorf("entry %d hashed with %v", e.Seq, s)
					}
					seqs = append(seqs, e.Seq)
					return nil
				})
			if err != nil || len(seqs) != 40 || seqs[39] != 40 {
				t.Fatalf("hashed: %v after %v", err, seqs)
			}
		})
	}
}

// TestAuditScanParallelManyAtOnce: more whole-log reads at once than the read
// pool has connections neither deadlock nor fail: a scan needs only its own
// connection, the second is a helper when one is free.
func TestAuditScanParallelManyAtOnce(t *testing.T) {
	defer store.SetAuditScanChunk(2)()
	ctx := context.Background()
	db := mustOpen(t)
	mustLog(t, db, 30)
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error {
				if n++; e.Seq != int64(n) {
					return fmt.Errorf("entry %d at position %d", e.Seq, n)
				}
				return nil
			})
			if err == nil && n != 30 {
				err = fmt.Errorf("%d entries", n)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// mustSameLog fails unless the whole-log reads (EachAuditEntry, the
// unfiltered export) give exactly what one ORDER BY seq query gives.
func mustSameLog(t *testing.T, db *store.DB) []engine.AuditEntry {
	t.Helper()
	ctx := context.Background()
	want, err := db.AuditEntries(ctx, engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var each, export []engine.AuditEntry
	if err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error { each = append(each, e); return nil }); err != nil {
		t.Fatal(err)
	}
	err = db.ExportAudit(ctx, engine.AuditQuery{}, func([]engine.Checkpoint) error { return nil },
		func(e *engine.AuditEntry) error { export = append(export, *e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]engine.AuditEntry{"each": each, "export": export} {
		if len(got) != len(want) {
			t.Fatalf("%s: %d entries, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: entry %d = seq %d %.40q…, want seq %d %.40q…", name, i, got[i].Seq, got[i].Reason, want[i].Seq, want[i].Reason)
			}
		}
	}
	return want
}

// TestAuditScanLongText: a text of more than a MiB (longer than a page, than
// any chunk's other rows together) comes back whole, the chain verifies,
// and an alteration after it is found at its seq.
func TestAuditScanLongText(t *testing.T) {
	long := strings.Repeat("长", 0x110000/3+1)
	for _, chunk := range []int64{2, 3, 1024} {
		t.Run(fmt.Sprint("Chunk", chunk), func(t *testing.T) {
			defer store.SetAuditScanChunk(chunk)()
			ctx := context.Background()
			db := mustOpen(t)
			mustLog(t, db, 6)
			if err := db.Apply(ctx, &engine.Change{Entry: engine.AuditEntry{Time: t0, Actor: "u", Role: engine.RoleReviewer,
				Park: "qingyuan", Event: "score", Reason: "short", Payload: long}}); err != nil {
				t.Fatal(err)
			}
			mustLog(t, db, 5)
			if es := mustSameLog(t, db); es[6].Payload != long {
				t.Fatal("the long payload did not come back whole")
			}
			if v, err := engine.VerifyLog(ctx, db); err != nil || v.Bad != nil || v.Count != 12 {
				t.Fatalf("verify: %+v %v", v, err)
			}
			tamper(t, db, `UPDATE audit_log SET reason = 'x' WHERE seq = 10`, "audit_log_no_update")
			if v, err := engine.VerifyLog(ctx, db); err != nil || v.Bad == nil || v.Bad.Seq != 10 {
				t.Fatalf("tampered after the long entry: %+v %v", v, err)
			}
		})
	}
}

// TestAuditScanGaps: once the seqs stop running 1, 2, 3 … (rows deleted or
// moved by someone who dropped the triggers), the rest is read in seq order
// with one query: every row still comes once, in order, not only the first
// bad one.
func TestAuditScanGaps(t *testing.T) {
	cases := map[string]string{
		"DeleteInFirstChunk":   `DELETE FROM audit_log WHERE seq = 2`,
		"DeleteFirst":          `DELETE FROM audit_log WHERE seq = 1`,
		"DeleteLast":           `DELETE FROM audit_log WHERE seq = 30`,
		"DeleteWholeChunk":     `DELETE FROM audit_log WHERE seq BETWEEN 9 AND 12`,
		"DeleteAFew":           `DELETE FROM audit_log WHERE seq IN (7, 8, 19, 27)`,
		"MovedFarPastHead":     `UPDATE audit_log SET seq = 9223372036854775807 WHERE seq = 14`,
		"MovedBeforeFirst":     `UPDATE audit_log SET seq = -5 WHERE seq = 14`,
		"MovedIntoGap":         `DELETE FROM audit_log WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 21`,
		"AllButLastFewDeleted": `DELETE FROM audit_log WHERE seq < 28`,
	}
	for _, chunk := range []int64{1, 4, 5} {
		for name, q := range cases {
			t.Run(fmt.Sprintf("Chunk%d/%s", chunk, name), func(t *testing.T) {
				defer store.SetAuditScanChunk(chunk)()
				db := mustOpen(t)
				mustLog(t, db, 30)
				tamper(t, db, q, "audit_log_no_update", "audit_log_no_delete")
				mustSameLog(t, db)
			})
		}
	}
}
