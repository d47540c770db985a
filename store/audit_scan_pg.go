package store

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// On PostgreSQL a whole-log read goes around database/sql as on SQLite
// (audit_scan.go), but not in chunks of seqs: each chunk was an index scan,
// and the server's side of it — a b-tree step and a heap fetch per row,
// every page through the whole buffer pool, which a new backend must first
// map — cost more CPU than hashing the rows. Instead one connection of the
// scan's own reads the table in one COPY (SELECT …) TO STDOUT (FORMAT binary),
// a sequential scan in the heap's order through a small ring of buffers, and
// parses the rows itself (each field a length and its bytes, one copied
// buffer per row whose substrings are the entry's fields) into batches that
// workers hash while the stream goes on.
//
// The heap's order is nearly the seq order for a log only ever appended to:
// rows are added at the end, or in a hole an earlier page left, and never
// moved. The consumer puts them in seq order, holding the few that come
// early, so that it gives exactly what one ORDER BY seq query would; a log
// whose rows were updated, deleted or moved (someone dropped the triggers)
// stops the stream where its order is lost, and the caller reads the rest in
// seq order (see eachAuditRow).

// pgAuditReader is a read-only PostgreSQL connection of its own, used by one
// goroutine.
type pgAuditReader struct {
	conn *pgconn.PgConn
}

// auditScanAheadRows is how many rows that come before their turn the
// stream holds (a few MiB) before it leaves the rest to a query in seq order.
var auditScanAheadRows = 4096

// pgReadBuffer is the connection's read buffer: the server writes 8 KiB at
// a time, and reading many of them per system call spares the reader, and
// the server it wakes, a round of scheduling each.
const pgReadBuffer = 256 << 10

func openPGAuditReader(url string) (*pgAuditReader, error) {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("audit reader: %w", err)
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	// The heap's order, from its first page: a scan of a large table may
	// otherwise join another one halfway. (A parallel plan, never cheaper
	// for a scan that returns every row, would only cost the order check
	// its speed; its setting is not set, as PostgreSQL's relatives lack it.)
	cfg.RuntimeParams["synchronize_seqscans"] = "off"
	cfg.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		return pgproto3.NewFrontend(bufio.NewReaderSize(r, pgReadBuffer), w)
	}
	conn, err := pgconn.ConnectConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("audit reader: %w", err)
	}
	return &pgAuditReader{conn: conn}, nil
}

func (r *pgAuditReader) close() { r.conn.Close(context.Background()) }

// stream reads the whole table in its heap order and hands each batch of
// size rows to emit, the last one with the error that ended the stream, if
// any. emit returns false to stop the stream.
func (r *pgAuditReader) stream(ctx context.Context, size int, free <-chan []engine.AuditEntry, emit func(*auditChunk) bool) {
	p := &copyParser{size: size, free: free, emit: emit}
	p.entries = p.batch()
	_, err := r.conn.CopyTo(ctx, p,
		`COPY (SELECT `+auditReaderColumns+` FROM audit_log) TO STDOUT (FORMAT binary)`)
	switch {
	case p.err != nil:
		err = p.err
	case err == nil && !p.done:
		err = errors.New("COPY ended without its trailer")
	}
	if p.stopped {
		return
	}
	if err != nil {
		err = fmt.Errorf("audit reader: %w", err)
	}
	emit(&auditChunk{entries: p.entries, err: err, done: make(chan struct{})})
}

// scanAuditLogPG is scanAuditLog on PostgreSQL (same contract, lo = 0): it
// gives fn the entries 1, 2, 3 … hi in seq order as the heap's order brings
// them, holding up to auditScanAheadRows that come early, and returns the
// seq of the last one given. It returns before hi with a nil error when the
// stream fails, ends, or holds too many early rows before it gives seq
// last+1: the rows after last are the caller's to read with one query,
// which reports an unreadable row in its place in seq order.
func (db *DB) scanAuditLogPG(ctx context.Context, hi int64, newHash func() engine.EntryHasher, fn func(*engine.AuditEntry, *tlog.Suite) error) (int64, error) {
	var last int64
	if hi <= 0 {
		return last, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel (deferred later, so run first)
	defer cancel()

	r, err := openPGAuditReader(db.path)
	if err != nil {
		return last, err
	}
	order := make(chan *auditChunk, auditScanAhead) // batches in stream order
	work := make(chan *auditChunk, auditScanAhead)  // batches to hash
	free := make(chan []engine.AuditEntry, 2*auditScanAhead+auditScanReaders+2)
	wg.Add(1)
	go func() { // the stream
		defer wg.Done()
		defer close(order)
		defer close(work)
		defer r.close()
		r.stream(ctx, int(max(auditScanChunkPG, 1)), free, func(c *auditChunk) bool {
			select {
			case order <- c:
			case <-ctx.Done():
				return false
			}
			if newHash == nil {
				close(c.done)
				return true
			}
			select {
			case work <- c:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	if newHash != nil {
		wg.Add(auditScanReaders)
		for range auditScanReaders {
			go func() {
				defer wg.Done()
				hash := newHash()
				for c := range work {
					c.hashed = make([]*tlog.Suite, len(c.entries))
					for i := range c.entries {
						c.hashed[i] = hash(&c.entries[i])
					}
					close(c.done) // c is the consumer's from here on
				}
			}()
		}
	}

	// Rows ahead of their turn wait here: an insert may fill a hole an
	// earlier page has left (the free-space map offers it after a vacuum),
	// so an intact log's heap order is its seq order only nearly.
	type early struct {
		e engine.AuditEntry // its texts are the parser's, never written again
		s *tlog.Suite
	}
	ahead := map[int64]early{}
	give := func(e *engine.AuditEntry, s *tlog.Suite) error {
		if err := fn(e, s); err != nil {
			return errStop{err}
		}
		last = e.Seq
		for last < hi && len(ahead) > 0 {
			w, ok := ahead[last+1]
			if !ok {
				break
			}
			delete(ahead, last+1)
			if err := fn(&w.e, w.s); err != nil {
				return errStop{err}
			}
			last = w.e.Seq
		}
		return nil
	}
	for c := range order {
		if err := c.wait(ctx); err != nil {
			return last, err
		}
		for i := range c.entries {
			e, s := &c.entries[i], c.suite(i)
			switch {
			case e.Seq == last+1:
				if err := give(e, s); err != nil {
					return last, err
				}
				if last == hi {
					return last, nil
				}
			case e.Seq > hi:
				// Appended after the caller's snapshot.
			case e.Seq <= last || len(ahead) >= auditScanAheadRows:
				return last, nil // not a log appended to: the caller reads on
			default:
				ahead[e.Seq] = early{*e, s}
			}
		}
		if c.err != nil {
			return last, ctx.Err() // the caller's query reads on, and finds what failed
		}
		select {
		case free <- c.entries[:0]:
		default:
		}
	}
	return last, ctx.Err()
}

// copyParser is an io.Writer that parses PostgreSQL's binary COPY format
// (a signature, flags and header extension, then per row a field count and
// each field as a 32-bit length and its bytes, ended by a count of -1) into
// batches of entries, the columns in auditReaderFields' order. Data may
// arrive split anywhere; what does not yet make a whole row waits in
// pending. An error, or emit saying stop, ends the COPY (and the reader's
// connection with it).
type copyParser struct {
	entries []engine.AuditEntry // the batch being filled
	size    int                 // rows per batch
	free    <-chan []engine.AuditEntry
	emit    func(*auditChunk) bool
	stopped bool // emit said stop
	pending []byte
	arena   []byte // the rows' texts (row)
	header  bool   // the header has been read
	done    bool   // the trailer has been read
	err     error
}

// errStopped ends a COPY whose rows are no longer wanted.
var errStopped = errors.New("audit reader: stopped")

// batch is an empty batch, a recycled one when there is one.
func (p *copyParser) batch() []engine.AuditEntry {
	select {
	case b := <-p.free:
		return b[:0]
	default:
		return make([]engine.AuditEntry, 0, p.size)
	}
}

// copySignature opens every binary COPY stream.
const copySignature = "PGCOPY\n\xff\r\n\x00"

func (p *copyParser) Write(data []byte) (int, error) {
	if p.stopped {
		return 0, errStopped
	}
	if p.done {
		return len(data), nil
	}
	in := data
	if len(p.pending) > 0 {
		p.pending = append(p.pending, data...)
		in = p.pending
	}
	n, err := p.parse(in)
	if err != nil {
		// Stop the stream: the caller reads on from the rows before it.
		if err != errStopped {
			p.err = err
		}
		return 0, err
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
		if len(p.entries) == p.size {
			if !p.emit(&auditChunk{entries: p.entries, done: make(chan struct{})}) {
				p.stopped = true
				return used, errStopped
			}
			p.entries = p.batch()
		}
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
