package store_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
)

var cpKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))

func TestCheckpointsAndExport(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	mustLog(t, db, 12)
	seq, hash, err := db.AuditHead(ctx)
	if err != nil || seq != 12 {
		t.Fatalf("head %d %s %v", seq, hash, err)
	}
	c := engine.SignCheckpoint(cpKey, seq, hash, t0)
	if err := db.AddCheckpoint(ctx, &c); err != nil {
		t.Fatal(err)
	}
	all, err := db.Checkpoints(ctx)
	if err != nil || len(all) != 1 || all[0] != c {
		t.Fatalf("checkpoints %+v %v", all, err)
	}
	if err := all[0].Verify(cpKey.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("stored checkpoint does not verify: %v", err)
	}
	for _, q := range []string{"UPDATE audit_checkpoints SET seq = 1", "DELETE FROM audit_checkpoints"} {
		if _, err := db.Writer().Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}

	// A page, newest first, with the total; the park filter with system entries.
	page, total, err := db.AuditPage(ctx, engine.AuditQuery{Desc: true, AuditFilter: engine.AuditFilter{Limit: 5}})
	if err != nil || total != 12 || len(page) != 5 || page[0].Seq != 12 {
		t.Fatalf("page: %d entries, total %d, %v", len(page), total, err)
	}
	page, _, _ = db.AuditPage(ctx, engine.AuditQuery{AuditFilter: engine.AuditFilter{Limit: 5}, Offset: 10})
	if len(page) != 2 || page[0].Seq != 11 {
		t.Fatalf("offset page %+v", page)
	}

	// The export's checkpoints and entries come from one snapshot.
	var buf bytes.Buffer
	w, _ := engine.NewAuditWriter(&buf, "jsonl", nil, engine.ExportLabels{})
	if err := db.ExportAudit(ctx, engine.AuditQuery{}, w.Checkpoints, w.Entry); err != nil {
		t.Fatal(err)
	}
	w.Close()
	res, err := engine.VerifyExport(&buf, cpKey.Public().(ed25519.PublicKey), false, nil)
	if err != nil || !res.OK || res.Entries != 12 || res.CheckpointsGood != 1 {
		t.Fatalf("export verify %+v %v", res, err)
	}
	if _, err := db.AuditEntry(ctx, 99); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("missing entry: %v", err)
	}
}

// ---- one million entries ----
//
//	go test ./store -run '^$' -bench 'Audit1M' -benchtime 1x
//
// The database is built once per machine in $ZONEVET_BENCH_DIR (default: the
// temp dir) and kept, so the binary can be measured against it too; see
// BENCHMARKS.md.

func bench1M(b *testing.B) (*store.DB, string) {
	b.Helper()
	dir := os.Getenv("ZONEVET_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "zonevet-audit-1m.db")
	_, statErr := os.Stat(path)
	db, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if statErr == nil {
		if seq, _, _ := db.AuditHead(context.Background()); seq == 1_000_000 {
			return db, path
		}
	}
	if err := seedAudit(db, 1_000_000); err != nil {
		b.Fatal(err)
	}
	return db, path
}

// seedAudit appends n chained entries in one transaction (benchEntries).
func seedAudit(db *store.DB, n int) error {
	tx, err := db.Writer().Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.Prepare(`INSERT INTO audit_log (seq, time, actor, role, park, project_id, event, from_state, to_state, reason, rule_set_version, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	err = benchEntries(n, func(e *engine.AuditEntry) error {
		_, err := st.Exec(e.Seq, e.Time.Format("2006-01-02T15:04:05.000000000Z07:00"), e.Actor, string(e.Role), e.Park, e.ProjectID, e.Event,
			string(e.FromState), string(e.ToState), e.Reason, e.RuleSetVersion, e.Payload, e.PrevHash, e.Hash)
		return err
	})
	if err != nil {
		return err
	}
	if err := benchCheckpoint(tx, n); err != nil {
		return err
	}
	return tx.Commit()
}

// benchEntries makes n chained entries for fn: a mix like a working zone's
// — mostly score sheets and transitions of a few hundred bytes, every 20th
// carrying a screening report of about 2 KB.
func benchEntries(n int, fn func(*engine.AuditEntry) error) error {
	report := `{"figures":{"industry_code":"C3985","total_investment":30000,"land_area":50},"report":{"checks":[` +
		strings.Repeat(`{"id":"investment_intensity","name_zh":"固定资产投资强度","actual":400,"threshold":"≥ 300 万元/亩","pass":true,"severity":"hard","message_zh":"固定资产投资强度 400 万元/亩,达到 300 的标准"},`, 9) +
		`{"id":"tax_per_mu","actual":44,"pass":true}]}}`
	prev := engine.GenesisHash
	events := []string{"score", "pass", "return", "submit", "approve", "score", "recommend", "override"}
	for i := 1; i <= n; i++ {
		e := engine.AuditEntry{Seq: int64(i), Time: benchT0.Add(time.Duration(i) * 7 * time.Second), Actor: "reviewer" + strconv.Itoa(i%40),
			Role: engine.RoleReviewer, Park: []string{"qingyuan", "yingde"}[i%2], ProjectID: int64(i%20000 + 1), Event: events[i%len(events)],
			FromState: engine.StateExpertReview, ToState: engine.StateExpertReview, RuleSetVersion: "5f2b9c0e7d1a4b3c8e6f0a2d4c6b8e0f1a3c5e7d9b1f3a5c7e9d1b3f5a7c9e1d",
			Reason: "专家评审:产业链契合度高,亩均税收达标", PrevHash: prev,
			Payload: fmt.Sprintf(`{"project_id":%d,"round":1,"reviewer":"reviewer%d","items":{"chain_fit":16,"tax":15,"innovation":17,"intensity":12,"output":8,"energy":8,"credit":4},"total":80,"comment":"同意推荐"}`, i%20000+1, i%40)}
		if i%20 == 0 {
			e.Event, e.Payload = "submit", report
		}
		e.Hash = engine.ChainHash(prev, &e)
		prev = e.Hash
		if err := fn(&e); err != nil {
			return err
		}
		benchHead = e.Hash
	}
	return nil
}

// benchT0 is the bench log's first time; benchHead the hash of the last
// entry benchEntries made.
var (
	benchT0   = time.Date(2024, 1, 2, 1, 0, 0, 0, time.UTC)
	benchHead string
)

// benchCheckpoint signs the head of the n entries benchEntries made.
func benchCheckpoint(tx interface {
	Exec(string, ...any) (sql.Result, error)
}, n int) error {
	c := engine.SignCheckpoint(cpKey, int64(n), benchHead, benchT0)
	_, err := tx.Exec(`INSERT INTO audit_checkpoints (seq, hash, time, public_key, signature) VALUES (?, ?, ?, ?, ?)`,
		c.Seq, c.Hash, c.Time.Format("2006-01-02T15:04:05.000000000Z07:00"), c.Key, c.Signature)
	return err
}

// cpuTime is the CPU time the process has used so far (user + system): on
// a machine shared with other work it varies much less than the wall time.
func cpuTime() time.Duration {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// reportCPU reports the CPU seconds per run since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "CPU-s/op")
}

// vmRSS is the process's resident memory now, in KiB (Linux).
func vmRSS() int64 { return procStatus("VmRSS:") }

// vmHWM is the process's peak resident memory in KiB (Linux).
func vmHWM() int64 { return procStatus("VmHWM:") }

func procStatus(key string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkAuditExportJSONL1M streams one million entries to JSON Lines.
// Peak RSS here includes the seeding; measure the binary for the real
// figure (BENCHMARKS.md).
func BenchmarkAuditExportJSONL1M(b *testing.B) {
	db, path := bench1M(b)
	defer db.Close()
	ctx := context.Background()
	// The process's peak (VmHWM) includes whatever ran before, such as the
	// 64 MiB argon2id hash engine computes at start-up; the export's own
	// footprint is the resident size sampled while it runs, after handing
	// freed memory back to the OS.
	debug.FreeOSMemory()
	before := vmRSS()
	b.ResetTimer()
	cpu := cpuTime()
	var bytesOut, maxRSS int64
	for range b.N {
		cw := &countWriter{}
		w, _ := engine.NewAuditWriter(cw, "jsonl", nil, engine.ExportLabels{})
		n := 0
		err := db.ExportAudit(ctx, engine.AuditQuery{}, w.Checkpoints, func(e *engine.AuditEntry) error {
			if n++; n%20000 == 0 {
				maxRSS = max(maxRSS, vmRSS())
			}
			return w.Entry(e)
		})
		if err != nil {
			b.Fatal(err)
		}
		w.Close()
		bytesOut = cw.n
	}
	b.ReportMetric(float64(1_000_000*b.N)/b.Elapsed().Seconds(), "entries/s")
	reportCPU(b, cpu)
	b.ReportMetric(float64(bytesOut)/(1<<20), "MiB_out")
	b.ReportMetric(float64(maxRSS)/1024, "RSS_during_MiB")
	b.ReportMetric(float64(before)/1024, "RSS_before_MiB")
	b.ReportMetric(float64(vmHWM())/1024, "peakRSS_process_MiB")
	b.Logf("database %s", path)
}

// BenchmarkAuditVerify1M verifies the stored log (chain and checkpoint).
func BenchmarkAuditVerify1M(b *testing.B) {
	db, _ := bench1M(b)
	defer db.Close()
	benchVerify1M(b, db)
}

// benchVerify1M verifies db's stored log of a million entries b.N times.
func benchVerify1M(b *testing.B, db *store.DB) {
	svc, err := engine.NewService(context.Background(), engine.Config{Store: db, Checkpoints: db})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		res, err := svc.AuditLog(nil).Verify(context.Background(), cpKey.Public().(ed25519.PublicKey))
		if err != nil || !res.OK || res.Entries != 1_000_000 {
			b.Fatalf("%v %+v", err, res)
		}
	}
	b.ReportMetric(float64(1_000_000*b.N)/b.Elapsed().Seconds(), "entries/s")
	reportCPU(b, cpu)
}

// BenchmarkAuditVerifyExport1M verifies a one-million-entry export file offline.
func BenchmarkAuditVerifyExport1M(b *testing.B) {
	db, path := bench1M(b)
	file := path + ".jsonl"
	if _, err := os.Stat(file); err != nil {
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriter(f)
		w, _ := engine.NewAuditWriter(bw, "jsonl", nil, engine.ExportLabels{})
		if err := db.ExportAudit(context.Background(), engine.AuditQuery{}, w.Checkpoints, w.Entry); err != nil {
			b.Fatal(err)
		}
		w.Close()
		bw.Flush()
		f.Close()
	}
	db.Close()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		f, err := os.Open(file)
		if err != nil {
			b.Fatal(err)
		}
		res, err := engine.VerifyExport(f, cpKey.Public().(ed25519.PublicKey), false, nil)
		f.Close()
		if err != nil || !res.OK || res.Entries != 1_000_000 {
			b.Fatalf("%v %+v", err, res)
		}
	}
	b.ReportMetric(float64(1_000_000*b.N)/b.Elapsed().Seconds(), "entries/s")
	reportCPU(b, cpu)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
