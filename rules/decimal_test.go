package rules

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// TestRoundFixedMatchesLibrary: the integer fast path of a metric's rounding
// gives the library's answer (decimal.NewFromFloat(x).Round(9).Round(p)) for
// the edge cases of both roundings and for a million random values of every
// magnitude a screening meets.
func TestRoundFixedMatchesLibrary(t *testing.T) {
	check := func(x float64, p int) {
		t.Helper()
		want := decimal.NewFromFloat(x).Round(9).Round(int32(p))
		v, ok := roundFixed(x, p)
		if !ok {
			t.Fatalf("roundFixed(%v, %d) refused a value in its range", x, p)
		}
		if got := decimal.New(v, -int32(p)); !got.Equal(want) {
			t.Fatalf("roundFixed(%v, %d) = %s, the library says %s", x, p, got, want)
		}
	}
	for _, x := range []float64{0, 1.2, 1.1999999999999997, 7.000000000000001, 0.005, 0.015, 2.675, 1.005,
		39.595, 2.9991, 2.995, 0.0000000005, 0.00000000049, 999999999.995, 12345.6789, -1.005, -2.5, -0.0049,
		40000 / (50 * 2000.0 / 3), 0.07 * 100, 1e-12, 5e-10, 4.9999999999e-10} {
		for p := range 10 {
			check(x, p)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		x := r.Float64() * math.Pow(10, float64(r.IntN(19)-9)) // 10⁻⁹ … 10⁹
		if r.IntN(4) == 0 {
			x = math.Round(x*1000) / 1000 // values on a half-way digit
		}
		check(x, r.IntN(10))
	}
	for _, x := range []float64{1e9, -1e9, math.Inf(1), math.NaN()} {
		if _, ok := roundFixed(x, 2); ok {
			t.Errorf("roundFixed(%v) took a value outside its range", x)
		}
	}
}

// TestShowMatchesLibrary: a value is written as the library writes it at the
// rule set's precision, whatever its exponent and sign.
func TestShowMatchesLibrary(t *testing.T) {
	for p := range 4 {
		rs := &RuleSet{precision: p}
		for _, d := range []decimal.Decimal{decimal.New(0, -int32(p)), decimal.New(5, -int32(p)), decimal.New(-5, -int32(p)),
			decimal.New(120, -int32(p)), decimal.New(-123456789, -int32(p)), decimal.New(7, 0), decimal.RequireFromString("1.2345"),
			decimal.New(1e15, -int32(p)), decimal.New(9, -int32(p)-1)} {
			if got, want := rs.show(d), d.StringFixed(int32(p)); got != want {
				t.Errorf("precision %d: show(%s) = %q, want %q", p, d, got, want)
			}
		}
	}
}
