package store_test

import (
	"context"
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// BenchmarkAuditVerify1MPostgres is BenchmarkAuditVerify1M on PostgreSQL:
// the stored log of one million entries (the same benchEntries) verified,
// chain and checkpoint, read by the binary-COPY readers (audit_scan_pg.go).
// Run both in one go test -bench 'AuditVerify1M' for figures side by side.
func BenchmarkAuditVerify1MPostgres(b *testing.B) {
	benchVerify1M(b, benchPostgres1M(b))
}

// benchPostgres1M opens a new PostgreSQL database holding benchEntries'
// million entries and their signed checkpoint. They are bulk-loaded with
// one binary COPY, the log's row triggers switched off meanwhile (the chain
// is computed here, as the store would), then frozen and analysed, so the
// benchmark reads a settled table; the Merkle tree is left to the store.
func benchPostgres1M(b *testing.B) *store.DB {
	b.Helper()
	url := storetest.PostgresURL(b)
	db := mustOpenPath(b, url)
	ctx := context.Background()
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
