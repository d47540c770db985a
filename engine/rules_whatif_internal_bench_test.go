package engine

import (
	"fmt"
	"strings"
	"testing"

	"zonevet/rules"
)

// BenchmarkRatingReplay10k: last year's rating run of 10,000 firms re-rated
// under a draft that moves weight from tax per mu (35 → 30) to output per
// mu (20 → 25), and compared firm by firm (issue 12: < 1 s).
func BenchmarkRatingReplay10k(b *testing.B) {
	def, err := rules.Default("qingyuan")
	if err != nil {
		b.Fatal(err)
	}
	src := strings.NewReplacer("formula: tax / land_area, weight: 35", "formula: tax / land_area, weight: 30",
		"formula: output / land_area, weight: 20", "formula: output / land_area, weight: 25").Replace(string(def.Source()))
	draft, err := rules.Parse("q.yaml", []byte(src))
	if err != nil {
		b.Fatal(err)
	}
	run := &RatingRun{ID: 1, Park: "qingyuan", Year: 2025, RuleSetVersion: def.Version()}
	for i := range 10000 {
		land := float64(20 + i%80)
		run.Inputs = append(run.Inputs, RatingInput{Firm: rules.FirmYear{ProjectID: int64(i + 1), Name: fmt.Sprintf("企业%d", i),
			LandArea: land, Output: land * float64(300+i%900), ValueAdded: land * float64(80+i%200), Tax: land * float64(3+i%50),
			RDExpense: float64(50 + i%400), Revenue: land * float64(300+i%900), EnergyUse: float64(100 + i%2000),
			Emissions: float64(1 + i%30), Employees: 20 + i%500}})
	}
	if run.Results, err = rateInputs(def, run.Year, run.Inputs); err != nil {
		b.Fatal(err)
	}
	var changes int
	for b.Loop() {
		r, err := RateReplay(draft, run)
		if err != nil {
			b.Fatal(err)
		}
		changes = len(r.Changes)
	}
	if changes == 0 {
		b.Fatal("no class changed: the draft is not a change")
	}
	b.ReportMetric(float64(changes), "changes")
}
