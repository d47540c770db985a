package engine

import (
	"fmt"
	"testing"
	"time"

	"zonevet/engine/tlog"
)

// benchEntries are n chained entries of suite s, of a typical size.
func benchEntries(s *tlog.Suite, n int) []AuditEntry {
	es := make([]AuditEntry, n)
	prev := GenesisHash
	for i := range es {
		es[i] = AuditEntry{Seq: int64(i + 1), Time: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC), Actor: "reviewer1", Role: RoleReviewer,
			Park: "qingyuan", ProjectID: int64(i % 50), Event: EventScore, FromState: StateExpertReview, ToState: StateExpertReview,
			Reason: fmt.Sprintf("评分 %d:产业链契合度高,亩均税收达标", i), RuleSetVersion: "sha256:abc", Payload: `{"score":82}`, PrevHash: prev}
		es[i].Hash = ChainHashWith(s, prev, &es[i])
		prev = es[i].Hash
	}
	return es
}

// BenchmarkSuiteChainTreeAppend is the hashing of an append without the
// database: the entry's chain hash, its leaf and the tree nodes it
// completes, SHA-256 vs SM3.
func BenchmarkSuiteChainTreeAppend(b *testing.B) {
	for _, s := range []*tlog.Suite{tlog.Default, tlog.SM} {
		b.Run(s.Name, func(b *testing.B) {
			es := benchEntries(s, 1024)
			r := tlog.NewRange(s.Tree)
			b.ResetTimer()
			for i := range b.N {
				e := &es[i%len(es)]
				h := ChainHashWith(s, e.PrevHash, e)
				leaf, _ := tlog.LeafHash(s.Tree, h)
				if err := r.Append(leaf, func(tlog.NodeID, []byte) {}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkSuiteChainTreeVerify is a verifier's hashing per entry without
// the database: the entry's hash checked, the tree rebuilt, SHA-256 vs SM3.
func BenchmarkSuiteChainTreeVerify(b *testing.B) {
	for _, s := range []*tlog.Suite{tlog.Default, tlog.SM} {
		b.Run(s.Name, func(b *testing.B) {
			es := benchEntries(s, 1024)
			acc := tlog.NewAccumulator(s)
			var buf []byte
			var got *tlog.Suite
			b.ResetTimer()
			for i := range b.N {
				e := &es[i%len(es)]
				if buf, got = chainHashSuite(buf, e, s); got != s {
					b.Fatal("hash mismatch")
				}
				if err := acc.AddEntryHash(e.Hash); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
