package store

import (
	"context"
	"database/sql"
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

// scanAuditLog calls fn for every entry with lo < seq <= hi in seq order.
// tx is the caller's read transaction: it reads chunks itself, so the scan
// goes on without any other connection; helpers join when the read pool has
// a connection to spare (never waited for while holding a chunk, so two
// scans cannot deadlock each other on the pool). An error reading a chunk is
// returned once the entries before it have gone to fn, so the caller sees
// exactly what a single ORDER BY seq query would have given it. An error
// from fn is returned as errStop. Entries are reused: fn must not keep one.
func (db *DB) scanAuditLog(ctx context.Context, tx *sql.Tx, lo, hi int64, fn func(*engine.AuditEntry) error) error {
	if hi <= lo {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel (deferred later, so run first)
	defer cancel()

	chunk := max(auditScanChunk, 1)
	work := make(chan *auditChunk, auditScanAhead+1)
	order := make(chan *auditChunk, auditScanAhead)
	free := make(chan []engine.AuditEntry, auditScanAhead+auditScanHelpers+2)

	wg.Add(1)
	go func() { // the dispatcher: chunks in seq order, at most auditScanAhead ahead
		defer wg.Done()
		defer close(work)
		defer close(order)
		for a := lo; a < hi; a += chunk {
			c := &auditChunk{lo: a, hi: min(a+chunk, hi), done: make(chan struct{})}
			select {
			case order <- c:
			case <-ctx.Done():
				return
			}
			select {
			case work <- c:
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
			var buf []engine.AuditEntry
			select {
			case buf = <-free:
			default:
			}
			c.entries, c.err = readAuditChunk(ctx, stmt, c.lo, c.hi, buf[:0])
			close(c.done)
			if c.err != nil {
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
	wg.Add(1)
	go func() {
		defer wg.Done()
		read(tx, false)
	}()

	for c := range order {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		for i := range c.entries {
			if err := fn(&c.entries[i]); err != nil {
				return errStop{err}
			}
		}
		if c.err != nil {
			return c.err
		}
		select {
		case free <- c.entries:
		default:
		}
		c.entries = nil
	}
	return ctx.Err()
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
			return buf[:len(buf)-1], err
		}
	}
	return buf, rows.Err()
}

// packedAuditRow selects a whole entry as one text value: seq and
// project_id in decimal, then each text column as its length in bytes, a
// colon and its bytes. Fourteen columns cost fourteen trips through the
// driver, each taking SQLite's connection mutex three times and allocating
// a Go string; one column costs one, and the fields are then substrings of
// it. The payload, the longest, comes last so that no field is copied twice.
const packedAuditRow = `concat(seq, ':', project_id, ':',
	octet_length(time), ':', time, octet_length(actor), ':', actor, octet_length(role), ':', role,
	octet_length(park), ':', park, octet_length(event), ':', event, octet_length(from_state), ':', from_state,
	octet_length(to_state), ':', to_state, octet_length(reason), ':', reason,
	octet_length(rule_set_version), ':', rule_set_version, octet_length(prev_hash), ':', prev_hash,
	octet_length(hash), ':', hash, octet_length(payload), ':', payload)`

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
	text := func(what string) (string, error) {
		n, err := num(what)
		if err != nil || n < 0 || n > int64(len(s)) {
			return "", bad(what)
		}
		v := s[:n]
		s = s[n:]
		return v, nil
	}
	var err error
	var tm string
	if e.Seq, err = num("seq"); err != nil {
		return err
	}
	if e.ProjectID, err = num("project_id"); err != nil {
		return err
	}
	fields := [...]struct {
		name string
		dst  *string
	}{{"time", &tm}, {"actor", &e.Actor}, {"role", (*string)(&e.Role)}, {"park", &e.Park}, {"event", &e.Event},
		{"from_state", (*string)(&e.FromState)}, {"to_state", (*string)(&e.ToState)}, {"reason", &e.Reason},
		{"rule_set_version", &e.RuleSetVersion}, {"prev_hash", &e.PrevHash}, {"hash", &e.Hash}, {"payload", &e.Payload}}
	for _, f := range fields {
		if *f.dst, err = text(f.name); err != nil {
			return err
		}
	}
	if s != "" {
		return bad("length")
	}
	e.Time, err = parseTime(tm)
	return err
}

// auditRange returns the seqs of the log in tx's snapshot, 1 to last, when
// they are exactly those (as the triggers keep them): then chunks of seqs
// cover every row and scanAuditLog may read them in parallel. Otherwise
// (rows deleted, renumbered, put at seq 0 or 2^63-1 by someone who dropped
// the triggers) ok is false and the caller reads with one ORDER BY seq
// query, which sees every row whatever its seq, without empty chunks
// across a gap of 2^63.
func auditRange(ctx context.Context, tx *sql.Tx) (last int64, ok bool, err error) {
	var first, top sql.NullInt64
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT min(seq), max(seq), count(*) FROM audit_log`).Scan(&first, &top, &n); err != nil {
		return 0, false, err
	}
	if !first.Valid {
		return 0, true, nil
	}
	return top.Int64, first.Int64 == 1 && top.Int64 == n, nil
}
