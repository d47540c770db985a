package rules

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkEvaluate measures one screening of a realistic project against
// the national park's defaults. Goal: ≥ 100,000 evaluations per second per
// core, i.e. ≤ 10 µs/op with -cpu 1.
func BenchmarkEvaluate(b *testing.B) {
	rs := mustDefault(b, "qingyuan")
	f := good()
	f.EnergyUse = fp(1200) // the conditional check applies
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rs.Evaluate(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRate10000 rates a park of 10,000 firms in one call.
func BenchmarkRate10000(b *testing.B) {
	rs := mustDefault(b, "qingyuan")
	firms := make([]FirmYear, 10000)
	for i := range firms {
		// A spread around the benchmarks: x from 0.2 to 2.2 times the norm.
		x := 0.2 + float64(i%997)/500
		land := 10 + float64(i%50)
		output := 800 * x * land
		firms[i] = FirmYear{ProjectID: int64(i + 1), Name: fmt.Sprint("firm ", i), LandArea: land,
			Output: output, ValueAdded: output / 4, Tax: 30 * x * land, RDExpense: 0.03 * x * output, Revenue: output,
			EnergyUse: output * 0.3 / x, Emissions: output * 2 / 10000 / x, Employees: 1 + int(output/4/30), InGrace: i%17 == 0}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rs.Rate(firms); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReportPassRoundTrip is what a pass does with the stored report:
// decode it once (the project read), encode it three times (the project's
// row, the log entry's basis, the answer). Kept as the yardstick for
// avoiding those encodings (BENCHMARKS.md, issue 16: handing back the bytes
// read through MarshalJSON was 2.5 × slower, encoding/json rescans them).
func BenchmarkReportPassRoundTrip(b *testing.B) {
	rep := mustEvaluate(b, mustDefault(b, "qingyuan"), good())
	stored, _ := json.Marshal(rep)
	b.SetBytes(int64(len(stored)))
	for b.Loop() {
		var r Report
		if err := json.Unmarshal(stored, &r); err != nil {
			b.Fatal(err)
		}
		for range 3 {
			if _, err := json.Marshal(&r); err != nil {
				b.Fatal(err)
			}
		}
	}
}
