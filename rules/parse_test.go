package rules

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

func TestDefaultsParse(t *testing.T) {
	if got, want := DefaultParks(), []string{"qingyuan", "yingde"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("DefaultParks() = %v, want %v", got, want)
	}
	tests := []struct {
		park, nameZH, level string
	}{
		{"qingyuan", "清远高新区", "national"},
		{"yingde", "英德高新区", "provincial"},
	}
	for _, tt := range tests {
		t.Run(tt.park, func(t *testing.T) {
			rs := mustDefault(t, tt.park)
			if rs.Park() != tt.park || rs.ParkNameZH() != tt.nameZH || rs.Level() != tt.level || rs.ParkNameEN() == "" {
				t.Errorf("got %s %s %s %s", rs.Park(), rs.ParkNameZH(), rs.ParkNameEN(), rs.Level())
			}
			if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(rs.Version()) {
				t.Errorf("Version() = %q, want 64 hex digits", rs.Version())
			}
			src, _ := os.ReadFile(filepath.Join("parks", tt.park+".yaml"))
			if !bytes.Equal(rs.Source(), src) {
				t.Error("Source() differs from the embedded file")
			}
			sc := rs.Scoring()
			if got, want := len(sc.Criteria), 7; got != want {
				t.Errorf("criteria = %d, want %d", got, want)
			}
			if sc.PassMark != 70 || sc.Quorum != 3 {
				t.Errorf("pass mark %v quorum %d, want 70 3", sc.PassMark, sc.Quorum)
			}
			r := rs.Rating()
			var ids []string
			for _, ind := range r.Indicators {
				ids = append(ids, ind.ID)
			}
			if want := []string{"tax_per_mu", "output_per_mu", "rd_intensity", "value_added_per_energy", "labour_productivity", "value_added_per_emission"}; !reflect.DeepEqual(ids, want) {
				t.Errorf("indicators %v, want %v", ids, want)
			}
			if r.Cap != 1.5 || r.GraceYears != 3 || r.GraceBand != "B" || r.RectificationDays != 90 || r.Floor != (Floor{"tax_per_mu", 5, "D"}) {
				t.Errorf("rating config %+v", r)
			}
			if got := rs.RectificationDays(); got != 90 {
				t.Errorf("RectificationDays() = %d, want 90", got)
			}
			if got, want := rs.Tracking(), (Tracking{6, 24, 36, 30, []int{1, 2}, 10}); !reflect.DeepEqual(got, want) {
				t.Errorf("Tracking() = %+v, want %+v", got, want)
			}
			if got := len(rs.LeadingIndustries()); got != 4 {
				t.Errorf("leading sectors = %d, want 4 (“3+1”)", got)
			}
			// The working-day calendar is its own data now (engine/calendar), not the rule set's.
			if len(rs.spec.Holidays) != 0 || len(rs.spec.Workdays) != 0 {
				t.Errorf("park file still lists a calendar: %v / %v", rs.spec.Holidays, rs.spec.Workdays)
			}
		})
	}
	if _, err := Default("nowhere"); err == nil {
		t.Error("Default(nowhere) succeeded")
	}
}

func TestDeadlineDays(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	tests := []struct {
		state string
		want  int
	}{
		{"draft", 0}, {"screening", 1}, {"expert_review", 5}, {"committee_review", 5}, {"returned", 10},
		{"approved", 20}, {"signed", 0}, {"under_construction", 0}, {"rectification", 0}, {"no_such_state", 0},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			if got := rs.DeadlineDays(tt.state); got != tt.want {
				t.Errorf("DeadlineDays(%q) = %d, want %d", tt.state, got, tt.want)
			}
		})
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	sc := rs.Scoring()
	sc.Criteria[0].Max = 99
	r := rs.Rating()
	r.Bands[0].Band = "Z"
	if rs.Scoring().Criteria[0].Max == 99 || rs.Rating().Bands[0].Band == "Z" {
		t.Error("a caller mutated the shared rule set")
	}
}

func TestScoreTotal(t *testing.T) {
	rs := mustDefault(t, "qingyuan")
	full := map[string]float64{"chain_fit": 18, "tax_per_mu": 15.5, "innovation": 14, "investment_scale": 12,
		"output_per_mu": 8, "energy_emissions": 7.1, "investor_credit": 4.2}
	with := func(id string, v float64) map[string]float64 {
		m := map[string]float64{}
		for k, x := range full {
			m[k] = x
		}
		m[id] = v
		return m
	}
	without := func(id string) map[string]float64 {
		m := with(id, 0)
		delete(m, id)
		return m
	}
	tests := []struct {
		name  string
		items map[string]float64
		want  float64
		field string // "" when no error is expected
	}{
		{"OK", full, 78.8, ""},
		{"AllMax", map[string]float64{"chain_fit": 20, "tax_per_mu": 20, "innovation": 20, "investment_scale": 15, "output_per_mu": 10, "energy_emissions": 10, "investor_credit": 5}, 100, ""},
		{"AllZero", map[string]float64{"chain_fit": 0, "tax_per_mu": 0, "innovation": 0, "investment_scale": 0, "output_per_mu": 0, "energy_emissions": 0, "investor_credit": 0}, 0, ""},
		{"Missing", without("innovation"), 0, "innovation"},
		{"AboveMax", with("investor_credit", 5.5), 0, "investor_credit"},
		{"Negative", with("output_per_mu", -1), 0, "output_per_mu"},
		{"NaN", with("chain_fit", nan()), 0, "chain_fit"},
		{"Unknown", with("charisma", 3), 0, "charisma"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rs.ScoreTotal(tt.items)
			if tt.field == "" {
				if err != nil || got != tt.want {
					t.Errorf("ScoreTotal = %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != tt.field {
				t.Errorf("ScoreTotal error = %v, want *InputError on %q", err, tt.field)
			}
		})
	}
}

// TestValidationErrors parses one fixture per kind of mistake; each fixture
// is testdata/valid/minimal.yaml with one change, so exactly one problem is
// expected, naming file, rule and field.
func TestValidationErrors(t *testing.T) {
	tests := []struct {
		file, rule, field string
	}{
		{"unknown_metric", "intensity", "metric"},
		{"unknown_figure", "intensity", "formula"},
		{"formula_not_number", "energy", "formula"},
		{"formula_forbidden", "revenue", "formula"},
		{"rating_formula", "rating", "indicators[1].formula"},
		{"scoring_weights", "scoring", "criteria"},
		{"rating_weights", "rating", "indicators"},
		{"threshold_type", "intensity", "value"},
		{"threshold_class_type", "intensity", "value.leading"},
		{"threshold_nan", "intensity", "value"},
		{"when_type", "energy_check", "when.value"},
		{"duplicate_check_id", "intensity", "id"},
		{"unknown_severity", "veto_credit", "severity"},
		{"missing_severity", "veto_credit", "severity"},
		{"unknown_kind", "veto_credit", "kind"},
		{"unknown_op", "intensity", "op"},
		{"unknown_flag", "veto_credit", "flag"},
		{"unknown_field", "intensity", "treshold"},
		{"field_not_used", "veto_credit", "value"},
		{"bracket_order", "bracket", "table[1].upto"},
		{"bracket_open_row", "bracket", "table[1].upto"},
		{"tier_order", "tier", "tiers[1].pass"},
		{"two_tier_checks", "tier2", "kind"},
		{"bad_band_percentages", "rating", "bands[0].upto_percent"},
		{"last_band_percentage", "rating", "bands[1].upto_percent"},
		{"unknown_floor_band", "rating", "floor.band"},
		{"unknown_floor_indicator", "rating", "floor.indicator"},
		{"bad_cap", "rating", "cap"},
		{"bad_band_rounding", "rating", "band_rounding"},
		{"bottom_band_ceil", "rating", "bands[2].bottom_percent"},
		{"missing_policy_unstated", "rating", "indicators[1].missing"},
		{"unknown_missing_policy", "rating", "indicators[1].missing"},
		{"not_rated_without_class", "rating", "indicators[1].missing"},
		{"unknown_data_figure", "rating", "indicators[1].data[0]"},
		{"unknown_not_filed", "rating", "not_filed"},
		{"renamed_band", "rating", "bands[0].band"},
		{"renamed_not_rated_class", "rating", "not_rated_class"},
		{"unknown_class_measures", "rating", "classes[0].class"},
		{"bad_rd_support", "rating", "rd_support.at_least"},
		{"missing_name", "veto_credit", "name_en"},
		{"missing_park_name", "park", "name_zh"},
		{"missing_criterion_name", "scoring", "criteria[0].name_zh"},
		{"criterion_max_type", "scoring", "criteria[0].max"},
		{"bad_pass_mark", "scoring", "pass_mark"},
		{"bad_quorum", "scoring", "quorum"},
		{"bad_level", "park", "level"},
		{"bad_sector_code", "electronics", "codes[0]"},
		{"vetoed_leading_code", "veto_code", "codes[0]"},
		{"unknown_state", "deadlines", "reviewing"},
		{"bad_holiday", "holidays", "holidays[0]"},
		{"weekday_workday", "workdays", "workdays[0]"},
		{"bad_tracking", "tracking", "construction_months"},
		{"idle_land_order", "tracking", "idle_land_years[1]"},
		{"anchor", "file", "-"},
		{"syntax", "file", "-"},
	}
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if got, want := len(files), len(tests); got != want {
		t.Errorf("%d fixtures under testdata/invalid, %d cases here: keep them in step", got, want)
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", tt.file+".yaml")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Parse(path, data)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %v, %v; want *ValidationError", rs, err)
			}
			if len(ve.Problems) != 1 {
				t.Fatalf("%d problems, want 1:\n%v", len(ve.Problems), err)
			}
			p := ve.Problems[0]
			if ve.File != path || p.Rule != tt.rule || p.Field != tt.field || p.Message == "" {
				t.Errorf("got file %q rule %q field %q (%s), want %q %q %q", ve.File, p.Rule, p.Field, p.Message, path, tt.rule, tt.field)
			}
			if p.Line == 0 && tt.rule != "park" {
				t.Errorf("problem has no line: %v", p)
			}
			prefix := path + ": rule " + tt.rule + ": field " + tt.field + ": "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), prefix)
			}
		})
	}
}

func TestValidationErrorListsEveryProblem(t *testing.T) {
	data, _ := os.ReadFile("testdata/valid/minimal.yaml")
	s := strings.Replace(string(data), "severity: hard", "severity: fatal", 1)
	s = strings.Replace(s, "name_en: Tax, max: 40", "name_en: Tax, max: 45", 1)
	_, err := Parse("two.yaml", []byte(s))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Fatalf("Parse = %v, want two problems", err)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "two.yaml: rule scoring: field criteria: ") {
		t.Errorf("Error() = %q", err.Error())
	}
}

// TestVersion: comments, layout, key order and equivalent spellings keep the
// version; changing any number changes it.
func TestVersion(t *testing.T) {
	src, err := os.ReadFile("parks/qingyuan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := mustDefault(t, "qingyuan").Version()

	var doc yaml.MapSlice
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	reformatted, err := yaml.MarshalWithOptions(doc, yaml.Indent(4), yaml.IndentSequence(true))
	if err != nil {
		t.Fatal(err)
	}
	reordered := slices.Clone(doc)
	slices.Reverse(reordered)
	reorderedSrc, err := yaml.Marshal(reordered)
	if err != nil {
		t.Fatal(err)
	}
	same := []struct {
		name string
		src  []byte
	}{
		{"Identical", src},
		{"CommentsChanged", bytes.ReplaceAll(src, []byte("# 国家级高新区"), []byte("# 已复核 2026"))},
		{"CommentsStripped", stripComments(src)},
		{"Reformatted", reformatted},
		{"KeysReordered", reorderedSrc},
		{"FloatSpelling", bytes.Replace(src, []byte("value: 300 #"), []byte("value: 300.0 #"), 1)},
		{"OpSpelling", bytes.Replace(src, []byte(`op: "<="`), []byte(`op: "≤"`), 1)},
		{"ExplicitZeroShare", bytes.Replace(src, []byte("- { band: C }"), []byte("- { band: C, upto_percent: 0 }"), 1)},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Parse("variant.yaml", tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := rs.Version(); got != base {
				t.Errorf("Version() = %s, want %s", got, base)
			}
		})
	}
	differ := []struct {
		name     string
		old, new string
	}{
		{"Threshold", "value: 300 #", "value: 301 #"},
		{"ClassThreshold", "value: { leading: 3, other: 1.5 }", "value: { leading: 3, other: 1.6 }"},
		{"BracketRow", "{ upto: 5000, value: 5 }", "{ upto: 5001, value: 5 }"},
		{"Weight", "weight: 35, benchmark: 30", "weight: 35, benchmark: 31"},
		{"Criterion", "name_en: Investor strength and credit, max: 5 }", "name_en: Investor strength and credit, max: 5.5 }"},
		{"Deadline", "expert_review: 5", "expert_review: 6"},
		{"ReviewTolerance", "review_tolerance: 10 ", "review_tolerance: 12 "},
		{"Code", "- C3360 #", "- C3361 #"},
		{"Severity", "severity: soft\n\n# 申报数据", "severity: hard\n\n# 申报数据"},
	}
	for _, tt := range differ {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(src, []byte(tt.old)) {
				t.Fatalf("fixture text %q not found", tt.old)
			}
			changed := bytes.Replace(src, []byte(tt.old), []byte(tt.new), 1)
			if tt.name == "Criterion" { // keep the sheet at 100 points
				changed = bytes.Replace(changed, []byte("max: 10 }"), []byte("max: 9.5 }"), 1)
			}
			rs, err := Parse("variant.yaml", changed)
			if err != nil {
				t.Fatal(err)
			}
			if rs.Version() == base {
				t.Error("Version() unchanged after a change of content")
			}
		})
	}
}

// stripComments removes every comment: whole-line ones and the trailing
// " # …" ones (the default files hold no "#" inside values).
func stripComments(src []byte) []byte {
	var out []string
	for _, line := range strings.Split(string(src), "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimRight(line[:i], " ")
		}
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

func TestParseRejectsOversizedAndEmpty(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"Empty", nil},
		{"OnlyComments", []byte("# nothing\n")},
		{"NotAMapping", []byte("- a\n- b\n")},
		{"TwoDocuments", []byte("park: a\n---\npark: b\n")},
		{"Oversized", bytes.Repeat([]byte("#"), maxFileSize+1)},
		{"DuplicateKey", []byte("park: a\npark: b\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", tt.data)
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Errorf("Parse = %v, want *ValidationError", err)
			}
		})
	}
}
