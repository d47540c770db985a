package rules

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// edit applies literal replacements to the default qingyuan file and parses
// the result; each replacement must hit exactly once.
func edit(t testing.TB, pairs ...string) *RuleSet {
	t.Helper()
	src := string(mustDefault(t, "qingyuan").Source())
	for i := 0; i < len(pairs); i += 2 {
		if strings.Count(src, pairs[i]) != 1 {
			t.Fatalf("fixture: %q occurs %d times", pairs[i], strings.Count(src, pairs[i]))
		}
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	rs, err := Parse("q.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestDiffReadable: the changes a committee member must be able to read,
// each in Chinese with its unit, written out by hand from the edit made.
func TestDiffReadable(t *testing.T) {
	old := mustDefault(t, "qingyuan")
	changed := edit(t,
		"value: 300 # 国家级园区取 300", "value: 320 # 国家级园区取 320",
		"formula: tax / land_area, weight: 35", "formula: tax / land_area, weight: 30",
		"formula: output / land_area, weight: 20", "formula: output / land_area, weight: 25",
		"      - C3073 # 特种陶瓷制品制造\n", "",
		"      - C3091 # 石墨及碳素制品制造\n", "      - C3091 # 石墨及碳素制品制造\n      - C3099\n",
		"  - id: tax_per_mu\n    name_zh: 亩均税收(达产年)", "  - id: tax_per_mu_floor\n    name_zh: 亩均税收底线\n    name_en: Tax floor\n    kind: threshold\n    metric: tax_per_mu\n    op: \">=\"\n    value: 10\n    severity: soft\n  - id: tax_per_mu\n    name_zh: 亩均税收(达产年)",
	)
	want := []string{
		"新材料 行业代码:增加 C3099",
		"新材料 行业代码:删除 C3073",
		"固定资产投资强度 门槛:≥ 300 万元/亩 → ≥ 320 万元/亩",
		"新增检查规则“亩均税收底线”",
		"亩均税收 权重:35 → 30",
		"亩均产值 权重:20 → 25",
	}
	var got []string
	for _, it := range Diff(old, changed) {
		got = append(got, it.TextZH)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := Diff(old, old); len(d) != 0 {
		t.Errorf("a version differs from itself: %v", d)
	}
	back := Diff(changed, old)
	if len(back) != len(want) || back[2].TextZH != "固定资产投资强度 门槛:≥ 320 万元/亩 → ≥ 300 万元/亩" {
		t.Errorf("reverse diff %v", back)
	}
}

// BenchmarkDiff: two versions of the full default rule set (issue 12: < 50 ms).
func BenchmarkDiff(b *testing.B) {
	old := mustDefault(b, "qingyuan")
	changed := edit(b, "value: 300 # 国家级园区取 300", "value: 320 #", "formula: tax / land_area, weight: 35", "formula: tax / land_area, weight: 30",
		"formula: output / land_area, weight: 20", "formula: output / land_area, weight: 25")
	for b.Loop() {
		Diff(old, changed)
	}
}

// TestExamples: a rule set's examples run under it, hold or fail with the
// reason, and a threshold change breaks the example that sat at the floor.
// Figures: 15000 万元 on 50 亩 is 300 万元/亩, exactly qingyuan's floor (≥ 300).
func TestExamples(t *testing.T) {
	example := `
examples:
  - id: at_floor
    name_zh: 投资强度恰好 300 万元/亩
    given: {industry_code: C3985, total_investment: 30000, fixed_asset_investment: 15000, land_area: 50,
      floor_area: 50025, building_coverage: 48, office_share: 5, green_ratio: 8, land_grade: 9, land_price: 18,
      expected_output: 60000, revenue: 58000, tax: 2200, rd_expense: 2900, energy_use: 700, electricity: 300,
      employees: 300, negative_list: false, eco_red_line: false, bad_credit: false}
    expect: {passed: true, checks: {investment_intensity: pass}}
`
	base := edit(t, "\ndeadlines:", example+"\ndeadlines:")
	res := base.CheckExamples()
	if len(res) != 1 || !res[0].OK {
		t.Fatalf("under 300: %+v", res)
	}
	raised := edit(t, "\ndeadlines:", example+"\ndeadlines:", "value: 300 # 国家级园区取 300", "value: 320 #")
	res = raised.CheckExamples()
	if len(res) != 1 || res[0].OK || len(res[0].Failures) != 2 ||
		res[0].Failures[0] != "预期初筛通过,实际不通过(1 项刚性指标未通过)" || res[0].Failures[1] != "检查“investment_intensity”预期通过,实际不通过" {
		t.Errorf("under 320: %+v", res)
	}
	t.Run("ErrUnknownCheck", func(t *testing.T) {
		src := strings.Replace(string(base.Source()), "investment_intensity: pass}", "investment_intensty: pass}", 1)
		_, err := Parse("q.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), `no check "investment_intensty"`) {
			t.Errorf("got %v", err)
		}
	})
}

// TestDiffEnglish: the English text names the rule by id and the setting in English.
func TestDiffEnglish(t *testing.T) {
	d := Diff(mustDefault(t, "qingyuan"), edit(t, "value: 300 # 国家级园区取 300", "value: 320 #", "formula: tax / land_area, weight: 35", "formula: tax / land_area, weight: 30",
		"formula: output / land_area, weight: 20", "formula: output / land_area, weight: 25"))
	var got []string
	for _, it := range d {
		got = append(got, it.TextEN)
	}
	want := "investment_intensity threshold: ≥ 300 万元/亩 → ≥ 320 万元/亩\ntax_per_mu weight: 35 → 30\noutput_per_mu weight: 20 → 25"
	if strings.Join(got, "\n") != want {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}

// TestRatingExample: a rating example's firms are rated together and each
// named firm's class compared. Policy (qingyuan rating.floor): a firm below
// 5 万元/亩 tax is D whatever its rank; 甲 pays 200 万元 on 50 亩 = 4 万元/亩.
// Lowering the floor to 3 makes 甲 no longer D, which the example catches.
func TestRatingExample(t *testing.T) {
	example := `
examples:
  - id: floor_is_d
    name_zh: 亩均税收低于 5 万元/亩的企业为 D 类
    firms:
      - {name: 甲, land_area: 50, output: 60000, value_added: 15000, tax: 200, rd_expense: 1800, revenue: 60000, energy_use: 2000, emissions: 10, employees: 300}
      - {name: 乙, land_area: 50, output: 60000, value_added: 15000, tax: 2000, rd_expense: 1800, revenue: 60000, energy_use: 2000, emissions: 10, employees: 300}
    expect: {classes: {甲: D}}
`
	rs := edit(t, "\ndeadlines:", example+"\ndeadlines:")
	if res := rs.CheckExamples(); len(res) != 1 || !res[0].OK {
		t.Fatalf("under floor 5: %+v", res)
	}
	lowered := edit(t, "\ndeadlines:", example+"\ndeadlines:", "floor: { indicator: tax_per_mu, below: 5,", "floor: { indicator: tax_per_mu, below: 3,")
	if res := lowered.CheckExamples(); len(res) != 1 || res[0].OK || !strings.Contains(res[0].Failures[0], "企业“甲”预期 D 类") {
		t.Errorf("under floor 3: %+v", res)
	}
}

// TestDiffWordsEverySetting: every change — each default park against the
// others and against an empty rule set, both ways, plus every check given
// its neighbour's body, plus an example — is worded from the catalogue in both languages: no
// raw id (diff.…, value.…, label.…: what an undefined message renders as), no
// "<no value>", a Chinese label on every setting, and English that is
// English once the values (written as in the file) are taken out.
func TestDiffWordsEverySetting(t *testing.T) {
	sets := []*RuleSet{{spec: &fileSpec{}}, {spec: &fileSpec{Examples: []Example{{ID: "x", NameZH: "例"}}}}}
	for _, p := range DefaultParks() {
		rs := mustDefault(t, p)
		swapped := *rs.spec
		swapped.Checks = slices.Clone(rs.spec.Checks)
		for i := range swapped.Checks {
			swapped.Checks[i] = rs.spec.Checks[(i+1)%len(rs.spec.Checks)]
			swapped.Checks[i].ID = rs.spec.Checks[i].ID
		}
		sets = append(sets, rs, &RuleSet{spec: &swapped})
	}
	han := regexp.MustCompile(`\p{Han}`)
	rawID := regexp.MustCompile(`\b(diff|value|label)\.[a-z_]`)
	n := 0
	for _, a := range sets {
		for _, b := range sets {
			for _, it := range Diff(a, b) {
				n++
				for _, text := range []string{it.TextZH, it.TextEN, it.Field, it.Name} {
					if rawID.MatchString(text) || strings.Contains(text, "<no value>") {
						t.Errorf("%+v: raw id or missing argument in %q", it, text)
					}
				}
				if it.Kind == "changed" && it.Field == "" {
					t.Errorf("%+v: a changed setting without its label", it)
				}
				en := it.TextEN
				for _, v := range slices.SortedFunc(slices.Values([]string{it.Before, it.After}), func(a, b string) int { return len(b) - len(a) }) {
					en = strings.ReplaceAll(en, v, "") // the longer first: one may hold the other
				}
				if han.MatchString(en) {
					t.Errorf("%+v: Chinese in the English text %q", it, en)
				}
			}
		}
	}
	if n < 500 {
		t.Fatalf("only %d changes worded; the corpus is broken", n)
	}
}
