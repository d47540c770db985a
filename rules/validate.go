package rules

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/shopspring/decimal"
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

// add records a problem at a YAML path such as "$.checks[3].value"; rule,
// field and position are derived from the path.
func (b *builder) add(path, format string, args ...any) {
	rule, field := describe(b.ast, path)
	p := Problem{Rule: rule, Field: field, Message: fmt.Sprintf(format, args...)}
	p.Line, p.Column = position(b.ast, path)
	b.problems = append(b.problems, p)
}

func (b *builder) names(path, zh, en string) {
	if strings.TrimSpace(zh) == "" {
		b.add(path+".name_zh", "name_zh (Chinese name) is required")
	}
	if strings.TrimSpace(en) == "" {
		b.add(path+".name_en", "name_en (English name) is required")
	}
}

func (b *builder) id(path, id string, seen map[string]bool, what string) {
	switch {
	case id == "":
		b.add(path+".id", "id is required")
	case !idPattern.MatchString(id):
		b.add(path+".id", "id %q must be lower-case letters, digits and _ starting with a letter", id)
	case seen[id]:
		b.add(path+".id", "duplicate %s id %q", what, id)
	}
	seen[id] = true
}

// build validates everything and, when there is no problem, returns the
// compiled rule set.
func (b *builder) build() *RuleSet {
	s := b.spec
	b.rs = &RuleSet{spec: s}
	if !parkPattern.MatchString(s.Park) {
		b.add("$.park", "park id %q must be lower-case letters, digits, - and _ starting with a letter", s.Park)
	}
	b.names("$", s.NameZH, s.NameEN)
	if !slices.Contains(Levels, s.Level) {
		b.add("$.level", "level %q must be one of %s", s.Level, strings.Join(Levels, ", "))
	}
	b.rs.precision = 2
	if s.Precision != nil {
		if *s.Precision < 0 || *s.Precision > 6 {
			b.add("$.precision", "precision is the number of decimals metrics are rounded to, 0–6, got %d", *s.Precision)
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
		b.add("$.industry_catalogue", "industry_catalogue %q: codes are checked against %s; say so or leave it out", s.Catalogue, IndustryCatalogue)
	}
	b.buildSectors()
	b.buildMetrics()
	b.buildChecks()
	b.buildFigures()
	b.buildScoring()
	b.buildRating()
	b.buildTracking()
	b.buildTargets()
	b.buildCalendar()
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
			b.add(path+".codes", "codes: list at least one GB/T 4754 code prefix, e.g. C39")
		}
		for j, code := range sec.Codes {
			cp := fmt.Sprintf("%s.codes[%d]", path, j)
			switch {
			case !codePrefix.MatchString(code):
				b.add(cp, "%q is not a GB/T 4754 code prefix (a letter A–T and up to 4 digits, e.g. C39 or C3985)", code)
			case owner[code] != "":
				b.add(cp, "code %s is already listed under sector %s", code, owner[code])
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
			b.add(path+".formula", "%v", err)
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
		b.add(path, "metric is required")
		return -1
	}
	i, ok := b.metricIdx[id]
	if !ok {
		b.add(path, "unknown metric %q (define it under metrics:)", id)
		return -1
	}
	b.rs.metrics[i].used = true
	return i
}

func (b *builder) opRef(path, s string) op {
	o, ok := parseOp(s)
	if !ok {
		b.add(path, "op %q must be one of >=, >, <=, < (or ≥, ≤)", s)
	}
	return o
}

func (b *builder) flagRef(path, name string) string {
	if !flagFigures[name] {
		b.add(path, "unknown yes/no figure %q (one of %s)", name, strings.Join(sortedKeys(flagFigures), ", "))
	}
	return name
}

// numberAt validates a number-valued field decoded as any and rewrites it
// as float64, so 300 and 300.0 have the same canonical form.
func (b *builder) numberAt(path string, v *any) float64 {
	x, ok := number(*v)
	if !ok {
		b.add(path, "must be a number, got %s", describeValue(*v))
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
		b.add("$.checks", "checks: list at least one check")
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
			b.add(path+".severity", "severity is required (hard or soft)")
		default:
			b.add(path+".severity", "unknown severity %q (hard or soft)", c.Severity)
		}
		allowed, ok := kindFields[c.Kind]
		if !ok {
			b.add(path+".kind", "unknown kind %q (one of veto, industry_veto, threshold, requires, bracket, tier)", c.Kind)
		} else {
			set := map[string]bool{"flag": c.Flag != "", "codes": c.Codes != nil, "metric": c.Metric != "",
				"op": c.Op != "", "value": c.Value != nil, "when": c.When != nil, "require": c.Require != "",
				"by": c.By != "", "table": c.Table != nil, "tiers": c.Tiers != nil, "veto": c.Veto != nil, "when_any": c.WhenAny != nil}
			for _, name := range sortedKeys(set) {
				if set[name] && !slices.Contains(allowed, name) {
					b.add(path+"."+name, "field %s is not used by kind %s", name, c.Kind)
				}
			}
		}
		switch {
		case c.Kind == kindVeto || c.Kind == kindIndustryVeto:
			// A yes/no veto is a veto by nature; an older file that does not
			// say so keeps its meaning (and its version hash).
			ck.veto = true
			if c.Veto != nil && !*c.Veto {
				b.add(path+".veto", "a %s check is a veto (一票否决) and cannot say veto: false", c.Kind)
			}
		case c.Veto != nil && *c.Veto:
			ck.veto = true
		}
		if ck.veto && c.Severity == string(Soft) {
			b.add(path+".severity", "a veto (一票否决) must be severity hard")
		}
		switch c.Kind {
		case kindVeto:
			ck.flag = b.flagRef(path+".flag", c.Flag)
			ck.refs = []string{ck.flag}
			ck.threshold = "= 0"
		case kindIndustryVeto:
			if len(c.Codes) == 0 {
				b.add(path+".codes", "codes: list at least one GB/T 4754 code prefix")
			}
			for j, code := range c.Codes {
				cp := fmt.Sprintf("%s.codes[%d]", path, j)
				if !codePrefix.MatchString(code) {
					b.add(cp, "%q is not a GB/T 4754 code prefix (a letter A–T and up to 4 digits)", code)
					continue
				}
				for _, p := range b.rs.prefixes {
					if strings.HasPrefix(p.code, code) || strings.HasPrefix(code, p.code) {
						b.add(cp, "code %s overlaps leading sector %s (%s): an industry cannot be both led and vetoed",
							code, b.spec.Leading[p.sector].ID, p.code)
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
				b.add(path+".when_any", "give when or when_any, not both")
			case c.When != nil:
				conds = []at{{path + ".when", c.When}}
			case len(c.WhenAny) > 0:
				for j := range c.WhenAny {
					conds = append(conds, at{fmt.Sprintf("%s.when_any[%d]", path, j), &c.WhenAny[j]})
				}
			default:
				b.add(path+".when", "when is required: {metric, op, value} (or when_any: a list of them)")
			}
			var texts []string
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
				}
			}
			ck.flag = b.flagRef(path+".require", c.Require)
			ck.refs = append(ck.refs, ck.flag)
			if len(ck.conds) > 0 {
				ck.metric = ck.conds[0].metric
			}
			need := c.Require
			if l, ok := figureLabels[c.Require]; ok {
				need = l.zh
			}
			ck.threshold = strings.Join(texts, " 或 ") + " ⇒ " + need
		case kindBracket:
			ck.metric = b.metricRef(path+".metric", c.Metric)
			ck.op = b.opRef(path+".op", c.Op)
			ck.by = b.metricRef(path+".by", c.By)
			b.bracketTable(path, c, &ck)
			ck.refs = append(b.metricRefs(ck.metric), b.metricRefs(ck.by)...)
		case kindTier:
			if tiers++; tiers == 2 {
				b.add(path+".kind", "only one tier check is allowed: the report carries one tier")
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
			b.add(path, "value is required: a number, or {leading: n, other: n}")
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
			b.add(path+"."+keySegment(k), "unknown industry class %q (leading or other)", k)
		}
	}
	for _, k := range []string{"leading", "other"} {
		v, ok := m[k]
		if !ok {
			b.add(path+"."+k, "value.%s is required when the threshold depends on the industry class", k)
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
		b.add(path+".table", "table: list at least one row {upto, value}; the last row has no upto")
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
			b.add(rp+".upto", "the last row must have no upto: it catches everything above the previous row")
		case !last && r.open:
			b.add(rp+".upto", "upto is required on every row but the last")
		case !r.open:
			r.upto = b.numberAt(rp+".upto", &row.Upto)
			b.precise(rp+".upto", r.upto)
			if r.upto <= prev {
				b.add(rp+".upto", "upto %s must be greater than the previous row's %s", fmtNum(r.upto), fmtNum(prev))
			}
			prev = r.upto
		}
		ck.table = append(ck.table, r)
	}
}

func (b *builder) tierTable(path string, c *checkSpec, ck *check) {
	if len(c.Tiers) < 2 {
		b.add(path+".tiers", "tiers: list at least two tiers {id, name_zh, name_en, below, pass}; the last has no below")
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
			b.add(tp+".below", "the last tier must have no below: it catches everything above the previous tier")
		case !last && t.open:
			b.add(tp+".below", "below is required on every tier but the last")
		case !t.open:
			t.below = b.numberAt(tp+".below", &ts.Below)
			b.precise(tp+".below", t.below)
			if t.below <= prev {
				b.add(tp+".below", "below %s must be greater than the previous tier's %s", fmtNum(t.below), fmtNum(prev))
			}
			prev = t.below
		}
		if passing && !t.pass {
			b.add(tp+".pass", "a tier above a passing tier must pass too: more investment never fails where less passes")
		}
		if t.pass && !passing && j > 0 {
			ck.threshold = "≥ " + b.rs.showNum(ck.tiers[j-1].below)
		}
		passing = passing || t.pass
		ck.tiers = append(ck.tiers, t)
	}
	if !passing {
		b.add(path+".tiers", "at least one tier must pass")
	}
	if ck.threshold == "" {
		ck.threshold = "—"
	}
}

func (b *builder) buildScoring() {
	sc := &b.spec.Scoring
	if len(sc.Criteria) == 0 {
		b.add("$.scoring.criteria", "criteria: list the scoring sheet's criteria")
	}
	seen := map[string]bool{}
	sum := 0.0
	for i, c := range sc.Criteria {
		path := fmt.Sprintf("$.scoring.criteria[%d]", i)
		b.id(path, c.ID, seen, "criterion")
		b.names(path, c.NameZH, c.NameEN)
		if !finite(c.Max) || c.Max <= 0 {
			b.add(path+".max", "max must be a positive number of points, got %v", c.Max)
		}
		sum += c.Max
	}
	if len(sc.Criteria) > 0 && !sumIs(sum, 100) {
		b.add("$.scoring.criteria", "criteria weights (max) sum to %s, want 100", fmtNum(sum))
	}
	if !finite(sc.PassMark) || sc.PassMark <= 0 || sc.PassMark > 100 {
		b.add("$.scoring.pass_mark", "pass_mark must be within (0, 100], got %v", sc.PassMark)
	}
	if sc.Quorum < 1 {
		b.add("$.scoring.quorum", "quorum must be at least 1, got %d", sc.Quorum)
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
		b.add("$.rating.cap", "cap is a multiple of an indicator's weight and must be at least 1, got %v", r.Cap)
	}
	if len(r.Bands) < 2 {
		b.add("$.rating.bands", "bands: list at least two bands, best first, the last without upto_percent")
	}
	bands := map[string]bool{}
	prev := 0.0
	for i, band := range r.Bands {
		path := fmt.Sprintf("$.rating.bands[%d]", i)
		switch {
		case strings.TrimSpace(band.Band) == "":
			b.add(path+".band", "band name is required")
		case bands[band.Band]:
			b.add(path+".band", "duplicate band %q", band.Band)
		case i >= len(BandNames):
			b.add(path+".band", "at most %d bands, named %s", len(BandNames), strings.Join(BandNames, ", "))
		case band.Band != BandNames[i]:
			b.add(path+".band", "bands are named %s in that order, best first (the dashboard, the exports and the log list them by these names): band %d must be %q, got %q",
				strings.Join(BandNames, ", "), i+1, BandNames[i], band.Band)
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
				b.add(path+".upto_percent", "the band before a bottom band takes the rest: leave upto_percent out, got %s", fmtNum(p))
			}
			continue
		}
		switch {
		case !finite(p):
			b.add(path+".upto_percent", "upto_percent must be a number, got %v", p)
		case last && p != 0 && p != 100:
			b.add(path+".upto_percent", "the last band takes the rest: leave upto_percent out (or 100), got %s", fmtNum(p))
		case !last && (p <= prev || p >= 100):
			b.add(path+".upto_percent", "upto_percent %s must be above the previous band's %s and below 100 (cumulative share of firms by rank)", fmtNum(p), fmtNum(prev))
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
			b.add("$.rating.floor.indicator", "unknown indicator %q", fl.Indicator)
		}
		if !finite(fl.Below) || fl.Below <= 0 {
			b.add("$.rating.floor.below", "below must be a positive number, got %v", fl.Below)
		}
		if !bands[fl.Band] {
			b.add("$.rating.floor.band", "unknown band %q", fl.Band)
		}
	} else {
		b.rs.floorIdx = -1
	}
	if r.GraceYears < 0 {
		b.add("$.rating.grace_years", "grace_years must not be negative, got %d", r.GraceYears)
	}
	if !bands[r.GraceBand] {
		b.add("$.rating.grace_band", "grace_band %q is not one of the bands", r.GraceBand)
	}
	if r.RectificationDays < 1 {
		b.add("$.rating.rectification_days", "rectification_days must be at least 1, got %d", r.RectificationDays)
	}
	if r.ExitAfterDYears < 1 {
		b.add("$.rating.exit_after_d_years", "exit_after_d_years must be at least 1, got %d", r.ExitAfterDYears)
	}
	b.ratingClasses(r, bands)
}

// ratingIndicators checks one method's indicators and compiles their formulas.
func (b *builder) ratingIndicators(at string, inds []Indicator, r *RatingConfig) []*formula {
	if len(inds) == 0 {
		b.add(at, "indicators: list the rating's indicators")
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
			b.add(path+".formula", "%v", err)
		}
		out = append(out, f)
		if !finite(ind.Weight) || ind.Weight <= 0 {
			b.add(path+".weight", "weight must be a positive number of points, got %v", ind.Weight)
		}
		sum += ind.Weight
		if !finite(ind.Benchmark) || ind.Benchmark <= 0 {
			b.add(path+".benchmark", "benchmark must be a positive number, got %v", ind.Benchmark)
		}
		if ind.Better != "higher" && ind.Better != "lower" {
			b.add(path+".better", "better must be higher or lower, got %q", ind.Better)
		}
		for k, d := range ind.Data {
			if _, ok := firmEnvIndex[d]; !ok {
				b.add(fmt.Sprintf("%s.data[%d]", path, k), "unknown annual figure %q (one of %s)", d, strings.Join(firmFieldNames(), ", "))
			}
		}
		switch ind.Missing {
		case "", MissingAverage, MissingZero:
		case MissingNotRated:
			if r.NotRatedClass == "" {
				b.add(path+".missing", "missing: not_rated needs rating.not_rated_class (e.g. T)")
			}
		default:
			b.add(path+".missing", "missing must be average, zero or not_rated, got %q", ind.Missing)
		}
		if len(ind.Data) > 0 && ind.Missing == "" {
			b.add(path+".missing", "say what an indicator without its data scores: missing: average, zero or not_rated")
		}
	}
	if len(inds) > 0 && !sumIs(sum, 100) {
		b.add(at, "indicator weights sum to %s, want 100", fmtNum(sum))
	}
	return out
}

// bottomBand checks a band counted from the bottom (bottom_percent, with an
// optional minimum number of firms).
func (b *builder) bottomBand(path string, band Band, last bool, r *RatingConfig) {
	switch {
	case !last:
		b.add(path+".bottom_percent", "only the last band can be counted from the bottom")
	case r.BandRounding != RoundingHalfUp:
		b.add(path+".bottom_percent", "a band counted from the bottom needs band_rounding: half_up")
	case len(r.Bands) < 3:
		b.add(path+".bottom_percent", "a bottom band needs at least one band above the band that takes the rest")
	case band.UptoPercent != 0:
		b.add(path+".upto_percent", "a bottom band has bottom_percent, not upto_percent")
	case !finite(band.BottomPercent) || band.BottomPercent <= 0 || band.BottomPercent >= 100:
		b.add(path+".bottom_percent", "bottom_percent must be within (0, 100), got %v", band.BottomPercent)
	case band.MinFirms < 0 || band.MinFirmsFrom < 0:
		b.add(path+".min_firms", "min_firms and min_firms_from must not be negative")
	case band.MinFirmsFrom > 0 && band.MinFirms == 0:
		b.add(path+".min_firms", "min_firms_from needs min_firms")
	}
}

// ratingClasses checks the rounding convention, the not-rated class, what a
// firm without figures gets, the class measures and the R&D support flag.
func (b *builder) ratingClasses(r *RatingConfig, bands map[string]bool) {
	switch r.BandRounding {
	case "", RoundingCeil, RoundingHalfUp:
	default:
		b.add("$.rating.band_rounding", "band_rounding must be half_up or ceil, got %q", r.BandRounding)
	}
	if r.NotRatedClass != "" && r.NotRatedClass != NotRatedClassName {
		b.add("$.rating.not_rated_class", "the not-rated class is named %s (the dashboard, the exports and the log list it by that name), got %q", NotRatedClassName, r.NotRatedClass)
	}
	if r.NotFiled != "" && !bands[r.NotFiled] && (r.NotFiled != r.NotRatedClass || r.NotRatedClass == "") {
		b.add("$.rating.not_filed", "not_filed %q is neither a band nor the not_rated_class", r.NotFiled)
	}
	seen := map[string]bool{}
	for i, c := range r.Classes {
		path := fmt.Sprintf("$.rating.classes[%d]", i)
		switch {
		case !bands[c.Class] && (c.Class != r.NotRatedClass || c.Class == ""):
			b.add(path+".class", "class %q is neither a band nor the not_rated_class", c.Class)
		case seen[c.Class]:
			b.add(path+".class", "duplicate class %q", c.Class)
		}
		seen[c.Class] = true
		b.names(path, c.NameZH, c.NameEN)
		if len(c.MeasuresZH) != len(c.MeasuresEN) {
			b.add(path+".measures_en", "list as many measures in English (%d) as in Chinese (%d)", len(c.MeasuresEN), len(c.MeasuresZH))
		}
	}
	if r.PublicityDays < 0 || r.PublicityDays > 60 {
		b.add("$.rating.publicity_days", "publicity_days must be within 0–60 calendar days, got %d", r.PublicityDays)
	}
	if s := r.RDSupport; s != nil {
		if !finite(s.AtLeast) || s.AtLeast <= 0 || s.AtLeast > 100 {
			b.add("$.rating.rd_support.at_least", "at_least is an R&D intensity in %% within (0, 100], got %v", s.AtLeast)
		}
		if strings.TrimSpace(s.MeasureZH) == "" || strings.TrimSpace(s.MeasureEN) == "" {
			b.add("$.rating.rd_support.measure_zh", "measure_zh and measure_en say what support the firm gets")
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
			b.add("$.tracking."+f.name, "%s must be at least 1, got %d", f.name, f.v)
		}
	}
	if t.FullProductionMonths > 0 && t.FullProductionMonths < t.StartWithinMonths {
		b.add("$.tracking.full_production_months", "full production (%d months after land delivery) cannot come before the construction start deadline (%d months)", t.FullProductionMonths, t.StartWithinMonths)
	}
	if t.ReviewTolerance < 0 || t.ReviewTolerance >= 100 || math.IsNaN(t.ReviewTolerance) {
		b.add("$.tracking.review_tolerance", "review_tolerance is a percentage from 0 to below 100, got %v", t.ReviewTolerance)
	}
	if t.EscalationGraceDays < 0 {
		b.add("$.tracking.escalation_grace_days", "escalation_grace_days must not be negative, got %d", t.EscalationGraceDays)
	}
	prev := 0
	for i, y := range t.IdleLandYears {
		if y <= prev {
			b.add(fmt.Sprintf("$.tracking.idle_land_years[%d]", i), "idle land years must be positive and increasing, got %d after %d", y, prev)
		}
		prev = y
	}
}

func (b *builder) buildCalendar() {
	for _, k := range slices.Sorted(maps.Keys(b.spec.Deadlines)) {
		path := "$.deadlines." + keySegment(k)
		if !slices.Contains(DeadlineStates, k) {
			b.add(path, "unknown state %q (one of %s)", k, strings.Join(DeadlineStates, ", "))
		}
		if d := b.spec.Deadlines[k]; d < 0 {
			b.add(path, "working days must not be negative, got %d", d)
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
				b.add(path, "%q is not a date like 2026-10-01", d)
			case seen[d] != "":
				b.add(path, "%s is listed twice (already under %s)", d, seen[d])
			case list.name == "workdays" && t.Weekday() != time.Saturday && t.Weekday() != time.Sunday:
				b.add(path, "%s is a %s: a make-up working day (调休上班) is always a Saturday or Sunday", d, t.Weekday())
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
		b.add(path, "%s has more decimals than precision %d: metrics are rounded to %d decimals before they are compared", fmtNum(v), b.rs.precision, b.rs.precision)
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
			b.add(path, "unknown figure %q (one of industry_code, %s)", name, strings.Join(FigureNames(), ", "))
		case b.rs.figureMode[name] != "":
			b.add(path, "figure %s is declared twice", name)
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
			b.add(path, "what a blank %s means must be %s or %s, got %q", name, BlankNotApplicable, BlankFail, mode)
		}
		declare(path, name, mode)
	}
	if m := b.rs.figureMode["industry_code"]; used["industry_code"] || m != "" {
		if m != figureRequired {
			b.add("$.figures.required", "industry_code must be required: screening and the negative list need the 4-digit class")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(vetoFlags)) {
		if m := b.rs.figureMode[name]; m != "" && m != figureRequired {
			b.add("$.figures.required", "%s is a veto declaration and must be required: an unanswered declaration must block submit", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(used)) {
		if b.rs.figureMode[name] == "" {
			b.add("$.figures", "figure %s is read by a check: declare it under required, land or optional", name)
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
