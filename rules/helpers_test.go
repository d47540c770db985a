package rules

import (
	"math"
	"os"
	"testing"
)

// mustDefault returns a park's embedded rule set or stops the test.
func mustDefault(t testing.TB, park string) *RuleSet {
	t.Helper()
	rs, err := Default(park)
	if err != nil {
		t.Fatalf("Default(%q): %v", park, err)
	}
	return rs
}

// mustParseFile parses a file under testdata or stops the test.
func mustParseFile(t testing.TB, path string) *RuleSet {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Parse(path, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return rs
}

// mustEvaluate evaluates figures or stops the test.
func mustEvaluate(t testing.TB, rs *RuleSet, f Figures) *Report {
	t.Helper()
	rep, err := rs.Evaluate(f)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return rep
}

// result returns the report line of check id or stops the test.
func result(t testing.TB, rep *Report, id string) CheckResult {
	t.Helper()
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("report has no check %q", id)
	return CheckResult{}
}

// good returns figures of 100 mu that pass every check of both parks by a
// clear margin: a leading-industry (C3985, new materials) project with
// revenue above 2亿, so the high-tech R&D bracket asks for 3 %.
func good() Figures {
	return Figures{
		IndustryCode:         "C3985",
		TotalInvestment:      fp(60000),
		FixedAssetInvestment: fp(40000),  // 400 万元/亩
		LandArea:             fp(100),    // 亩
		FloorArea:            fp(100000), // plot ratio 1.5
		BuildingCoverage:     fp(50),
		OfficeShare:          fp(5),
		GreenRatio:           fp(10),
		LandGrade:            ip(8),      // floor 16.8 万元/亩
		LandPrice:            fp(20.5),   // 万元/亩
		ExpectedOutput:       fp(120000), // 1200 万元/亩
		Revenue:              fp(110000),
		Tax:                  fp(4000), // 40 万元/亩
		RDExpense:            fp(4400), // 4 %
		EnergyUse:            fp(500),
		Electricity:          fp(300), // 万千瓦时: below the 500 energy-review trigger
		Employees:            ip(300),
		NegativeList:         bp(false),
		EcoRedLine:           bp(false),
		BadCredit:            bp(false),
	}
}

// fp, ip and bp make a declared figure; nil is a blank.
func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }
func bp(v bool) *bool       { return &v }

func nan() float64 { return math.NaN() }
