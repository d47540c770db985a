package store

import (
	"context"
	"database/sql"
	"errors"
	"runtime/trace"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"zonevet/engine"
)

// Group commit: Apply calls that arrive while the writer is busy share one
// write transaction.
//
// Most of a decision's cost is its commit: a WAL frame for every page it
// touched (the project's row, its two list indexes, the log's page and its
// project index), two system calls each, and the locks of BEGIN and COMMIT.
// When several people decide at once, the commands queued behind the writer
// run together, and one command's failure (a stale version, a second score)
// undoes that command alone: on SQLite the batch is then run again with
// each command inside its own SAVEPOINT (runTogether), on PostgreSQL it
// always is. They are committed once: the log's pages and the fixed costs
// are paid per batch, not per decision. Nobody is told "done" before the
// commit, and if the commit fails, every command of the batch fails. An
// Apply that finds the writer idle runs alone, with no savepoint and no
// hand-off.
//
// Who runs a batch: the caller that finds the writer idle leads and runs its
// own command; callers arriving meanwhile queue. When its batch is committed
// the leader hands over to the first queued caller, which runs everything
// queued by then. There is no goroutine of its own, so nothing to stop.
//
// On PostgreSQL the batch waits for the chain head's lock, held by another
// process through its synced commit; the callers queued meanwhile join the
// batch once the lock is taken (drain), so three processes' batches grow
// instead of each paying a commit for the few callers it had at the start.
// A batch of plain decisions writes its projects before it waits for that
// lock and holds it for two round trips and the commit (groupcommit_pg.go).

// maxBatch bounds one transaction: the write lock is held, and other
// processes wait, for the whole batch.
const maxBatch = 64

// errLead tells a queued caller to run the next batch; no caller returns it.
var errLead = errors.New("store: lead the next batch")

type commitQueue struct {
	mu      sync.Mutex
	busy    bool         // a leader is running a batch
	waiting []*applyCall // queued while busy, in arrival order

	commits, commands atomic.Int64 // for CommitStats
	busyTime          atomic.Int64 // nanoseconds spent running batches, for WriterBusy
}

// CommitStats returns how many write transactions Apply has committed and
// how many commands they held; their ratio is the mean batch size.
func (db *DB) CommitStats() (commits, commands int64) {
	return db.queue.commits.Load(), db.queue.commands.Load()
}

// WriterBusy returns the time the writer has spent running batches, from
// taking one to answering its callers: divided by the commands committed,
// the serial section every decision waits for.
func (db *DB) WriterBusy() time.Duration {
	return time.Duration(db.queue.busyTime.Load())
}

type applyCall struct {
	ctx   context.Context
	c     *engine.Change
	j     projectJSON              // c.Project encoded
	claim *engine.IdempotencyClaim // from ctx: the transaction runs on its own
	done  chan error               // receives one value: the result, or errLead
}

func (db *DB) applyGrouped(ctx context.Context, c *engine.Change, j projectJSON, claim *engine.IdempotencyClaim) error {
	call := &applyCall{ctx: ctx, c: c, j: j, claim: claim, done: make(chan error, 1)}
	q := &db.queue
	q.mu.Lock()
	if q.busy {
		q.waiting = append(q.waiting, call)
		q.mu.Unlock()
		if err := call.wait(q); err != errLead {
			return err
		}
		q.mu.Lock()
	}
	q.busy = true
	n := min(len(q.waiting), maxBatch-1)
	batch := append([]*applyCall{call}, q.waiting[:n]...)
	q.waiting = slices.Delete(q.waiting, 0, n)
	q.mu.Unlock()

	func() {
		defer q.handOff() // even if the batch panics: the queue must not stall
		// A region of its own in an execution trace (go tool trace, "User-
		// defined regions"): the writer's time split into running, system
		// calls and waiting for a CPU, which a CPU profile cannot show.
		trace.WithRegion(ctx, "store.batch", func() { db.runBatch(batch) })
	}()
	return <-call.done
}

// handOff ends a leader's turn: the first queued call leads next, or the
// writer is idle.
func (q *commitQueue) handOff() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiting) == 0 {
		q.busy = false
		return
	}
	next := q.waiting[0]
	q.waiting = slices.Delete(q.waiting, 0, 1)
	next.done <- errLead
}

// drain moves the queued calls into batch, up to maxBatch, and with ok
// set only those at the queue's head that ok accepts. The calls taken wait
// for this batch's outcome, as the ones taken when it started.
func (q *commitQueue) drain(batch []*applyCall, ok func(*applyCall) bool) []*applyCall {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.waiting), maxBatch-len(batch))
	for i := range n {
		if ok != nil && !ok(q.waiting[i]) {
			n = i
			break
		}
	}
	batch = append(batch, q.waiting[:n]...)
	q.waiting = slices.Delete(q.waiting, 0, n)
	return batch
}

// wait waits for a queued call's turn. A caller that gives up while still
// queued leaves the queue with its context's error and nothing written; once
// a batch has taken its command, it waits for that batch's outcome.
func (call *applyCall) wait(q *commitQueue) error {
	select {
	case err := <-call.done:
		return err
	case <-call.ctx.Done():
	}
	q.mu.Lock()
	if i := slices.Index(q.waiting, call); i >= 0 {
		q.waiting = slices.Delete(q.waiting, i, i+1)
		q.mu.Unlock()
		return wrap("apply", call.ctx.Err())
	}
	q.mu.Unlock()
	return <-call.done
}

// runBatch writes the batch's commands in one transaction and sends each
// call its result. The transaction runs on its own context: a caller that
// gives up must not undo the others' commands, so each call's context is
// checked only before its command starts.
func (db *DB) runBatch(batch []*applyCall) {
	start := time.Now()
	defer func() { db.queue.busyTime.Add(int64(time.Since(start))) }()
	answered := 0
	defer func() { // after a panic, which goes on up: nobody waits forever
		for _, call := range batch[answered:] {
			call.done <- errors.New("store: apply: interrupted by a panic; reload before retrying")
		}
	}()
	var (
		results    []error
		writeBacks []func()
		err        error
	)
	late := db.dialect == postgresDialect && lateChainable(batch)
	if late {
		results, writeBacks, err = db.runLate(&batch)
		var pe pipelineError
		late = !errors.As(err, &pe) // else nothing landed: each command again, undone alone if it fails
	}
	if !late {
		results, writeBacks, err = db.runLocked(&batch)
	}
	if err == nil {
		db.queue.commits.Add(1)
	}
	if len(results) < len(batch) { // the transaction failed before its commands ran
		results = append(results, make([]error, len(batch)-len(results))...)
	}
	for i, call := range batch {
		switch {
		case results[i] != nil:
		case err != nil:
			results[i] = err // the transaction failed: this command did not land either
		default:
			writeBacks[i]()
			db.queue.commands.Add(1)
		}
		call.done <- wrap("apply", results[i])
		answered++
	}
}

// runLocked runs *batch in a transaction that takes the write lock first,
// each command in its own savepoint (none when it is alone), and returns
// each command's result and write-back, and the transaction's error. On
// SQLite a batch is first run without savepoints (runTogether); only if one
// of its commands fails is it run again here, each in its savepoint.
func (db *DB) runLocked(batchp *[]*applyCall) (results []error, writeBacks []func(), err error) {
	if db.dialect == sqliteDialect && len(*batchp) > 1 && !slices.ContainsFunc(*batchp, claimed) {
		if results, writeBacks, err = db.runTogether(*batchp); err != errUndoBatch {
			return results, writeBacks, err
		}
	}
	ctx := context.Background()
	tries := 0
	var claimed []claimedChange
	err = db.update(ctx, func(tx *sql.Tx) error {
		if tries == 0 {
			// On PostgreSQL the chain head is locked now: whoever queued
			// while this batch waited for another process's commit joins it.
			if db.dialect == postgresDialect {
				*batchp = db.queue.drain(*batchp, nil)
			}
			results, writeBacks = make([]error, len(*batchp)), make([]func(), len(*batchp))
			for _, call := range *batchp {
				if call.claim != nil {
					claimed = append(claimed, saveClaimed(call.c))
				}
			}
		}
		batch := *batchp
		// A command under an idempotency claim writes back to its Change
		// before the commit (applyTx). When PostgreSQL refused the first
		// run (update's retry), each is put back as its caller gave it, so
		// the rerun inserts the project once, stores the key once and
		// encodes the answer of the run that commits.
		if tries++; tries > 1 {
			for _, cc := range claimed {
				if !cc.restore() {
					return errors.New("store: apply: lost a race with another writer; reload before retrying")
				}
			}
		}
		if len(batch) == 1 {
			if results[0] = batch[0].ctx.Err(); results[0] != nil {
				return results[0]
			}
			writeBacks[0], results[0] = db.applyTx(ctx, tx, batch[0].c, batch[0].j, batch[0].claim)
			return results[0]
		}
		for i, call := range batch {
			if results[i] = call.ctx.Err(); results[i] != nil {
				continue
			}
			var txErr error
			writeBacks[i], results[i], txErr = db.inSavepoint(ctx, tx, func() (func(), error) {
				return db.applyTx(ctx, tx, call.c, call.j, call.claim)
			})
			if txErr != nil {
				return txErr // PostgreSQL lost a race (the whole batch runs again), or the transaction failed
			}
		}
		return nil
	})
	return results, writeBacks, err
}

// errUndoBatch rolls back a batch run together: one of its commands failed.
var errUndoBatch = errors.New("store: apply: a command of the batch failed")

func claimed(call *applyCall) bool { return call.claim != nil }

// runTogether runs a batch's commands one after the other in one
// transaction with no savepoints, and returns errUndoBatch, with the
// transaction rolled back, if one of them fails. Savepoints cost the writer
// a statement before and after every command, and SQLite's statement
// journal keeps a copy of every page the command changes that an earlier
// one had already changed, which in a batch is nearly all of them (the
// log's, the notices' and the lists' last pages): 5–7 % of the writer's
// time per decision (BENCHMARKS.md, issue 16). Commands rarely
// fail once the engine has checked them (a stale version, a second score),
// so the rare batch that has one pays for running twice. A claimed command
// (an Idempotency-Key) writes back before the commit and is never run
// twice: its batch takes the savepoints at once.
func (db *DB) runTogether(batch []*applyCall) (results []error, writeBacks []func(), err error) {
	ctx := context.Background()
	err = db.update(ctx, func(tx *sql.Tx) error {
		results, writeBacks = make([]error, len(batch)), make([]func(), len(batch))
		for i, call := range batch {
			if results[i] = call.ctx.Err(); results[i] != nil {
				continue // nothing written: the others need not be undone
			}
			if writeBacks[i], results[i] = db.applyTx(ctx, tx, call.c, call.j, nil); results[i] != nil {
				return errUndoBatch
			}
		}
		return nil
	})
	if err == errUndoBatch {
		db.tree.forget() // it holds entries that were rolled back
	}
	return results, writeBacks, err
}

// inSavepoint runs one command of a batch inside its own savepoint, so that
// its failure undoes it alone, and returns its write-back and error. txErr
// is a failure that is not the command's alone: PostgreSQL lost a race
// (isRetryable: the whole batch runs again), or the savepoint's own
// statements failed (if SQLite has already rolled back the whole
// transaction: an I/O error, a full disk), which fails everyone's command.
func (db *DB) inSavepoint(ctx context.Context, tx *sql.Tx, run func() (func(), error)) (writeBack func(), err, txErr error) {
	if _, err := tx.StmtContext(ctx, db.stmts.savepoint).ExecContext(ctx); err != nil {
		return nil, err, err
	}
	writeBack, err = run()
	if isRetryable(err) {
		return nil, err, err
	}
	if err != nil {
		if _, rerr := tx.StmtContext(ctx, db.stmts.rollbackTo).ExecContext(ctx); rerr != nil {
			return nil, err, rerr
		}
	}
	if _, rerr := tx.StmtContext(ctx, db.stmts.release).ExecContext(ctx); rerr != nil {
		return nil, err, rerr
	}
	return writeBack, err, nil
}

// claimedChange is a claimed Change as its caller gave it, for a rerun:
// the fields applyTx's write-back sets (ids, versions, times, the entries).
// A Change with another part (Notify aside, which is only read) has
// write-backs deeper inside its parts and cannot be put back; a rerun of it
// fails (with nothing written) instead.
type claimedChange struct {
	c        *engine.Change
	project  engine.Project
	score    engine.Score
	conflict engine.Conflict
	document engine.Document
	entry    engine.AuditEntry
	extra    []engine.AuditEntry
}

func saveClaimed(c *engine.Change) claimedChange {
	cc := claimedChange{c: c, entry: c.Entry, extra: slices.Clone(c.Extra)}
	if c.Project != nil {
		cc.project = *c.Project
	}
	if c.Score != nil {
		cc.score = *c.Score
	}
	if c.Conflict != nil {
		cc.conflict = *c.Conflict
	}
	if c.Document != nil {
		cc.document = *c.Document
	}
	return cc
}

// restore puts the Change back in place (its pointers stay: the Answer
// often is c.Project) and reports whether that undid every write-back.
func (cc claimedChange) restore() bool {
	c := cc.c
	if c.Tracking != nil || c.Account != nil || c.LandUsers != nil || c.Rules != nil || c.Calendar != nil || c.Token != nil ||
		c.Meeting != nil || c.Experts != nil || c.Delegation != nil || c.Share != nil { // Notify is only read
		return false
	}
	if c.Project != nil {
		*c.Project = cc.project
	}
	if c.Score != nil {
		*c.Score = cc.score
	}
	if c.Conflict != nil {
		*c.Conflict = cc.conflict
	}
	if c.Document != nil {
		*c.Document = cc.document
	}
	c.Entry = cc.entry
	copy(c.Extra, cc.extra)
	return true
}
