package rules

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestParkTargetsFromRuleSet: both parks' files carry the targets of the
// city's policy (清远市《关于促进高新技术产业开发区高质量发展的意见》:
// 规上高新技术企业占规上企业比重超 55%,高新技术企业工业总产值占比超 60%),
// and a file without the section still parses, with no targets.
func TestParkTargetsFromRuleSet(t *testing.T) {
	for _, park := range DefaultParks() {
		got, ok := mustDefault(t, park).Targets()
		if want := (ParkTargets{HighTechShare: 55, HighTechOutputShare: 60}); !ok || got != want {
			t.Errorf("%s: Targets() = %+v, %v; want %+v", park, got, ok, want)
		}
	}
	src := withoutTargets(t, readPark(t, "qingyuan"))
	rs, err := Parse("old.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := rs.Targets(); ok {
		t.Errorf("file without targets: Targets() = %+v, true", got)
	}
}

// TestParkTargetsRefused: a share that is not a percentage a park can
// exceed is refused, naming the section and field.
func TestParkTargetsRefused(t *testing.T) {
	base := withoutTargets(t, readPark(t, "qingyuan"))
	for _, tc := range []struct{ body, field string }{
		{"targets:\n  high_tech_share: 0\n  high_tech_output_share: 60\n", "high_tech_share"},
		{"targets:\n  high_tech_share: 55\n  high_tech_output_share: 100\n", "high_tech_output_share"},
		{"targets:\n  high_tech_share: 55\n", "high_tech_output_share"},
		{"targets:\n  high_tech_share: -5\n  high_tech_output_share: 60\n", "high_tech_share"},
	} {
		_, err := Parse("t.yaml", []byte(base+tc.body))
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%q: err = %v, want a ValidationError", tc.body, err)
			continue
		}
		if len(ve.Problems) != 1 || ve.Problems[0].Rule != "targets" || ve.Problems[0].Field != tc.field || ve.Problems[0].Line == 0 {
			t.Errorf("%q: problems %+v, want one on targets.%s with its line", tc.body, ve.Problems, tc.field)
		}
	}
	if _, err := Parse("t.yaml", []byte(base+"targets:\n  industrial_output: 1000\n")); err == nil {
		t.Error("an unknown key under targets: was accepted (the zone-wide output goal is not a park's)")
	}
}

func readPark(t *testing.T, park string) string {
	t.Helper()
	b, err := os.ReadFile("parks/" + park + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withoutTargets cuts the targets: section (up to the next top-level key).
func withoutTargets(t *testing.T, src string) string {
	t.Helper()
	i := strings.Index(src, "\ntargets:\n")
	if i < 0 {
		t.Fatal("park file has no targets: section")
	}
	rest := src[i+len("\ntargets:\n"):]
	j := 0
	for j < len(rest) {
		k := strings.IndexByte(rest[j:], '\n')
		if k < 0 {
			j = len(rest)
			break
		}
		line := rest[j : j+k]
		if line != "" && line[0] != ' ' && line[0] != '#' {
			break
		}
		j += k + 1
	}
	return src[:i+1] + rest[j:]
}

// TestRDSupportReasonTerm: a rule set with targets: names R&D intensity as
// the policy does (研发经费投入强度) in the rating's support reason; the same
// rule set without the section (as stored before) keeps 研发投入强度, so its
// runs recompute byte for byte.
func TestRDSupportReasonTerm(t *testing.T) {
	// R&D 600 of revenue 10000 = 6.00 %, above qingyuan's 5 % support mark.
	firm := FirmYear{ProjectID: 1, Name: "甲", LandArea: 50, Output: 50000, ValueAdded: 12000, Tax: 2000, RDExpense: 600,
		Revenue: 10000, EnergyUse: 3000, Emissions: 5, Employees: 200, Electricity: 400}
	old, err := Parse("old.yaml", []byte(withoutTargets(t, readPark(t, "qingyuan"))))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rs   *RuleSet
		want string
	}{{mustDefault(t, "qingyuan"), ";研发经费投入强度 6.00%,达到 5% 的倾斜支持标准"}, {old, ";研发投入强度 6.00%,达到 5% 的倾斜支持标准"}} {
		out, err := tc.rs.Rate([]FirmYear{firm})
		if err != nil {
			t.Fatal(err)
		}
		reasons := strings.Join(out[0].ReasonsZH, ";")
		if !out[0].RDSupport || !strings.Contains(reasons, tc.want) {
			t.Errorf("reasons %q, want %q", reasons, tc.want)
		}
	}
}
