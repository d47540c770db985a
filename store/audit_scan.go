package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"zonevet/engine"
)

// Reading rows is what bounds an export or a verification of the whole log:
// modernc's rows.Next (SQLite's page reads, a mutex around every column
// call, a Go string per column) costs more than encoding or hashing the
// entry. One connection reads on one core, so the whole log is read in
// chunks of seqs by two connections at once and handed on in seq order.
//
// This is sound because entries below the head never change (the
// append-only triggers refuse UPDATE and DELETE): the chunks read by the
// second connection, from its own later snapshot and capped at the head seen
// by the first, are the rows the first snapshot holds. Whoever bypasses the
// triggers to rewrite rows during an export could as well have done it
// before: that is the chain's business, not the snapshot's.

// auditScanChunk is how many seqs one read covers: large enough that a
// query's set-up is lost in its rows, small enough that the chunks waiting
// in seq order hold a few MiB at most.
var auditScanChunk int64 = 512

// auditScanAhead is how many chunks may be read ahead of the one being
// handed on; with the chunk size it bounds the memory of a scan.
const auditScanAhead = 4

// auditScanHelpers is how many connections besides the snapshot's own help
// read (the machine this runs on has two cores).
const auditScanHelpers = 1

// auditChunk is one chunk of the scan: the rows read, and the error that
// stopped the read, if any, after them.
type auditChunk struct {
	lo, hi  int64 // lo < seq <= hi
	entries []engine.AuditEntry
	err     error
	done    chan struct{}
}

// errReadInOrder stops a parallel scan where chunks of seqs stop paying:
// a chunk with fewer rows than seqs (rows deleted or moved, maybe to
// 2^63-1, leaving empty chunks without end) or a row the packing cannot
// carry (errPackedLength). The rest is for one ORDER BY seq query.
var errReadInOrder = errors.New("audit scan: read the rest in seq order")

// scanAuditLog calls fn for every entry with lo < seq <= hi in seq order,
// and returns the seq of the last entry given to fn (lo if none). Below it
// the scan has given fn exactly what a single ORDER BY seq query would
// have; if it returns before hi with a nil error, the rows after it are
// the caller's to read with one query on tx (done reading, still open).
//
// tx is the caller's read transaction: it reads chunks itself, so the scan
// goes on without any other connection; helpers join when the read pool has
// a connection to spare (never waited for while holding a chunk, so two
// scans cannot deadlock each other on the pool). An error reading a chunk is
// returned once the entries before it have gone to fn. An error from fn is
// returned as errStop. Entries are reused: fn must not keep one.
func (db *DB) scanAuditLog(ctx context.Context, tx *sql.Tx, lo, hi int64, fn func(*engine.AuditEntry) error) (int64, error) {
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
	free := make(chan []engine.AuditEntry, auditScanAhead+auditScanHelpers+2)
	// stop ends the scan without cancelling ctx, which would interrupt a
	// read on tx that the caller goes on using.
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

	read := func(tx *sql.Tx, helper bool) {
		stmt, err := tx.PrepareContext(ctx, `SELECT `+packedAuditRow+` FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq`)
		if err != nil {
			if !helper {
				// Nothing taken yet: report it on the next chunk, in order.
				if c, ok := <-work; ok {
					c.err = err
					close(c.done)
				}
			}
			return // a helper that cannot read leaves its share to the others
		}
		defer stmt.Close()
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
			c.entries, err = readAuditChunk(ctx, stmt, c.lo, c.hi, buf[:0])
			c.err = err
			close(c.done) // c is the consumer's from here on
			if err != nil {
				return
			}
		}
	}
	for range auditScanHelpers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A helper takes no chunk until it has its connection, and gives
			// up if the scan ends first.
			htx, err := db.read.BeginTx(ctx, nil)
			if err != nil {
				return
			}
			defer htx.Rollback()
			read(htx, true)
		}()
	}
	txDone := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(txDone)
		read(tx, false)
	}()

	for c := range order {
		select {
		case <-c.done:
		case <-ctx.Done():
			return last, ctx.Err()
		}
		for i := range c.entries {
			if err := fn(&c.entries[i]); err != nil {
				return last, errStop{err}
			}
			last = c.entries[i].Seq
		}
		short := c.err == nil && int64(len(c.entries)) < c.hi-c.lo
		if short || errors.Is(c.err, errReadInOrder) {
			close(stop)
			<-txDone // tx is the caller's again
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

// readAuditChunk reads the rows lo < seq <= hi into buf; on an error it
// returns the rows read before it, too.
func readAuditChunk(ctx context.Context, stmt *sql.Stmt, lo, hi int64, buf []engine.AuditEntry) ([]engine.AuditEntry, error) {
	rows, err := stmt.QueryContext(ctx, lo, hi)
	if err != nil {
		return buf, err
	}
	defer rows.Close()
	var packed string
	for rows.Next() {
		if len(buf) < cap(buf) {
			buf = buf[:len(buf)+1]
		} else {
			buf = append(buf, engine.AuditEntry{})
		}
		if err := rows.Scan(&packed); err != nil {
			return buf[:len(buf)-1], err
		}
		if err := unpackAuditRow(packed, &buf[len(buf)-1]); err != nil {
			if errors.Is(err, errPackedLength) {
				err = errReadInOrder
			}
			return buf[:len(buf)-1], err
		}
	}
	return buf, rows.Err()
}

// packedAuditRow selects a whole entry as one text value: seq and
// project_id in decimal, each followed by a colon, then the lengths in
// bytes of the twelve text columns as the characters with those code points
// (char(), one call for all twelve), then the columns' bytes. Fourteen
// columns cost fourteen trips through the driver, each taking SQLite's
// connection mutex three times and allocating a Go string; one column costs
// one, and the fields are then substrings of it. Most of what is left is
// SQLite's allocator, whose two process-wide mutexes both connections
// take: integer lengths would each be converted to text, and concat()
// allocates its result for every row, where || grows the same register row
// after row; char() is the one allocation. The payload, the longest, comes
// last so that no field is copied more than once.
const packedAuditRow = `seq || ':' || project_id || ':' ||
	char(octet_length(time), octet_length(actor), octet_length(role), octet_length(park), octet_length(event),
		octet_length(from_state), octet_length(to_state), octet_length(reason), octet_length(rule_set_version),
		octet_length(prev_hash), octet_length(hash), octet_length(payload)) ||
	time || actor || role || park || event || from_state || to_state || reason || rule_set_version || prev_hash || hash || payload`

// errPackedLength is a packed row with a text of more than 0x10FFFF bytes,
// whose length char() cannot write (it writes U+FFFD instead).
var errPackedLength = errors.New("packed audit row: a text too long for its length's code point")

// unpackAuditRow reads a packedAuditRow value into e.
func unpackAuditRow(s string, e *engine.AuditEntry) error {
	bad := func(what string) error { return fmt.Errorf("packed audit row: bad %s", what) }
	num := func(what string) (int64, error) {
		// Most numbers are a few digits: read them here, leave the rest
		// (a sign, 19 digits, anything odd) to strconv.
		var n int64
		i := 0
		for ; i < len(s) && i < 18 && '0' <= s[i] && s[i] <= '9'; i++ {
			n = n*10 + int64(s[i]-'0')
		}
		if i == 0 || i >= len(s) || s[i] != ':' {
			j := strings.IndexByte(s, ':')
			if j < 0 {
				return 0, bad(what)
			}
			var err error
			if n, err = strconv.ParseInt(s[:j], 10, 64); err != nil {
				return 0, bad(what)
			}
			i = j
		}
		s = s[i+1:]
		return n, nil
	}
	var err error
	if e.Seq, err = num("seq"); err != nil {
		return err
	}
	if e.ProjectID, err = num("project_id"); err != nil {
		return err
	}
	var tm string
	fields := [...]*string{&tm, &e.Actor, (*string)(&e.Role), &e.Park, &e.Event,
		(*string)(&e.FromState), (*string)(&e.ToState), &e.Reason, &e.RuleSetVersion, &e.PrevHash, &e.Hash, &e.Payload}
	var lens [len(fields)]int
	total := 0
	for i := range lens {
		n, size := charCodePoint(s)
		if size == 0 {
			return bad("lengths")
		}
		lens[i], total, s = n, total+n, s[size:]
	}
	// A length char() could not write reads as 0xFFFD, shorter than the
	// text: then the lengths add up to less than what follows them.
	if total != len(s) {
		if total < len(s) {
			return errPackedLength
		}
		return bad("lengths")
	}
	for i, dst := range fields {
		*dst, s = s[:lens[i]], s[lens[i]:]
	}
	e.Time, err = parseTime(tm)
	return err
}

// charCodePoint reads the code point SQLite's char() wrote at the start of
// s, and how many bytes it took (0: s is cut short). char() writes any code
// point up to 0x10FFFF in UTF-8's layout, surrogates included, which
// utf8.DecodeRuneInString would refuse.
func charCodePoint(s string) (int, int) {
	if len(s) == 0 {
		return 0, 0
	}
	b := int(s[0])
	switch {
	case b < 0x80:
		return b, 1
	case b < 0xe0:
		if len(s) < 2 {
			return 0, 0
		}
		return (b&0x1f)<<6 | int(s[1])&0x3f, 2
	case b < 0xf0:
		if len(s) < 3 {
			return 0, 0
		}
		return (b&0x0f)<<12 | (int(s[1])&0x3f)<<6 | int(s[2])&0x3f, 3
	default:
		if len(s) < 4 {
			return 0, 0
		}
		return (b&0x07)<<18 | (int(s[1])&0x3f)<<12 | (int(s[2])&0x3f)<<6 | int(s[3])&0x3f, 4
	}
}

// eachAuditRow calls fn for every entry of the log in tx's snapshot, in seq
// order, exactly as one ORDER BY seq query would: in chunks read in
// parallel (scanAuditLog) while the seqs run 1, 2, 3 … as the triggers keep
// them, then with one query from where they stop doing so (rows deleted,
// renumbered, put at seq 0 or 2^63-1 by someone who dropped the triggers).
// Nothing counts the rows first: a count(*) reads the whole table alone
// before either connection starts, and a short chunk tells as much.
func (db *DB) eachAuditRow(ctx context.Context, tx *sql.Tx, fn func(*engine.AuditEntry) error) error {
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
		return eachAuditQuery(ctx, tx, ``, nil, fn)
	}
	after, err := db.scanAuditLog(ctx, tx, 0, last.Int64, fn)
	if err != nil || after == last.Int64 {
		return err
	}
	return eachAuditQuery(ctx, tx, ` WHERE seq > ?`, []any{after}, fn)
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
