package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"

	"zonevet/engine"
	"zonevet/engine/tlog"
	"zonevet/store"
)

// referenceRoot is RFC 6962 section 2.1's MTH, written from the RFC's
// definition and not from the code under test: a leaf is SHA-256(0x00 ||
// the entry's chain hash as bytes), a node SHA-256(0x01 || left || right),
// split at the largest power of two below n.
func referenceRoot(t testing.TB, hashes []string) []byte {
	t.Helper()
	switch n := len(hashes); n {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		raw, err := hex.DecodeString(hashes[0])
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(append([]byte{0}, raw...))
		return s[:]
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		s := sha256.Sum256(append(append([]byte{1}, referenceRoot(t, hashes[:k])...), referenceRoot(t, hashes[k:])...))
		return s[:]
	}
}

func logHashes(t testing.TB, db *store.DB) []string {
	t.Helper()
	es, err := db.AuditEntries(context.Background(), engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Hash
	}
	return out
}

// checkTree compares every prefix's stored root with the reference, and
// checks every inclusion and consistency proof the store gives against the
// reference roots with the library's verifier.
func checkTree(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	hs := logHashes(t, db)
	roots := make([][]byte, len(hs)+1)
	for size := 1; size <= len(hs); size++ {
		roots[size] = referenceRoot(t, hs[:size])
		got, err := db.TreeRoot(ctx, int64(size))
		if err != nil || hex.EncodeToString(got) != hex.EncodeToString(roots[size]) {
			t.Fatalf("root of %d = %x, %v; want %x", size, got, err, roots[size])
		}
	}
	for size := 1; size <= len(hs); size++ {
		for seq := 1; seq <= size; seq++ {
			p, err := db.InclusionProof(ctx, int64(seq), int64(size))
			if err != nil {
				t.Fatal(err)
			}
			leaf, _ := tlog.LeafHash(tlog.SHA256, hs[seq-1])
			if err := tlog.VerifyInclusion(tlog.SHA256, uint64(seq-1), uint64(size), leaf, p, roots[size]); err != nil {
				t.Fatalf("inclusion of %d in %d: %v", seq, size, err)
			}
		}
		for old := 1; old < size; old++ {
			p, err := db.ConsistencyProof(ctx, int64(old), int64(size))
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.VerifyConsistency(tlog.SHA256, uint64(old), uint64(size), p, roots[old], roots[size]); err != nil {
				t.Fatalf("consistency %d → %d: %v", old, size, err)
			}
		}
	}
}

// TestTreeMatchesRFC6962: the tree the store keeps beside the log has the
// RFC's root at every size, and its proofs verify against those roots.
func TestTreeMatchesRFC6962(t *testing.T) {
	db := mustOpen(t)
	mustLog(t, db, 21)
	checkTree(t, db)
}

// TestTreeTwoWritersAndGroupCommit: two store handles on one file (two
// processes) and sixteen callers at once (group commit) append in turn; the
// writer's cached border must notice the other's entries every time.
func TestTreeTwoWritersAndGroupCommit(t *testing.T) {
	db := mustOpen(t)
	other := mustOpenPath(t, db.Path())
	ctx := context.Background()
	for round := range 3 {
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := db
				if (i+round)%3 == 0 {
					w = other
				}
				e := engine.AuditEntry{Time: t0, Actor: "user", Event: engine.EventLogin, Reason: "round"}
				if err := w.Apply(ctx, &engine.Change{Entry: e}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	checkTree(t, db)
	checkTree(t, other)
}

// TestTreeCatchUpOnOpen: a log written before the tree existed (rows
// inserted without it) gets its tree when the store opens.
func TestTreeCatchUpOnOpen(t *testing.T) {
	db := mustOpen(t)
	mustLog(t, db, 5)
	tamper(t, db, `DELETE FROM audit_tree WHERE seq > 1`, "audit_tree_no_delete")
	again := mustOpenPath(t, db.Path())
	checkTree(t, again)
	mustLog(t, again, 4)
	checkTree(t, again)
}

// BenchmarkInclusionProof1M proves a random entry of the one-million-entry
// log (bench1M; its tree is built once when the store opens it).
func BenchmarkInclusionProof1M(b *testing.B) {
	db, _ := bench1M(b)
	defer db.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		seq := int64(i*7919%1_000_000) + 1
		if _, err := db.InclusionProof(ctx, seq, 1_000_000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConsistencyProof1M proves a one-million-entry log extends an
// older size.
func BenchmarkConsistencyProof1M(b *testing.B) {
	db, _ := bench1M(b)
	defer db.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		old := int64(i*7919%999_999) + 1
		if _, err := db.ConsistencyProof(ctx, old, 1_000_000); err != nil {
			b.Fatal(err)
		}
	}
}
