package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/store"
)

// BenchmarkRatingRun10000 is a park's rating run over 10,000 firms in
// production, end to end through the engine on SQLite: read the projects,
// agreements and figures, rate, check R&D, store the run with every input
// and result, open rectification (with its own log entry) for each D, and
// log the run — one transaction. Each iteration starts from a fresh copy of
// the seeded database, so every run opens the same ~500 rectifications.
func BenchmarkRatingRun10000(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	seed := filepath.Join(dir, "seed.db")
	db, err := store.Open(seed)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := engine.NewService(ctx, engine.Config{Store: db})
	if err != nil {
		b.Fatal(err)
	}
	rs, err := rules.Default("qingyuan")
	if err != nil {
		b.Fatal(err)
	}
	if err := db.PutPark(ctx, engine.Park{ID: "qingyuan", NameZH: rs.ParkNameZH()}); err != nil {
		b.Fatal(err)
	}
	if err := svc.InstallRuleSet(ctx, rs); err != nil {
		b.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, "committee", "委员", "password-committee", []engine.RoleAssignment{{Role: engine.RoleCommittee, Park: "qingyuan"}})
	if err != nil {
		b.Fatal(err)
	}
	const n = 10000
	year := time.Now().Year() - 1
	now := time.Now().UTC()
	var figs []engine.AnnualFigures
	for i := range n {
		x := 0.2 + float64(i%997)/500 // 0.2 to 2.2 times the benchmarks
		land := 10 + float64(i%50)
		output := 800 * x * land
		p := &engine.Project{Park: "qingyuan", Name: fmt.Sprint("企业 ", i), USCC: fmt.Sprintf("U%017d", i), State: engine.StateInProduction,
			Figures: rules.Figures{IndustryCode: "C3985", LandArea: &land}, CreatedAt: now, UpdatedAt: now}
		if err := db.Apply(ctx, &engine.Change{Project: p, Entry: engine.AuditEntry{Actor: "seed", Event: engine.EventCreate}}); err != nil {
			b.Fatal(err)
		}
		figs = append(figs, engine.AnnualFigures{ProjectID: p.ID, Park: "qingyuan", Year: year, Output: output, Revenue: output,
			ValueAdded: output / 4, Tax: 30 * x * land, RDExpense: 0.03 * x * output, EnergyUse: output * 0.3 / x,
			Emissions: output * 2 / 10000 / x, Employees: 1 + int(output/4/30), HighTech: i%3 == 0, AboveScale: i%2 == 0})
	}
	if err := db.Apply(ctx, &engine.Change{Entry: engine.AuditEntry{Actor: "seed", Park: "qingyuan", Event: engine.EventImport}, Tracking: &engine.TrackingPart{Figures: figs}}); err != nil {
		b.Fatal(err)
	}
	db.Close()

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("run%d.db", i))
		i++
		copyDB(b, seed, path)
		db, err := store.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		svc, err := engine.NewService(ctx, engine.Config{Store: db})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		run, err := svc.RunRating(ctx, u, "qingyuan", year)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if len(run.Results) != n {
			b.Fatalf("%d results", len(run.Results))
		}
		b.ReportMetric(float64(run.Bands["D"]), "rectifications")
		db.Close()
		b.StartTimer()
	}
}

// copyDB copies a closed database file (and its WAL, if one is left).
func copyDB(b *testing.B, from, to string) {
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(from + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		} else if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(to+suffix, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}
