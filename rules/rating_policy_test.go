package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestRateBandRoundingTable rates n = 1…40 firms with n different scores
// under Qingyuan's published convention and compares the number of firms per
// class with the hand table in testdata/rating/bands_half_up.txt.
func TestRateBandRoundingTable(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	f, err := os.Open("testdata/rating/bands_half_up.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var n, a, b, c, d int
		if _, err := fmt.Sscan(line, &n, &a, &b, &c, &d); err != nil {
			t.Fatalf("table line %q: %v", line, err)
		}
		rows++
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			if a+b+c+d != n {
				t.Fatalf("table row %q does not add up to n", line)
			}
			var firms []FirmYear
			for i := range n {
				// Tax per mu 29 down to 10 on 1 mu: different totals, above the floor, below the cap.
				firms = append(firms, FirmYear{ProjectID: int64(100 + i), LandArea: 1, Tax: 29 - float64(i)*19/float64(max(n-1, 1))})
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
			want := strings.Repeat("A", a) + strings.Repeat("B", b) + strings.Repeat("C", c) + strings.Repeat("D", d)
			if bands != want {
				t.Errorf("classes %s, want %s", bands, want)
			}
			if counts := rs.BandCounts(n); !reflect.DeepEqual(counts, []int{a, b, c, d}) {
				t.Errorf("BandCounts(%d) = %v, want %v", n, counts, []int{a, b, c, d})
			}
		})
	}
	if rows != 40 {
		t.Errorf("%d table rows, want n = 1…40", rows)
	}
}

// TestRateTiesAtClassBoundary: equal scores share a rank and the class of
// that rank, so a tie across a boundary goes to the better class. Ten firms:
// A is round(10 × 20 %) = 2, A + B round(6) = 6, D round(0.5) = 1.
func TestRateTiesAtClassBoundary(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	tests := []struct {
		name  string
		taxes []float64 // tax per mu, on 1 mu; only the tax indicator scores
		ranks []int
		want  string
	}{
		{"Distinct", []float64{29, 27, 26, 25, 23, 21, 19, 17, 15, 13}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "AABBBBCCCD"},
		// Second and third tie across the A/B boundary: both A, and B keeps ranks 4–6.
		{"TieAcrossA", []float64{29, 27, 27, 25, 23, 21, 19, 17, 15, 13}, []int{1, 2, 2, 4, 5, 6, 7, 8, 9, 10}, "AAABBBCCCD"},
		// The last two tie at rank 9, which is not among the last one position: both C, none D.
		{"TieAcrossD", []float64{29, 27, 26, 25, 23, 21, 19, 17, 15, 15}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 9}, "AABBBBCCCC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var firms []FirmYear
			for i, tax := range tt.taxes {
				firms = append(firms, FirmYear{ProjectID: int64(10 + i), LandArea: 1, Tax: tax})
			}
			got, err := rs.Rate(firms)
			if err != nil {
				t.Fatal(err)
			}
			var ranks []int
			var bands string
			for _, r := range got {
				ranks, bands = append(ranks, r.Rank), bands+r.Band
			}
			if !reflect.DeepEqual(ranks, tt.ranks) || bands != tt.want {
				t.Errorf("ranks %v classes %s, want %v %s", ranks, bands, tt.ranks, tt.want)
			}
		})
	}
}

// TestRateMinFirmsInBottomClass: a bottom class of 3 % with at least one firm
// from ten rated firms: round(9 × 3 %) = 0 → none; round(10 × 3 %) = 0 → 1;
// round(20 × 3 %) = round(0.6) = 1; round(50 × 3 %) = round(1.5) = 2.
func TestRateMinFirmsInBottomClass(t *testing.T) {
	src, _ := os.ReadFile("parks/qingyuan.yaml")
	src = bytes.Replace(src, []byte("- { band: D, bottom_percent: 5 }"), []byte("- { band: D, bottom_percent: 3, min_firms: 1, min_firms_from: 10 }"), 1)
	rs, err := Parse("min_firms.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]int{9: 0, 10: 1, 20: 1, 50: 2} {
		if got := rs.BandCounts(n)[3]; got != want {
			t.Errorf("n = %d: %d in D, want %d", n, got, want)
		}
	}
}

// Qingyuan's current rating (rules/parks/qingyuan.yaml): tax/mu 35 (30),
// output/mu 20 (800), R&D % 15 (3), value added per tce 15 (3, no energy
// data: 0 points), labour productivity 10 (30), value added per tonne of
// emissions 5 (1000, no emissions data: the average of rated firms with the
// data); cap 1.5 × weight; classes by half_up rounding; T for firms that
// filed nothing; R&D support from 5 %.
//
// The firms below, on 10 mu each, worked out by hand (bench: tax 300,
// output 8000, revenue 8000, R&D 240, value added 3000, energy 1000 tce,
// 100 employees, emissions 3 t — every indicator exactly at its benchmark):
//
//	id 1 bench                                 → 35+20+15+15+10+5 = 100
//	id 2 no emissions (0)                      → 35+20+15+15+10+avg; avg below → 99.58
//	id 3 no energy (0): zero                   → 35+20+15+0+10+5 = 85
//	id 4 strong: tax 600, energy 500, em 1.5   → 52.5 (cap)+20+15+22.5 (cap)+10+7.5 (cap) = 127.5
//	id 5 weak: tax 150, output 4000, R&D 60, value added 1500, em 3
//	                                           → 17.5+10+3.75+7.5 (1.5 per tce)+5+2.5 (500/t) = 46.25
//	id 6 filed nothing                         → class T, not rated
//	id 7 grace, bench figures                  → 100, not rated, treated as B
//	id 8 R&D 480 (6 %)                         → 35+20+22.5 (cap)+15+10+5 = 107.5, flagged for R&D support
//	id 9 floor: tax 40 (4/mu), emissions 6     → 4.67+20+15+15+10+2.5 = 67.17, class D by the floor
//
// Emissions average: the rated firms with emissions data are 1, 3, 4, 5, 8
// and 9 (2 has none, 6 and 7 are not rated): (5+5+7.5+2.5+5+2.5)/6 =
// 27.5/6 = 4.5833 → 4.58.
//
// Seven rated firms: A round(1.4) = 1, A+B round(4.2) = 4, D round(0.35) =
// 0: ranks 1 A, 2–4 B, 5–7 C; then 9 goes to D by the floor.
func policyFirms() []FirmYear {
	bench := FirmYear{LandArea: 10, Tax: 300, Output: 8000, Revenue: 8000, RDExpense: 240, ValueAdded: 3000, EnergyUse: 1000, Employees: 100, Emissions: 3}
	with := func(id int64, edit func(*FirmYear)) FirmYear {
		f := bench
		f.ProjectID, f.Name = id, fmt.Sprint("firm ", id)
		edit(&f)
		return f
	}
	return []FirmYear{
		with(5, func(f *FirmYear) { f.Tax, f.Output, f.RDExpense, f.ValueAdded, f.Employees = 150, 4000, 60, 1500, 100 }),
		with(2, func(f *FirmYear) { f.Emissions = 0 }),
		with(9, func(f *FirmYear) { f.Tax, f.Emissions = 40, 6 }),
		with(7, func(f *FirmYear) { f.InGrace = true }),
		with(3, func(f *FirmYear) { f.EnergyUse = 0 }),
		with(6, func(f *FirmYear) { *f = FirmYear{ProjectID: 6, Name: "firm 6", LandArea: 10, NotFiled: true} }),
		with(1, func(*FirmYear) {}),
		with(8, func(f *FirmYear) { f.RDExpense = 480 }),
		with(4, func(f *FirmYear) { f.Tax, f.EnergyUse, f.Emissions = 600, 500, 1.5 }),
	}
}

func TestRateMissingDataAndClasses(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	got, err := rs.Rate(policyFirms())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id       int64
		total    float64
		rank     int
		band     string
		rated    bool
		floor    bool
		notRated string
		support  bool
		points   []float64
		missing  []string
	}{
		{4, 127.5, 1, "A", true, false, "", false, []float64{52.5, 20, 15, 22.5, 10, 7.5}, []string{"", "", "", "", "", ""}},
		{8, 107.5, 2, "B", true, false, "", true, []float64{35, 20, 22.5, 15, 10, 5}, []string{"", "", "", "", "", ""}},
		{1, 100, 3, "B", true, false, "", false, []float64{35, 20, 15, 15, 10, 5}, []string{"", "", "", "", "", ""}},
		{2, 99.58, 4, "B", true, false, "", false, []float64{35, 20, 15, 15, 10, 4.58}, []string{"", "", "", "", "", "average"}},
		{3, 85, 5, "C", true, false, "", false, []float64{35, 20, 15, 0, 10, 5}, []string{"", "", "", "zero", "", ""}},
		{9, 67.17, 6, "D", true, true, "", false, []float64{4.67, 20, 15, 15, 10, 2.5}, []string{"", "", "", "", "", ""}},
		{5, 46.25, 7, "C", true, false, "", false, []float64{17.5, 10, 3.75, 7.5, 5, 2.5}, []string{"", "", "", "", "", ""}},
		{6, 0, 0, "T", false, false, NotRatedNotFiled, false, []float64{0, 0, 0, 0, 0, 0}, []string{"", "", "", "", "", ""}},
		{7, 100, 0, "B", false, false, "", false, []float64{35, 20, 15, 15, 10, 5}, []string{"", "", "", "", "", ""}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d ratings, want %d", len(got), len(want))
	}
	for i, w := range want {
		t.Run(fmt.Sprint(w.id), func(t *testing.T) {
			g := got[i]
			var points []float64
			var missing []string
			for _, s := range g.Indicators {
				points, missing = append(points, s.Points), append(missing, s.Missing)
			}
			if g.ProjectID != w.id || g.Total != w.total || g.Rank != w.rank || g.Band != w.band || g.Rated != w.rated ||
				g.Floor != w.floor || g.NotRated != w.notRated || g.RDSupport != w.support || !reflect.DeepEqual(points, w.points) || !reflect.DeepEqual(missing, w.missing) {
				t.Errorf("got  id %d total %v rank %d class %s rated %v floor %v not rated %q support %v points %v missing %q\nwant %+v",
					g.ProjectID, g.Total, g.Rank, g.Band, g.Rated, g.Floor, g.NotRated, g.RDSupport, points, missing, w)
			}
			if len(g.ReasonsZH) == 0 || len(g.ReasonsZH) != len(g.ReasonsEN) {
				t.Errorf("reasons zh %v en %v", g.ReasonsZH, g.ReasonsEN)
			}
			for _, r := range g.ReasonsZH {
				if strings.Contains(r, "档") {
					t.Errorf("reason says 档, not 类: %s", r)
				}
			}
		})
	}
	t.Run("MissingNeverEarnsFullMarks", func(t *testing.T) {
		// The firm without emissions scores less on emissions than a firm at
		// the benchmark, and the reasons say which policy applied.
		g := got[3]
		if s := g.Indicators[5]; s.Points >= 5 || s.Valid || s.Capped {
			t.Errorf("no emissions: %+v", s)
		}
		if !strings.Contains(strings.Join(g.ReasonsZH, ";"), "平均得分 4.58 分") || !strings.Contains(strings.Join(g.ReasonsEN, "; "), "average") {
			t.Errorf("reasons %v / %v", g.ReasonsZH, g.ReasonsEN)
		}
		if z := strings.Join(got[4].ReasonsZH, ";"); !strings.Contains(z, "未报送综合能耗") || !strings.Contains(z, "计 0 分") {
			t.Errorf("no energy reasons: %s", z)
		}
	})
	t.Run("NotFiledSaysSo", func(t *testing.T) {
		if z := strings.Join(got[7].ReasonsZH, ";"); !strings.Contains(z, "未报送本年度数据") || !strings.Contains(z, "T 类") {
			t.Errorf("not filed reasons: %s", z)
		}
	})
}

// TestRateNotRatedAndNotFiledD: the same firms under a variant of the rule
// set where missing energy data means "not rated" (class T) and a firm that
// filed nothing is D. Firm 3 leaves the ranking; firm 6 is D (not rated, no
// rank). Rated are 4, 8, 1, 2, 9, 5 (six): the emissions average is now over
// 1, 4, 5, 8, 9: (5+7.5+2.5+5+2.5)/5 = 4.50, so 2 scores 99.5. A round(1.2)
// = 1, A+B round(3.6) = 4, D round(0.3) = 0: 4 A; 8, 1, 2 B; 9 C (then D by
// the floor), 5 C.
func TestRateNotRatedAndNotFiledD(t *testing.T) {
	src, _ := os.ReadFile("parks/qingyuan.yaml")
	src = bytes.Replace(src, []byte("missing: zero"), []byte("missing: not_rated"), 1)
	src = bytes.Replace(src, []byte("not_filed: T "), []byte("not_filed: D "), 1)
	rs, err := Parse("variant.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rs.Rate(policyFirms())
	if err != nil {
		t.Fatal(err)
	}
	var line []string
	for _, r := range got {
		line = append(line, fmt.Sprintf("%d:%s:%d:%v:%s", r.ProjectID, r.Band, r.Rank, r.Total, r.NotRated))
	}
	want := []string{"4:A:1:127.5:", "8:B:2:107.5:", "1:B:3:100:", "2:B:4:99.5:", "9:D:5:67.17:", "5:C:6:46.25:",
		"3:T:0:85:missing_data", "6:D:0:0:not_filed", "7:B:0:100:"}
	if !reflect.DeepEqual(line, want) {
		t.Errorf("got  %v\nwant %v", line, want)
	}
	for _, r := range got {
		if r.ProjectID == 3 && !strings.Contains(strings.Join(r.ReasonsZH, ";"), "不参评,列为 T 类") {
			t.Errorf("firm 3 reasons %v", r.ReasonsZH)
		}
	}
}

// TestBandConventionPrinted: the convention the rating page prints names the
// rounding, the ties, the floor, the grace period, the class of firms that
// filed nothing and each missing-data policy, in both languages.
func TestBandConventionPrinted(t *testing.T) {
	zh, en := mustDefault(t, "qingyuan").BandConvention()
	for _, want := range []string{"A 类为前 round(n×20%) 家", "A、B 类合计前 round(n×60%) 家", "D 类为后 round(n×5%) 家", "其余为 C 类",
		"0.5 进位", "跨越界线时均归入较高一类", "亩均税收低于 5 万元/亩 的,不论排名评为 D 类", "列为 T 类", "单位排放增加值缺少数据的,取", "单位能耗增加值缺少数据的,该项计 0 分"} {
		if !strings.Contains(zh, want) {
			t.Errorf("zh convention lacks %q:\n%s", want, zh)
		}
	}
	for _, want := range []string{"top round(n × 20 %)", "bottom round(n × 5 %)", "0.5 up", "better class", "class T"} {
		if !strings.Contains(en, want) {
			t.Errorf("en convention lacks %q:\n%s", want, en)
		}
	}
	if zh, _ := firstConvention(t, "qingyuan").BandConvention(); !strings.Contains(zh, "(r−1) < n×20% 的为 A 档") {
		t.Errorf("first convention printed as %s", zh)
	}
}

// TestFirstConventionLastBand100: under the first convention a last band
// written with upto_percent 100 is the same rule set as one without it.
func TestFirstConventionLastBand100(t *testing.T) {
	src, _ := os.ReadFile("testdata/rating/first_convention_qingyuan.yaml")
	a, err := Parse("a.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("b.yaml", bytes.Replace(src, []byte("- { band: D }"), []byte("- { band: D, upto_percent: 100 }"), 1))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() != b.Version() {
		t.Error("upto_percent: 100 on the last band changed the version")
	}
}

// TestClassMeasures: every class of the parks' rule sets carries its
// measures in both languages.
func TestClassMeasures(t *testing.T) {
	for _, park := range DefaultParks() {
		rs := mustDefault(t, park)
		for _, class := range []string{"A", "B", "C", "D", "T"} {
			m, ok := rs.Measures(class)
			if !ok || m.NameZH == "" || len(m.MeasuresZH) == 0 || len(m.MeasuresZH) != len(m.MeasuresEN) {
				t.Errorf("%s class %s: %+v", park, class, m)
			}
		}
		if m, _ := rs.Measures("A"); m.NameZH != "优先保障" {
			t.Errorf("%s A is %q, want 优先保障", park, m.NameZH)
		}
		if m, _ := rs.Measures("D"); m.NameZH != "严格限制" {
			t.Errorf("%s D is %q, want 严格限制", park, m.NameZH)
		}
	}
}

// TestRateBelowScaleMethod: 规下 firms are rated on qingyuan's below-scale
// method (亩均税收 70, benchmark 15 万元/亩; 单位电耗税收 30, benchmark 0.6
// 元/千瓦时, no electricity data: 0) and ranked among themselves; the floor
// applies since the method has 亩均税收. On 5 mu each, by hand:
//
//	id 21: tax 75 (15/mu → 70), electricity 125 (0.6 → 30)          = 100
//	id 22: tax 50 (10/mu → 46.67), electricity 50 (1.0 → 50, cap 45) = 91.67
//	id 23: tax 20 (4/mu → 18.67), electricity 100 (0.2 → 10)         = 28.67, D by the floor
//	id 24: tax 60 (12/mu → 56), no electricity data: 0                = 56
//
// Four below-scale firms: A round(0.8) = 1, A+B round(2.4) = 2, D round(0.2)
// = 0: 21 A, 22 B, 24 C, 23 C → D. The two above-scale firms (bench 100 and
// the weak firm of policyFirms, 46.25) are ranked apart: n = 2, A round(0.4)
// = 0, A+B round(1.2) = 1: B, C.
func TestRateBelowScaleMethod(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	above := policyFirms()
	firms := []FirmYear{above[6], above[0]} // ids 1 and 5
	for _, f := range []struct {
		id              int64
		tax, electicity float64
	}{{21, 75, 125}, {22, 50, 50}, {23, 20, 100}, {24, 60, 0}} {
		firms = append(firms, FirmYear{ProjectID: f.id, Name: fmt.Sprint("small ", f.id), LandArea: 5, Tax: f.tax, Electricity: f.electicity, BelowScale: true})
	}
	got, err := rs.Rate(firms)
	if err != nil {
		t.Fatal(err)
	}
	var line []string
	for _, r := range got {
		line = append(line, fmt.Sprintf("%d:%s:%d:%v:%s", r.ProjectID, r.Band, r.Rank, r.Total, r.Group))
	}
	want := []string{"1:B:1:100:", "5:C:2:46.25:", "21:A:1:100:below_scale", "22:B:2:91.67:below_scale", "24:C:3:56:below_scale", "23:D:4:28.67:below_scale"}
	if !reflect.DeepEqual(line, want) {
		t.Errorf("got  %v\nwant %v", line, want)
	}
	for _, r := range got {
		if r.ProjectID == 24 && (r.Indicators[1].Missing != MissingZero || !strings.Contains(strings.Join(r.ReasonsZH, ";"), "未报送年用电量")) {
			t.Errorf("firm 24: %+v %v", r.Indicators, r.ReasonsZH)
		}
		if r.ProjectID == 21 && !strings.Contains(strings.Join(r.ReasonsZH, ";"), "参评规下企业中排名第 1") {
			t.Errorf("firm 21 reasons %v", r.ReasonsZH)
		}
	}
}
