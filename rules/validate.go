package rules

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/shopspring/decimal"

	"zonevet/rules/catalog"
)

// maxFileSize bounds what Parse accepts. A rule set is a few hundred lines;
// anything near this size is a mistake or an attack on the parser.
const maxFileSize = 1 << 20

var (
	idPattern   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	parkPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	// codePrefix is a GB/T 4754 code or prefix: section letter and up to
	// four digits (division, group, class).
	codePrefix = regexp.MustCompile(`^[A-T][0-9]{0,4}$`)
)

// DeadlineStates are the lifecycle states a rule set may give a deadline (deadlines: in the file).
var DeadlineStates = []string{"draft", "screening", "expert_review", "committee_review", "returned",
	"approved", "signed", "under_construction", "rectification"}

// Levels are the accepted park levels.
var Levels = []string{"national", "provincial"}

// builder validates a decoded file and compiles it into a RuleSet in one
// pass, collecting every problem instead of stopping at the first.
type builder struct {
	file      string
	ast       *ast.File
	spec      *fileSpec
	problems  []Problem
	metricIdx map[string]int
	rs        *RuleSet
}

// add records a problem, the catalogue message id with args, at a YAML path
// such as "$.checks[3].value"; rule, field and position are derived from the path.
func (b *builder) add(path, id string, args catalog.Args) {
	rule, field := describe(b.ast, path)
	p := newProblem(rule, field, catalog.Message{ID: id, Args: args})
	p.Line, p.Column = position(b.ast, path)
	b.problems = append(b.problems, p)
}

// addErr records a problem from an error that carries its message
// (a formula's); any other error is shown as it is.
func (b *builder) addErr(path string, err error) {
	var m *messageError
	if errors.As(err, &m) {
		b.add(path, m.ID, m.Args)
		return
	}
	b.add(path, "rules.formula_invalid", catalog.Args{"Detail": err.Error()})
}

func (b *builder) names(path, zh, en string) {
	if strings.TrimSpace(zh) == "" {
		b.add(path+".name_zh", "rules.name_zh_chinese_name_is_required", nil)
	}
	if strings.TrimSpace(en) == "" {
		b.add(path+".name_en", "rules.name_en_english_name_is_required", nil)
	}
}

func (b *builder) id(path, id string, seen map[string]bool, what string) {
	switch {
	case id == "":
		b.add(path+".id", "rules.id_is_required", nil)
	case !idPattern.MatchString(id):
		b.add(path+".id", "rules.id_must_be_lower_case_letters", catalog.Args{"Id": fmt.Sprintf("%q", id)})
	case seen[id]:
		b.add(path+".id", "rules.duplicate_id", catalog.Args{"What": what, "Id": fmt.Sprintf("%q", id)})
	}
	seen[id] = true
}

// build validates everything and, when there is no problem, returns the
// compiled rule set.
func (b *builder) build() *RuleSet {
	s := b.spec
	b.rs = &RuleSet{spec: s}
	if !parkPattern.MatchString(s.Park) {
		b.add("$.park", "rules.park_id_must_be_lower_case", catalog.Args{"Park": fmt.Sprintf("%q", s.Park)})
	}
	b.names("$", s.NameZH, s.NameEN)
	if !slices.Contains(Levels, s.Level) {
		b.add("$.level", "rules.level_must_be_one_of", catalog.Args{"Level": fmt.Sprintf("%q", s.Level), "Levels": strings.Join(Levels, ", ")})
	}
	b.rs.precision = 2
	if s.Precision != nil {
		if *s.Precision < 0 || *s.Precision > 6 {
			b.add("$.precision", "rules.precision_is_number_of_decimals_metrics", catalog.Args{"Arg1": *s.Precision})
		}
		b.rs.precision = *s.Precision
	} else {
		// A file from before precision: existed (a stored version an old
		// decision was made under) must still parse and compare its
		// thresholds exactly: it gets as many decimals as its most precise
		// threshold, at least 2.
		b.rs.precision = min(max(2, thresholdDecimals(s.Checks)), 6)
	}
	if s.Catalogue != "" && s.Catalogue != IndustryCatalogue {
		b.add("$.industry_catalogue", "rules.industry_catalogue_codes_are_checked_against", catalog.Args{"Catalogue": fmt.Sprintf("%q", s.Catalogue), "IndustryCatalogue": IndustryCatalogue})
	}
	b.buildSectors()
	b.buildMetrics()
	b.buildChecks()
	b.buildFigures()
	b.buildScoring()
	b.buildExperts()
	b.buildRating()
	b.buildTracking()
	b.buildTargets()
	b.buildCalendar()
	b.buildReminders()
	b.buildExamples()
	if len(b.problems) > 0 {
		return nil
	}
	b.rs.prepare()
	b.rs.prepareRating()
	return b.rs
}

func (b *builder) buildSectors() {
	seen := map[string]bool{}
	owner := map[string]string{}
	for i, sec := range b.spec.Leading {
		path := fmt.Sprintf("$.leading_industries[%d]", i)
		b.id(path, sec.ID, seen, "sector")
		b.names(path, sec.NameZH, sec.NameEN)
		if len(sec.Codes) == 0 {
			b.add(path+".codes", "rules.codes_list_at_least_one_gb", nil)
		}
		for j, code := range sec.Codes {
			cp := fmt.Sprintf("%s.codes[%d]", path, j)
			switch {
			case !codePrefix.MatchString(code):
				b.add(cp, "rules.is_not_gb_t_4754_code", catalog.Args{"Code": fmt.Sprintf("%q", code)})
			case owner[code] != "":
				b.add(cp, "rules.code_is_already_listed_under_sector", catalog.Args{"Code": code, "Owner": owner[code]})
			default:
				owner[code] = sec.ID
				b.rs.prefixes = append(b.rs.prefixes, sectorPrefix{code: code, sector: i})
			}
		}
	}
	// Longest prefix first, so C358 (medical devices) wins over C35 (equipment).
	slices.SortStableFunc(b.rs.prefixes, func(x, y sectorPrefix) int { return len(y.code) - len(x.code) })
}

func (b *builder) buildMetrics() {
	seen := map[string]bool{}
	b.metricIdx = map[string]int{}
	for i, m := range b.spec.Metrics {
		path := fmt.Sprintf("$.metrics[%d]", i)
		b.id(path, m.ID, seen, "metric")
		b.names(path, m.NameZH, m.NameEN)
		f, err := compileFormula(m.Formula, &figureEnv{})
		if err != nil {
			b.addErr(path+".formula", err)
		}
		if _, dup := b.metricIdx[m.ID]; !dup {
			b.metricIdx[m.ID] = i
		}
		b.rs.metrics = append(b.rs.metrics, metric{Metric: m, formula: f})
	}
}

// metricRef resolves a metric id used by a check and marks it as used.
func (b *builder) metricRef(path, id string) int {
	if id == "" {
		b.add(path, "rules.metric_is_required", nil)
		return -1
	}
	i, ok := b.metricIdx[id]
	if !ok {
		b.add(path, "rules.unknown_metric_define_it_under_metrics", catalog.Args{"Id": fmt.Sprintf("%q", id)})
		return -1
	}
	b.rs.metrics[i].used = true
	return i
}

func (b *builder) opRef(path, s string) op {
	o, ok := parseOp(s)
	if !ok {
		b.add(path, "rules.op_must_be_one_of_or", catalog.Args{"S": fmt.Sprintf("%q", s)})
	}
	return o
}

func (b *builder) flagRef(path, name string) string {
	if !flagFigures[name] {
		b.add(path, "rules.unknown_yes_no_figure_one_of", catalog.Args{"Name": fmt.Sprintf("%q", name), "FlagFigures": strings.Join(sortedKeys(flagFigures), ", ")})
	}
	return name
}

// numberAt validates a number-valued field decoded as any and rewrites it
// as float64, so 300 and 300.0 have the same canonical form.
func (b *builder) numberAt(path string, v *any) float64 {
	x, ok := number(*v)
	if !ok {
		b.add(path, "rules.must_be_number_got", catalog.Args{"Arg1": describeValue(*v)})
		return math.NaN()
	}
	*v = x
	return x
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// kindFields lists which optional fields each check kind uses.
var kindFields = map[string][]string{
	kindVeto:         {"flag", "veto"},
	kindIndustryVeto: {"codes", "veto"},
	kindThreshold:    {"metric", "op", "value", "veto"},
	kindRequires:     {"when", "when_any", "require"},
	kindBracket:      {"metric", "op", "by", "table", "veto"},
	kindTier:         {"metric", "tiers"},
}

func (b *builder) buildChecks() {
	if len(b.spec.Checks) == 0 {
		b.add("$.checks", "rules.checks_list_at_least_one_check", nil)
	}
	seen := map[string]bool{}
	tiers := 0
	for i := range b.spec.Checks {
		c := &b.spec.Checks[i]
		path := fmt.Sprintf("$.checks[%d]", i)
		b.id(path, c.ID, seen, "check")
		b.names(path, c.NameZH, c.NameEN)
		ck := check{id: c.ID, nameZH: c.NameZH, nameEN: c.NameEN, kind: c.Kind, metric: -1}
		switch Severity(c.Severity) {
		case Hard, Soft:
			ck.severity = Severity(c.Severity)
		case "":
			b.add(path+".severity", "rules.severity_is_required_hard_or_soft", nil)
		default:
			b.add(path+".severity", "rules.unknown_severity_hard_or_soft", catalog.Args{"Severity": fmt.Sprintf("%q", c.Severity)})
		}
		allowed, ok := kindFields[c.Kind]
		if !ok {
			b.add(path+".kind", "rules.unknown_kind_one_of_veto_industry", catalog.Args{"Kind": fmt.Sprintf("%q", c.Kind)})
		} else {
			set := map[string]bool{"flag": c.Flag != "", "codes": c.Codes != nil, "metric": c.Metric != "",
				"op": c.Op != "", "value": c.Value != nil, "when": c.When != nil, "require": c.Require != "",
				"by": c.By != "", "table": c.Table != nil, "tiers": c.Tiers != nil, "veto": c.Veto != nil, "when_any": c.WhenAny != nil}
			for _, name := range sortedKeys(set) {
				if set[name] && !slices.Contains(allowed, name) {
					b.add(path+"."+name, "rules.field_is_not_used_by_kind", catalog.Args{"Name": name, "Kind": c.Kind})
				}
			}
		}
		switch {
		case c.Kind == kindVeto || c.Kind == kindIndustryVeto:
			// A yes/no veto is a veto by nature; an older file that does not
			// say so keeps its meaning (and its version hash).
			ck.veto = true
			if c.Veto != nil && !*c.Veto {
				b.add(path+".veto", "rules.check_is_veto_and_cannot_say", catalog.Args{"Kind": c.Kind})
			}
		case c.Veto != nil && *c.Veto:
			ck.veto = true
		}
		if ck.veto && c.Severity == string(Soft) {
			b.add(path+".severity", "rules.veto_must_be_severity_hard", nil)
		}
		switch c.Kind {
		case kindVeto:
			ck.flag = b.flagRef(path+".flag", c.Flag)
			ck.refs = []string{ck.flag}
			ck.threshold = "= 0"
		case kindIndustryVeto:
			if len(c.Codes) == 0 {
				b.add(path+".codes", "rules.codes_list_at_least_one_gb_2", nil)
			}
			for j, code := range c.Codes {
				cp := fmt.Sprintf("%s.codes[%d]", path, j)
				if !codePrefix.MatchString(code) {
					b.add(cp, "rules.is_not_gb_t_4754_code_2", catalog.Args{"Code": fmt.Sprintf("%q", code)})
					continue
				}
				for _, p := range b.rs.prefixes {
					if strings.HasPrefix(p.code, code) || strings.HasPrefix(code, p.code) {
						b.add(cp, "rules.code_overlaps_leading_sector_industry_cannot", catalog.Args{"Code": code, "ID": b.spec.Leading[p.sector].ID, "Code2": p.code})
						break
					}
				}
			}
			ck.codes = slices.Clone(c.Codes)
			ck.refs = []string{"industry_code"}
			ck.threshold = "= 0"
		case kindThreshold:
			ck.metric = b.metricRef(path+".metric", c.Metric)
			ck.op = b.opRef(path+".op", c.Op)
			b.thresholdValue(path+".value", c, &ck)
			ck.refs = b.metricRefs(ck.metric)
		case kindRequires:
			type at struct {
				path string
				c    *condSpec
			}
			var conds []at
			switch {
			case c.When != nil && c.WhenAny != nil:
				b.add(path+".when_any", "rules.give_when_or_when_any_not", nil)
			case c.When != nil:
				conds = []at{{path + ".when", c.When}}
			case len(c.WhenAny) > 0:
				for j := range c.WhenAny {
					conds = append(conds, at{fmt.Sprintf("%s.when_any[%d]", path, j), &c.WhenAny[j]})
				}
			default:
				b.add(path+".when", "rules.when_is_required_metric_op_value", nil)
			}
			var texts, textsEN []string
			for _, w := range conds {
				cd := cond{metric: b.metricRef(w.path+".metric", w.c.Metric), op: b.opRef(w.path+".op", w.c.Op),
					value: b.numberAt(w.path+".value", &w.c.Value)}
				w.c.Op = cd.op.ascii()
				b.precise(w.path+".value", cd.value)
				ck.conds = append(ck.conds, cd)
				ck.refs = append(ck.refs, b.metricRefs(cd.metric)...)
				if cd.metric >= 0 { // as a reviewer reads it: the metric's name and unit, not its id
					m := b.rs.metrics[cd.metric]
					texts = append(texts, strings.TrimSpace(m.NameZH+" "+cd.op.String()+" "+fmtNum(cd.value)+" "+m.Unit))
					textsEN = append(textsEN, strings.TrimSpace(cmp.Or(m.NameEN, m.NameZH)+" "+cd.op.String()+" "+fmtNum(cd.value)+" "+cmp.Or(m.UnitEN, m.Unit)))
				}
			}
			ck.flag = b.flagRef(path+".require", c.Require)
			ck.refs = append(ck.refs, ck.flag)
			if len(ck.conds) > 0 {
				ck.metric = ck.conds[0].metric
			}
			need, needEN := c.Require, c.Require
			if w, ok := figureWords()[c.Require]; ok {
				need, needEN = w[0], w[1]
			}
			// The Chinese form is stored in every report (replay compares
			// report bytes), so it stays as it was; English is shown from
			// the rule set (ThresholdEN).
			ck.threshold = strings.Join(texts, " 或 ") + " ⇒ " + need
			ck.thresholdEN = strings.Join(textsEN, catalog.Message{ID: "rules.requires_any_of"}.Text(catalog.EN)) + " ⇒ " + needEN
		case kindBracket:
			ck.metric = b.metricRef(path+".metric", c.Metric)
			ck.op = b.opRef(path+".op", c.Op)
			ck.by = b.metricRef(path+".by", c.By)
			b.bracketTable(path, c, &ck)
			ck.refs = append(b.metricRefs(ck.metric), b.metricRefs(ck.by)...)
		case kindTier:
			if tiers++; tiers == 2 {
				b.add(path+".kind", "rules.only_one_tier_check_is_allowed", nil)
			}
			ck.metric = b.metricRef(path+".metric", c.Metric)
			b.tierTable(path, c, &ck)
			ck.refs = b.metricRefs(ck.metric)
		}
		ck.refs = compactRefs(ck.refs)
		if ck.op != 0 {
			c.Op = ck.op.ascii()
		}
		b.rs.checks = append(b.rs.checks, ck)
	}
}

// thresholdValue reads value: either a number, or {leading: n, other: n}
// for a threshold that depends on whether the industry is a leading one.
func (b *builder) thresholdValue(path string, c *checkSpec, ck *check) {
	m, isMap := c.Value.(map[string]any)
	if !isMap {
		if c.Value == nil {
			b.add(path, "rules.value_is_required_number_or_leading", nil)
			return
		}
		ck.value = b.numberAt(path, &c.Value)
		b.precise(path, ck.value)
		ck.threshold = ck.op.String() + " " + b.rs.showNum(ck.value)
		return
	}
	ck.byClass = true
	for k := range m {
		if k != "leading" && k != "other" {
			b.add(path+"."+keySegment(k), "rules.unknown_industry_class_leading_or_other", catalog.Args{"K": fmt.Sprintf("%q", k)})
		}
	}
	for _, k := range []string{"leading", "other"} {
		v, ok := m[k]
		if !ok {
			b.add(path+"."+k, "rules.value_is_required_when_threshold_depends", catalog.Args{"K": k})
			continue
		}
		x := b.numberAt(path+"."+k, &v)
		b.precise(path+"."+k, x)
		m[k] = v
		if k == "leading" {
			ck.value = x
		} else {
			ck.other = x
		}
	}
}

func (b *builder) bracketTable(path string, c *checkSpec, ck *check) {
	if len(c.Table) == 0 {
		b.add(path+".table", "rules.table_list_at_least_one_row", nil)
		return
	}
	prev := math.Inf(-1)
	for j := range c.Table {
		row := &c.Table[j]
		rp := fmt.Sprintf("%s.table[%d]", path, j)
		r := bracket{value: b.numberAt(rp+".value", &row.Value), open: row.Upto == nil}
		b.precise(rp+".value", r.value)
		last := j == len(c.Table)-1
		switch {
		case last && !r.open:
			b.add(rp+".upto", "rules.last_row_must_have_no_upto", nil)
		case !last && r.open:
			b.add(rp+".upto", "rules.upto_is_required_on_every_row", nil)
		case !r.open:
			r.upto = b.numberAt(rp+".upto", &row.Upto)
			b.precise(rp+".upto", r.upto)
			if r.upto <= prev {
				b.add(rp+".upto", "rules.upto_must_be_greater_than_previous", catalog.Args{"Upto": fmtNum(r.upto), "Prev": fmtNum(prev)})
			}
			prev = r.upto
		}
		ck.table = append(ck.table, r)
	}
}

func (b *builder) tierTable(path string, c *checkSpec, ck *check) {
	if len(c.Tiers) < 2 {
		b.add(path+".tiers", "rules.tiers_list_at_least_two_tiers", nil)
		return
	}
	seen := map[string]bool{}
	prev := math.Inf(-1)
	passing := false
	for j := range c.Tiers {
		ts := &c.Tiers[j]
		tp := fmt.Sprintf("%s.tiers[%d]", path, j)
		b.id(tp, ts.ID, seen, "tier")
		b.names(tp, ts.NameZH, ts.NameEN)
		t := tier{id: ts.ID, nameZH: ts.NameZH, nameEN: ts.NameEN, pass: ts.Pass, open: ts.Below == nil}
		last := j == len(c.Tiers)-1
		switch {
		case last && !t.open:
			b.add(tp+".below", "rules.last_tier_must_have_no_below", nil)
		case !last && t.open:
			b.add(tp+".below", "rules.below_is_required_on_every_tier", nil)
		case !t.open:
			t.below = b.numberAt(tp+".below", &ts.Below)
			b.precise(tp+".below", t.below)
			if t.below <= prev {
				b.add(tp+".below", "rules.below_must_be_greater_than_previous", catalog.Args{"Below": fmtNum(t.below), "Prev": fmtNum(prev)})
			}
			prev = t.below
		}
		if passing && !t.pass {
			b.add(tp+".pass", "rules.tier_above_passing_tier_must_pass", nil)
		}
		if t.pass && !passing && j > 0 {
			ck.threshold = "≥ " + b.rs.showNum(ck.tiers[j-1].below)
		}
		passing = passing || t.pass
		ck.tiers = append(ck.tiers, t)
	}
	if !passing {
		b.add(path+".tiers", "rules.at_least_one_tier_must_pass", nil)
	}
	if ck.threshold == "" {
		ck.threshold = "—"
	}
}

func (b *builder) buildScoring() {
	sc := &b.spec.Scoring
	if len(sc.Criteria) == 0 {
		b.add("$.scoring.criteria", "rules.criteria_list_scoring_sheet_criteria", nil)
	}
	seen := map[string]bool{}
	sum := 0.0
	for i, c := range sc.Criteria {
		path := fmt.Sprintf("$.scoring.criteria[%d]", i)
		b.id(path, c.ID, seen, "criterion")
		b.names(path, c.NameZH, c.NameEN)
		if !finite(c.Max) || c.Max <= 0 {
			b.add(path+".max", "rules.max_must_be_positive_number_of", catalog.Args{"Max": c.Max})
		}
		sum += c.Max
	}
	if len(sc.Criteria) > 0 && !sumIs(sum, 100) {
		b.add("$.scoring.criteria", "rules.criteria_weights_max_sum_to_want", catalog.Args{"Sum": fmtNum(sum)})
	}
	if !finite(sc.PassMark) || sc.PassMark <= 0 || sc.PassMark > 100 {
		b.add("$.scoring.pass_mark", "rules.pass_mark_must_be_within_0", catalog.Args{"PassMark": sc.PassMark})
	}
	if sc.Quorum < 1 {
		b.add("$.scoring.quorum", "rules.quorum_must_be_at_least_1", catalog.Args{"Quorum": sc.Quorum})
	}
}

func (b *builder) buildRating() {
	r := &b.spec.Rating
	b.rs.indicators = b.ratingIndicators("$.rating.indicators", r.Indicators, r)
	if m := r.BelowScale; m != nil {
		b.names("$.rating.below_scale", m.NameZH, m.NameEN)
		b.rs.below = &ratingMethod{inds: m.Indicators, group: GroupBelowScale, floorIdx: -1}
		b.rs.below.compiled = b.ratingIndicators("$.rating.below_scale.indicators", m.Indicators, r)
	}
	if !finite(r.Cap) || r.Cap < 1 {
		b.add("$.rating.cap", "rules.cap_is_multiple_of_indicator_weight", catalog.Args{"Cap": r.Cap})
	}
	if len(r.Bands) < 2 {
		b.add("$.rating.bands", "rules.bands_list_at_least_two_bands", nil)
	}
	bands := map[string]bool{}
	prev := 0.0
	for i, band := range r.Bands {
		path := fmt.Sprintf("$.rating.bands[%d]", i)
		switch {
		case strings.TrimSpace(band.Band) == "":
			b.add(path+".band", "rules.band_name_is_required", nil)
		case bands[band.Band]:
			b.add(path+".band", "rules.duplicate_band", catalog.Args{"Band": fmt.Sprintf("%q", band.Band)})
		case i >= len(BandNames):
			b.add(path+".band", "rules.at_most_bands_named", catalog.Args{"BandNames": len(BandNames), "BandNames2": strings.Join(BandNames, ", ")})
		case band.Band != BandNames[i]:
			b.add(path+".band", "rules.bands_are_named_in_that_order", catalog.Args{"BandNames": strings.Join(BandNames, ", "), "Arg2": i + 1, "BandNames2": fmt.Sprintf("%q", BandNames[i]), "Band": fmt.Sprintf("%q", band.Band)})
		}
		bands[band.Band] = true
		p := band.UptoPercent
		last := i == len(r.Bands)-1
		if band.BottomPercent != 0 || band.MinFirms != 0 || band.MinFirmsFrom != 0 {
			b.bottomBand(path, band, last, r)
			continue
		}
		if bottom := len(r.Bands) >= 3 && r.Bands[len(r.Bands)-1].BottomPercent != 0; bottom && i == len(r.Bands)-2 {
			if p != 0 {
				b.add(path+".upto_percent", "rules.band_before_bottom_band_takes_rest", catalog.Args{"P": fmtNum(p)})
			}
			continue
		}
		switch {
		case !finite(p):
			b.add(path+".upto_percent", "rules.upto_percent_must_be_number_got", catalog.Args{"P": p})
		case last && p != 0 && p != 100:
			b.add(path+".upto_percent", "rules.last_band_takes_rest_leave_upto", catalog.Args{"P": fmtNum(p)})
		case !last && (p <= prev || p >= 100):
			b.add(path+".upto_percent", "rules.upto_percent_must_be_above_previous", catalog.Args{"P": fmtNum(p), "Prev": fmtNum(prev)})
		case !last:
			prev = p
		}
	}
	if len(r.Bands) > 0 {
		r.Bands[len(r.Bands)-1].UptoPercent = 0 // "100" and "left out" mean the same
	}
	fl := r.Floor
	if fl != (Floor{}) {
		b.rs.floorIdx = slices.IndexFunc(r.Indicators, func(ind Indicator) bool { return ind.ID == fl.Indicator })
		if b.rs.below != nil {
			b.rs.below.floorIdx = slices.IndexFunc(r.BelowScale.Indicators, func(ind Indicator) bool { return ind.ID == fl.Indicator })
		}
		if b.rs.floorIdx < 0 {
			b.add("$.rating.floor.indicator", "rules.unknown_indicator", catalog.Args{"Indicator": fmt.Sprintf("%q", fl.Indicator)})
		}
		if !finite(fl.Below) || fl.Below <= 0 {
			b.add("$.rating.floor.below", "rules.below_must_be_positive_number_got", catalog.Args{"Below": fl.Below})
		}
		if !bands[fl.Band] {
			b.add("$.rating.floor.band", "rules.unknown_band", catalog.Args{"Band": fmt.Sprintf("%q", fl.Band)})
		}
	} else {
		b.rs.floorIdx = -1
	}
	if r.GraceYears < 0 {
		b.add("$.rating.grace_years", "rules.grace_years_must_not_be_negative", catalog.Args{"GraceYears": r.GraceYears})
	}
	if !bands[r.GraceBand] {
		b.add("$.rating.grace_band", "rules.grace_band_is_not_one_of", catalog.Args{"GraceBand": fmt.Sprintf("%q", r.GraceBand)})
	}
	if r.RectificationDays < 1 {
		b.add("$.rating.rectification_days", "rules.rectification_days_must_be_at_least", catalog.Args{"RectificationDays": r.RectificationDays})
	}
	if r.ExitAfterDYears < 1 {
		b.add("$.rating.exit_after_d_years", "rules.exit_after_years_must_be_at", catalog.Args{"ExitAfterDYears": r.ExitAfterDYears})
	}
	b.ratingClasses(r, bands)
}

// ratingIndicators checks one method's indicators and compiles their formulas.
func (b *builder) ratingIndicators(at string, inds []Indicator, r *RatingConfig) []*formula {
	if len(inds) == 0 {
		b.add(at, "rules.indicators_list_rating_indicators", nil)
	}
	var out []*formula
	seen := map[string]bool{}
	sum := 0.0
	for i, ind := range inds {
		path := fmt.Sprintf("%s[%d]", at, i)
		b.id(path, ind.ID, seen, "indicator")
		b.names(path, ind.NameZH, ind.NameEN)
		f, err := compileFormula(ind.Formula, &firmEnv{})
		if err != nil {
			b.addErr(path+".formula", err)
		}
		out = append(out, f)
		if !finite(ind.Weight) || ind.Weight <= 0 {
			b.add(path+".weight", "rules.weight_must_be_positive_number_of", catalog.Args{"Weight": ind.Weight})
		}
		sum += ind.Weight
		if !finite(ind.Benchmark) || ind.Benchmark <= 0 {
			b.add(path+".benchmark", "rules.benchmark_must_be_positive_number_got", catalog.Args{"Benchmark": ind.Benchmark})
		}
		if ind.Better != "higher" && ind.Better != "lower" {
			b.add(path+".better", "rules.better_must_be_higher_or_lower", catalog.Args{"Better": fmt.Sprintf("%q", ind.Better)})
		}
		for k, d := range ind.Data {
			if _, ok := firmEnvIndex[d]; !ok {
				b.add(fmt.Sprintf("%s.data[%d]", path, k), "rules.unknown_annual_figure_one_of", catalog.Args{"D": fmt.Sprintf("%q", d), "Arg2": strings.Join(firmFieldNames(), ", ")})
			}
		}
		switch ind.Missing {
		case "", MissingAverage, MissingZero:
		case MissingNotRated:
			if r.NotRatedClass == "" {
				b.add(path+".missing", "rules.missing_not_rated_needs_rating_not", nil)
			}
		default:
			b.add(path+".missing", "rules.missing_must_be_average_zero_or", catalog.Args{"Missing": fmt.Sprintf("%q", ind.Missing)})
		}
		if len(ind.Data) > 0 && ind.Missing == "" {
			b.add(path+".missing", "rules.say_what_indicator_without_its_data", nil)
		}
	}
	if len(inds) > 0 && !sumIs(sum, 100) {
		b.add(at, "rules.indicator_weights_sum_to_want_100", catalog.Args{"Sum": fmtNum(sum)})
	}
	return out
}

// bottomBand checks a band counted from the bottom (bottom_percent, with an
// optional minimum number of firms).
func (b *builder) bottomBand(path string, band Band, last bool, r *RatingConfig) {
	switch {
	case !last:
		b.add(path+".bottom_percent", "rules.only_last_band_can_be_counted", nil)
	case r.BandRounding != RoundingHalfUp:
		b.add(path+".bottom_percent", "rules.band_counted_from_bottom_needs_band", nil)
	case len(r.Bands) < 3:
		b.add(path+".bottom_percent", "rules.bottom_band_needs_at_least_one", nil)
	case band.UptoPercent != 0:
		b.add(path+".upto_percent", "rules.bottom_band_has_bottom_percent_not", nil)
	case !finite(band.BottomPercent) || band.BottomPercent <= 0 || band.BottomPercent >= 100:
		b.add(path+".bottom_percent", "rules.bottom_percent_must_be_within_0", catalog.Args{"BottomPercent": band.BottomPercent})
	case band.MinFirms < 0 || band.MinFirmsFrom < 0:
		b.add(path+".min_firms", "rules.min_firms_and_min_firms_from", nil)
	case band.MinFirmsFrom > 0 && band.MinFirms == 0:
		b.add(path+".min_firms", "rules.min_firms_from_needs_min_firms", nil)
	}
}

// ratingClasses checks the rounding convention, the not-rated class, what a
// firm without figures gets, the class measures and the R&D support flag.
func (b *builder) ratingClasses(r *RatingConfig, bands map[string]bool) {
	switch r.BandRounding {
	case "", RoundingCeil, RoundingHalfUp:
	default:
		b.add("$.rating.band_rounding", "rules.band_rounding_must_be_half_up", catalog.Args{"BandRounding": fmt.Sprintf("%q", r.BandRounding)})
	}
	if r.NotRatedClass != "" && r.NotRatedClass != NotRatedClassName {
		b.add("$.rating.not_rated_class", "rules.not_rated_class_is_named_dashboard", catalog.Args{"NotRatedClassName": NotRatedClassName, "NotRatedClass": fmt.Sprintf("%q", r.NotRatedClass)})
	}
	if r.NotFiled != "" && !bands[r.NotFiled] && (r.NotFiled != r.NotRatedClass || r.NotRatedClass == "") {
		b.add("$.rating.not_filed", "rules.not_filed_is_neither_band_nor", catalog.Args{"NotFiled": fmt.Sprintf("%q", r.NotFiled)})
	}
	seen := map[string]bool{}
	for i, c := range r.Classes {
		path := fmt.Sprintf("$.rating.classes[%d]", i)
		switch {
		case !bands[c.Class] && (c.Class != r.NotRatedClass || c.Class == ""):
			b.add(path+".class", "rules.class_is_neither_band_nor_not", catalog.Args{"Class": fmt.Sprintf("%q", c.Class)})
		case seen[c.Class]:
			b.add(path+".class", "rules.duplicate_class", catalog.Args{"Class": fmt.Sprintf("%q", c.Class)})
		}
		seen[c.Class] = true
		b.names(path, c.NameZH, c.NameEN)
		if len(c.MeasuresZH) != len(c.MeasuresEN) {
			b.add(path+".measures_en", "rules.list_as_many_measures_in_english", catalog.Args{"MeasuresEN": len(c.MeasuresEN), "MeasuresZH": len(c.MeasuresZH)})
		}
	}
	if r.PublicityDays < 0 || r.PublicityDays > 60 {
		b.add("$.rating.publicity_days", "rules.publicity_days_must_be_within_0", catalog.Args{"PublicityDays": r.PublicityDays})
	}
	if s := r.RDSupport; s != nil {
		if !finite(s.AtLeast) || s.AtLeast <= 0 || s.AtLeast > 100 {
			b.add("$.rating.rd_support.at_least", "rules.at_least_is_r_intensity_in", catalog.Args{"AtLeast": s.AtLeast})
		}
		if strings.TrimSpace(s.MeasureZH) == "" || strings.TrimSpace(s.MeasureEN) == "" {
			b.add("$.rating.rd_support.measure_zh", "rules.measure_zh_and_measure_en_say", nil)
		}
	}
}

func (b *builder) buildTracking() {
	t := b.spec.Tracking
	for _, f := range []struct {
		name string
		v    int
	}{{"start_within_months", t.StartWithinMonths}, {"construction_months", t.ConstructionMonths}, {"full_production_months", t.FullProductionMonths}} {
		if f.v < 1 {
			b.add("$.tracking."+f.name, "rules.must_be_at_least_1_got", catalog.Args{"Name": f.name, "V": f.v})
		}
	}
	if t.FullProductionMonths > 0 && t.FullProductionMonths < t.StartWithinMonths {
		b.add("$.tracking.full_production_months", "rules.full_production_months_after_land_delivery", catalog.Args{"FullProductionMonths": t.FullProductionMonths, "StartWithinMonths": t.StartWithinMonths})
	}
	if t.ReviewTolerance < 0 || t.ReviewTolerance >= 100 || math.IsNaN(t.ReviewTolerance) {
		b.add("$.tracking.review_tolerance", "rules.review_tolerance_is_percentage_from_0", catalog.Args{"ReviewTolerance": t.ReviewTolerance})
	}
	if t.EscalationGraceDays < 0 {
		b.add("$.tracking.escalation_grace_days", "rules.escalation_grace_days_must_not_be", catalog.Args{"EscalationGraceDays": t.EscalationGraceDays})
	}
	prev := 0
	for i, y := range t.IdleLandYears {
		if y <= prev {
			b.add(fmt.Sprintf("$.tracking.idle_land_years[%d]", i), "rules.idle_land_years_must_be_positive", catalog.Args{"Y": y, "Prev": prev})
		}
		prev = y
	}
}

func (b *builder) buildCalendar() {
	for _, k := range slices.Sorted(maps.Keys(b.spec.Deadlines)) {
		path := "$.deadlines." + keySegment(k)
		if !slices.Contains(DeadlineStates, k) {
			b.add(path, "rules.unknown_state_one_of", catalog.Args{"K": fmt.Sprintf("%q", k), "DeadlineStates": strings.Join(DeadlineStates, ", ")})
		}
		if d := b.spec.Deadlines[k]; d < 0 {
			b.add(path, "rules.working_days_must_not_be_negative", catalog.Args{"D": d})
		}
	}
	seen := map[string]string{}
	for _, list := range []struct {
		name  string
		dates []string
	}{{"holidays", b.spec.Holidays}, {"workdays", b.spec.Workdays}} {
		for i, d := range list.dates {
			path := fmt.Sprintf("$.%s[%d]", list.name, i)
			t, err := time.Parse(time.DateOnly, d)
			switch {
			case err != nil || t.Format(time.DateOnly) != d:
				b.add(path, "rules.is_not_date_like_2026_10", catalog.Args{"D": fmt.Sprintf("%q", d)})
			case seen[d] != "":
				b.add(path, "rules.is_listed_twice_already_under", catalog.Args{"D": d, "Seen": seen[d]})
			case list.name == "workdays" && t.Weekday() != time.Saturday && t.Weekday() != time.Sunday:
				b.add(path, "rules.is_make_up_working_day_is", catalog.Args{"D": d, "Weekday": t.Weekday()})
			}
			if seen[d] == "" {
				seen[d] = list.name
			}
		}
	}
}

// precise refuses a threshold with more decimals than the rule set's
// precision: metrics are rounded to precision before they are compared, so
// such a threshold could never be met exactly and would be shown rounded,
// i.e. not as the number the verdict used.
func (b *builder) precise(path string, v float64) {
	if !finite(v) || b.spec.Precision == nil {
		return
	}
	if d := decimal.NewFromFloat(v); d.Exponent() < -int32(b.rs.precision) {
		b.add(path, "rules.has_more_decimals_than_precision_metrics", catalog.Args{"V": fmtNum(v), "Precision": b.rs.precision, "Precision2": b.rs.precision})
	}
}

// metricRefs lists the figures metric i reads (none for an unknown metric).
func (b *builder) metricRefs(i int) []string {
	if i < 0 || b.rs.metrics[i].formula == nil {
		return nil
	}
	return slices.Clone(b.rs.metrics[i].formula.refs)
}

func compactRefs(refs []string) []string {
	var out []string
	for _, r := range refs {
		if r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// Figure modes: how a blank figure counts (RuleSet.figureMode).
const (
	figureRequired = "required"
	figureLand     = "land"
)

// defaultLand are the figures an older file without figures: treats as
// land-based: required unless the project rents a standard plant.
var defaultLand = []string{"land_area", "floor_area", "building_coverage", "office_share", "green_ratio", "land_grade", "land_price"}

// buildFigures reads figures: and checks that every figure a check reads is
// declared exactly once, that the industry code and every veto's yes/no
// declaration are required (an unanswered declaration must block submit),
// and that optional figures say what a blank means.
func (b *builder) buildFigures() {
	b.rs.figureMode = map[string]string{}
	used := map[string]bool{}
	vetoFlags := map[string]bool{}
	requireFlags := map[string]bool{}
	for _, c := range b.rs.checks {
		for _, r := range c.refs {
			used[r] = true
		}
		if c.kind == kindVeto {
			vetoFlags[c.flag] = true
		}
		if c.kind == kindRequires {
			requireFlags[c.flag] = true
		}
	}
	fs := b.spec.Figures
	if fs == nil {
		for name := range used {
			switch {
			case slices.Contains(defaultLand, name):
				b.rs.figureMode[name] = figureLand
			case requireFlags[name] && !vetoFlags[name]:
				b.rs.figureMode[name] = BlankFail
			default:
				b.rs.figureMode[name] = figureRequired
			}
		}
		b.markLand()
		return
	}
	known := func(name string) bool { return name == "industry_code" || figureByName[name] != nil }
	declare := func(path, name, mode string) {
		switch {
		case !known(name):
			b.add(path, "rules.unknown_figure_one_of_industry_code", catalog.Args{"Name": fmt.Sprintf("%q", name), "Arg2": strings.Join(FigureNames(), ", ")})
		case b.rs.figureMode[name] != "":
			b.add(path, "rules.figure_is_declared_twice", catalog.Args{"Name": name})
		default:
			b.rs.figureMode[name] = mode
		}
	}
	for i, name := range fs.Required {
		declare(fmt.Sprintf("$.figures.required[%d]", i), name, figureRequired)
	}
	for i, name := range fs.Land {
		declare(fmt.Sprintf("$.figures.land[%d]", i), name, figureLand)
	}
	for _, name := range slices.Sorted(maps.Keys(fs.Optional)) {
		mode := fs.Optional[name]
		path := "$.figures.optional." + keySegment(name)
		if mode != BlankNotApplicable && mode != BlankFail {
			b.add(path, "rules.what_blank_means_must_be_or", catalog.Args{"Name": name, "BlankNotApplicable": BlankNotApplicable, "BlankFail": BlankFail, "Mode": fmt.Sprintf("%q", mode)})
		}
		declare(path, name, mode)
	}
	if m := b.rs.figureMode["industry_code"]; used["industry_code"] || m != "" {
		if m != figureRequired {
			b.add("$.figures.required", "rules.industry_code_must_be_required_screening", nil)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(vetoFlags)) {
		if m := b.rs.figureMode[name]; m != "" && m != figureRequired {
			b.add("$.figures.required", "rules.is_veto_declaration_and_must_be", catalog.Args{"Name": name})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(used)) {
		if b.rs.figureMode[name] == "" {
			b.add("$.figures", "rules.figure_is_read_by_check_declare", catalog.Args{"Name": name})
		}
	}
	b.markLand()
}

// markLand marks the checks that read a land figure.
func (b *builder) markLand() {
	for i := range b.rs.checks {
		for _, r := range b.rs.checks[i].refs {
			if b.rs.figureMode[r] == figureLand {
				b.rs.checks[i].land = true
			}
		}
	}
}

// thresholdDecimals is the most decimals any number of the checks is written with.
func thresholdDecimals(checks []checkSpec) int {
	most := 0
	see := func(v any) {
		if x, ok := number(v); ok {
			most = max(most, int(-decimal.NewFromFloat(x).Exponent()))
		}
		if m, ok := v.(map[string]any); ok {
			for _, e := range m {
				if x, ok := number(e); ok {
					most = max(most, int(-decimal.NewFromFloat(x).Exponent()))
				}
			}
		}
	}
	for _, c := range checks {
		see(c.Value)
		if c.When != nil {
			see(c.When.Value)
		}
		for _, w := range c.WhenAny {
			see(w.Value)
		}
		for _, r := range c.Table {
			see(r.Upto)
			see(r.Value)
		}
		for _, t := range c.Tiers {
			see(t.Below)
		}
	}
	return most
}
