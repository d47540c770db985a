package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"

	"zonevet/engine"
)

// On PostgreSQL a whole-log read goes around database/sql as on SQLite
// (audit_scan.go): each reader is a connection of its own that asks for a
// chunk with COPY … TO STDOUT (FORMAT binary) and parses the rows itself —
// each field a length and its bytes, no per-column driver conversion — into
// one copied buffer per row whose substrings are the entry's fields. The
// server streams the rows while the reader parses and hashes them.

// chunkReader reads the entries lo < seq <= hi of the log, in seq order;
// on an error it returns the rows read before it, too.
type chunkReader interface {
	readChunk(lo, hi int64, buf []engine.AuditEntry) ([]engine.AuditEntry, error)
	close()
}

// openChunkReader opens a reader of the log on a connection of its own.
func (db *DB) openChunkReader() (chunkReader, error) {
	if db.dialect == postgresDialect {
		return openPGAuditReader(db.path)
	}
	return openAuditReader(db.path)
}

// pgAuditReader is a read-only PostgreSQL connection of its own, used by one
// goroutine at a time.
type pgAuditReader struct {
	conn *pgconn.PgConn
	p    copyParser
}

func openPGAuditReader(url string) (*pgAuditReader, error) {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("audit reader: %w", err)
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	conn, err := pgconn.ConnectConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("audit reader: %w", err)
	}
	return &pgAuditReader{conn: conn}, nil
}

func (r *pgAuditReader) close() { r.conn.Close(context.Background()) }

func (r *pgAuditReader) readChunk(lo, hi int64, buf []engine.AuditEntry) ([]engine.AuditEntry, error) {
	r.p = copyParser{entries: buf, pending: r.p.pending[:0], arena: r.p.arena[len(r.p.arena):]}
	_, err := r.conn.CopyTo(context.Background(), &r.p,
		fmt.Sprintf(`COPY (SELECT %s FROM audit_log WHERE seq > %d AND seq <= %d ORDER BY seq) TO STDOUT (FORMAT binary)`, auditReaderColumns, lo, hi))
	if r.p.err != nil {
		err = r.p.err
	} else if err == nil && !r.p.done {
		err = errors.New("audit reader: COPY ended without its trailer")
	}
	if err != nil {
		return r.p.entries, fmt.Errorf("audit reader: %w", err)
	}
	return r.p.entries, nil
}

// copyParser is an io.Writer that parses PostgreSQL's binary COPY format
// (a signature, flags and header extension, then per row a field count and
// each field as a 32-bit length and its bytes, ended by a count of -1) into
// entries, the columns in auditReaderFields' order. Data may arrive split
// anywhere; what does not yet make a whole row waits in pending. After an
// error it swallows the rest, so the connection stays usable.
type copyParser struct {
	entries []engine.AuditEntry
	pending []byte
	arena   []byte // the rows' texts (row)
	header  bool   // the header has been read
	done    bool   // the trailer has been read
	err     error
}

// copySignature opens every binary COPY stream.
const copySignature = "PGCOPY\n\xff\r\n\x00"

func (p *copyParser) Write(data []byte) (int, error) {
	if p.err != nil || p.done {
		return len(data), nil
	}
	in := data
	if len(p.pending) > 0 {
		p.pending = append(p.pending, data...)
		in = p.pending
	}
	n, err := p.parse(in)
	if err != nil {
		p.err = err
		return len(data), nil
	}
	// Keep what is left for the next call; data is the connection's buffer.
	p.pending = append(p.pending[:0], in[n:]...)
	return len(data), nil
}

// parse consumes the whole rows (and the header) at the start of b and
// returns how many bytes it used.
func (p *copyParser) parse(b []byte) (int, error) {
	used := 0
	if !p.header {
		const fixed = len(copySignature) + 8
		if len(b) < fixed {
			return 0, nil
		}
		if string(b[:len(copySignature)]) != copySignature {
			return 0, errors.New("not a binary COPY stream")
		}
		ext := int(binary.BigEndian.Uint32(b[len(copySignature)+4:]))
		if len(b) < fixed+ext {
			return 0, nil
		}
		used, p.header = fixed+ext, true
	}
	nf := len(auditReaderFields)
	var lens [32]int // the fields of the row being parsed, at most len(EntryFields)
	for !p.done {
		rest := b[used:]
		if len(rest) < 2 {
			break
		}
		count := int(int16(binary.BigEndian.Uint16(rest)))
		if count == -1 {
			p.done = true
			used += 2
			break
		}
		if count != nf {
			return used, fmt.Errorf("COPY row of %d fields, want %d", count, nf)
		}
		// Measure the row; wait for more data if it is not whole yet.
		off, size, whole := 2, 0, true
		for i := range nf {
			if len(rest) < off+4 {
				whole = false
				break
			}
			l := int(int32(binary.BigEndian.Uint32(rest[off:])))
			if l < 0 {
				return used, fmt.Errorf("COPY row: column %s is NULL", engine.EntryFields[auditReaderFields[i]].Name)
			}
			lens[i] = l
			off += 4 + l
			if len(rest) < off {
				whole = false
				break
			}
			if i >= auditReaderInts {
				size += l
			}
		}
		if !whole {
			break
		}
		if err := p.row(rest[2:off], lens[:nf], size); err != nil {
			return used, err
		}
		used += off
	}
	return used, nil
}

// row makes an entry of one whole row's fields (after its count).
func (p *copyParser) row(b []byte, lens []int, size int) error {
	if len(p.entries) < cap(p.entries) {
		p.entries = p.entries[:len(p.entries)+1]
	} else {
		p.entries = append(p.entries, engine.AuditEntry{})
	}
	e := &p.entries[len(p.entries)-1]
	off := 0
	for i, fi := range auditReaderFields[:auditReaderInts] {
		if lens[i] != 8 {
			p.entries = p.entries[:len(p.entries)-1]
			return fmt.Errorf("COPY row: column %s has %d bytes, want 8", engine.EntryFields[fi].Name, lens[i])
		}
		*engine.EntryFields[fi].Int(e) = int64(binary.BigEndian.Uint64(b[off+4:]))
		off += 4 + 8
	}
	// One copy of the row's texts, into the arena shared by the rows that
	// follow (one allocation per 64 KiB, not one per row); the fields are
	// substrings of it, and the arena is only ever appended to.
	if cap(p.arena)-len(p.arena) < size {
		p.arena = make([]byte, 0, max(size, 64<<10))
	}
	text := p.arena[len(p.arena):len(p.arena)]
	p.arena = p.arena[:len(p.arena)+size]
	at := off
	for i := auditReaderInts; i < len(lens); i++ {
		text = append(text, b[at+4:at+4+lens[i]]...)
		at += 4 + lens[i]
	}
	all := unsafe.String(unsafe.SliceData(text), len(text)) // text is not written again
	pos := 0
	for i, fi := range auditReaderFields[auditReaderInts:] {
		v := all[pos : pos+lens[auditReaderInts+i]]
		pos += len(v)
		f := &engine.EntryFields[fi]
		if f.Kind != engine.FieldTime {
			*f.Text(e) = v
			continue
		}
		t, err := parseTime(v)
		if err != nil {
			p.entries = p.entries[:len(p.entries)-1]
			return err
		}
		*f.Time(e) = t
	}
	return nil
}
