package rules

import (
	"fmt"
	"slices"
	"strings"

	"zonevet/rules/catalog"
)

// Example is a test case a rule set carries with it, like a Drools test
// scenario or an `opa test` case: figures GIVEN, and the verdict EXPECTed
// for the whole screening and for named checks. `zonevet rules check` runs
// them; a proposal whose examples fail is refused, and the what-if shows
// which examples a change breaks.
//
//	examples:
//	  - id: intensity_at_floor
//	    name_zh: 投资强度恰好 300 万元/亩
//	    given: {industry_code: C3985, fixed_asset_investment: 15000, land_area: 50, …}
//	    expect: {passed: true, checks: {investment_intensity: pass}}
//
// A rating example gives firms instead (GIVEN a year's figures of several
// firms, EXPECT each named firm's class), since a class is a rank among
// firms:
//
//   - id: floor_is_d
//     name_zh: 亩均税收低于 5 万元/亩的企业为 D 类
//     firms: [{name: 甲, land_area: 50, tax: 200, …}, {name: 乙, …}]
//     expect: {classes: {甲: D}}
type Example struct {
	ID     string        `yaml:"id" json:"id"`
	NameZH string        `yaml:"name_zh" json:"name_zh"`
	NameEN string        `yaml:"name_en" json:"name_en"`
	Given  Figures       `yaml:"given" json:"given"`
	Firms  []FirmYear    `yaml:"firms,omitempty" json:"firms,omitempty"`
	Expect ExampleExpect `yaml:"expect" json:"expect"`
}

// ExampleExpect is what an example expects: the overall verdict (passed: no
// hard rule fails), each named check's outcome (pass, fail or
// not_applicable) and, optionally, the investment tier.
type ExampleExpect struct {
	Passed *bool             `yaml:"passed,omitempty" json:"passed,omitempty"`
	Checks map[string]string `yaml:"checks,omitempty" json:"checks,omitempty"`
	Tier   string            `yaml:"tier,omitempty" json:"tier,omitempty"`
	// Classes are the rating classes expected, by firm name (rating examples).
	Classes map[string]string `yaml:"classes,omitempty" json:"classes,omitempty"`
}

// Outcomes of one check in an example.
const (
	OutcomePass          = "pass"
	OutcomeFail          = "fail"
	OutcomeNotApplicable = "not_applicable"
)

// ExampleResult is one example run: OK, or what differed, in both languages.
type ExampleResult struct {
	ID       string   `json:"id"`
	NameZH   string   `json:"name_zh"`
	OK       bool     `json:"ok"`
	Failures []string `json:"failures,omitempty"`    // zh
	FailEN   []string `json:"failures_en,omitempty"` // en
}

// Examples returns the rule set's examples (a copy).
func (rs *RuleSet) Examples() []Example { return slices.Clone(rs.spec.Examples) }

// CheckExamples runs every example and reports each.
func (rs *RuleSet) CheckExamples() []ExampleResult {
	return rs.RunExamples(rs.spec.Examples)
}

// RunExamples runs examples (possibly another version's) under rs: the
// what-if runs the current version's examples under a draft to show which
// expectations the change breaks.
func (rs *RuleSet) RunExamples(exs []Example) []ExampleResult {
	out := make([]ExampleResult, 0, len(exs))
	for _, ex := range exs {
		r := ExampleResult{ID: ex.ID, NameZH: ex.NameZH, OK: true}
		fail := func(id string, args catalog.Args) {
			zh, en := catalog.Message{ID: id, Args: args}.Both()
			r.OK = false
			r.Failures = append(r.Failures, zh)
			r.FailEN = append(r.FailEN, en)
		}
		if len(ex.Firms) > 0 {
			rs.runRatingExample(ex, fail)
			out = append(out, r)
			continue
		}
		rep, err := rs.Evaluate(ex.Given)
		if err != nil {
			fail("example.cannot_evaluate", catalog.Args{"Err": err.Error()})
			out = append(out, r)
			continue
		}
		if ex.Expect.Passed != nil && *ex.Expect.Passed != rep.Passed() {
			fail("example.screening", catalog.Args{"Want": passArg(*ex.Expect.Passed), "Got": passArg(rep.Passed()), "Hard": rep.HardFailures})
		}
		for _, id := range keysOf(ex.Expect.Checks) {
			want := ex.Expect.Checks[id]
			got := "missing"
			for _, c := range rep.Checks {
				if c.ID == id {
					got = Outcome(c)
				}
			}
			if got != want {
				fail("example.check", catalog.Args{"ID": id, "Want": outcomeArg(want), "Got": outcomeArg(got)})
			}
		}
		if ex.Expect.Tier != "" && ex.Expect.Tier != rep.Tier {
			fail("example.tier", catalog.Args{"Want": ex.Expect.Tier, "Got": rep.Tier})
		}
		out = append(out, r)
	}
	return out
}

// runRatingExample rates the example's firms and compares the classes.
func (rs *RuleSet) runRatingExample(ex Example, fail func(id string, args catalog.Args)) {
	firms := slices.Clone(ex.Firms)
	for i := range firms {
		if firms[i].ProjectID == 0 {
			firms[i].ProjectID = int64(i + 1)
		}
	}
	ratings, err := rs.Rate(firms)
	if err != nil {
		fail("example.cannot_rate", catalog.Args{"Err": err.Error()})
		return
	}
	got := map[string]string{}
	for _, r := range ratings {
		got[r.Name] = r.Band
	}
	for _, name := range keysOf(ex.Expect.Classes) {
		if want := ex.Expect.Classes[name]; got[name] != want {
			fail("example.class", catalog.Args{"Name": name, "Want": want, "Got": orNone(got[name])})
		}
	}
}

// Outcome is a check result as an example states it.
func Outcome(c CheckResult) string {
	switch {
	case !c.Applies:
		return OutcomeNotApplicable
	case c.Pass:
		return OutcomePass
	}
	return OutcomeFail
}

// passArg is a screening outcome as a message argument.
func passArg(ok bool) catalog.Message {
	if ok {
		return catalog.Message{ID: "example.outcome.pass"}
	}
	return catalog.Message{ID: "example.outcome.fail"}
}

// outcomeArg is a check's outcome (pass, fail, not_applicable, or missing
// when the rule set has no such check) as a message argument.
func outcomeArg(o string) catalog.Message {
	id, ok := map[string]string{OutcomePass: "example.outcome.pass", OutcomeFail: "example.outcome.fail",
		OutcomeNotApplicable: "example.outcome.not_applicable"}[o]
	if !ok {
		id = "example.outcome.missing"
	}
	return catalog.Message{ID: id}
}

// buildExamples checks the examples' shape: unique ids, names, known checks
// and outcomes. Whether they hold is CheckExamples' business, not validity:
// a file with a failing example is still a readable file (and `rules check`
// says which example fails).
func (b *builder) buildExamples() {
	seen := map[string]bool{}
	checks := map[string]bool{}
	for _, c := range b.spec.Checks {
		checks[c.ID] = true
	}
	for i, ex := range b.spec.Examples {
		path := fmt.Sprintf("$.examples[%d]", i)
		b.id(path, ex.ID, seen, "example")
		if strings.TrimSpace(ex.NameZH) == "" {
			b.add(path+".name_zh", "rules.example_name_zh_required", nil)
		}
		for id, o := range ex.Expect.Checks {
			if !checks[id] {
				b.add(path+".expect.checks", "rules.example_no_such_check", catalog.Args{"Check": id})
			}
			if o != OutcomePass && o != OutcomeFail && o != OutcomeNotApplicable {
				b.add(path+".expect.checks", "rules.example_bad_outcome", catalog.Args{"Check": id, "Got": string(o)})
			}
		}
		if len(ex.Firms) > 0 {
			names := map[string]bool{}
			for _, f := range ex.Firms {
				names[f.Name] = true
			}
			for name := range ex.Expect.Classes {
				if !names[name] {
					b.add(path+".expect.classes", "rules.example_no_such_firm", catalog.Args{"Firm": name})
				}
			}
			if len(ex.Expect.Classes) == 0 {
				b.add(path+".expect", "rules.example_expect_classes", nil)
			}
			continue
		}
		if ex.Expect.Passed == nil && len(ex.Expect.Checks) == 0 && ex.Expect.Tier == "" {
			b.add(path+".expect", "rules.example_expect_something", nil)
		}
	}
}
