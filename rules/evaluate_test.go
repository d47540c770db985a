package rules

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestEvaluateGoodProjectPassesEverything(t *testing.T) {
	for _, park := range DefaultParks() {
		t.Run(park, func(t *testing.T) {
			rs := mustDefault(t, park)
			rep := mustEvaluate(t, rs, good())
			for _, c := range rep.Checks {
				if !c.Pass || !c.Applies && c.ID != "energy_assessment" {
					t.Errorf("%s: pass %v applies %v: %s", c.ID, c.Pass, c.Applies, c.MessageZH)
				}
			}
			if got, want := rep.HardFailures+rep.SoftFailures, 0; got != want {
				t.Errorf("failures = %d, want %d", got, want)
			}
			if !rep.Passed() {
				t.Error("Passed() = false")
			}
			if got, want := rep.Park, park; got != want {
				t.Errorf("Park = %q, want %q", got, want)
			}
			if got, want := rep.RuleSetVersion, rs.Version(); got != want {
				t.Errorf("RuleSetVersion = %q, want %q", got, want)
			}
			if got, want := rep.LeadingSector, "新材料"; !rep.Leading || got != want {
				t.Errorf("Leading = %v, %q; want true, %q", rep.Leading, got, want)
			}
			if got, want := rep.Tier, "land_eligible"; got != want {
				t.Errorf("Tier = %q, want %q", got, want)
			}
		})
	}
}

func TestEvaluateReportListsEveryCheckInFileOrder(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	rep := mustEvaluate(t, rs, good())
	var got []string
	for _, c := range rep.Checks {
		got = append(got, c.ID)
		if c.NameZH == "" || c.NameEN == "" || c.MessageZH == "" || c.MessageEN == "" || c.Threshold == "" || c.Metric == "" {
			t.Errorf("%s: incomplete line %+v", c.ID, c)
		}
	}
	want := []string{"veto_negative_list", "veto_negative_industry", "veto_eco_red_line", "veto_bad_credit",
		"energy_assessment", "investment_intensity", "output_per_mu", "tax_per_mu", "plot_ratio",
		"building_coverage", "office_share", "green_ratio", "land_price", "rd_intensity", "hightech_rd_bracket", "investment_tier"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("checks = %v, want %v", got, want)
	}
}

// TestEvaluateThresholds walks every numeric threshold of both parks at,
// just above and just below its limit.
func TestEvaluateThresholds(t *testing.T) {
	type vector struct {
		name  string
		park  string
		check string
		edit  func(*Figures)
		pass  bool
		sev   Severity
	}
	var tests []vector
	// perMu builds three vectors around a 万元/亩 threshold on 100 mu.
	perMu := func(park, check string, limit float64, set func(*Figures, float64)) {
		for _, v := range []struct {
			name  string
			delta float64
			pass  bool
		}{{"At", 0, true}, {"JustAbove", 1, true}, {"JustBelow", -1, false}} {
			total := limit*100 + v.delta // 100 mu: ±0.01 万元/亩
			tests = append(tests, vector{park + "/" + check + "/" + v.name, park, check, func(f *Figures) { set(f, total) }, v.pass, Hard})
		}
	}
	for _, p := range []struct {
		park                string
		intensity, out, tax float64
	}{{"qingyuan", 300, 800, 30}, {"yingde", 250, 500, 20}} {
		perMu(p.park, "investment_intensity", p.intensity, func(f *Figures, v float64) { f.FixedAssetInvestment = fp(v) })
		perMu(p.park, "output_per_mu", p.out, func(f *Figures, v float64) { f.ExpectedOutput = fp(v) })
		perMu(p.park, "tax_per_mu", p.tax, func(f *Figures, v float64) { f.Tax = fp(v) })
		park := p.park
		add := func(name, check string, edit func(*Figures), pass bool) {
			tests = append(tests, vector{park + "/" + check + "/" + name, park, check, edit, pass, Hard})
		}
		// Plot ratio 1.2 on 100 mu (1 亩 = 2000/3 m² exactly) = 80000 m²; the
		// ratio is rounded half up to 2 decimals: 79666.67 m² is 1.195 → 1.20,
		// 79666 m² is 1.19499 → 1.19. (Until 2026-12 this used 666.67 m²/亩 and
		// failed 80000 m²: see TestEvaluateExactThresholds.)
		add("At", "plot_ratio", func(f *Figures) { f.FloorArea = fp(80000) }, true)
		add("JustAbove", "plot_ratio", func(f *Figures) { f.FloorArea = fp(80001) }, true)
		add("RoundsUpToAt", "plot_ratio", func(f *Figures) { f.FloorArea = fp(79666.67) }, true)
		add("JustBelow", "plot_ratio", func(f *Figures) { f.FloorArea = fp(79666) }, false)
		add("At", "building_coverage", func(f *Figures) { f.BuildingCoverage = fp(40) }, true)
		add("JustAbove", "building_coverage", func(f *Figures) { f.BuildingCoverage = fp(40.01) }, true)
		add("JustBelow", "building_coverage", func(f *Figures) { f.BuildingCoverage = fp(39.99) }, false)
		add("At", "office_share", func(f *Figures) { f.OfficeShare = fp(7) }, true)
		add("JustAbove", "office_share", func(f *Figures) { f.OfficeShare = fp(7.01) }, false)
		add("JustBelow", "office_share", func(f *Figures) { f.OfficeShare = fp(6.99) }, true)
		// R&D intensity: leading industry (C3985) ≥ 3 %, others (C2110 furniture) ≥ 1.5 %; revenue 110000.
		add("LeadingAt", "rd_intensity", func(f *Figures) { f.RDExpense = fp(3300) }, true)
		add("LeadingJustAbove", "rd_intensity", func(f *Figures) { f.RDExpense = fp(3301) }, true)
		// Rounded half up to 2 decimals: 3299 is 2.9991 % → 3.00 % (passes);
		// 3294 is 2.9945 % → 2.99 %, one unit of the last shown digit below.
		add("LeadingRoundsUpToAt", "rd_intensity", func(f *Figures) { f.RDExpense = fp(3299) }, true)
		add("LeadingJustBelow", "rd_intensity", func(f *Figures) { f.RDExpense = fp(3294) }, false)
		add("OtherAt", "rd_intensity", func(f *Figures) { f.IndustryCode, f.RDExpense = "C2110", fp(1650) }, true)
		add("OtherJustAbove", "rd_intensity", func(f *Figures) { f.IndustryCode, f.RDExpense = "C2110", fp(1651) }, true)
		add("OtherRoundsUpToAt", "rd_intensity", func(f *Figures) { f.IndustryCode, f.RDExpense = "C2110", fp(1649) }, true)
		add("OtherJustBelow", "rd_intensity", func(f *Figures) { f.IndustryCode, f.RDExpense = "C2110", fp(1644) }, false)
		add("OtherPassesBelowLeadingBar", "rd_intensity", func(f *Figures) { f.IndustryCode, f.RDExpense = "C2110", fp(2200) }, true)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good()
			tt.edit(&f)
			rep := mustEvaluate(t, mustDefault(t, tt.park), f)
			got := result(t, rep, tt.check)
			if got.Pass != tt.pass {
				t.Errorf("Pass = %v, want %v (actual %v, threshold %s): %s", got.Pass, tt.pass, got.Actual, got.Threshold, got.MessageZH)
			}
			if got.Severity != tt.sev {
				t.Errorf("Severity = %q, want %q", got.Severity, tt.sev)
			}
			wantHard := 0
			if !tt.pass {
				wantHard = 1
			}
			if rep.HardFailures != wantHard {
				t.Errorf("HardFailures = %d, want %d", rep.HardFailures, wantHard)
			}
		})
	}
}

func TestEvaluateThresholdLine(t *testing.T) {
	f := good()
	f.FixedAssetInvestment = fp(28000) // 280 万元/亩
	got := result(t, mustEvaluate(t, mustDefault(t, "qingyuan"), f), "investment_intensity")
	want := CheckResult{
		ID: "investment_intensity", NameZH: "固定资产投资强度", NameEN: "Fixed-asset investment intensity",
		Metric: "investment_intensity", Unit: "万元/亩", UnitEN: "10k CNY/mu", Actual: 280, Threshold: "≥ 300.00", Applies: true, Pass: false, Severity: Hard,
		MessageZH: "固定资产投资强度 280.00 万元/亩,低于标准 300.00 万元/亩",
		MessageEN: "Fixed-asset investment intensity 280.00 10k CNY/mu is below the standard of 300.00 10k CNY/mu",
	}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	f = good()
	f.IndustryCode, f.RDExpense = "C2110", fp(1100) // 1 %, general industry
	got = result(t, mustEvaluate(t, mustDefault(t, "yingde"), f), "rd_intensity")
	if want := "≥ 1.50"; got.Threshold != want {
		t.Errorf("Threshold = %q, want %q", got.Threshold, want)
	}
	if want := "研发经费投入强度 1.00 %,低于一般产业标准 1.50 %"; got.MessageZH != want {
		t.Errorf("MessageZH = %q, want %q", got.MessageZH, want)
	}
}

func TestEvaluateVetoes(t *testing.T) {
	tests := []struct {
		name  string
		check string
		edit  func(*Figures)
	}{
		{"NegativeList", "veto_negative_list", func(f *Figures) { f.NegativeList = bp(true) }},
		{"EcoRedLine", "veto_eco_red_line", func(f *Figures) { f.EcoRedLine = bp(true) }},
		{"BadCredit", "veto_bad_credit", func(f *Figures) { f.BadCredit = bp(true) }},
		{"IronSmelting", "veto_negative_industry", func(f *Figures) { f.IndustryCode = "C3110" }},
		{"Cement", "veto_negative_industry", func(f *Figures) { f.IndustryCode = "C3011" }},
		{"Electroplating", "veto_negative_industry", func(f *Figures) { f.IndustryCode = "C3360" }},
		{"LowerCaseCode", "veto_negative_industry", func(f *Figures) { f.IndustryCode = " c3120 " }},
	}
	for _, park := range DefaultParks() {
		for _, tt := range tests {
			t.Run(park+"/"+tt.name, func(t *testing.T) {
				f := good()
				tt.edit(&f)
				rep := mustEvaluate(t, mustDefault(t, park), f)
				got := result(t, rep, tt.check)
				if got.Pass || got.Actual != 1 || got.Severity != Hard {
					t.Errorf("got Pass %v Actual %v Severity %s, want a failed hard veto", got.Pass, got.Actual, got.Severity)
				}
				if !strings.Contains(got.MessageZH, "一票否决") || !strings.Contains(got.MessageEN, "veto") {
					t.Errorf("messages %q / %q do not say veto", got.MessageZH, got.MessageEN)
				}
				if got, want := rep.HardFailures, 1; got != want {
					t.Errorf("HardFailures = %d, want %d", got, want)
				}
				if rep.Passed() {
					t.Error("Passed() = true after a veto")
				}
			})
		}
	}
	t.Run("NeighbourCodePasses", func(t *testing.T) {
		f := good()
		f.IndustryCode = "C3012" // lime and gypsum, beside cement C3011
		if got := result(t, mustEvaluate(t, mustDefault(t, "qingyuan"), f), "veto_negative_industry"); !got.Pass {
			t.Errorf("C3012 vetoed: %s", got.MessageZH)
		}
	})
}

func TestEvaluateEnergyAssessment(t *testing.T) {
	tests := []struct {
		name       string
		energy     float64
		assessment bool
		applies    bool
		pass       bool
	}{
		{"BelowNoAssessment", 999.99, false, false, true},
		{"AtNoAssessment", 1000, false, true, false},
		{"AtWithAssessment", 1000, true, true, true},
		{"AboveNoAssessment", 1000.01, false, true, false},
		{"AboveWithAssessment", 5000, true, true, true},
	}
	for _, park := range DefaultParks() {
		for _, tt := range tests {
			t.Run(park+"/"+tt.name, func(t *testing.T) {
				f := good()
				f.EnergyUse, f.EnergyAssessment = fp(tt.energy), bp(tt.assessment)
				rep := mustEvaluate(t, mustDefault(t, park), f)
				got := result(t, rep, "energy_assessment")
				if got.Applies != tt.applies || got.Pass != tt.pass {
					t.Errorf("Applies %v Pass %v, want %v %v: %s", got.Applies, got.Pass, tt.applies, tt.pass, got.MessageZH)
				}
				if got.Severity != Hard || got.Actual != tt.energy {
					t.Errorf("Severity %s Actual %v, want hard %v", got.Severity, got.Actual, tt.energy)
				}
			})
		}
	}
}

func TestEvaluateRDBracket(t *testing.T) {
	tests := []struct {
		name      string
		revenue   float64
		rdPercent float64
		threshold string
		pass      bool
	}{
		{"Exactly5000At5", 5000, 5, "≥ 5.00", true},
		{"Exactly5000Below5", 5000, 4.99, "≥ 5.00", false},
		{"Above5000At4", 5000.01, 4, "≥ 4.00", true},
		{"Exactly20000At4", 20000, 4, "≥ 4.00", true},
		{"Exactly20000Below4", 20000, 3.99, "≥ 4.00", false},
		{"Above20000At3", 20000.01, 3, "≥ 3.00", true},
		{"Above20000Below3", 50000, 2.99, "≥ 3.00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good()
			f.Revenue, f.RDExpense = fp(tt.revenue), fp(tt.revenue*tt.rdPercent/100)
			rep := mustEvaluate(t, mustDefault(t, "qingyuan"), f)
			got := result(t, rep, "hightech_rd_bracket")
			if got.Threshold != tt.threshold || got.Pass != tt.pass {
				t.Errorf("Threshold %q Pass %v, want %q %v: %s", got.Threshold, got.Pass, tt.threshold, tt.pass, got.MessageZH)
			}
			if got.Severity != Soft {
				t.Errorf("Severity = %s, want soft", got.Severity)
			}
			if !tt.pass && rep.SoftFailures < 1 {
				t.Errorf("SoftFailures = %d, want ≥ 1", rep.SoftFailures)
			}
		})
	}
}

func TestEvaluateInvestmentTier(t *testing.T) {
	tests := []struct {
		name  string
		total float64
		tier  string
		pass  bool
	}{
		{"Small", 3000, "standard_plant_only", false},
		{"JustBelow5000", 4999.99, "standard_plant_only", false},
		{"At5000", 5000, "case_by_case", false},
		{"JustBelow1Yi", 9999.99, "case_by_case", false},
		{"At1Yi", 10000, "land_eligible", true},
		{"Large", 60000, "land_eligible", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good()
			f.TotalInvestment = fp(tt.total)
			f.FixedAssetInvestment = fp(tt.total * 0.8)
			f.LandArea = fp(tt.total * 0.8 / 400) // 400 万元/亩: only the tier is in question
			rep := mustEvaluate(t, mustDefault(t, "yingde"), f)
			got := result(t, rep, "investment_tier")
			if rep.Tier != tt.tier || got.Pass != tt.pass || got.Severity != Soft {
				t.Errorf("Tier %q Pass %v Severity %s, want %q %v soft: %s", rep.Tier, got.Pass, got.Severity, tt.tier, tt.pass, got.MessageZH)
			}
			if got.Pass == false && rep.HardFailures != 0 {
				t.Errorf("a soft failure counted as hard")
			}
		})
	}
}

func TestEvaluateLeadingSectors(t *testing.T) {
	tests := []struct {
		code, sector string
	}{
		{"C3985", "新材料"},          // electronic materials: longer prefix beats C39
		{"C3911", "高端电子信息制造"},     // computers
		{"C3491", "高端装备/智能制造装备"},  // industrial robots
		{"C3581", "生物医药及高性能医疗器械"}, // medical devices: C358 beats C35
		{"C2710", "生物医药及高性能医疗器械"},
		{"C2110", ""},
	}
	rs := mustDefault(t, "qingyuan")
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			f := good()
			f.IndustryCode = tt.code
			rep := mustEvaluate(t, rs, f)
			if rep.LeadingSector != tt.sector || rep.Leading != (tt.sector != "") {
				t.Errorf("Leading %v %q, want %q", rep.Leading, rep.LeadingSector, tt.sector)
			}
			if en := map[string]string{"新材料": "New materials", "生物医药及高性能医疗器械": "Biomedicine and high-performance medical devices"}[tt.sector]; en != "" && rep.LeadingSectorEN != en {
				t.Errorf("LeadingSectorEN %q, want %q", rep.LeadingSectorEN, en)
			}
		})
	}
}

func TestEvaluateInvalidInput(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Figures)
		field string
	}{
		{"ZeroLand", func(f *Figures) { f.LandArea = fp(0) }, "land_area"},
		{"NegativeLand", func(f *Figures) { f.LandArea = fp(-5) }, "land_area"},
		{"NegativeTotalInvestment", func(f *Figures) { f.TotalInvestment = fp(-1) }, "total_investment"},
		{"NegativeTax", func(f *Figures) { f.Tax = fp(-0.01) }, "tax"},
		{"NegativeFloorArea", func(f *Figures) { f.FloorArea = fp(-100) }, "floor_area"},
		{"NegativeEnergy", func(f *Figures) { f.EnergyUse = fp(-1) }, "energy_use"},
		{"NegativeEmployees", func(f *Figures) { f.Employees = ip(-1) }, "employees"},
		{"NaNRevenue", func(f *Figures) { f.Revenue = fp(math.NaN()) }, "revenue"},
		{"NaNLand", func(f *Figures) { f.LandArea = fp(math.NaN()) }, "land_area"},
		{"InfFloorArea", func(f *Figures) { f.FloorArea = fp(math.Inf(1)) }, "floor_area"},
		{"MinusInfOutput", func(f *Figures) { f.ExpectedOutput = fp(math.Inf(-1)) }, "expected_output"},
		{"CoverageOver100", func(f *Figures) { f.BuildingCoverage = fp(100.5) }, "building_coverage"},
		{"OfficeShareNegative", func(f *Figures) { f.OfficeShare = fp(-1) }, "office_share"},
		{"NoIndustryCode", func(f *Figures) { f.IndustryCode = "" }, "industry_code"},
		{"BadIndustryCode", func(f *Figures) { f.IndustryCode = "3985" }, "industry_code"},
		{"ZeroRevenue", func(f *Figures) { f.Revenue = fp(0) }, "revenue"},
		{"Overflow", func(f *Figures) { f.FloorArea, f.LandArea = fp(math.MaxFloat64), fp(1e-300) }, "floor_area"},
		{"DivisionCodeOfWrongSection", func(f *Figures) { f.IndustryCode = "C05" }, "industry_code"},
	}
	for _, park := range DefaultParks() {
		for _, tt := range tests {
			t.Run(park+"/"+tt.name, func(t *testing.T) {
				f := good()
				tt.edit(&f)
				rep, err := mustDefault(t, park).Evaluate(f)
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("Evaluate = %v, %v; want *InputError", rep, err)
				}
				if ie.Field != tt.field || ie.MessageZH == "" || ie.MessageEN == "" {
					t.Errorf("InputError %+v, want field %q with messages", ie, tt.field)
				}
				if rep != nil {
					t.Errorf("report %+v returned with an error", rep)
				}
			})
		}
	}
}

func TestEvaluateIsDeterministicAndJSONSafe(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	f := good()
	f.FixedAssetInvestment = fp(1)
	a, b := mustEvaluate(t, rs, f), mustEvaluate(t, rs, f)
	if !reflect.DeepEqual(a, b) {
		t.Error("two evaluations of the same figures differ")
	}
	if _, err := json.Marshal(a); err != nil {
		t.Errorf("report does not marshal: %v", err)
	}
}

// FuzzEvaluate checks that no figures produce a NaN, an Inf or a panic:
// either an *InputError or a report of finite numbers.
func FuzzEvaluate(f *testing.F) {
	g := good()
	f.Add(g.IndustryCode, *g.TotalInvestment, *g.FixedAssetInvestment, *g.LandArea, *g.FloorArea, *g.BuildingCoverage, *g.OfficeShare, *g.ExpectedOutput, *g.Revenue, *g.Tax, *g.RDExpense, *g.EnergyUse, 10, true)
	f.Add("C3110", 0.0, 0.0, 1e-300, 1e308, 100.0, 0.0, 0.0, 1e-320, 0.0, 1e308, 0.0, 0, false)
	rs := mustDefault(f, "qingyuan")
	f.Fuzz(func(t *testing.T, code string, ti, fai, land, floor, cov, office, out, rev, tax, rd, energy float64, emp int, flag bool) {
		fig := Figures{IndustryCode: code, TotalInvestment: fp(ti), FixedAssetInvestment: fp(fai), LandArea: fp(land), FloorArea: fp(floor),
			BuildingCoverage: fp(cov), OfficeShare: fp(office), ExpectedOutput: fp(out), Revenue: fp(rev), Tax: fp(tax), RDExpense: fp(rd),
			EnergyUse: fp(energy), Employees: ip(emp), NegativeList: bp(flag), EnergyAssessment: bp(flag), Electricity: fp(rev)}
		rep, err := rs.Evaluate(fig)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("non-input error: %v", err)
			}
			return
		}
		for _, c := range rep.Checks {
			if !finite(c.Actual) {
				t.Fatalf("%s: actual %v", c.ID, c.Actual)
			}
		}
	})
}
