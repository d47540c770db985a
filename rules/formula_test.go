package rules

import (
	"sync"
	"testing"

	"github.com/expr-lang/expr/vm"
)

func TestCompileFormula(t *testing.T) {
	env := &figureEnv{FixedAssetInvestment: 30000, LandArea: 100, Revenue: 5000, RDExpense: 250, Tax: -3}
	tests := []struct {
		name    string
		src     string
		want    float64
		wantErr bool
	}{
		{"Division", "fixed_asset_investment / land_area", 300, false},
		{"Percent", "rd_expense / revenue * 100", 5, false},
		{"Functions", "round(max(land_area, 1) / 3) + abs(tax) + min(1, 2) + floor(1.5) + ceil(0.5)", 33 + 3 + 1 + 1 + 1, false},
		{"Conditional", "energy_assessment ? 1 : 2", 2, false},
		{"Comparison", "land_area > 50 ? land_area : 0", 100, false},
		{"Empty", "  ", 0, true},
		{"UnknownFigure", "land_size * 2", 0, true},
		{"Bool", "negative_list", 0, true},
		{"String", `"300"`, 0, true},
		{"Now", "now()", 0, true},
		{"Len", `len("abc")`, 0, true},
		{"Member", "land_area.x", 0, true},
		{"Array", "[1, 2][0]", 0, true},
		{"Let", "let x = 1; x", 0, true},
		{"Range", "sum(1..10)", 0, true},
		{"Pipe", "land_area | round()", 100, false}, // expr sugar for round(land_area): still arithmetic
		{"Syntax", "land_area +", 0, true},
		{"IndustryCode", "industry_code", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := compileFormula(tt.src, &figureEnv{})
			if tt.wantErr {
				if err == nil {
					t.Errorf("compileFormula(%q) succeeded, want an error", tt.src)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.run(new(vm.VM), env)
			if err != nil || got != tt.want {
				t.Errorf("run = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestConcurrentUse shares one RuleSet between goroutines, as the engine
// does; run with -race.
func TestConcurrentUse(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	want := mustEvaluate(t, rs, good())
	firms := ratingFirms()
	wantRating, err := rs.Rate(firms)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, err := rs.Evaluate(good())
				if err != nil || got.Checks[5] != want.Checks[5] {
					t.Errorf("concurrent Evaluate differs: %v", err)
					return
				}
				r, err := rs.Rate(firms)
				if err != nil || r[0].Total != wantRating[0].Total {
					t.Errorf("concurrent Rate differs: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}
