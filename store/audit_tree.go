package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// The Merkle tree over the log (engine/tlog) lives in audit_tree: the row
// of entry seq holds the nodes that entry completes, so appending an entry
// writes one row beside it, in the same transaction, and a proof reads
// O(log n) rows by primary key.

// auditTree is the writer's copy of the tree's right border, so an append
// does not read the border back: it is the border after the entry whose
// hash is head. An append checks that the entry it extends is head; any
// other (a batch rolled back, another process's writes) reloads the border
// from audit_tree.
type auditTree struct {
	mu   sync.Mutex
	rng  *tlog.Range
	head string
}

// treeHasher is the tree's hash function.
func (db *DB) treeHasher() tlog.Hasher { return db.logSuite().Tree }

var _ engine.TreeStore = (*DB)(nil)

// appendTree adds e (already chained, about to be inserted) to the tree and
// stores the nodes it completes. It runs in the entry's write transaction;
// appendAudit is its only caller, so every entry is in the tree.
func (db *DB) appendTree(ctx context.Context, tx *sql.Tx, e *engine.AuditEntry) error {
	nodes, ok, err := db.treeNodes(ctx, tx, e)
	if err != nil || !ok {
		return err
	}
	if _, err := db.execWrite(ctx, tx, sqlTreeInsert, e.Seq, nodes); err != nil {
		db.tree.forget()
		return err
	}
	return nil
}

// treeNodes adds e to the writer's border and returns the nodes its row in
// audit_tree must hold; ok is false when no row is to be written (the tree
// already has a leaf there: see catchUpTreeTx). If the row is not written
// after all, the caller must forget the border.
func (db *DB) treeNodes(ctx context.Context, tx *sql.Tx, e *engine.AuditEntry) (nodes []byte, ok bool, err error) {
	t := &db.tree
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rng == nil || t.rng.Size() != uint64(e.Seq-1) || t.head != e.PrevHash {
		t.rng = nil
		r, err := db.catchUpTreeTx(ctx, tx, e.Seq-1)
		if err != nil || r == nil {
			return nil, false, err
		}
		t.rng = r
	}
	h := db.treeHasher()
	leaf, err := tlog.LeafHash(h, e.Hash)
	if err != nil {
		return nil, false, err
	}
	nodes = make([]byte, 0, tlog.CompletedNodes(uint64(e.Seq-1))*h.Size())
	if err := t.rng.Append(leaf, func(_ tlog.NodeID, hash []byte) { nodes = append(nodes, hash...) }); err != nil {
		t.rng = nil
		return nil, false, err
	}
	t.head = e.Hash
	return nodes, true, nil
}

// forget drops the border (its rows were not written, or may not be
// committed); the next append reloads it from audit_tree.
func (t *auditTree) forget() {
	t.mu.Lock()
	t.rng = nil
	t.mu.Unlock()
}

// seqHash is one entry's place in the chain.
type seqHash struct {
	seq  int64
	hash string
}

// advance moves the border over entries other writers appended since it
// was last used, from those entries alone: since holds the log from the
// border's own last entry on, in order, and treeSize is audit_tree's
// highest seq. Anything unexpected (another border, a gap, a tree not at
// the log's head) drops the border instead, for treeNodes to reload.
func (db *DB) advanceTree(since []seqHash, treeSize int64) {
	t := &db.tree
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rng == nil || len(since) == 0 || since[0].seq != int64(t.rng.Size()) || since[0].hash != t.head ||
		since[len(since)-1].seq != treeSize {
		t.rng = nil
		return
	}
	h := db.treeHasher()
	for i, x := range since[1:] {
		leaf, err := tlog.LeafHash(h, x.hash)
		if err != nil || x.seq != since[i].seq+1 {
			t.rng = nil
			return
		}
		if err := t.rng.Append(leaf, func(tlog.NodeID, []byte) {}); err != nil {
			t.rng = nil
			return
		}
	}
	t.head = since[len(since)-1].hash
}

// borderSize is how many entries the writer's border covers; 0 when it has
// none.
func (t *auditTree) borderSize() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rng == nil {
		return 0
	}
	return int64(t.rng.Size())
}

// catchUpTreeTx returns the border of the tree of size entries, first
// adding to audit_tree the entries up to size it lacks (a log written
// before the tree existed, or by a writer that bypassed the store). It
// returns nil, and no error, when the tree has more leaves than the log.
func (db *DB) catchUpTreeTx(ctx context.Context, tx *sql.Tx, size int64) (*tlog.Range, error) {
	var have int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM audit_tree`).Scan(&have); err != nil {
		return nil, err
	}
	if have > size {
		// Entries were deleted behind the store's back (the triggers
		// dropped). The tree keeps the leaves of the entries that were
		// there — evidence a verifier finds (the signed roots and the
		// chain disagree) — and decisions go on: the tree takes new leaves
		// again once the log is past the rows it has.
		return nil, nil
	}
	h := db.treeHasher()
	r, err := tlog.LoadRange(h, uint64(have), treeReader(ctx, tx, h))
	if err != nil {
		return nil, err
	}
	if have == size {
		return r, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, hash FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq`, have, size)
	if err != nil {
		return nil, err
	}
	type row struct {
		seq   int64
		nodes []byte
	}
	var add []row
	for rows.Next() {
		var seq int64
		var hash string
		if err := rows.Scan(&seq, &hash); err != nil {
			rows.Close()
			return nil, err
		}
		if seq != int64(r.Size())+1 {
			rows.Close()
			return nil, fmt.Errorf("audit tree: entry %d missing from the log", r.Size()+1)
		}
		leaf, err := tlog.LeafHash(h, hash)
		if err != nil {
			rows.Close()
			return nil, err
		}
		var nodes []byte
		if err := r.Append(leaf, func(_ tlog.NodeID, hash []byte) { nodes = append(nodes, hash...) }); err != nil {
			rows.Close()
			return nil, err
		}
		add = append(add, row{seq, nodes})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if int64(r.Size()) != size {
		return nil, fmt.Errorf("audit tree: the log ends at %d, not %d", r.Size(), size)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO audit_tree (seq, nodes) VALUES (?, ?)`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, a := range add {
		if _, err := st.ExecContext(ctx, a.seq, a.nodes); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// catchUpTree brings audit_tree up to the log's head (at Open: a database
// from before the tree, whose entries must be provable too).
func (db *DB) catchUpTree(ctx context.Context) error {
	var logHead, treeHead int64
	if err := db.read.QueryRowContext(ctx, `SELECT (SELECT coalesce(max(seq), 0) FROM audit_log), (SELECT coalesce(max(seq), 0) FROM audit_tree)`).
		Scan(&logHead, &treeHead); err != nil {
		return wrap("audit tree", err)
	}
	if logHead <= treeHead {
		return nil // up to date, or the log was cut behind the store's back (catchUpTreeTx)
	}
	return wrap("audit tree", db.update(ctx, func(tx *sql.Tx) error {
		var head int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM audit_log`).Scan(&head); err != nil {
			return err
		}
		_, err := db.catchUpTreeTx(ctx, tx, head)
		return err
	}))
}

// treeReader reads stored nodes within tx: each from the row of the leaf
// that completed it, all in one query.
func treeReader(ctx context.Context, tx *sql.Tx, h tlog.Hasher) tlog.NodeReader {
	return func(ids []tlog.NodeID) ([][]byte, error) {
		out := make([][]byte, len(ids))
		if len(ids) == 0 {
			return out, nil
		}
		args := make([]any, len(ids))
		for i, id := range ids {
			leaf, _ := tlog.NodeRow(id)
			args[i] = int64(leaf) + 1
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq, nodes FROM audit_tree WHERE seq IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		got := make(map[int64][]byte, len(ids))
		for rows.Next() {
			var seq int64
			var nodes []byte
			if err := rows.Scan(&seq, &nodes); err != nil {
				return nil, err
			}
			got[seq] = nodes
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		size := h.Size()
		for i, id := range ids {
			leaf, pos := tlog.NodeRow(id)
			row := got[int64(leaf)+1]
			if len(row) < (pos+1)*size {
				return nil, fmt.Errorf("%w: level %d index %d", tlog.ErrMissingNode, id.Level, id.Index)
			}
			out[i] = row[pos*size : (pos+1)*size]
		}
		return out, nil
	}
}

// treeView runs fn with the tree's reader in one read snapshot, after
// checking the tree holds size leaves.
func (db *DB) treeView(ctx context.Context, size int64, fn func(tlog.NodeReader) error) error {
	return db.view(ctx, func(tx *sql.Tx) error {
		var have int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM audit_tree`).Scan(&have); err != nil {
			return err
		}
		if size < 0 || size > have {
			return engine.Fail(engine.EINVALID, "err.log_has_entries_no", engine.Args{"Have": have, "Size": size})
		}
		return fn(treeReader(ctx, tx, db.treeHasher()))
	})
}

// TreeRoot returns the root of the tree over the first size entries.
func (db *DB) TreeRoot(ctx context.Context, size int64) (root []byte, err error) {
	err = db.treeView(ctx, size, func(read tlog.NodeReader) error {
		root, err = tlog.Root(db.treeHasher(), uint64(size), read)
		return err
	})
	return root, wrap("tree root", err)
}

// InclusionProof proves entry seq is in the tree of size entries.
func (db *DB) InclusionProof(ctx context.Context, seq, size int64) (p [][]byte, err error) {
	if seq < 1 || seq > size {
		return nil, engine.Fail(engine.EINVALID, "err.entry_not_in_tree", engine.Args{"Seq": seq, "Size": size})
	}
	err = db.treeView(ctx, size, func(read tlog.NodeReader) error {
		p, err = tlog.InclusionProof(db.treeHasher(), uint64(seq-1), uint64(size), read)
		return err
	})
	return p, wrap("inclusion proof", err)
}

// ConsistencyProof proves the tree of size2 entries extends that of size1.
func (db *DB) ConsistencyProof(ctx context.Context, size1, size2 int64) (p [][]byte, err error) {
	if size1 < 0 || size1 > size2 {
		return nil, engine.Fail(engine.EINVALID, "err.old_tree_size_larger", engine.Args{"Size1": size1, "Size2": size2})
	}
	err = db.treeView(ctx, size2, func(read tlog.NodeReader) error {
		p, err = tlog.ConsistencyProof(db.treeHasher(), uint64(size1), uint64(size2), read)
		return err
	})
	return p, wrap("consistency proof", err)
}
