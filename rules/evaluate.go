package rules

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/vm"
	"github.com/shopspring/decimal"

	"zonevet/rules/catalog"
)

// op is a comparison in a check.
type op uint8

const (
	opGE op = iota + 1
	opGT
	opLE
	opLT
)

func parseOp(s string) (op, bool) {
	switch strings.TrimSpace(s) {
	case ">=", "≥":
		return opGE, true
	case ">":
		return opGT, true
	case "<=", "≤":
		return opLE, true
	case "<":
		return opLT, true
	}
	return 0, false
}

// String is the symbol shown to people.
func (o op) String() string {
	switch o {
	case opGE:
		return "≥"
	case opGT:
		return ">"
	case opLE:
		return "≤"
	case opLT:
		return "<"
	}
	return "?"
}

// ascii is the symbol stored in the canonical form, so "≥" and ">=" hash alike.
func (o op) ascii() string {
	switch o {
	case opGE:
		return ">="
	case opLE:
		return "<="
	}
	return o.String()
}

// holds reports a op t, both decimals already at the rule set's precision:
// the comparison is exact, as a person comparing the printed numbers would.
func (o op) holdsDec(a, t decimal.Decimal) bool {
	c := a.Cmp(t)
	switch o {
	case opGE:
		return c >= 0
	case opGT:
		return c > 0
	case opLE:
		return c <= 0
	case opLT:
		return c < 0
	}
	return false
}

// holds reports a op t for the annual rating's floats. Values within one
// part in a billion of t count as equal to it: 0.07 × 100 is
// 7.000000000000001 in floating point. (Screening compares decimals at the
// rule set's precision instead: holdsDec.)
func (o op) holds(a, t float64) bool {
	eps := 1e-9 * math.Max(1, math.Abs(t))
	switch o {
	case opGE:
		return a >= t-eps
	case opGT:
		return a > t+eps
	case opLE:
		return a <= t+eps
	case opLT:
		return a < t-eps
	}
	return false
}

// check is one compiled check; which fields matter depends on kind.
type check struct {
	id, nameZH, nameEN string
	kind               string
	severity           Severity
	veto               bool   // 一票否决: a failure can never be overridden
	metric             int    // metric index reported (threshold, bracket, tier, requires' condition); -1 for vetoes
	flag               string // veto: the flag that must be false; requires: the flag that must be true
	codes              []string
	op                 op
	value              float64 // threshold; with byClass, the leading-industry value
	other              float64 // with byClass, the value for other industries
	byClass            bool
	conds              []cond   // requires: any one of them makes the requirement apply
	refs               []string // the figures the check reads, for blanks and land exemption
	land               bool     // reads a land figure: does not apply to a leased standard plant
	by                 int
	table              []bracket
	tiers              []tier
	threshold          string // display form when it does not depend on the figures
	thresholdEN        string // requires: its English form (shown, never stored in a report)
	texts              texts
}

type cond struct {
	metric int
	op     op
	value  float64
}

type bracket struct {
	upto  float64
	open  bool
	value float64
}

type tier struct {
	id, nameZH, nameEN string
	below              float64
	open               bool
	pass               bool
}

// industryCode is a GB/T 4754 code as a project may declare it in a draft:
// a section letter and 2–4 digits (division, group or class). Submit needs
// the 4-digit class (checkIndustryCode).
var industryCode = regexp.MustCompile(`^[A-T][0-9]{2,4}$`)

// checkFigures refuses figures no check can judge fairly (CheckFigures) and
// a missing or malformed industry code. It returns the normalised code.
func checkFigures(f *Figures) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(f.IndustryCode))
	if code == "" {
		return "", inputMsg("industry_code", "industry.required", catalog.Args{"Catalogue": IndustryCatalogue})
	}
	if err := CheckFigures(*f); err != nil {
		return "", err
	}
	return code, nil
}

// envIndex maps an env struct's expr names to field indices, for the
// error path that must say which figure made a formula blow up.
func envIndex(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		m[t.Field(i).Tag.Get("expr")] = i
	}
	return m
}

var (
	figureEnvIndex = envIndex(reflect.TypeFor[figureEnv]())
	firmEnvIndex   = envIndex(reflect.TypeFor[firmEnv]())
)

// zeroRef returns the first figure f reads that is zero in env: almost
// always the divisor that turned the result into NaN or Inf.
func zeroRef(f *formula, env any, index map[string]int) string {
	v := reflect.ValueOf(env).Elem()
	for _, name := range slices.Concat(f.divs, f.refs) {
		if i, ok := index[name]; ok && v.Field(i).Kind() == reflect.Float64 && v.Field(i).Float() == 0 {
			return name
		}
	}
	if len(f.refs) > 0 {
		return f.refs[0]
	}
	return ""
}

// Evaluate screens a project's figures against every check, in file order.
// It is pure and deterministic: the same figures and rule set always give
// the same report. Figures that cannot be judged come back as *InputError
// (see checkFigures); so does a metric that cannot be computed, such as R&D
// intensity with zero revenue — a check never passes on a NaN.
//
// A blank figure never counts as 0: a check that reads one says 未填报 and
// fails, or does not apply where the rule set declares the figure optional:
// not_applicable. For a leased standard plant the checks over land figures
// do not apply, and say so. Submit refuses blanks before screening
// (Incomplete); Evaluate still reports them honestly for previews.
func (rs *RuleSet) Evaluate(f Figures) (*Report, error) {
	code, err := checkFigures(&f)
	if err != nil {
		return nil, err
	}
	env := new(figureEnv)
	env.set(&f)
	var buf [24]decimal.Decimal
	vals := buf[:0]
	if n := len(rs.metrics); n <= len(buf) {
		vals = buf[:n]
	} else {
		vals = make([]decimal.Decimal, n)
	}
	skip := make([]bool, len(rs.metrics)) // metrics over a blank figure, or over land for a leased plant
	machine := vms.Get().(*vm.VM)
	for i := range rs.metrics {
		m := &rs.metrics[i]
		if !m.used {
			continue
		}
		for _, ref := range m.formula.refs {
			if blank(&f, ref) || f.LeasedPlant && rs.figureMode[ref] == figureLand {
				skip[i] = true
			}
		}
		if skip[i] {
			continue
		}
		v, err := m.formula.run(machine, env)
		if err != nil {
			vms.Put(machine)
			return nil, fmt.Errorf("rules: metric %s of %s: %w", m.ID, rs.spec.Park, err)
		}
		if !finite(v) {
			vms.Put(machine)
			field := zeroRef(m.formula, env, figureEnvIndex)
			if field != "" && reflect.ValueOf(env).Elem().Field(figureEnvIndex[field]).Float() == 0 {
				return nil, inputMsg(field, "metric.zero_divisor", catalog.Args{"Metric": catalog.Text{ZH: m.NameZH, EN: m.NameEN}, "Figure": figureName(field)})
			}
			return nil, inputMsg(field, "metric.not_finite", catalog.Args{"Metric": catalog.Text{ZH: m.NameZH, EN: m.NameEN}, "Figure": figureName(field)})
		}
		vals[i] = rs.decimal(v)
	}
	vms.Put(machine)

	sector := rs.classify(code)
	rep := &Report{
		Park:           rs.spec.Park,
		RuleSetVersion: rs.version,
		Checks:         make([]CheckResult, len(rs.checks)),
		Leading:        sector >= 0,
		LeasedPlant:    f.LeasedPlant,
	}
	if sector >= 0 {
		rep.LeadingSector, rep.LeadingSectorEN = rs.spec.Leading[sector].NameZH, rs.spec.Leading[sector].NameEN
	}
	for i := range rs.checks {
		c := &rs.checks[i]
		r := &rep.Checks[i]
		*r = CheckResult{ID: c.id, NameZH: c.nameZH, NameEN: c.nameEN, Severity: c.severity, Veto: c.veto, Applies: true, Threshold: c.threshold}
		if c.metric >= 0 {
			m := &rs.metrics[c.metric]
			r.Metric, r.Unit, r.UnitEN, r.Actual = m.ID, m.Unit, m.UnitEN, vals[c.metric].InexactFloat64()
		}
		switch {
		case f.LeasedPlant && c.land:
			r.Applies, r.Pass, r.Actual = false, true, 0
			c.texts.leased.fill(r)
		case !rs.evalBlanks(c, r, &f, vals):
			// the check read a blank figure and evalBlanks reported it
		default:
			switch c.kind {
			case kindVeto:
				rs.evalVeto(c, r, &f)
			case kindIndustryVeto:
				rs.evalIndustryVeto(c, r, code)
			case kindThreshold:
				rs.evalThreshold(c, r, vals[c.metric], sector >= 0)
			case kindRequires:
				rs.evalRequires(c, r, &f, vals)
			case kindBracket:
				rs.evalBracket(c, r, vals)
			case kindTier:
				rep.Tier = rs.evalTier(c, r, vals[c.metric])
				if f.LeasedPlant && !r.Pass {
					// The tiers say who may get land; a project renting a
					// standard plant asks for none, so it complies.
					r.Pass = true
					zh, en := catalog.Message{ID: "screen.leased_tier"}.Both()
					r.MessageZH, r.MessageEN = r.MessageZH+zh, r.MessageEN+en
				}
			}
		}
		if !r.Pass {
			if c.severity == Hard {
				rep.HardFailures++
				if c.veto {
					rep.VetoFailures++
				}
			} else {
				rep.SoftFailures++
			}
		}
	}
	return rep, nil
}

// evalBlanks reports a check that reads a blank figure and returns false;
// it returns true when the check can be judged on its figures. A requires
// check is judged if any condition it can compute triggers it: a blank on
// the other condition does not matter then, and a blank document flag means
// "not provided".
func (rs *RuleSet) evalBlanks(c *check, r *CheckResult, f *Figures, vals []decimal.Decimal) bool {
	var blanks []string
	for _, ref := range c.refs {
		if blank(f, ref) && !(c.kind == kindRequires && ref == c.flag) {
			blanks = append(blanks, ref)
		}
	}
	if len(blanks) == 0 {
		return true
	}
	if c.kind == kindRequires {
		for _, cd := range c.conds {
			if !rs.metricBlank(cd.metric, f) && cd.op.holdsDec(vals[cd.metric], rs.limit(cd.value)) {
				return true
			}
		}
	}
	applies := false
	names := catalog.List{}
	for _, b := range blanks {
		names.Items = append(names.Items, figureName(b))
		if rs.figureMode[b] != BlankNotApplicable {
			applies = true
		}
	}
	r.NotReported, r.Actual = true, 0
	r.Applies, r.Pass = applies, !applies
	t := &c.texts.blankNA
	if applies {
		t = &c.texts.blankFails
	}
	// The names are rendered per language, then filled into the frame's hole.
	r.MessageZH = fillIn(t.zh, []string{catalog.T(catalog.ZH, "figure.list", catalog.Args{"Names": names})})
	r.MessageEN = fillIn(t.en, []string{catalog.T(catalog.EN, "figure.list", catalog.Args{"Names": names})})
	return false
}

// metricBlank reports whether metric i reads a blank figure.
func (rs *RuleSet) metricBlank(i int, f *Figures) bool {
	for _, ref := range rs.metrics[i].formula.refs {
		if blank(f, ref) {
			return true
		}
	}
	return false
}

// decimal is x as the rule set compares and shows it: cleaned of binary
// floating-point noise at 9 decimals (0.07 × 100 = 7.000000000000001, and
// 40,000 m² ÷ (50 亩 × 2000/3) = 1.1999999999999997 are 7 and 1.2), then
// rounded half up to the rule set's precision, as published indicators are
// written. No declared figure carries 9 decimals of meaning, so the first
// step never turns a real shortfall into a pass.
func (rs *RuleSet) decimal(x float64) decimal.Decimal {
	if v, ok := roundFixed(x, rs.precision); ok {
		return decimal.New(v, -int32(rs.precision))
	}
	return decimal.NewFromFloat(x).Round(9).Round(int32(rs.precision))
}

// roundFixed is decimal's two roundings in integers, for the values a
// screening meets (|x| < 10⁹, precision ≤ 9): x's shortest decimal form
// (the digits decimal.NewFromFloat takes), rounded half away from zero at 9
// decimals and then at p, as a count of 10⁻ᵖ. It is the hot path of
// Evaluate — the library's big.Int arithmetic cost 5 × the whole screening —
// and a test holds it to the library's answer.
func roundFixed(x float64, p int) (int64, bool) {
	if p < 0 || p > 9 || !(math.Abs(x) < 1e9) {
		return 0, false
	}
	var buf [48]byte
	digits := strconv.AppendFloat(buf[:0], math.Abs(x), 'f', -1, 64)
	var n int64 // the whole part: fewer than ten digits
	i := 0
	for ; i < len(digits) && digits[i] != '.'; i++ {
		n = n*10 + int64(digits[i]-'0')
	}
	var frac []byte
	if i < len(digits) {
		frac = digits[i+1:]
	}
	const nine = 1_000_000_000
	var f9 int64 // the first nine decimals
	for i := range 9 {
		f9 *= 10
		if i < len(frac) {
			f9 += int64(frac[i] - '0')
		}
	}
	if len(frac) > 9 && frac[9] >= '5' {
		f9++
	}
	scaled := n*nine + f9 // x × 10⁹, rounded
	unit := int64(1)
	for range 9 - p {
		unit *= 10
	}
	q, r := scaled/unit, scaled%unit
	if 2*r >= unit {
		q++
	}
	if x < 0 {
		q = -q
	}
	return q, true
}

// limit is a configured value (threshold, bracket bound, condition) as a
// decimal at the rule set's precision: made once in prepare, since every
// screening compares with the same few.
func (rs *RuleSet) limit(v float64) decimal.Decimal {
	if d, ok := rs.limits[v]; ok {
		return d
	}
	return rs.decimal(v)
}

// show formats x with the rule set's precision, the way it was compared.
func (rs *RuleSet) show(x decimal.Decimal) string {
	p := rs.precision
	if x.Exponent() != -int32(p) || p > 9 {
		return x.StringFixed(int32(p))
	}
	// The usual case, from decimal(): a count of 10⁻ᵖ, written out without
	// the library's big.Int formatting (a tenth of a screening's cost).
	v := x.CoefficientInt64()
	var buf, dbuf [32]byte
	b := buf[:0]
	if v < 0 {
		b, v = append(b, '-'), -v
	}
	digits := strconv.AppendInt(dbuf[:0], v, 10)
	for len(digits) <= p {
		digits = append([]byte{'0'}, digits...)
	}
	b = append(b, digits[:len(digits)-p]...)
	if p > 0 {
		b = append(append(b, '.'), digits[len(digits)-p:]...)
	}
	return string(b)
}

// showKey formats the key a bracket row is looked up by (revenue, land
// grade): a whole number as such ("8 等", "20000 万元"), anything else at
// the rule set's precision. It is never a threshold, so it need not carry
// the threshold's decimals.
func (rs *RuleSet) showKey(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return rs.showNum(x)
}

// showNum formats a configured threshold with the rule set's precision, so
// the number in a message is the one the actual value was compared with.
func (rs *RuleSet) showNum(x float64) string {
	if !finite(x) {
		return fmtNum(x) // only while validation is reporting the bad number
	}
	return rs.show(rs.decimal(x))
}

// flagValue is a yes/no figure's answer; a blank is not yes.
func flagValue(f *Figures, name string) bool {
	if d := figureByName[name]; d != nil && d.flag != nil {
		p := *d.flag(f)
		return p != nil && *p
	}
	return false
}

// texts are a check's messages rendered from the catalogue once, at Parse
// time, with holes for what the figures decide (frame), so an evaluation only
// fills in the actual value and joins strings (rendering was most of its cost).
type texts struct {
	leased, blankFails, blankNA frame    // holes: the blank figures (not leased)
	veto                        [2]frame // no, yes
	industry                    [3]frame // on the list, spans it, not on it; holes: code, prefix
	// pass and fail: threshold per industry class (0 leading or the only
	// value, 1 other); bracket per row; tier per tier (pass only); requires
	// per condition (provided, missing). Holes: the value (bracket: and the
	// "by" value).
	pass, fail []frame
	none       frame    // requires: no condition triggered
	threshold  []string // display threshold per class or row
}

// frame is one message in Chinese and English with holes for run-time
// values: each language's text split at the holes, the odd parts naming
// the hole's index.
type frame struct{ zh, en []string }

// holeMark surrounds a hole's index in a rendered frame; no message or name contains it.
const holeMark = "\x00"

// hole is the placeholder argument for run-time value i of a frame.
func hole(i int) string { return holeMark + strconv.Itoa(i) + holeMark }

// newFrame renders message id in both languages with args, holes included.
func newFrame(id string, args catalog.Args) frame {
	zh, en := catalog.Message{ID: id, Args: args}.Both()
	return frame{strings.Split(zh, holeMark), strings.Split(en, holeMark)}
}

// fill sets r's messages to f with the holes filled by vals.
func (f *frame) fill(r *CheckResult, vals ...string) { r.MessageZH, r.MessageEN = f.texts(vals...) }

// texts is f in Chinese and English with the holes filled by vals.
func (f *frame) texts(vals ...string) (zh, en string) { return fillIn(f.zh, vals), fillIn(f.en, vals) }

func fillIn(parts []string, vals []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	for _, v := range vals {
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range parts {
		if i%2 == 0 {
			b.WriteString(p)
		} else {
			b.WriteString(vals[p[0]-'0'])
		}
	}
	return b.String()
}

// bothText is a name the rule set gives in both languages, as a message argument.
func bothText(zh, en string) catalog.Text { return catalog.Text{ZH: zh, EN: en} }

// unitText is a metric's unit as it follows a value (" 万元/亩"), or nothing.
func unitText(m *Metric) catalog.Text { return bothText(withUnit("", m.Unit), withUnit("", unitEN(m))) }

// withUnitText is s followed by m's unit in each language.
func withUnitText(s string, m *Metric) catalog.Text {
	return bothText(withUnit(s, m.Unit), withUnit(s, unitEN(m)))
}

// failVerb says how a value misses a limit under o: is below ≥, exceeds ≤.
func failVerb(o op) catalog.Message {
	id := map[op]string{opGE: "screen.verb.below", opGT: "screen.verb.not_above", opLE: "screen.verb.above"}[o]
	if id == "" {
		id = "screen.verb.not_below"
	}
	return catalog.Message{ID: id}
}

// boundWord names o's limit: an upper bound is a limit, a lower one a standard.
func boundWord(o op) catalog.Message {
	if o == opLE || o == opLT {
		return catalog.Message{ID: "screen.bound.limit"}
	}
	return catalog.Message{ID: "screen.bound.standard"}
}

// prepare builds the fixed message parts of every check.
func (rs *RuleSet) prepare() {
	rs.required = rs.requiredFigures()
	rs.limits = map[float64]decimal.Decimal{}
	for _, c := range rs.checks {
		vs := []float64{c.value, c.other}
		for _, cd := range c.conds {
			vs = append(vs, cd.value)
		}
		for _, b := range c.table {
			vs = append(vs, b.upto, b.value)
		}
		for _, tr := range c.tiers {
			vs = append(vs, tr.below)
		}
		for _, v := range vs {
			if finite(v) {
				rs.limits[v] = rs.decimal(v)
			}
		}
	}
	for i := range rs.checks {
		c := &rs.checks[i]
		t := &c.texts
		check := bothText(c.nameZH, c.nameEN)
		t.leased = newFrame("screen.leased_land", catalog.Args{"Check": check})
		t.blankFails = newFrame("screen.blank.fails", catalog.Args{"Figures": hole(0), "Check": check})
		t.blankNA = newFrame("screen.blank.not_applicable", catalog.Args{"Figures": hole(0), "Check": check})
		var m *Metric
		if c.metric >= 0 {
			m = &rs.metrics[c.metric].Metric
		}
		switch c.kind {
		case kindVeto:
			t.veto = [2]frame{newFrame("screen.veto.no", catalog.Args{"Check": check}), newFrame("screen.veto.yes", catalog.Args{"Check": check})}
		case kindIndustryVeto:
			for k, id := range []string{"screen.industry.on", "screen.industry.spans", "screen.industry.off"} {
				t.industry[k] = newFrame(id, catalog.Args{"Code": hole(0), "Prefix": hole(1), "Check": check})
			}
		case kindThreshold:
			values, classes := []float64{c.value}, []any{nil}
			if c.byClass {
				values, classes = []float64{c.value, c.other}, []any{catalog.Message{ID: "screen.class.leading"}, catalog.Message{ID: "screen.class.general"}}
			}
			pass, fail := "screen.threshold.pass", "screen.threshold.fail"
			if c.byClass {
				pass, fail = "screen.threshold.pass_class", "screen.threshold.fail_class"
			}
			for k, v := range values {
				args := catalog.Args{"Check": check, "Value": hole(0), "Unit": unitText(m), "Class": classes[k],
					"Op": c.op.String(), "Limit": withUnitText(rs.showNum(v), m), "Verb": failVerb(c.op), "Bound": boundWord(c.op)}
				t.pass = append(t.pass, newFrame(pass, args))
				t.fail = append(t.fail, newFrame(fail, args))
				t.threshold = append(t.threshold, c.op.String()+" "+rs.showNum(v))
			}
		case kindRequires:
			// One text per condition, "综合能耗 ≥ 1000.00 吨标准煤/年"; the
			// message names the one that triggered, or all of them when none did.
			var conds any
			for k, cd := range c.conds {
				cm := &rs.metrics[cd.metric].Metric
				cond := withUnitText(cd.op.String()+" "+rs.showNum(cd.value), cm)
				args := catalog.Args{"Metric": bothText(cm.NameZH, cm.NameEN), "Value": hole(0), "Unit": unitText(cm), "Cond": cond, "Check": check}
				t.pass = append(t.pass, newFrame("screen.requires.provided", args))
				t.fail = append(t.fail, newFrame("screen.requires.missing", args))
				named := bothText(cm.NameZH+" "+cond.ZH, cm.NameEN+" "+cond.EN)
				if k == 0 {
					conds = named
				} else {
					conds = catalog.Message{ID: "screen.requires.or", Args: catalog.Args{"A": conds, "B": named}}
				}
			}
			if len(c.conds) == 1 {
				t.none = newFrame("screen.requires.not_one", catalog.Args{"Cond": conds, "Check": check})
			} else {
				t.none = newFrame("screen.requires.not_any", catalog.Args{"Conds": conds, "Check": check})
			}
		case kindBracket:
			by := &rs.metrics[c.by].Metric
			for k, row := range c.table {
				var rowText string
				switch {
				case !row.open:
					rowText = "≤ " + rs.showKey(row.upto)
				case k > 0:
					rowText = "> " + rs.showKey(c.table[k-1].upto)
				default:
					rowText = "*"
				}
				args := catalog.Args{"Metric": bothText(m.NameZH, m.NameEN), "Value": hole(0), "Unit": unitText(m), "Check": check,
					"Op": c.op.String(), "Limit": withUnitText(rs.showNum(row.value), m), "Verb": failVerb(c.op),
					"By": bothText(by.NameZH, by.NameEN), "ByValue": hole(1), "ByUnit": unitText(by), "Row": withUnitText(rowText, by)}
				t.pass = append(t.pass, newFrame("screen.bracket.pass", args))
				t.fail = append(t.fail, newFrame("screen.bracket.fail", args))
				t.threshold = append(t.threshold, c.op.String()+" "+rs.showNum(row.value))
			}
		case kindTier:
			for k, tr := range c.tiers {
				var rangeText string
				switch {
				case k == 0:
					rangeText = "< " + rs.showNum(tr.below)
				case tr.open:
					rangeText = "≥ " + rs.showNum(c.tiers[k-1].below)
				default:
					rangeText = "≥ " + rs.showNum(c.tiers[k-1].below) + ", < " + rs.showNum(tr.below)
				}
				t.pass = append(t.pass, newFrame("screen.tier", catalog.Args{"Metric": bothText(m.NameZH, m.NameEN), "Value": hole(0),
					"Unit": unitText(m), "Tier": bothText(tr.nameZH, tr.nameEN), "Range": withUnitText(rangeText, m)}))
			}
		}
	}
}

func (rs *RuleSet) evalVeto(c *check, r *CheckResult, f *Figures) {
	r.Metric = c.flag
	k := 0
	if flagValue(f, c.flag) {
		r.Actual, k = 1, 1
	} else {
		r.Pass = true
	}
	c.texts.veto[k].fill(r)
}

func (rs *RuleSet) evalIndustryVeto(c *check, r *CheckResult, code string) {
	r.Metric = "industry_code"
	for _, p := range c.codes {
		switch {
		case strings.HasPrefix(code, p):
			r.Actual = 1
			c.texts.industry[0].fill(r, code, p)
			return
		case strings.HasPrefix(p, code):
			// A division or group code spans the listed class: it must never
			// slip past the list by being less precise than it.
			r.Actual = 1
			c.texts.industry[1].fill(r, code, p)
			return
		}
	}
	r.Pass = true
	c.texts.industry[2].fill(r, code, "")
}

func (rs *RuleSet) evalThreshold(c *check, r *CheckResult, actual decimal.Decimal, leading bool) {
	t := &c.texts
	k, v := 0, c.value
	if c.byClass && !leading {
		k, v = 1, c.other
	}
	r.Threshold = t.threshold[k]
	r.Pass = c.op.holdsDec(actual, rs.limit(v))
	if r.Pass {
		t.pass[k].fill(r, rs.show(actual))
		return
	}
	t.fail[k].fill(r, rs.show(actual))
}

func (rs *RuleSet) evalRequires(c *check, r *CheckResult, f *Figures, vals []decimal.Decimal) {
	t := &c.texts
	for k, cd := range c.conds {
		if rs.metricBlank(cd.metric, f) || !cd.op.holdsDec(vals[cd.metric], rs.limit(cd.value)) {
			continue
		}
		// The condition that triggered is the one reported.
		m := &rs.metrics[cd.metric]
		r.Metric, r.Unit, r.UnitEN, r.Actual = m.ID, m.Unit, m.UnitEN, vals[cd.metric].InexactFloat64()
		if flagValue(f, c.flag) {
			r.Pass = true
			t.pass[k].fill(r, rs.show(vals[cd.metric]))
			return
		}
		t.fail[k].fill(r, rs.show(vals[cd.metric]))
		return
	}
	r.Applies, r.Pass = false, true
	t.none.fill(r)
}

func (rs *RuleSet) evalBracket(c *check, r *CheckResult, vals []decimal.Decimal) {
	t := &c.texts
	bv := vals[c.by]
	row := len(c.table) - 1
	for i, b := range c.table {
		if !b.open && opLE.holdsDec(bv, rs.limit(b.upto)) {
			row = i
			break
		}
	}
	r.Threshold = t.threshold[row]
	r.Pass = c.op.holdsDec(vals[c.metric], rs.limit(c.table[row].value))
	a, b := rs.show(vals[c.metric]), rs.showKey(bv.InexactFloat64())
	if r.Pass {
		t.pass[row].fill(r, a, b)
		return
	}
	t.fail[row].fill(r, a, b)
}

func (rs *RuleSet) evalTier(c *check, r *CheckResult, actual decimal.Decimal) string {
	i := len(c.tiers) - 1
	for j, t := range c.tiers {
		if !t.open && opLT.holdsDec(actual, rs.limit(t.below)) {
			i = j
			break
		}
	}
	r.Pass = c.tiers[i].pass
	c.texts.pass[i].fill(r, rs.show(actual))
	return c.tiers[i].id
}

func unitEN(m *Metric) string {
	if m.UnitEN != "" {
		return m.UnitEN
	}
	return m.Unit
}

func withUnit(s, unit string) string {
	if unit == "" {
		return s
	}
	return s + " " + unit
}

// fmtNum shows a configured number as written: 300, 1.5, 666.67.
func fmtNum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// fmt2 shows a computed number with two decimals, as the zone's forms do.
func fmt2(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

// round rounds x to n decimals, half away from zero.
func round(x float64, n int) float64 {
	p := math.Pow10(n)
	return math.Round(x*p) / p
}
