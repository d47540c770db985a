package engine

import "testing"

// BenchmarkDraw is one draw of 5 from a pool of 200 (the shuffle hashes
// once per candidate), what a pass into expert review adds to its transaction.
func BenchmarkDraw(b *testing.B) {
	d := Draw{ProjectID: 42, Round: 1, SeedHash: "c1967e44d2fda98cb4ba743d254d55dc4c0484fe05da5097d715e8c63b2d7bff", N: 5, MinField: 2}
	for i := range 200 {
		d.Eligible = append(d.Eligible, DrawCandidate{ID: int64(i + 1), Covers: i%7 == 0})
	}
	for b.Loop() {
		d.run()
	}
	if len(d.Drawn) != 5 {
		b.Fatalf("drawn %v", d.Drawn)
	}
}
