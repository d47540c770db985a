package store_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// BenchmarkAuditVerify1MPostgres is BenchmarkAuditVerify1M on PostgreSQL:
// the stored log of one million entries (the same benchEntries) verified,
// chain and checkpoint, read by the binary-COPY readers (audit_scan_pg.go).
// Run both in one go test -bench 'AuditVerify1M' for figures side by side.
//
// The server's backends read and send the rows on the same cores, so the
// benchmark also reports their CPU (server-CPU-s/op) beside the test
// process's own: the two together are what a verification costs.
func BenchmarkAuditVerify1MPostgres(b *testing.B) {
	db := benchPostgres1M(b)
	server := postmasterPID(b, db)
	cpu := serverCPU(server)
	benchVerify1M(b, db)
	b.ReportMetric((serverCPU(server)-cpu).Seconds()/float64(b.N), "server-CPU-s/op")
}

// postmasterPID is the pid of the server db is on: the parent of one of its
// backends (the tests' server runs on this machine).
func postmasterPID(b *testing.B, db *store.DB) int {
	b.Helper()
	var backend int
	if err := db.Writer().QueryRowContext(context.Background(), `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		b.Fatal(err)
	}
	f, err := procStat(backend)
	if err != nil {
		b.Fatal(err)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		b.Fatal(err)
	}
	return ppid
}

// serverCPU is the user+system CPU of the server process pid and all its
// children, the exited ones (backends of closed connections, reaped by
// it) and the live ones, from /proc.
func serverCPU(pid int) time.Duration {
	ticks := func(f []string, fields ...int) (n int64) {
		for _, i := range fields {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			n += v
		}
		return n
	}
	// Fields after the command (stat's 3rd field on): state 0, ppid 1,
	// utime 11, stime 12, cutime 13, cstime 14.
	var total int64
	if f, err := procStat(pid); err == nil {
		total += ticks(f, 11, 12, 13, 14)
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		child, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if f, err := procStat(child); err == nil && f[1] == strconv.Itoa(pid) {
			total += ticks(f, 11, 12)
		}
	}
	return time.Duration(total) * time.Second / 100 // USER_HZ
}

// procStat is /proc/pid/stat's fields after the command, which may hold spaces.
func procStat(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(data)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]), nil
}

// benchPostgres1M opens a new PostgreSQL database holding benchEntries'
// million entries and their signed checkpoint. They are bulk-loaded with
// one binary COPY, the log's row triggers switched off meanwhile (the chain
// is computed here, as the store would), then frozen and analysed, so the
// benchmark reads a settled table; the Merkle tree is left to the store.
//
// With $ZONEVET_BENCH_PG, the URL of a database of a server kept running,
// the log is loaded there once and reused by later runs (as bench1M's
// SQLite file is), so that old and new binaries can be alternated on the
// same data without a minute of loading each.
func benchPostgres1M(b *testing.B) *store.DB {
	b.Helper()
	ctx := context.Background()
	url := os.Getenv("ZONEVET_BENCH_PG")
	var db *store.DB
	if url != "" {
		var err error
		if db, err = store.Open(url); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		if seq, _, _ := db.AuditHead(ctx); seq == 1_000_000 {
			return db
		}
	} else {
		url = storetest.PostgresURL(b)
		db = mustOpenPath(b, url)
	}
	conn, err := pgconn.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER USER`).Close(); err != nil {
		b.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() {
		w := &copyWriter{w: pw}
		w.buf = append(w.buf, "PGCOPY\n\xff\r\n\x00"...)
		w.buf = binary.BigEndian.AppendUint64(w.buf, 0) // flags, header extension length
		err := benchEntries(1_000_000, func(e *engine.AuditEntry) error {
			w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(engine.EntryFields)))
			for i := range engine.EntryFields {
				f := &engine.EntryFields[i]
				if f.Kind == engine.FieldInt {
					w.buf = binary.BigEndian.AppendUint32(w.buf, 8)
					w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(*f.Int(e)))
					continue
				}
				v := f.Value(e)
				if f.Kind == engine.FieldTime {
					v = e.Time.Format("2006-01-02T15:04:05.000000000Z07:00")
				}
				w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(v)))
				w.buf = append(w.buf, v...)
			}
			return w.flush(64 << 10)
		})
		if err == nil {
			w.buf = binary.BigEndian.AppendUint16(w.buf, 0xffff)
			err = w.flush(0)
		}
		pw.CloseWithError(err)
	}()
	if _, err := conn.CopyFrom(ctx, pr, `COPY audit_log (`+strings.Join(engine.EntryColumns(), ", ")+`) FROM STDIN (FORMAT binary)`); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{`ALTER TABLE audit_log ENABLE TRIGGER USER`, `VACUUM (FREEZE, ANALYZE) audit_log`} {
		if err := conn.Exec(ctx, q).Close(); err != nil {
			b.Fatal(err)
		}
	}
	if err := benchCheckpoint(db.Writer(), 1_000_000); err != nil {
		b.Fatal(err)
	}
	return db
}

// copyWriter batches a COPY stream's rows into writes of a useful size.
type copyWriter struct {
	w   io.Writer
	buf []byte
}

func (c *copyWriter) flush(atLeast int) error {
	if len(c.buf) < atLeast || len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}
