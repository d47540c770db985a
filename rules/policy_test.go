package rules

import (
	"bufio"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// readTable reads a tab-separated testdata table, skipping # comments and
// blank lines; every row must have want columns.
func readTable(t *testing.T, path string, want int) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var rows [][]string
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != want {
			t.Fatalf("%s:%d: %d columns, want %d", path, n, len(cols), want)
		}
		rows = append(rows, cols)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// setFigure sets one figure from its text in a table: "" or "-" is a blank.
func setFigure(t *testing.T, f *Figures, name, text string) {
	t.Helper()
	if name == "industry_code" {
		f.IndustryCode = text
		return
	}
	d := figureByName[name]
	if d == nil {
		t.Fatalf("unknown figure %q", name)
	}
	blankText := text == "" || text == "-"
	switch {
	case d.num != nil:
		*d.num(f) = nil
		if !blankText {
			v, err := strconv.ParseFloat(text, 64)
			if err != nil {
				t.Fatal(err)
			}
			*d.num(f) = &v
		}
	case d.count != nil:
		*d.count(f) = nil
		if !blankText {
			v, err := strconv.Atoi(text)
			if err != nil {
				t.Fatal(err)
			}
			*d.count(f) = &v
		}
	default:
		*d.flag(f) = nil
		if !blankText {
			v := text == "true"
			*d.flag(f) = &v
		}
	}
}

// TestEvaluateExactThresholds walks testdata/policy/thresholds.tsv: every
// ratio exactly at its threshold passes, one unit of the last shown digit
// on the wrong side fails, and the message shows the number the verdict
// used next to the threshold at the same precision — never "3.00 % 低于 3 %".
func TestEvaluateExactThresholds(t *testing.T) {
	for _, row := range readTable(t, "testdata/policy/thresholds.tsv", 6) {
		park, id, edits, wantPass, shown, threshold := row[0], row[1], row[2], row[3] == "true", row[4], row[5]
		t.Run(park+"/"+id+"/"+edits, func(t *testing.T) {
			f := good()
			for _, e := range strings.Split(edits, ",") {
				name, val, _ := strings.Cut(e, "=")
				setFigure(t, &f, name, val)
			}
			got := result(t, mustEvaluate(t, mustDefault(t, park), f), id)
			if got.Pass != wantPass {
				t.Errorf("Pass = %v, want %v: %s", got.Pass, wantPass, got.MessageZH)
			}
			if shown == "-" {
				if got.Applies {
					t.Errorf("Applies = true, want not applicable: %s", got.MessageZH)
				}
				return
			}
			num := strings.TrimSpace(strings.TrimLeft(threshold, "≥≤<> "))
			for _, msg := range []string{got.MessageZH, got.MessageEN} {
				if !strings.Contains(msg, shown) || !strings.Contains(msg, num) {
					t.Errorf("message %q does not show actual %s and threshold %s", msg, shown, num)
				}
			}
			if got.Metric != "energy_use" && got.Metric != "electricity" && got.Threshold != threshold {
				t.Errorf("Threshold = %q, want %q", got.Threshold, threshold)
			}
			if got.Metric == "energy_use" || got.Metric == "electricity" {
				return // a requirement: passing depends on the documents, not the comparison
			}
			// The table itself must be consistent: the printed numbers
			// compare the way the verdict says.
			a, th := decimal.RequireFromString(shown), decimal.RequireFromString(num)
			consistent := map[bool]bool{true: a.Cmp(th) >= 0, false: a.Cmp(th) < 0}[wantPass]
			if strings.HasPrefix(threshold, "≤") {
				consistent = map[bool]bool{true: a.Cmp(th) <= 0, false: a.Cmp(th) > 0}[wantPass]
			}
			if !consistent {
				t.Fatalf("table row contradicts itself: %s %s, pass %v", shown, threshold, wantPass)
			}
		})
	}
}

// TestIndustryCodeLevels walks testdata/policy/industry_codes.tsv: codes at
// section, division, group and class level of GB/T 4754-2017, as a draft may
// hold them, as submit demands them, and against the negative list.
func TestIndustryCodeLevels(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	refusal := func(err error, want string) string {
		if want == "ok" {
			if err != nil {
				return "refused: " + err.Error()
			}
			return ""
		}
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "industry_code" {
			return "accepted, want refused with " + want
		}
		if !strings.Contains(ie.MessageZH, want) || ie.MessageEN == "" {
			return "refused with " + ie.MessageZH + ", want " + want
		}
		return ""
	}
	for _, row := range readTable(t, "testdata/policy/industry_codes.tsv", 5) {
		code, level, draft, submit, veto := row[0], row[1], row[2], row[3], row[4]
		t.Run(level+"/"+code, func(t *testing.T) {
			if msg := refusal(CheckFigures(Figures{IndustryCode: code}), draft); msg != "" {
				t.Errorf("draft: %s", msg)
			}
			if msg := refusal(CheckIndustryClass(code), submit); msg != "" {
				t.Errorf("submit: %s", msg)
			}
			f := good()
			f.IndustryCode = code
			rep, err := rs.Evaluate(f)
			if veto == "-" {
				if err == nil {
					t.Errorf("Evaluate accepted %q", code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			got := result(t, rep, "veto_negative_industry")
			if got.Pass != (veto == "pass") || !got.Veto {
				t.Errorf("veto_negative_industry Pass %v Veto %v, want %s: %s", got.Pass, got.Veto, veto, got.MessageZH)
			}
		})
	}
}

// TestEvaluateBlankFigures blanks every figure in turn
// (testdata/policy/blanks.tsv): a blank is never 0, a required one blocks
// submit, and each check that reads it says 未填报 and fails.
func TestEvaluateBlankFigures(t *testing.T) {
	rows := readTable(t, "testdata/policy/blanks.tsv", 3)
	var named []string
	for _, row := range rows {
		named = append(named, row[0])
	}
	for _, name := range append([]string{"industry_code"}, FigureNames()...) {
		if !slices.Contains(named, name) {
			t.Errorf("blanks.tsv has no row for figure %s", name)
		}
	}
	for _, park := range DefaultParks() {
		rs := mustDefault(t, park)
		base := mustEvaluate(t, rs, good())
		for _, row := range rows {
			name, incomplete, failing := row[0], row[1] == "yes", strings.Split(row[2], ",")
			t.Run(park+"/"+name, func(t *testing.T) {
				f := good()
				setFigure(t, &f, name, "")
				if got := slices.Contains(rs.Incomplete(f), name); got != incomplete {
					t.Errorf("Incomplete lists %s: %v, want %v (%v)", name, got, incomplete, rs.Incomplete(f))
				}
				if name == "industry_code" {
					if _, err := rs.Evaluate(f); err == nil {
						t.Error("Evaluate accepted a blank industry code")
					}
					return
				}
				rep := mustEvaluate(t, rs, f)
				for i, c := range rep.Checks {
					if slices.Contains(failing, c.ID) {
						if c.Pass || !c.NotReported || !strings.Contains(c.MessageZH, "未填报") || !strings.Contains(c.MessageEN, "not reported") {
							t.Errorf("%s: Pass %v NotReported %v %q, want a failure that says 未填报", c.ID, c.Pass, c.NotReported, c.MessageZH)
						}
						continue
					}
					if c.Pass != base.Checks[i].Pass || c.NotReported {
						t.Errorf("%s changed although it does not read %s: %s", c.ID, name, c.MessageZH)
					}
				}
			})
		}
	}
	t.Run("AllBlankListsEveryRequiredFigureAtOnce", func(t *testing.T) {
		got := mustDefault(t, "qingyuan").Incomplete(Figures{})
		var want []string
		for _, row := range rows {
			if row[1] == "yes" {
				want = append(want, row[0])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Incomplete(blank) = %v, want %v", got, want)
		}
	})
}

// TestEvaluateOptionalBlank: a blank optional figure is reported as 未填报
// and the check does not apply only where the rule set says not_applicable;
// with fail it fails.
func TestEvaluateOptionalBlank(t *testing.T) {
	src, err := os.ReadFile("parks/qingyuan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		mode    string
		applies bool
	}{{"not_applicable", false}, {"fail", true}} {
		t.Run(tt.mode, func(t *testing.T) {
			text := strings.Replace(string(src), "land: [land_area, floor_area, building_coverage, office_share, green_ratio, land_grade, land_price]",
				"land: [land_area, floor_area, building_coverage, office_share, land_grade, land_price]", 1)
			text = strings.Replace(text, "    energy_assessment: fail", "    energy_assessment: fail\n    green_ratio: "+tt.mode, 1)
			rs, err := Parse("optional.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			f := good()
			f.GreenRatio = nil
			if slices.Contains(rs.Incomplete(f), "green_ratio") {
				t.Error("an optional figure blocks submit")
			}
			got := result(t, mustEvaluate(t, rs, f), "green_ratio")
			if got.Applies != tt.applies || got.Pass == tt.applies || !got.NotReported || !strings.Contains(got.MessageZH, "未填报") {
				t.Errorf("Applies %v Pass %v NotReported %v %q, want applies %v", got.Applies, got.Pass, got.NotReported, got.MessageZH, tt.applies)
			}
		})
	}
}

// TestEvaluateLeasedPlant: a project renting a standard plant has no land:
// the land figures are not required, the land-based checks do not apply and
// say so, and the rest are judged as usual.
func TestEvaluateLeasedPlant(t *testing.T) {
	land := []string{"investment_intensity", "output_per_mu", "tax_per_mu", "plot_ratio", "building_coverage", "office_share", "green_ratio", "land_price"}
	for _, park := range DefaultParks() {
		t.Run(park, func(t *testing.T) {
			rs := mustDefault(t, park)
			f := good()
			f.LeasedPlant = true
			f.LandArea, f.FloorArea, f.BuildingCoverage, f.OfficeShare, f.GreenRatio, f.LandGrade, f.LandPrice = nil, nil, nil, nil, nil, nil, nil
			f.RDExpense = fp(1000) // 0.91 %: fails R&D, which is not a land rule
			if got := rs.Incomplete(f); len(got) != 0 {
				t.Errorf("Incomplete = %v, want none for a leased plant", got)
			}
			rep := mustEvaluate(t, rs, f)
			if !rep.LeasedPlant {
				t.Error("report does not say leased plant")
			}
			for _, c := range rep.Checks {
				if slices.Contains(land, c.ID) {
					if c.Applies || !c.Pass || !strings.Contains(c.MessageZH, "租赁标准厂房") || !strings.Contains(c.MessageEN, "leased standard plant") {
						t.Errorf("%s: Applies %v Pass %v %q, want not applicable for a leased plant", c.ID, c.Applies, c.Pass, c.MessageZH)
					}
				}
			}
			if got := result(t, rep, "rd_intensity"); got.Pass || !got.Applies {
				t.Errorf("rd_intensity not judged for a leased plant: %s", got.MessageZH)
			}
			// 3000 万元 is the "standard plant only" tier, which a leased plant complies with.
			f.TotalInvestment, f.FixedAssetInvestment = fp(3000), fp(2400)
			if got := result(t, mustEvaluate(t, rs, f), "investment_tier"); !got.Pass || !strings.Contains(got.MessageZH, "租赁标准厂房") {
				t.Errorf("investment_tier for a leased plant: Pass %v %s", got.Pass, got.MessageZH)
			}
		})
	}
}

// TestVetoMarks: the default rule sets mark the 一票否决 rules, and a report
// counts failed vetoes apart (the engine then offers nothing to waive).
func TestVetoMarks(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	for _, id := range []string{"veto_negative_list", "veto_negative_industry", "veto_eco_red_line", "veto_bad_credit", "land_price"} {
		if !rs.IsVeto(id) {
			t.Errorf("%s is not a veto", id)
		}
	}
	for _, id := range []string{"investment_intensity", "plot_ratio", "energy_assessment", "rd_intensity"} {
		if rs.IsVeto(id) {
			t.Errorf("%s is a veto", id)
		}
	}
	f := good()
	f.FixedAssetInvestment, f.Tax = fp(20000), fp(2000) // 200 and 20 万元/亩: two quantitative failures
	failed := func(rep *Report) (ids []string) {
		for _, c := range rep.Checks {
			if !c.Pass && c.Severity == Hard {
				ids = append(ids, c.ID)
			}
		}
		return ids
	}
	rep := mustEvaluate(t, rs, f)
	if got, want := failed(rep), []string{"investment_intensity", "tax_per_mu"}; !slices.Equal(got, want) || rep.VetoFailures != 0 {
		t.Errorf("failed %v (vetoes %d), want %v and no veto", got, rep.VetoFailures, want)
	}
	f.EcoRedLine = bp(true)
	rep = mustEvaluate(t, rs, f)
	if rep.VetoFailures != 1 || rep.HardFailures != 3 || !result(t, rep, "veto_eco_red_line").Veto {
		t.Errorf("VetoFailures %d HardFailures %d, want 1 and 3", rep.VetoFailures, rep.HardFailures)
	}
}

// TestFigureBounds walks testdata/policy/bounds.tsv: what no person could
// mean is refused naming the field.
func TestFigureBounds(t *testing.T) {
	for _, row := range readTable(t, "testdata/policy/bounds.tsv", 3) {
		name, val, ok := row[0], row[1], row[2] == "yes"
		t.Run(name+"="+val, func(t *testing.T) {
			f := good()
			setFigure(t, &f, name, val)
			if name == "total_investment" {
				f.FixedAssetInvestment = fp(1)
			}
			err := CheckFigures(f)
			var ie *InputError
			switch {
			case ok && err != nil:
				t.Errorf("refused: %v", err)
			case !ok && (!errors.As(err, &ie) || ie.Field != name):
				t.Errorf("CheckFigures = %v, want refused naming %s", err, name)
			}
		})
	}
}

// TestOldFileWithoutPrecisionStillParses: a rule set stored before
// precision: existed, with a threshold of three decimals, must still parse
// (old decisions are reproduced under it) and compare that threshold exactly.
func TestOldFileWithoutPrecisionStillParses(t *testing.T) {
	src, err := os.ReadFile("parks/qingyuan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), "precision: 2 #", "#", 1)
	text = strings.Replace(text, "value: 1.2 #", "value: 1.205 #", 1)
	rs, err := Parse("old.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if rs.Precision() != 3 {
		t.Errorf("Precision = %d, want 3", rs.Precision())
	}
	f := good()
	f.FloorArea = fp(80333) // 80333 ÷ 66666.67 = 1.204995 → 1.205 at 3 decimals
	if got := result(t, mustEvaluate(t, rs, f), "plot_ratio"); !got.Pass || got.Threshold != "≥ 1.205" {
		t.Errorf("Pass %v Threshold %q: %s", got.Pass, got.Threshold, got.MessageZH)
	}
}

// TestValidatePolicyFields: the rule-set format's policy fields are
// checked: a veto cannot be soft or say veto: false, a threshold cannot have
// more decimals than precision, and every figure a check reads is declared.
func TestValidatePolicyFields(t *testing.T) {
	src, err := os.ReadFile("parks/qingyuan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"VetoFalse", "kind: veto\n    veto: true\n    flag: negative_list", "kind: veto\n    veto: false\n    flag: negative_list", "cannot say veto: false"},
		{"TooPrecise", "value: 1.2 #", "value: 1.205 #", "more decimals than precision 2"},
		{"Undeclared", "rd_expense, energy_use, electricity,", "rd_expense, energy_use,", "figure electricity is read by a check"},
		{"OptionalDeclaration", "negative_list, eco_red_line, bad_credit]", "negative_list, bad_credit]", "figure eco_red_line is read by a check"},
		{"OptionalVetoDeclaration", "negative_list, eco_red_line, bad_credit]", "negative_list, bad_credit, eco_red_line, energy_assessment]", "declared twice"},
		{"BadCatalogue", "industry_catalogue: GB/T 4754-2017", "industry_catalogue: GB/T 4754-2011", "industry_catalogue"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(src), tt.from) {
				t.Fatalf("fixture text %q not found", tt.from)
			}
			_, err := Parse("x.yaml", []byte(strings.Replace(string(src), tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
