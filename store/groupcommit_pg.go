package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"

	"zonevet/engine"
)

// Late locking on PostgreSQL (issue 17: durable transitions).
//
// The chain head's lock is held through the batch's synced commit, so the
// processes' batches run one after another for as long as each holds it;
// everything done under it is paid once per batch by every process. A batch
// of plain decisions (runLate) therefore does its version-checked project
// writes first, each in its savepoint, before the lock: they touch only the
// batch's own projects, and the counts they move are kept at commit
// (migrations_pg/00450). Only then does it lock the head, and chain its
// entries in two round trips: one to lock and read the head (with the
// entries other processes appended since this process's last batch, to
// bring its Merkle border up to date without reading audit_tree), one to
// insert every entry, tree row and notice; then COMMIT. Before, each
// command paid six round trips under the lock.
//
// Two processes deciding on the same project still exclude each other: the
// second's UPDATE waits for the first's row lock and, once the first has
// committed, finds the version moved on (a conflict). A batch that waits
// for the head holds only its own projects' rows, and whoever holds the
// head waits for nothing but its commit, so batches cannot deadlock through
// the head; two batches locking the same two projects in opposite order
// can, and PostgreSQL's deadlock error reruns one of them (update's retry).

// lockChainHeadSQL is stmts.lockHead's PostgreSQL text, for the pipeline.
const lockChainHeadSQL = `SELECT id FROM chain_head WHERE id = 1 FOR UPDATE`

// maxCatchUp bounds how many entries of other processes a batch reads to
// move its Merkle border; further behind, it reloads the border from
// audit_tree (a few rows) instead.
const maxCatchUp = 1024

// lateCall reports whether call can have its entries chained after the
// lock is taken: a decision on a project (project part, entries, notices)
// with nothing that needs its entry's seq or its write-back before the
// commit (an idempotency claim, a token, the other parts, a reminder).
func lateCall(call *applyCall) bool {
	c := call.c
	return call.claim == nil && c.Token == nil && !hasParts(c) && (c.Notify == nil || c.Notify.Reminder == nil)
}

// lateChainable reports whether every call of batch is a lateCall.
func lateChainable(batch []*applyCall) bool {
	for _, call := range batch {
		if !lateCall(call) {
			return false
		}
	}
	return true
}

// pipelineError is a failure of runLate's pipelined writes: the
// transaction is lost and nothing of the batch landed. runBatch then runs
// the batch the ordinary way, each command undone alone if it fails.
type pipelineError struct{ err error }

func (e pipelineError) Error() string { return e.err.Error() }
func (e pipelineError) Unwrap() error { return e.err }

// lateCommand is a command of a late batch whose project part is written.
type lateCommand struct {
	i       int // its place in the batch
	c       *engine.Change
	j       projectJSON
	e       engine.AuditEntry
	extra   []engine.AuditEntry
	project func() // writeProjectPart's write-back
}

// runLate runs *batch, a lateChainable one, on PostgreSQL: the project
// parts first, taking in the lateCalls that queue meanwhile, then the lock
// and the chained entries (chainLate), then, under the lock, whoever
// queued behind it in the ordinary way (applyTx), as runLocked's drain does;
// calls under an idempotency claim wait for the next batch, whose rerun
// after a lost race runLocked knows how to undo. It returns runLocked's
// results.
func (db *DB) runLate(batchp *[]*applyCall) (results []error, writeBacks []func(), err error) {
	ctx := context.Background()
	early := len(*batchp) // how many of *batchp are written before the lock
	tries := 0
	err = db.updateLockingLate(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		tries++
		results, writeBacks = make([]error, len(*batchp)), make([]func(), len(*batchp))
		var cmds []*lateCommand
		run := func(i int, write func() (func(), error)) (func(), error) {
			call := (*batchp)[i]
			if results[i] = call.ctx.Err(); results[i] != nil {
				return nil, nil
			}
			w, cmdErr, txErr := db.inSavepoint(ctx, tx, write)
			results[i] = cmdErr
			return w, txErr
		}
		for i := 0; ; i++ {
			if tries == 1 && i == early {
				// Callers that queued while these projects were written
				// join the batch: the lock is not taken yet, so it costs
				// nobody.
				*batchp = db.queue.drain(*batchp, lateCall)
				results, writeBacks = append(results, make([]error, len(*batchp)-i)...), append(writeBacks, make([]func(), len(*batchp)-i)...)
				early = len(*batchp)
			}
			if i == early {
				break
			}
			call := (*batchp)[i]
			lc := &lateCommand{i: i, c: call.c, j: call.j, e: call.c.Entry}
			lc.e.Time = orNow(lc.e.Time, db.now())
			w, txErr := run(i, func() (func(), error) { return db.writeProjectPart(ctx, tx, call.c, call.j, &lc.e) })
			if txErr != nil {
				return txErr
			}
			if lc.project = w; w != nil && results[i] == nil {
				cmds = append(cmds, lc)
			}
		}
		locked := len(cmds) > 0
		if locked {
			if err := db.chainLate(ctx, conn, tx, cmds); err != nil {
				return err
			}
		}
		for _, lc := range cmds {
			writeBacks[lc.i] = func() {
				lc.project()
				lc.c.Entry = lc.e
				copy(lc.c.Extra, lc.extra)
			}
		}
		if tries == 1 {
			*batchp = db.queue.drain(*batchp, func(call *applyCall) bool { return call.claim == nil })
			results, writeBacks = append(results, make([]error, len(*batchp)-early)...), append(writeBacks, make([]func(), len(*batchp)-early)...)
		}
		for i := early; i < len(*batchp); i++ {
			if !locked {
				if err := db.lockChainHead(ctx, tx); err != nil {
					return err
				}
				locked = true
			}
			call := (*batchp)[i]
			w, txErr := run(i, func() (func(), error) { return db.applyTx(ctx, tx, call.c, call.j, nil) })
			if txErr != nil {
				return txErr
			}
			writeBacks[i] = w
		}
		return nil
	})
	return results, writeBacks, err
}

// chainLate takes the chain head's lock and appends the entries (and
// notices) of cmds after the head, in two round trips.
func (db *DB) chainLate(ctx context.Context, conn *sql.Conn, tx *sql.Tx, cmds []*lateCommand) error {
	head := seqHash{0, engine.GenesisHash}
	var (
		since    []seqHash
		treeSize int64
	)
	border := db.tree.borderSize()
	err := withPgx(conn, func(pc *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue(lockChainHeadSQL)
		// Each statement of the pipeline reads a snapshot taken when it
		// starts (READ COMMITTED), after the lock above is granted: the
		// head read is the head every later writer must extend.
		b.Queue(`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&head.seq, &head.hash); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			return nil
		})
		if border > 0 {
			b.Queue(`SELECT seq, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`, border, maxCatchUp).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var x seqHash
					if err := rows.Scan(&x.seq, &x.hash); err != nil {
						return err
					}
					since = append(since, x)
				}
				return rows.Err()
			})
		}
		b.Queue(`SELECT coalesce(max(seq), 0) FROM audit_tree`).QueryRow(func(row pgx.Row) error { return row.Scan(&treeSize) })
		return pc.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return pipelineFailed(err)
	}
	db.advanceTree(since, treeSize)

	b := &pgx.Batch{}
	last := head
	for _, lc := range cmds {
		lc.extra = extraEntries(&lc.e, lc.c.Extra)
		entries := make([]*engine.AuditEntry, 0, 1+len(lc.extra))
		entries = append(entries, &lc.e)
		for i := range lc.extra {
			entries = append(entries, &lc.extra[i])
		}
		for _, e := range entries {
			if err := db.chain(ctx, tx, e, last.seq, last.hash); err != nil {
				db.tree.forget()
				return err
			}
			nodes, ok, err := db.treeNodes(ctx, tx, e)
			if err != nil {
				db.tree.forget()
				return err
			}
			if ok {
				b.Queue(dollarPlaceholders(sqlTreeInsert), e.Seq, nodes)
			}
			b.Queue(dollarPlaceholders(auditInsertSQL), db.auditValues(e)...)
			last = seqHash{e.Seq, e.Hash}
		}
		if args, ok := screening(lc.c, lc.j, &lc.e); ok {
			b.Queue(dollarPlaceholders(sqlScreening), args...)
		}
		if n := lc.c.Notify; n != nil {
			for _, w := range noticeWrites(n, entries[len(entries)-1]) {
				b.Queue(dollarPlaceholders(w.query), flagValues(w.args)...)
			}
		}
	}
	err = withPgx(conn, func(pc *pgx.Conn) error { return pc.SendBatch(ctx, b).Close() })
	if err != nil {
		db.tree.forget() // the border holds entries that are not in the log
		return pipelineFailed(err)
	}
	return nil
}

// pipelineFailed passes a lost race on for update's retry and marks
// anything else a pipelineError.
func pipelineFailed(err error) error {
	if isRetryable(err) {
		return err
	}
	return pipelineError{err}
}
