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
			r.MessageZH = "租赁标准厂房,无自有用地:“" + c.nameZH + "”为用地指标,不适用"
			r.MessageEN = "leased standard plant with no land of its own: “" + c.nameEN + "” is a land indicator and does not apply"
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
					r.MessageZH += ";项目租赁标准厂房,符合"
					r.MessageEN += "; the project rents a standard plant, which complies"
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
	var zh, en []string
	for _, b := range blanks {
		w := figureWords()[b]
		zh, en = append(zh, w[0]), append(en, w[1])
		if rs.figureMode[b] != BlankNotApplicable {
			applies = true
		}
	}
	r.NotReported, r.Actual = true, 0
	r.Applies, r.Pass = applies, !applies
	if applies {
		r.MessageZH = strings.Join(zh, "、") + "未填报,无法判断“" + c.nameZH + "”,按不符合处理"
		r.MessageEN = strings.Join(en, ", ") + " not reported: “" + c.nameEN + "” cannot be judged and counts as not met"
		return false
	}
	r.MessageZH = strings.Join(zh, "、") + "未填报,依规则集“" + c.nameZH + "”不适用"
	r.MessageEN = strings.Join(en, ", ") + " not reported: under the rule set “" + c.nameEN + "” does not apply"
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

// texts are the parts of a check's messages that do not depend on the
// figures, built once at Parse time so that an evaluation only formats the
// actual value and joins strings (the messages were most of its cost).
type texts struct {
	zh, en [2]string // veto: [pass, fail]; threshold: prefix before the value
	unit   [2]string // " 万元/亩", " 10k CNY/mu" or ""
	// pass and fail suffixes; threshold: per industry class (0 leading or
	// the only value, 1 other); bracket: per row; tier: per tier (pass only).
	passZH, passEN, failZH, failEN []string
	threshold                      []string // display threshold per class or row
}

// prepare builds the fixed message parts of every check.
func (rs *RuleSet) prepare() {
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
		var m *Metric
		if c.metric >= 0 {
			m = &rs.metrics[c.metric].Metric
			t.unit = [2]string{withUnit("", m.Unit), withUnit("", unitEN(m))}
		}
		switch c.kind {
		case kindVeto:
			t.zh = [2]string{c.nameZH + ":否", c.nameZH + ":是,一票否决"}
			t.en = [2]string{c.nameEN + ": no", c.nameEN + ": yes — veto"}
		case kindThreshold:
			t.zh = [2]string{c.nameZH + " ", ""}
			t.en = [2]string{c.nameEN + " ", ""}
			values, classZH, classEN := []float64{c.value}, []string{""}, []string{""}
			if c.byClass {
				values, classZH, classEN = []float64{c.value, c.other}, []string{"主导产业", "一般产业"}, []string{"leading-industry ", "general "}
			}
			for k, v := range values {
				tZH, tEN := withUnit(rs.showNum(v), m.Unit), withUnit(rs.showNum(v), unitEN(m))
				t.passZH = append(t.passZH, ",符合"+classZH[k]+"标准 "+c.op.String()+" "+tZH)
				t.passEN = append(t.passEN, " meets the "+classEN[k]+"standard "+c.op.String()+" "+tEN)
				t.failZH = append(t.failZH, ","+failZH(c.op)+classZH[k]+limitZH(c.op)+" "+tZH)
				t.failEN = append(t.failEN, " "+failEN(c.op)+" the "+classEN[k]+limitEN(c.op)+" "+tEN)
				t.threshold = append(t.threshold, c.op.String()+" "+rs.showNum(v))
			}
		case kindRequires:
			// One text per condition, "综合能耗 ≥ 1000.00 吨标准煤/年"; the
			// message names the one that triggered, or all of them when none did.
			var allZH, allEN []string
			for _, cd := range c.conds {
				cm := &rs.metrics[cd.metric].Metric
				cond := cd.op.String() + " " + rs.showNum(cd.value)
				t.passZH = append(t.passZH, cm.NameZH+" ")
				t.passEN = append(t.passEN, cm.NameEN+" ")
				t.failZH = append(t.failZH, withUnit(cond, cm.Unit))
				t.failEN = append(t.failEN, withUnit(cond, unitEN(cm)))
				allZH = append(allZH, cm.NameZH+" "+withUnit(cond, cm.Unit))
				allEN = append(allEN, cm.NameEN+" "+withUnit(cond, unitEN(cm)))
			}
			t.zh = [2]string{"未达到“" + strings.Join(allZH, "”或“") + "”,无需“" + c.nameZH + "”", ""}
			t.en = [2]string{"neither " + strings.Join(allEN, " nor ") + ": “" + c.nameEN + "” not required", ""}
			if len(c.conds) == 1 {
				t.en[0] = "not " + allEN[0] + ": “" + c.nameEN + "” not required"
			}
		case kindBracket:
			by := &rs.metrics[c.by].Metric
			t.zh = [2]string{m.NameZH + " ", "(" + by.NameZH + " "}
			t.en = [2]string{m.NameEN + " ", " (" + by.NameEN + " "}
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
				tZH, tEN := withUnit(rs.showNum(row.value), m.Unit), withUnit(rs.showNum(row.value), unitEN(m))
				whyZH := withUnit("", by.Unit) + ",适用 " + withUnit(rowText, by.Unit) + " 档)"
				whyEN := withUnit("", unitEN(by)) + ", row " + withUnit(rowText, unitEN(by)) + ")"
				t.passZH = append(t.passZH, ",符合“"+c.nameZH+"” "+c.op.String()+" "+tZH+t.zh[1], whyZH)
				t.passEN = append(t.passEN, " meets “"+c.nameEN+"” "+c.op.String()+" "+tEN+t.en[1], whyEN)
				t.failZH = append(t.failZH, ","+failZH(c.op)+"“"+c.nameZH+"” "+c.op.String()+" "+tZH+t.zh[1])
				t.failEN = append(t.failEN, " "+failEN(c.op)+" “"+c.nameEN+"” "+c.op.String()+" "+tEN+t.en[1])
				t.threshold = append(t.threshold, c.op.String()+" "+rs.showNum(row.value))
			}
		case kindTier:
			t.zh = [2]string{m.NameZH + " ", ""}
			t.en = [2]string{m.NameEN + " ", ""}
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
				t.passZH = append(t.passZH, ",属“"+tr.nameZH+"”档("+withUnit(rangeText, m.Unit)+")")
				t.passEN = append(t.passEN, ": tier “"+tr.nameEN+"” ("+withUnit(rangeText, unitEN(m))+")")
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
	r.MessageZH, r.MessageEN = c.texts.zh[k], c.texts.en[k]
}

func (rs *RuleSet) evalIndustryVeto(c *check, r *CheckResult, code string) {
	r.Metric = "industry_code"
	for _, p := range c.codes {
		switch {
		case strings.HasPrefix(code, p):
			r.Actual = 1
			r.MessageZH = "行业代码 " + code + " 属于“" + c.nameZH + "”(" + p + "),一票否决"
			r.MessageEN = "industry code " + code + " is on the “" + c.nameEN + "” (" + p + ") — veto"
			return
		case strings.HasPrefix(p, code):
			// A division or group code spans the listed class: it must never
			// slip past the list by being less precise than it.
			r.Actual = 1
			r.MessageZH = "行业代码 " + code + " 涵盖“" + c.nameZH + "”所列的 " + p + ",一票否决(请填写 4 位小类代码)"
			r.MessageEN = "industry code " + code + " spans " + p + " of the “" + c.nameEN + "” — veto (give the 4-digit class)"
			return
		}
	}
	r.Pass = true
	r.MessageZH = "行业代码 " + code + " 不属于“" + c.nameZH + "”"
	r.MessageEN = "industry code " + code + " is not on the “" + c.nameEN + "”"
}

func (rs *RuleSet) evalThreshold(c *check, r *CheckResult, actual decimal.Decimal, leading bool) {
	t := &c.texts
	k, v := 0, c.value
	if c.byClass && !leading {
		k, v = 1, c.other
	}
	r.Threshold = t.threshold[k]
	r.Pass = c.op.holdsDec(actual, rs.limit(v))
	a := rs.show(actual)
	if r.Pass {
		r.MessageZH = t.zh[0] + a + t.unit[0] + t.passZH[k]
		r.MessageEN = t.en[0] + a + t.unit[1] + t.passEN[k]
		return
	}
	r.MessageZH = t.zh[0] + a + t.unit[0] + t.failZH[k]
	r.MessageEN = t.en[0] + a + t.unit[1] + t.failEN[k]
}

func failZH(o op) string {
	switch o {
	case opGE:
		return "低于"
	case opGT:
		return "未高于"
	case opLE:
		return "超过"
	}
	return "未低于"
}

func limitZH(o op) string {
	if o == opLE || o == opLT {
		return "上限"
	}
	return "标准"
}

func failEN(o op) string {
	switch o {
	case opGE:
		return "is below"
	case opGT:
		return "does not exceed"
	case opLE:
		return "exceeds"
	}
	return "is not below"
}

func limitEN(o op) string {
	if o == opLE || o == opLT {
		return "limit of"
	}
	return "standard of"
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
		actZH := t.passZH[k] + withUnit(rs.show(vals[cd.metric]), m.Unit) + "(" + t.failZH[k] + ")"
		actEN := t.passEN[k] + withUnit(rs.show(vals[cd.metric]), unitEN(&m.Metric)) + " (" + t.failEN[k] + ")"
		if flagValue(f, c.flag) {
			r.Pass = true
			r.MessageZH = actZH + ",已具备“" + c.nameZH + "”"
			r.MessageEN = actEN + ": “" + c.nameEN + "” provided"
			return
		}
		r.MessageZH = actZH + ",须具备“" + c.nameZH + "”,但尚未提供"
		r.MessageEN = actEN + " requires “" + c.nameEN + "”, which is missing"
		return
	}
	r.Applies, r.Pass = false, true
	r.MessageZH, r.MessageEN = t.zh[0], t.en[0]
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
		r.MessageZH = t.zh[0] + a + t.unit[0] + t.passZH[2*row] + b + t.passZH[2*row+1]
		r.MessageEN = t.en[0] + a + t.unit[1] + t.passEN[2*row] + b + t.passEN[2*row+1]
		return
	}
	r.MessageZH = t.zh[0] + a + t.unit[0] + t.failZH[row] + b + t.passZH[2*row+1]
	r.MessageEN = t.en[0] + a + t.unit[1] + t.failEN[row] + b + t.passEN[2*row+1]
}

func (rs *RuleSet) evalTier(c *check, r *CheckResult, actual decimal.Decimal) string {
	i := len(c.tiers) - 1
	for j, t := range c.tiers {
		if !t.open && opLT.holdsDec(actual, rs.limit(t.below)) {
			i = j
			break
		}
	}
	t := &c.texts
	a := rs.show(actual)
	r.Pass = c.tiers[i].pass
	r.MessageZH = t.zh[0] + a + t.unit[0] + t.passZH[i]
	r.MessageEN = t.en[0] + a + t.unit[1] + t.passEN[i]
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
