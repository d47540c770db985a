package store_test

import (
	"context"
	"crypto"
	"testing"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// benchSuites are the two crypto suites with a checkpoint key each.
func benchSuites() []struct {
	suite *tlog.Suite
	key   crypto.Signer
} {
	return []struct {
		suite *tlog.Suite
		key   crypto.Signer
	}{{tlog.Default, cpKey}, {tlog.SM, smKey}}
}

// BenchmarkSuiteAppend appends entries through the store, each a durable
// transaction with its chain hash and tree update, for a log of each suite
// (SHA-256 vs SM3): the hash's share of the write path.
func BenchmarkSuiteAppend(b *testing.B) {
	for _, s := range benchSuites() {
		b.Run(s.suite.Name, func(b *testing.B) {
			ctx := context.Background()
			db := mustOpen(b)
			svc, err := engine.NewService(ctx, engine.Config{Store: db, Checkpoints: db})
			if err != nil {
				b.Fatal(err)
			}
			if err := svc.RecordLogSuite(ctx, s.suite); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			mustLog(b, db, b.N)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkSuiteVerify verifies a stored log of 20,000 entries — chain,
// tree root and the SM2 or Ed25519 checkpoint — for each suite.
func BenchmarkSuiteVerify(b *testing.B) {
	const n = 20_000
	for _, s := range benchSuites() {
		b.Run(s.suite.Name, func(b *testing.B) {
			ctx := context.Background()
			db := mustOpen(b)
			svc, err := engine.NewService(ctx, engine.Config{Store: db, Checkpoints: db})
			if err != nil {
				b.Fatal(err)
			}
			if err := svc.RecordLogSuite(ctx, s.suite); err != nil {
				b.Fatal(err)
			}
			mustLog(b, db, n-1)
			if _, _, err := svc.AuditLog(s.key).Checkpoint(ctx, true); err != nil {
				b.Fatal(err)
			}
			pub := tlog.Public(s.key)
			b.ResetTimer()
			for range b.N {
				res, err := svc.AuditLog(nil).Verify(ctx, pub)
				if err != nil || !res.OK || res.Entries != n {
					b.Fatalf("%v %+v", err, res)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
