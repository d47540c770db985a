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

// holds reports a op t. Values within one part in a billion of t count as
// equal to it: 0.07 × 100 is 7.000000000000001 in floating point, and an
// office share of exactly 7 % must pass "≤ 7" however the formula is written.
// No declared figure carries that many significant digits, so this never
// turns a real shortfall into a pass.
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
	metric             int    // metric index reported (threshold, bracket, tier, requires' condition); -1 for vetoes
	flag               string // veto: the flag that must be false; requires: the flag that must be true
	codes              []string
	op                 op
	value              float64 // threshold; with byClass, the leading-industry value
	other              float64 // with byClass, the value for other industries
	byClass            bool
	when               cond
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

// industryCode is a full GB/T 4754 code as a project declares it: a section
// letter and 2–4 digits (division, group or class).
var industryCode = regexp.MustCompile(`^[A-T][0-9]{2,4}$`)

// numericField describes one number of Figures for input validation.
type numericField struct {
	name  string
	get   func(*Figures) float64
	share bool // a percentage, 0–100
}

var numericFields = []numericField{
	{"total_investment", func(f *Figures) float64 { return f.TotalInvestment }, false},
	{"fixed_asset_investment", func(f *Figures) float64 { return f.FixedAssetInvestment }, false},
	{"land_area", func(f *Figures) float64 { return f.LandArea }, false},
	{"floor_area", func(f *Figures) float64 { return f.FloorArea }, false},
	{"building_coverage", func(f *Figures) float64 { return f.BuildingCoverage }, true},
	{"office_share", func(f *Figures) float64 { return f.OfficeShare }, true},
	{"expected_output", func(f *Figures) float64 { return f.ExpectedOutput }, false},
	{"revenue", func(f *Figures) float64 { return f.Revenue }, false},
	{"tax", func(f *Figures) float64 { return f.Tax }, false},
	{"rd_expense", func(f *Figures) float64 { return f.RDExpense }, false},
	{"energy_use", func(f *Figures) float64 { return f.EnergyUse }, false},
}

// checkFigures rejects figures no check can judge fairly: a missing or
// malformed industry code, NaN or infinite numbers, negative money, areas or
// energy, shares outside 0–100 and a zero land area (every per-mu metric
// divides by it). It returns the normalised industry code.
func checkFigures(f *Figures) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(f.IndustryCode))
	if !industryCode.MatchString(code) {
		return "", inputError("industry_code",
			fmt.Sprintf("行业代码“%s”无效:须为国民经济行业分类(GB/T 4754)代码,如 C3985", f.IndustryCode),
			fmt.Sprintf("industry code %q is not a GB/T 4754 code such as C3985", f.IndustryCode))
	}
	for _, nf := range numericFields {
		v := nf.get(f)
		l := figureLabels[nf.name]
		switch {
		case !finite(v):
			return "", inputError(nf.name, l.zh+"必须是有限数值", l.en+" must be a finite number")
		case v < 0:
			return "", inputError(nf.name, fmt.Sprintf("%s不能为负数(填写值 %s)", l.zh, fmtNum(v)),
				fmt.Sprintf("%s must not be negative (got %s)", l.en, fmtNum(v)))
		case nf.share && v > 100:
			return "", inputError(nf.name, fmt.Sprintf("%s须在 0 至 100 之间(单位 %%),填写值 %s", l.zh, fmtNum(v)),
				fmt.Sprintf("%s is a percentage and must be within 0 to 100 (got %s)", l.en, fmtNum(v)))
		}
	}
	if f.LandArea == 0 {
		return "", inputError("land_area", "用地面积必须大于 0 亩", "land area must be greater than 0 mu")
	}
	if f.Employees < 0 {
		return "", inputError("employees", fmt.Sprintf("就业人数不能为负数(填写值 %d)", f.Employees),
			fmt.Sprintf("employees must not be negative (got %d)", f.Employees))
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
func (rs *RuleSet) Evaluate(f Figures) (*Report, error) {
	code, err := checkFigures(&f)
	if err != nil {
		return nil, err
	}
	env := new(figureEnv)
	env.set(&f)
	var buf [24]float64
	vals := buf[:0]
	if n := len(rs.metrics); n <= len(buf) {
		vals = buf[:n]
	} else {
		vals = make([]float64, n)
	}
	machine := vms.Get().(*vm.VM)
	for i := range rs.metrics {
		m := &rs.metrics[i]
		if !m.used {
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
			l := figureLabels[field]
			if field != "" && reflect.ValueOf(env).Elem().Field(figureEnvIndex[field]).Float() == 0 {
				return nil, inputError(field, fmt.Sprintf("无法计算%s:%s为 0", m.NameZH, l.zh),
					fmt.Sprintf("cannot compute %s: %s is 0", m.NameEN, l.en))
			}
			return nil, inputError(field, fmt.Sprintf("无法计算%s:结果不是有限数值,请核对%s", m.NameZH, l.zh),
				fmt.Sprintf("cannot compute %s: the result is not a finite number; check %s", m.NameEN, l.en))
		}
		vals[i] = v
	}
	vms.Put(machine)

	sector := rs.classify(code)
	rep := &Report{
		Park:           rs.spec.Park,
		RuleSetVersion: rs.version,
		Checks:         make([]CheckResult, len(rs.checks)),
		Leading:        sector >= 0,
	}
	if sector >= 0 {
		rep.LeadingSector, rep.LeadingSectorEN = rs.spec.Leading[sector].NameZH, rs.spec.Leading[sector].NameEN
	}
	for i := range rs.checks {
		c := &rs.checks[i]
		r := &rep.Checks[i]
		*r = CheckResult{ID: c.id, NameZH: c.nameZH, NameEN: c.nameEN, Severity: c.severity, Applies: true, Threshold: c.threshold}
		if c.metric >= 0 {
			m := &rs.metrics[c.metric]
			r.Metric, r.Unit, r.UnitEN, r.Actual = m.ID, m.Unit, m.UnitEN, vals[c.metric]
		}
		switch c.kind {
		case kindVeto:
			rs.evalVeto(c, r, &f)
		case kindIndustryVeto:
			rs.evalIndustryVeto(c, r, code)
		case kindThreshold:
			rs.evalThreshold(c, r, sector >= 0)
		case kindRequires:
			rs.evalRequires(c, r, &f)
		case kindBracket:
			rs.evalBracket(c, r, vals)
		case kindTier:
			rep.Tier = rs.evalTier(c, r)
		}
		if !r.Pass {
			if c.severity == Hard {
				rep.HardFailures++
			} else {
				rep.SoftFailures++
			}
		}
	}
	return rep, nil
}

func flagValue(f *Figures, name string) bool {
	switch name {
	case "negative_list":
		return f.NegativeList
	case "eco_red_line":
		return f.EcoRedLine
	case "bad_credit":
		return f.BadCredit
	case "energy_assessment":
		return f.EnergyAssessment
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
				tZH, tEN := withUnit(fmtNum(v), m.Unit), withUnit(fmtNum(v), unitEN(m))
				t.passZH = append(t.passZH, ",符合"+classZH[k]+"标准 "+c.op.String()+" "+tZH)
				t.passEN = append(t.passEN, " meets the "+classEN[k]+"standard "+c.op.String()+" "+tEN)
				t.failZH = append(t.failZH, ","+failZH(c.op)+classZH[k]+limitZH(c.op)+" "+tZH)
				t.failEN = append(t.failEN, " "+failEN(c.op)+" the "+classEN[k]+limitEN(c.op)+" "+tEN)
				t.threshold = append(t.threshold, c.op.String()+" "+fmtNum(v))
			}
		case kindRequires:
			cond := c.when.op.String() + " " + fmtNum(c.when.value)
			cZH, cEN := withUnit(cond, m.Unit), withUnit(cond, unitEN(m))
			t.zh = [2]string{m.NameZH + " ", ""}
			t.en = [2]string{m.NameEN + " ", ""}
			// [not applicable, provided, missing]
			t.passZH = []string{",未达到 " + cZH + ",无需“" + c.nameZH + "”", "(" + cZH + "),已具备“" + c.nameZH + "”"}
			t.passEN = []string{" is not " + cEN + ": “" + c.nameEN + "” not required", " (" + cEN + "): “" + c.nameEN + "” provided"}
			t.failZH = []string{"(" + cZH + "),须具备“" + c.nameZH + "”,但尚未提供"}
			t.failEN = []string{" (" + cEN + ") requires “" + c.nameEN + "”, which is missing"}
		case kindBracket:
			by := &rs.metrics[c.by].Metric
			t.zh = [2]string{m.NameZH + " ", "(" + by.NameZH + " "}
			t.en = [2]string{m.NameEN + " ", " (" + by.NameEN + " "}
			for k, row := range c.table {
				var rowText string
				switch {
				case !row.open:
					rowText = "≤ " + fmtNum(row.upto)
				case k > 0:
					rowText = "> " + fmtNum(c.table[k-1].upto)
				default:
					rowText = "*"
				}
				tZH, tEN := withUnit(fmtNum(row.value), m.Unit), withUnit(fmtNum(row.value), unitEN(m))
				whyZH := withUnit("", by.Unit) + ",适用 " + withUnit(rowText, by.Unit) + " 档)"
				whyEN := withUnit("", unitEN(by)) + ", row " + withUnit(rowText, unitEN(by)) + ")"
				t.passZH = append(t.passZH, ",符合“"+c.nameZH+"” "+c.op.String()+" "+tZH+t.zh[1], whyZH)
				t.passEN = append(t.passEN, " meets “"+c.nameEN+"” "+c.op.String()+" "+tEN+t.en[1], whyEN)
				t.failZH = append(t.failZH, ","+failZH(c.op)+"“"+c.nameZH+"” "+c.op.String()+" "+tZH+t.zh[1])
				t.failEN = append(t.failEN, " "+failEN(c.op)+" “"+c.nameEN+"” "+c.op.String()+" "+tEN+t.en[1])
				t.threshold = append(t.threshold, c.op.String()+" "+fmtNum(row.value))
			}
		case kindTier:
			t.zh = [2]string{m.NameZH + " ", ""}
			t.en = [2]string{m.NameEN + " ", ""}
			for k, tr := range c.tiers {
				var rangeText string
				switch {
				case k == 0:
					rangeText = "< " + fmtNum(tr.below)
				case tr.open:
					rangeText = "≥ " + fmtNum(c.tiers[k-1].below)
				default:
					rangeText = "≥ " + fmtNum(c.tiers[k-1].below) + ", < " + fmtNum(tr.below)
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
		if strings.HasPrefix(code, p) {
			r.Actual = 1
			r.MessageZH = "行业代码 " + code + " 属于“" + c.nameZH + "”(" + p + "),一票否决"
			r.MessageEN = "industry code " + code + " is on the “" + c.nameEN + "” (" + p + ") — veto"
			return
		}
	}
	r.Pass = true
	r.MessageZH = "行业代码 " + code + " 不属于“" + c.nameZH + "”"
	r.MessageEN = "industry code " + code + " is not on the “" + c.nameEN + "”"
}

func (rs *RuleSet) evalThreshold(c *check, r *CheckResult, leading bool) {
	t := &c.texts
	k, v := 0, c.value
	if c.byClass && !leading {
		k, v = 1, c.other
	}
	r.Threshold = t.threshold[k]
	r.Pass = c.op.holds(r.Actual, v)
	a := fmt2(r.Actual)
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

func (rs *RuleSet) evalRequires(c *check, r *CheckResult, f *Figures) {
	t := &c.texts
	a := fmt2(r.Actual)
	switch {
	case !c.when.op.holds(r.Actual, c.when.value):
		r.Applies, r.Pass = false, true
		r.MessageZH = t.zh[0] + a + t.unit[0] + t.passZH[0]
		r.MessageEN = t.en[0] + a + t.unit[1] + t.passEN[0]
	case flagValue(f, c.flag):
		r.Pass = true
		r.MessageZH = t.zh[0] + a + t.unit[0] + t.passZH[1]
		r.MessageEN = t.en[0] + a + t.unit[1] + t.passEN[1]
	default:
		r.MessageZH = t.zh[0] + a + t.unit[0] + t.failZH[0]
		r.MessageEN = t.en[0] + a + t.unit[1] + t.failEN[0]
	}
}

func (rs *RuleSet) evalBracket(c *check, r *CheckResult, vals []float64) {
	t := &c.texts
	bv := vals[c.by]
	row := len(c.table) - 1
	for i, b := range c.table {
		if !b.open && opLE.holds(bv, b.upto) {
			row = i
			break
		}
	}
	r.Threshold = t.threshold[row]
	r.Pass = c.op.holds(r.Actual, c.table[row].value)
	a, b := fmt2(r.Actual), fmt2(bv)
	if r.Pass {
		r.MessageZH = t.zh[0] + a + t.unit[0] + t.passZH[2*row] + b + t.passZH[2*row+1]
		r.MessageEN = t.en[0] + a + t.unit[1] + t.passEN[2*row] + b + t.passEN[2*row+1]
		return
	}
	r.MessageZH = t.zh[0] + a + t.unit[0] + t.failZH[row] + b + t.passZH[2*row+1]
	r.MessageEN = t.en[0] + a + t.unit[1] + t.failEN[row] + b + t.passEN[2*row+1]
}

func (rs *RuleSet) evalTier(c *check, r *CheckResult) string {
	i := len(c.tiers) - 1
	for j, t := range c.tiers {
		if !t.open && opLT.holds(r.Actual, t.below) {
			i = j
			break
		}
	}
	t := &c.texts
	a := fmt2(r.Actual)
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
