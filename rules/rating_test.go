package rules

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
)

// The tests in this file rate under the first convention: the rule sets as
// they were before band_rounding, missing-data policies and classes existed
// (testdata/rating/first_convention_*.yaml). Rule-set versions like these
// are stored with the runs made under them, and those runs must still
// recompute to the same digest; rating_policy_test.go tests the parks'
// current rule sets.

// firstConvention parses a park's rule set as it stood under the first convention.
func firstConvention(t testing.TB, park string) *RuleSet {
	t.Helper()
	return mustParseFile(t, "testdata/rating/first_convention_"+park+".yaml")
}

// Qingyuan's rating: tax/mu 35 (benchmark 30), output/mu 20 (800), R&D % 15
// (3), energy per output 15 (0.3, lower is better), labour productivity 10
// (30), emissions t/亿元 5 (2, lower is better); cap 1.5 × weight.
//
// The firms below, on 10 mu each, worked out by hand:
//
//	id 1 bench:     every indicator at its benchmark               → 35+20+15+15+10+5 = 100
//	id 2 rich:      bench but tax 60/mu → 70 points, capped 52.5   → 117.5
//	id 3 half:      every indicator half as good                   → 17.5+10+7.5+7.5+5+2.5 = 50
//	id 4 floor:     tax 4/mu → 4.67; everything else capped        → 4.67+30+22.5+22.5+15+7.5 = 102.17, band D by the floor
//	id 5 grace:     as id 3 but within the grace period            → not rated, band B
//	id 6 tie:       as id 1                                        → 100, shares rank 3 with id 1
//	id 7 no output: output 0 → output 0 pts, energy/output and emissions/output cannot be computed → 35+0+15+0+10+0 = 60
//
// Six rated firms: ranks 2→1, 4→2, 1→3, 6→3, 7→5, 3→6. Bands with n = 6:
// (r−1)·100 < P·6 gives A for r ≤ 2, B for r ≤ 5, C for r ≤ 6.
func ratingFirms() []FirmYear {
	bench := FirmYear{LandArea: 10, Tax: 300, Output: 8000, Revenue: 8000, RDExpense: 240, EnergyUse: 2400, ValueAdded: 3000, Employees: 100, Emissions: 1.6}
	with := func(id int64, name string, edit func(*FirmYear)) FirmYear {
		f := bench
		f.ProjectID, f.Name = id, name
		edit(&f)
		return f
	}
	half := func(f *FirmYear) {
		f.Tax, f.Output, f.RDExpense, f.EnergyUse, f.ValueAdded, f.Emissions = 150, 4000, 120, 2400, 1500, 1.6
	}
	return []FirmYear{
		with(3, "half", half),
		with(7, "no output", func(f *FirmYear) { f.Output, f.EnergyUse, f.Emissions = 0, 100, 0 }),
		with(1, "bench", func(*FirmYear) {}),
		with(5, "grace", func(f *FirmYear) { half(f); f.InGrace = true }),
		with(2, "rich", func(f *FirmYear) { f.Tax = 600 }),
		with(6, "tie", func(*FirmYear) {}),
		with(4, "floor", func(f *FirmYear) {
			f.Tax, f.Output, f.RDExpense, f.EnergyUse, f.ValueAdded, f.Emissions = 40, 20000, 480, 0, 10000, 0
		}),
	}
}

func TestRateHandWorked(t *testing.T) {
	rs := firstConvention(t, "qingyuan")
	got, err := rs.Rate(ratingFirms())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id     int64
		total  float64
		rank   int
		band   string
		rated  bool
		floor  bool
		points []float64
	}{
		{2, 117.5, 1, "A", true, false, []float64{52.5, 20, 15, 15, 10, 5}},
		{4, 102.17, 2, "D", true, true, []float64{4.67, 30, 22.5, 22.5, 15, 7.5}},
		{1, 100, 3, "B", true, false, []float64{35, 20, 15, 15, 10, 5}},
		{6, 100, 3, "B", true, false, []float64{35, 20, 15, 15, 10, 5}},
		{7, 60, 5, "B", true, false, []float64{35, 0, 15, 0, 10, 0}},
		{3, 50, 6, "C", true, false, []float64{17.5, 10, 7.5, 7.5, 5, 2.5}},
		{5, 50, 0, "B", false, false, []float64{17.5, 10, 7.5, 7.5, 5, 2.5}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d ratings, want %d", len(got), len(want))
	}
	for i, w := range want {
		t.Run(fmt.Sprint(w.id), func(t *testing.T) {
			g := got[i]
			var points []float64
			for _, s := range g.Indicators {
				points = append(points, s.Points)
			}
			if g.ProjectID != w.id || g.Total != w.total || g.Rank != w.rank || g.Band != w.band || g.Rated != w.rated || g.Floor != w.floor || !reflect.DeepEqual(points, w.points) {
				t.Errorf("got  id %d total %v rank %d band %s rated %v floor %v points %v\nwant id %d total %v rank %d band %s rated %v floor %v points %v",
					g.ProjectID, g.Total, g.Rank, g.Band, g.Rated, g.Floor, points, w.id, w.total, w.rank, w.band, w.rated, w.floor, w.points)
			}
			if len(g.ReasonsZH) == 0 || len(g.ReasonsZH) != len(g.ReasonsEN) {
				t.Errorf("reasons zh %v en %v", g.ReasonsZH, g.ReasonsEN)
			}
		})
	}
	t.Run("Capped", func(t *testing.T) {
		if s := got[0].Indicators[0]; !s.Capped || s.Value != 60 {
			t.Errorf("rich tax indicator %+v, want value 60 capped", s)
		}
	})
	t.Run("NotComputable", func(t *testing.T) {
		s := got[4].Indicators[3] // id 7: energy per output with no output
		if s.Valid || s.Points != 0 || s.Value != 0 {
			t.Errorf("energy per output %+v, want invalid with 0 points", s)
		}
	})
	t.Run("LowerIsBetterZeroEarnsCap", func(t *testing.T) {
		if s := got[1].Indicators[3]; !s.Valid || !s.Capped || s.Points != 22.5 {
			t.Errorf("zero energy %+v, want the cap 22.5", s)
		}
	})
}

// TestRateBands checks the band rule on n distinct totals: the firm of rank
// r gets the first band with (r−1)/n < P/100.
func TestRateBands(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string // bands by rank
	}{
		{"One", 1, "A"},
		{"Two", 2, "AB"},
		{"Five", 5, "ABBBC"},
		{"Ten", 10, "AABBBBBCCC"},
		{"Twenty", 20, "AAAABBBBBBBBBBCCCCCD"},
		{"TwentyOne", 21, "AAAAABBBBBBBBBBCCCCCD"},
	}
	rs := firstConvention(t, "qingyuan")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var firms []FirmYear
			for i := range tt.n {
				// Tax per mu 29 down to 10: distinct totals, above the floor, below the cap.
				firms = append(firms, FirmYear{ProjectID: int64(100 + i), LandArea: 1, Tax: 29 - float64(i)*19/float64(max(tt.n-1, 1))})
			}
			got, err := rs.Rate(firms)
			if err != nil {
				t.Fatal(err)
			}
			var bands string
			for i, r := range got {
				bands += r.Band
				if r.Rank != i+1 {
					t.Errorf("rank %d at position %d", r.Rank, i)
				}
			}
			if bands != tt.want {
				t.Errorf("bands %s, want %s", bands, tt.want)
			}
		})
	}
}

func TestRateTies(t *testing.T) {
	rs := firstConvention(t, "qingyuan")
	// Ten firms; ids 12 and 11 tie for second place, so both get rank 2 and
	// band A (rank 2: 1 of 10 ahead < 20 %), and the next firm is rank 4.
	var firms []FirmYear
	taxes := []float64{29, 27, 27, 25, 23, 21, 19, 17, 15, 13}
	ids := []int64{10, 12, 11, 13, 14, 15, 16, 17, 18, 19}
	for i := range taxes {
		firms = append(firms, FirmYear{ProjectID: ids[i], LandArea: 1, Tax: taxes[i]})
	}
	got, err := rs.Rate(firms)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []int64
	var ranks []int
	var bands string
	for _, r := range got {
		gotIDs, ranks, bands = append(gotIDs, r.ProjectID), append(ranks, r.Rank), bands+r.Band
	}
	if want := []int64{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}; !reflect.DeepEqual(gotIDs, want) {
		t.Errorf("order %v, want %v (ties by project id)", gotIDs, want)
	}
	if want := []int{1, 2, 2, 4, 5, 6, 7, 8, 9, 10}; !reflect.DeepEqual(ranks, want) {
		t.Errorf("ranks %v, want %v", ranks, want)
	}
	if want := "AAABBBBCCC"; bands != want {
		t.Errorf("bands %s, want %s", bands, want)
	}
	// Same input in another order gives the same result.
	reversed := make([]FirmYear, len(firms))
	for i := range firms {
		reversed[len(firms)-1-i] = firms[i]
	}
	again, _ := rs.Rate(reversed)
	if !reflect.DeepEqual(got, again) {
		t.Error("rating depends on input order")
	}
}

func TestRateFloorAndGrace(t *testing.T) {
	rs := firstConvention(t, "yingde") // tax benchmark 20 万元/亩, weight 35
	firms := []FirmYear{
		{ProjectID: 1, LandArea: 10, Tax: 49.99}, // 4.999 万元/亩: below the floor; 8.7483 → 8.75 points
		{ProjectID: 2, LandArea: 10, Tax: 50},    // exactly 5: not below; 8.75 points, ties with 1
		{ProjectID: 3, LandArea: 10, Tax: 0, InGrace: true},
		{ProjectID: 4, LandArea: 10, Tax: 60}, // 6/20 × 35 = 10.5
	}
	got, err := rs.Rate(firms)
	if err != nil {
		t.Fatal(err)
	}
	// Three rated firms: 4 rank 1 (0 ahead < 20 %: A); 1 and 2 rank 2 (1 of 3
	// ahead, 33 % < 70 %: B), but 1 is below the floor: D.
	tests := []struct {
		id    int64
		total float64
		rank  int
		band  string
		rated bool
		floor bool
	}{
		{4, 10.5, 1, "A", true, false},
		{1, 8.75, 2, "D", true, true},
		{2, 8.75, 2, "B", true, false},
		{3, 0, 0, "B", false, false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(tt.id), func(t *testing.T) {
			g := got[i]
			if g.ProjectID != tt.id || g.Total != tt.total || g.Rank != tt.rank || g.Band != tt.band || g.Rated != tt.rated || g.Floor != tt.floor {
				t.Errorf("got id %d total %v rank %d band %s rated %v floor %v, want %+v", g.ProjectID, g.Total, g.Rank, g.Band, g.Rated, g.Floor, tt)
			}
		})
	}
}

func TestRateInvalidInput(t *testing.T) {
	ok := FirmYear{ProjectID: 1, LandArea: 10, Tax: 100}
	tests := []struct {
		name  string
		firms []FirmYear
		id    int64
		field string
	}{
		{"DuplicateID", []FirmYear{ok, ok}, 1, "project_id"},
		{"ZeroLand", []FirmYear{{ProjectID: 2}}, 2, "land_area"},
		{"NegativeTax", []FirmYear{{ProjectID: 3, LandArea: 1, Tax: -1}}, 3, "tax"},
		{"NaNOutput", []FirmYear{{ProjectID: 4, LandArea: 1, Output: math.NaN()}}, 4, "output"},
		{"InfEnergy", []FirmYear{{ProjectID: 5, LandArea: 1, EnergyUse: math.Inf(1)}}, 5, "energy_use"},
		{"NegativeEmployees", []FirmYear{{ProjectID: 6, LandArea: 1, Employees: -3}}, 6, "employees"},
	}
	rs := firstConvention(t, "qingyuan")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rs.Rate(tt.firms)
			var ie *InputError
			if !errors.As(err, &ie) || ie.ProjectID != tt.id || ie.Field != tt.field {
				t.Errorf("Rate error = %v, want *InputError project %d field %s", err, tt.id, tt.field)
			}
		})
	}
	t.Run("Empty", func(t *testing.T) {
		got, err := rs.Rate(nil)
		if err != nil || len(got) != 0 {
			t.Errorf("Rate(nil) = %v, %v", got, err)
		}
	})
}
