package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// Reading rows is what bounds an export or a verification of the whole log.
// Through database/sql, modernc's driver takes the connection's mutex three
// times and allocates a Go string for every column of every row; packing a
// row into one column in SQL (concat, ||, char()) moves that cost into
// SQLite's interpreter rather than removing it. So whole-log reads go around
// the driver: each reader opens its own read-only connection through
// SQLite's C API (auditReader, modernc.org/sqlite/lib), without the
// connection mutex nobody else could contend for, and copies a row's columns
// into one buffer whose substrings are the entry's fields. One connection
// reads on one core, so two of them read chunks of seqs at once and hand
// them on in seq order.
//
// This is sound because entries below the head never change (the
// append-only triggers refuse UPDATE and DELETE): the chunks the readers see,
// each from its own snapshot, later than the caller's and capped at the head
// seen in it, are the rows the caller's snapshot holds. Whoever bypasses the
// triggers to rewrite rows during an export could as well have done it
// before: that is the chain's business, not the snapshot's.

// auditScanChunk is how many seqs one read covers: large enough that a
// query's set-up is lost in its rows, small enough that the chunks waiting
// in seq order hold a few MiB at most.
var auditScanChunk int64 = 512

// auditScanChunkPG is how many rows of PostgreSQL's one stream make a batch
// (audit_scan_pg.go): hashed by one worker, handed on at once.
var auditScanChunkPG int64 = 512

// auditScanAhead is how many chunks may be read ahead of the one being
// handed on; with the chunk size it bounds the memory of a scan.
const auditScanAhead = 4

// auditScanReaders is how many connections read at once (the machine this
// runs on has two cores).
const auditScanReaders = 2

// auditChunk is one chunk of the scan: the rows read, and the error that
// stopped the read, if any, after them.
type auditChunk struct {
	lo, hi  int64 // lo < seq <= hi
	entries []engine.AuditEntry
	hashed  []*tlog.Suite // the reader's hash of each entry, when asked for
	err     error
	done    chan struct{}
}

// wait waits until the chunk is read (and hashed): the consumer's from then on.
func (c *auditChunk) wait(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// suite is the reader's hash of entry i: the suite it is the hash of, nil
// for none or when none was asked for.
func (c *auditChunk) suite(i int) *tlog.Suite {
	if c.hashed == nil {
		return nil
	}
	return c.hashed[i]
}

// scanAuditLog calls fn for every entry with lo < seq <= hi in seq order,
// and returns the seq of the last entry given to fn (lo if none). Below it
// the scan has given fn exactly what a single ORDER BY seq query would
// have. If it returns before hi with a nil error, a chunk came back with
// fewer rows than seqs (rows deleted or moved, maybe to 2^63-1, leaving
// empty chunks without end): the rows after it are the caller's to read
// with one query.
//
// hi is the head of the caller's snapshot; the chunks are read by
// auditScanReaders connections of the scan's own, outside the read pool (so
// scans cannot deadlock each other on it). An error
// reading a chunk is returned once the entries before it have gone to fn. An
// error from fn is returned as errStop. Entries are reused: fn must not keep
// one.
func (db *DB) scanAuditLog(ctx context.Context, lo, hi int64, newHash func() engine.EntryHasher, fn func(*engine.AuditEntry, *tlog.Suite) error) (int64, error) {
	last := lo
	if hi <= lo {
		return last, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel (deferred later, so run first)
	defer cancel()

	chunk := max(auditScanChunk, 1)
	work := make(chan *auditChunk, auditScanAhead+1)
	order := make(chan *auditChunk, auditScanAhead)
	free := make(chan []engine.AuditEntry, auditScanAhead+auditScanReaders+1)
	// stop ends the scan early, when the caller reads the rest itself.
	stop := make(chan struct{})

	wg.Add(1)
	go func() { // the dispatcher: chunks in seq order, at most auditScanAhead ahead
		defer wg.Done()
		defer close(work)
		defer close(order)
		for a := lo; a < hi; a += chunk {
			c := &auditChunk{lo: a, hi: min(a+chunk, hi), done: make(chan struct{})}
			select {
			case order <- c:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
			select {
			case work <- c:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()

	// The first reader's connection is opened here, so that a log that
	// cannot be opened is an error, not a scan without readers; another
	// reader that cannot open leaves its share to the first.
	first, err := openAuditReader(db.path)
	if err != nil {
		return last, err
	}
	read := func(r *auditReader) {
		defer r.close()
		var hash engine.EntryHasher
		if newHash != nil {
			hash = newHash()
		}
		for c := range work {
			select {
			case <-stop:
				return
			default:
			}
			var buf []engine.AuditEntry
			select {
			case buf = <-free:
			default:
			}
			var err error
			if err = ctx.Err(); err == nil {
				c.entries, err = r.readChunk(c.lo, c.hi, buf[:0])
			}
			if hash != nil {
				c.hashed = make([]*tlog.Suite, len(c.entries))
				for i := range c.entries {
					c.hashed[i] = hash(&c.entries[i])
				}
			}
			c.err = err
			close(c.done) // c is the consumer's from here on
			if err != nil {
				return
			}
		}
	}
	wg.Add(auditScanReaders)
	go func() { defer wg.Done(); read(first) }()
	for range auditScanReaders - 1 {
		go func() {
			defer wg.Done()
			if r, err := openAuditReader(db.path); err == nil {
				read(r)
			}
		}()
	}

	for c := range order {
		if err := c.wait(ctx); err != nil {
			return last, err
		}
		for i := range c.entries {
			if err := fn(&c.entries[i], c.suite(i)); err != nil {
				return last, errStop{err}
			}
			last = c.entries[i].Seq
		}
		short := c.err == nil && int64(len(c.entries)) < c.hi-c.lo
		if short {
			close(stop)
			return last, nil
		}
		if c.err != nil {
			return last, c.err
		}
		select {
		case free <- c.entries:
		default:
		}
		c.entries = nil
	}
	return last, ctx.Err()
}

// auditReader is a read-only connection of its own to the database, used
// through SQLite's C API as modernc.org/sqlite compiles it, with one
// statement that reads a chunk of the log. It is used by one goroutine at a
// time, so it is opened without the connection mutex.
type auditReader struct {
	tls  *libc.TLS
	db   uintptr // sqlite3*
	stmt uintptr // sqlite3_stmt*
}

// auditReaderFields are the EntryFields indexes in the order a reader
// selects them: the integers first (read as integers), then the texts and
// times (read as one copied row, see readChunk).
var auditReaderFields, auditReaderInts = func() ([]int, int) {
	var ints, texts []int
	for i := range engine.EntryFields {
		if engine.EntryFields[i].Kind == engine.FieldInt {
			ints = append(ints, i)
		} else {
			texts = append(texts, i)
		}
	}
	return append(ints, texts...), len(ints)
}()

// auditReaderColumns are the columns a reader selects, in auditReaderFields' order.
var auditReaderColumns = func() string {
	names := make([]string, len(auditReaderFields))
	for i, f := range auditReaderFields {
		names[i] = engine.EntryFields[f].Name
	}
	return strings.Join(names, ", ")
}()

func openAuditReader(path string) (_ *auditReader, err error) {
	r := &auditReader{tls: libc.NewTLS()}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	pp := libc.Xmalloc(r.tls, 8) // the sqlite3** and sqlite3_stmt** out-parameter
	if pp == 0 {
		return nil, errors.New("audit reader: out of memory")
	}
	defer libc.Xfree(r.tls, pp)
	cpath, err := libc.CString(path)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(r.tls, cpath)
	rc := sqlite3.Xsqlite3_open_v2(r.tls, cpath, pp, sqlite3.SQLITE_OPEN_READONLY|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	r.db = libc.AtomicLoadPUintptr(pp) // a handle even on failure, to close and read the message from
	if rc != sqlite3.SQLITE_OK {
		return nil, r.error("open", rc)
	}
	sqlite3.Xsqlite3_busy_timeout(r.tls, r.db, 5000) // as the pool's DSN
	q, err := libc.CString(`SELECT ` + auditReaderColumns + ` FROM audit_log WHERE seq > ?1 AND seq <= ?2 ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(r.tls, q)
	if rc := sqlite3.Xsqlite3_prepare_v2(r.tls, r.db, q, -1, pp, 0); rc != sqlite3.SQLITE_OK {
		return nil, r.error("prepare", rc)
	}
	r.stmt = libc.AtomicLoadPUintptr(pp)
	return r, nil
}

func (r *auditReader) error(what string, rc int32) error {
	msg := "out of memory"
	if r.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(r.tls, r.db))
	}
	return fmt.Errorf("audit reader: %s: %s (%d)", what, msg, rc)
}

func (r *auditReader) close() {
	if r.stmt != 0 {
		sqlite3.Xsqlite3_finalize(r.tls, r.stmt)
	}
	if r.db != 0 {
		sqlite3.Xsqlite3_close_v2(r.tls, r.db)
	}
	r.tls.Close()
}

// readChunk reads the rows lo < seq <= hi into buf; on an error it returns
// the rows read before it, too.
func (r *auditReader) readChunk(lo, hi int64, buf []engine.AuditEntry) ([]engine.AuditEntry, error) {
	tls, st := r.tls, r.stmt
	defer sqlite3.Xsqlite3_reset(tls, st)
	if rc := sqlite3.Xsqlite3_bind_int64(tls, st, 1, lo); rc != sqlite3.SQLITE_OK {
		return buf, r.error("bind", rc)
	}
	if rc := sqlite3.Xsqlite3_bind_int64(tls, st, 2, hi); rc != sqlite3.SQLITE_OK {
		return buf, r.error("bind", rc)
	}
	texts := make([]struct {
		p uintptr
		n int
	}, len(auditReaderFields)-auditReaderInts)
	for {
		switch rc := sqlite3.Xsqlite3_step(tls, st); rc {
		case sqlite3.SQLITE_ROW:
		case sqlite3.SQLITE_DONE:
			return buf, nil
		default:
			return buf, r.error("step", rc)
		}
		// The table is STRICT: the integers are integers, the texts texts,
		// none NULL; a NULL pointer is SQLite out of memory.
		size := 0
		for i := range texts {
			col := int32(auditReaderInts + i)
			texts[i].p = sqlite3.Xsqlite3_column_text(tls, st, col)
			texts[i].n = int(sqlite3.Xsqlite3_column_bytes(tls, st, col))
			if texts[i].p == 0 {
				return buf, r.error("column", sqlite3.Xsqlite3_errcode(tls, r.db))
			}
			size += texts[i].n
		}
		// One copy of the row out of SQLite's memory (valid until the next
		// step; GoBytes aliases it); the fields are substrings of the copy.
		row := make([]byte, size)
		off := 0
		for _, t := range texts {
			off += copy(row[off:], libc.GoBytes(t.p, t.n))
		}
		all := unsafe.String(unsafe.SliceData(row), len(row)) // row is not written again
		if len(buf) < cap(buf) {
			buf = buf[:len(buf)+1]
		} else {
			buf = append(buf, engine.AuditEntry{})
		}
		e := &buf[len(buf)-1]
		for col, fi := range auditReaderFields[:auditReaderInts] {
			*engine.EntryFields[fi].Int(e) = sqlite3.Xsqlite3_column_int64(tls, st, int32(col))
		}
		off = 0
		for i, fi := range auditReaderFields[auditReaderInts:] {
			v := all[off : off+texts[i].n]
			off += texts[i].n
			f := &engine.EntryFields[fi]
			if f.Kind != engine.FieldTime {
				*f.Text(e) = v
				continue
			}
			t, err := parseTime(v)
			if err != nil {
				return buf[:len(buf)-1], err
			}
			*f.Time(e) = t
		}
	}
}

// eachAuditRow calls fn for every entry of the log in tx's snapshot, in seq
// order, exactly as one ORDER BY seq query would: in chunks read in
// parallel (scanAuditLog) while the seqs run 1, 2, 3 … as the triggers keep
// them, then with one query from where they stop doing so (rows deleted,
// renumbered, put at seq 0 or 2^63-1 by someone who dropped the triggers).
// Nothing counts the rows first: a count(*) reads the whole table alone
// before either connection starts, and a short chunk tells as much.
func (db *DB) eachAuditRow(ctx context.Context, tx *sql.Tx, newHash func() engine.EntryHasher, fn func(*engine.AuditEntry, *tlog.Suite) error) error {
	// One step down the rowid b-tree each (min and max in one SELECT would
	// scan the table).
	var first, last sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT min(seq) FROM audit_log), (SELECT max(seq) FROM audit_log)`).Scan(&first, &last); err != nil {
		return err
	}
	if !first.Valid {
		return nil
	}
	if first.Int64 < 1 {
		// Chunks start after seq 0; a row at or below it is read in order.
		return eachAuditQuery(ctx, tx, ``, nil, hashed(newHash, fn))
	}
	var after int64
	var err error
	if db.dialect == postgresDialect {
		after, err = db.scanAuditLogPG(ctx, last.Int64, newHash, fn)
	} else {
		after, err = db.scanAuditLog(ctx, 0, last.Int64, newHash, fn)
	}
	if err != nil || after == last.Int64 {
		return err
	}
	return eachAuditQuery(ctx, tx, ` WHERE seq > ?`, []any{after}, hashed(newHash, fn))
}

// hashed gives fn each entry with its hash checked in line, for the rows
// read one by one.
func hashed(newHash func() engine.EntryHasher, fn func(*engine.AuditEntry, *tlog.Suite) error) func(*engine.AuditEntry) error {
	if newHash == nil {
		return func(e *engine.AuditEntry) error { return fn(e, nil) }
	}
	hash := newHash()
	return func(e *engine.AuditEntry) error { return fn(e, hash(e)) }
}

// eachAuditQuery calls fn for every entry matching where, in seq order, row
// by row. An error from fn is returned as errStop.
func eachAuditQuery(ctx context.Context, tx *sql.Tx, where string, args []any, fn func(*engine.AuditEntry) error) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log`+where+` ORDER BY seq`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var e engine.AuditEntry
	for rows.Next() {
		if err := scanAudit(rows, &e); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return errStop{err}
		}
	}
	return rows.Err()
}
