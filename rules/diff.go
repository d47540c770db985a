package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// DiffItem is one change between two rule-set versions, in the words a zone
// official uses: which rule, which setting, before and after, with units.
// It is what a proposal's log entry records and the committee reads before
// approving, so it names rules by their Chinese names, not YAML paths.
type DiffItem struct {
	Kind   string `json:"kind"`   // added, removed, changed
	Area   string `json:"area"`   // check, metric, leading, scoring, rating, tracking, deadline, calendar, figures, example, park
	Rule   string `json:"rule"`   // the rule's id (check, metric, sector, criterion, indicator…), "" for park-wide settings
	Name   string `json:"name"`   // the rule's Chinese name
	Field  string `json:"field"`  // the setting, in Chinese (门槛, 权重, 行业代码…)
	Before string `json:"before"` // as shown, with its unit; "" when added
	After  string `json:"after"`  // as shown, with its unit; "" when removed
	TextZH string `json:"text_zh"`
	TextEN string `json:"text_en"`
}

// Diff lists what changes from a to b, rule by rule, in the order the file
// reads: leading industries, metrics, checks, figures, scoring, rating,
// tracking, deadlines, calendar days, examples, then park-wide settings.
// Comments and layout never show (they do not change the version either).
func Diff(a, b *RuleSet) []DiffItem {
	d := &differ{}
	sa, sb := a.spec, b.spec
	d.sectors(sa.Leading, sb.Leading)
	d.metrics(sa.Metrics, sb.Metrics)
	d.checks(sa, sb)
	d.figureLists(sa.Figures, sb.Figures)
	d.scoring(sa.Scoring, sb.Scoring)
	d.rating(sa.Rating, sb.Rating)
	d.fields("tracking", "", "落地跟踪", sa.Tracking, sb.Tracking)
	d.deadlines(sa.Deadlines, sb.Deadlines)
	d.days("节假日", sa.Holidays, sb.Holidays)
	d.days("调休工作日", sa.Workdays, sb.Workdays)
	d.examples(sa.Examples, sb.Examples)
	d.park(sa, sb)
	return d.items
}

type differ struct{ items []DiffItem }

func (d *differ) add(it DiffItem) {
	what := it.Name
	if what == "" {
		what = "规则集"
	}
	switch it.Kind {
	case "added":
		if it.Field == "" {
			it.TextZH = fmt.Sprintf("新增%s“%s”", areaZH[it.Area], what)
			it.TextEN = fmt.Sprintf("%s %s added", areaEN[it.Area], it.Rule)
		} else {
			it.TextZH = fmt.Sprintf("%s %s:增加 %s", what, it.Field, it.After)
			it.TextEN = fmt.Sprintf("%s %s: + %s", orID(it.Rule, it.Area), enField(it.Field), it.After)
		}
	case "removed":
		if it.Field == "" {
			it.TextZH = fmt.Sprintf("删除%s“%s”", areaZH[it.Area], what)
			it.TextEN = fmt.Sprintf("%s %s removed", areaEN[it.Area], it.Rule)
		} else {
			it.TextZH = fmt.Sprintf("%s %s:删除 %s", what, it.Field, it.Before)
			it.TextEN = fmt.Sprintf("%s %s: − %s", orID(it.Rule, it.Area), enField(it.Field), it.Before)
		}
	default:
		it.TextZH = fmt.Sprintf("%s %s:%s → %s", what, it.Field, orDash(it.Before), orDash(it.After))
		it.TextEN = fmt.Sprintf("%s %s: %s → %s", orID(it.Rule, it.Area), enField(it.Field), orNone(it.Before), orNone(it.After))
	}
	d.items = append(d.items, it)
}

// fieldEN names a setting in English for TextEN.
var fieldEN = map[string]string{
	"名称": "name", "中文名称": "Chinese name", "英文名称": "English name", "级别": "level", "比较精度": "precision", "发展目标": "targets",
	"类型": "kind", "性质": "severity", "否决": "veto", "指标": "metric", "门槛": "threshold", "比较": "comparison", "申报项": "figure",
	"行业代码": "industry codes", "须具备": "requires", "分档依据": "bracket by", "触发条件": "condition", "分档表": "bracket table",
	"分档": "tiers", "计算公式": "formula", "单位": "unit", "必填项": "required figures", "自有用地必填项": "figures required with own land",
	"选填空白时": "when blank", "分值": "points", "及格分": "pass mark", "法定人数": "quorum", "权重": "weight", "基准值": "benchmark",
	"缺数据时": "when data is missing", "方向": "better", "单项得分上限": "indicator cap", "累计比例": "cumulative share",
	"末位比例": "bottom share", "底线": "floor", "新供地免评年限": "grace years", "整改期限": "rectification days",
	"连续 D 类退出年数": "D years before exit", "公示天数": "publicity days", "未申报企业归类": "class of firms not filing",
	"名次取整": "band rounding", "分类措施": "class measures", "研发倾斜": "R&D support", "办理时限": "deadline",
	"节假日": "holidays", "调休工作日": "working weekends", "内容": "content",
	"开工期限(月)": "start within (months)", "建设期(月)": "construction (months)", "达产期限(月)": "full production (months)",
	"逾期升级宽限(天)": "escalation grace (days)", "闲置土地认定(年)": "idle-land years", "达产复核容差(%)": "review tolerance (%)",
}

func enField(f string) string {
	if en, ok := fieldEN[f]; ok {
		return en
	}
	return f
}

func orID(id, area string) string {
	if id == "" {
		return area
	}
	return id
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "(无)"
	}
	return s
}

var areaZH = map[string]string{"check": "检查规则", "metric": "指标", "leading": "主导产业", "scoring": "评分项",
	"rating": "评价指标", "example": "测试用例", "deadline": "办理时限", "figures": "申报数据", "tracking": "跟踪设置", "park": "园区设置"}

var areaEN = map[string]string{"check": "check", "metric": "metric", "leading": "leading sector", "scoring": "criterion",
	"rating": "indicator", "example": "example", "deadline": "deadline", "figures": "figure", "tracking": "tracking", "park": "park"}

// num shows a number as written: 300, 1.2, 0.35.
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// show renders a decoded YAML value (number, string, list, mapping) compactly.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "是"
		}
		return "否"
	case []string:
		return strings.Join(x, "、")
	}
	if f, ok := number(v); ok {
		return num(f)
	}
	if m, ok := v.(map[string]any); ok {
		if l, ok1 := m["leading"]; ok1 {
			if o, ok2 := m["other"]; ok2 {
				return fmt.Sprintf("主导产业 %s / 其他 %s", show(l), show(o))
			}
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func same(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// listDiff reports codes (or names) added to and removed from a list.
func (d *differ) listDiff(area, rule, name, field string, a, b []string) {
	for _, x := range b {
		if !slices.Contains(a, x) {
			d.add(DiffItem{Kind: "added", Area: area, Rule: rule, Name: name, Field: field, After: x})
		}
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			d.add(DiffItem{Kind: "removed", Area: area, Rule: rule, Name: name, Field: field, Before: x})
		}
	}
}

func (d *differ) changed(area, rule, name, field, before, after string) {
	if before != after {
		d.add(DiffItem{Kind: "changed", Area: area, Rule: rule, Name: name, Field: field, Before: before, After: after})
	}
}

func (d *differ) sectors(a, b []Sector) {
	matchByID(a, b, func(s Sector) string { return s.ID }, true,
		func(s Sector) {
			d.add(DiffItem{Kind: "added", Area: "leading", Rule: s.ID, Name: s.NameZH, After: strings.Join(s.Codes, "、")})
		},
		func(old, s Sector) {
			d.changed("leading", s.ID, s.NameZH, "名称", old.NameZH, s.NameZH)
			d.listDiff("leading", s.ID, s.NameZH, "行业代码", old.Codes, s.Codes)
		},
		func(s Sector) {
			d.add(DiffItem{Kind: "removed", Area: "leading", Rule: s.ID, Name: s.NameZH, Before: strings.Join(s.Codes, "、")})
		})
}

// matchByID pairs two versions' items by id and reports each as added,
// kept (old and new) or removed: kept and added in b's order, removed in
// a's, the removed first when removedFirst.
func matchByID[T any](a, b []T, id func(T) string, removedFirst bool, added func(T), kept func(old, new T), removed func(T)) {
	inA := make(map[string]T, len(a))
	for _, x := range a {
		inA[id(x)] = x
	}
	inB := make(map[string]bool, len(b))
	for _, x := range b {
		inB[id(x)] = true
	}
	gone := func() {
		for _, x := range a {
			if !inB[id(x)] {
				removed(x)
			}
		}
	}
	if removedFirst {
		gone()
	}
	for _, x := range b {
		if old, ok := inA[id(x)]; ok {
			kept(old, x)
		} else {
			added(x)
		}
	}
	if !removedFirst {
		gone()
	}
}

func (d *differ) metrics(a, b []Metric) {
	matchByID(a, b, func(m Metric) string { return m.ID }, false,
		func(m Metric) {
			d.add(DiffItem{Kind: "added", Area: "metric", Rule: m.ID, Name: m.NameZH, After: m.Formula})
		},
		func(old, m Metric) {
			d.changed("metric", m.ID, m.NameZH, "计算公式", old.Formula, m.Formula)
			d.changed("metric", m.ID, m.NameZH, "单位", old.Unit, m.Unit)
			d.changed("metric", m.ID, m.NameZH, "名称", old.NameZH, m.NameZH)
		},
		func(m Metric) {
			d.add(DiffItem{Kind: "removed", Area: "metric", Rule: m.ID, Name: m.NameZH, Before: m.Formula})
		})
}

func unitOf(s *fileSpec, metric string) string {
	for _, m := range s.Metrics {
		if m.ID == metric {
			return m.Unit
		}
	}
	return ""
}

func diffUnit(v, unit string) string {
	if v == "" || unit == "" || unit == "%" {
		return v + unit
	}
	return v + " " + unit
}

func (d *differ) checks(sa, sb *fileSpec) {
	matchByID(sa.Checks, sb.Checks, func(c checkSpec) string { return c.ID }, false,
		func(c checkSpec) {
			d.add(DiffItem{Kind: "added", Area: "check", Rule: c.ID, Name: c.NameZH, After: checkSummary(sb, c)})
		},
		func(old, c checkSpec) { d.checkChanges(sa, sb, old, c) },
		func(c checkSpec) {
			d.add(DiffItem{Kind: "removed", Area: "check", Rule: c.ID, Name: c.NameZH, Before: checkSummary(sa, c)})
		})
}

func checkSummary(s *fileSpec, c checkSpec) string {
	if c.Kind == kindThreshold {
		return diffUnit(normOp(c.Op)+" "+show(c.Value), unitOf(s, c.Metric))
	}
	return kindZH[c.Kind]
}

var kindZH = map[string]string{kindVeto: "一票否决项", kindIndustryVeto: "行业否决", kindThreshold: "门槛", kindRequires: "条件要求",
	kindBracket: "分档门槛", kindTier: "分档"}

var severityZH = map[string]string{"hard": "刚性", "soft": "提示性"}

func normOp(op string) string {
	switch op {
	case ">=":
		return "≥"
	case "<=":
		return "≤"
	}
	return op
}

func (d *differ) checkChanges(sa, sb *fileSpec, a, b checkSpec) {
	id, name := b.ID, b.NameZH
	d.changed("check", id, name, "名称", a.NameZH, b.NameZH)
	d.changed("check", id, name, "类型", kindZH[a.Kind], kindZH[b.Kind])
	d.changed("check", id, name, "性质", severityZH[a.Severity], severityZH[b.Severity])
	veto := func(p *bool) string {
		if p != nil && *p {
			return "一票否决"
		}
		return "可一事一议"
	}
	if a.Kind == b.Kind && (a.Kind == kindThreshold || a.Kind == kindBracket) {
		d.changed("check", id, name, "否决", veto(a.Veto), veto(b.Veto))
	}
	d.changed("check", id, name, "指标", a.Metric, b.Metric)
	if a.Kind == kindThreshold && b.Kind == kindThreshold {
		d.changed("check", id, name, "门槛", diffUnit(normOp(a.Op)+" "+show(a.Value), unitOf(sa, a.Metric)),
			diffUnit(normOp(b.Op)+" "+show(b.Value), unitOf(sb, b.Metric)))
	} else {
		d.changed("check", id, name, "比较", normOp(a.Op), normOp(b.Op))
	}
	d.changed("check", id, name, "申报项", a.Flag, b.Flag)
	d.listDiff("check", id, name, "行业代码", a.Codes, b.Codes)
	d.changed("check", id, name, "须具备", a.Require, b.Require)
	d.changed("check", id, name, "分档依据", a.By, b.By)
	if !same(a.When, b.When) || !same(a.WhenAny, b.WhenAny) {
		d.changed("check", id, name, "触发条件", conds(a), conds(b))
	}
	if !same(a.Table, b.Table) {
		d.changed("check", id, name, "分档表", table(a.Table, unitOf(sa, a.Metric)), table(b.Table, unitOf(sb, b.Metric)))
	}
	if !same(a.Tiers, b.Tiers) {
		d.changed("check", id, name, "分档", tiers(a.Tiers), tiers(b.Tiers))
	}
}

func conds(c checkSpec) string {
	var parts []string
	if c.When != nil {
		parts = append(parts, fmt.Sprintf("%s %s %s", c.When.Metric, normOp(c.When.Op), show(c.When.Value)))
	}
	for _, w := range c.WhenAny {
		parts = append(parts, fmt.Sprintf("%s %s %s", w.Metric, normOp(w.Op), show(w.Value)))
	}
	return strings.Join(parts, " 或 ")
}

func table(rows []bracketRow, unit string) string {
	var parts []string
	for _, r := range rows {
		if r.Upto == nil {
			parts = append(parts, "其余 "+diffUnit(show(r.Value), unit))
		} else {
			parts = append(parts, fmt.Sprintf("≤ %s: %s", show(r.Upto), diffUnit(show(r.Value), unit)))
		}
	}
	return strings.Join(parts, ";")
}

func tiers(ts []tierSpec) string {
	var parts []string
	for _, t := range ts {
		p := t.NameZH
		if t.Below != nil {
			p += " < " + show(t.Below)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ";")
}

func (d *differ) figureLists(a, b *FiguresSpec) {
	if a == nil {
		a = &FiguresSpec{}
	}
	if b == nil {
		b = &FiguresSpec{}
	}
	label := func(ns []string) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = n
			if def := figureByName[n]; def != nil {
				out[i] = def.zh
			}
		}
		return out
	}
	d.listDiff("figures", "", "申报数据", "必填项", label(a.Required), label(b.Required))
	d.listDiff("figures", "", "申报数据", "自有用地必填项", label(a.Land), label(b.Land))
	for _, k := range keysOf(a.Optional, b.Optional) {
		d.changed("figures", k, label([]string{k})[0], "选填空白时", blankZH[a.Optional[k]], blankZH[b.Optional[k]])
	}
}

var blankZH = map[string]string{BlankNotApplicable: "不适用", BlankFail: "不通过"}

func keysOf[V any](ms ...map[string]V) []string {
	set := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func (d *differ) scoring(a, b ScoringSheet) {
	ma := map[string]Criterion{}
	for _, c := range a.Criteria {
		ma[c.ID] = c
	}
	mb := map[string]bool{}
	for _, c := range b.Criteria {
		mb[c.ID] = true
		old, ok := ma[c.ID]
		if !ok {
			d.add(DiffItem{Kind: "added", Area: "scoring", Rule: c.ID, Name: c.NameZH, After: num(c.Max) + " 分"})
			continue
		}
		d.changed("scoring", c.ID, c.NameZH, "分值", num(old.Max)+" 分", num(c.Max)+" 分")
	}
	for _, c := range a.Criteria {
		if !mb[c.ID] {
			d.add(DiffItem{Kind: "removed", Area: "scoring", Rule: c.ID, Name: c.NameZH, Before: num(c.Max) + " 分"})
		}
	}
	d.changed("scoring", "", "专家评分", "及格分", num(a.PassMark)+" 分", num(b.PassMark)+" 分")
	d.changed("scoring", "", "专家评分", "法定人数", strconv.Itoa(a.Quorum)+" 人", strconv.Itoa(b.Quorum)+" 人")
}

func (d *differ) indicators(prefix string, a, b []Indicator) {
	matchByID(a, b, func(x Indicator) string { return x.ID }, false,
		func(x Indicator) {
			d.add(DiffItem{Kind: "added", Area: "rating", Rule: x.ID, Name: prefix + x.NameZH, After: "权重 " + num(x.Weight)})
		},
		func(old, x Indicator) {
			name := prefix + x.NameZH
			d.changed("rating", x.ID, name, "权重", num(old.Weight), num(x.Weight))
			d.changed("rating", x.ID, name, "基准值", diffUnit(num(old.Benchmark), old.Unit), diffUnit(num(x.Benchmark), x.Unit))
			d.changed("rating", x.ID, name, "计算公式", old.Formula, x.Formula)
			d.changed("rating", x.ID, name, "缺数据时", old.Missing, x.Missing)
			d.changed("rating", x.ID, name, "方向", old.Better, x.Better)
		},
		func(x Indicator) {
			d.add(DiffItem{Kind: "removed", Area: "rating", Rule: x.ID, Name: prefix + x.NameZH, Before: "权重 " + num(x.Weight)})
		})
}

func (d *differ) rating(a, b RatingConfig) {
	d.indicators("", a.Indicators, b.Indicators)
	var ia, ib []Indicator
	if a.BelowScale != nil {
		ia = a.BelowScale.Indicators
	}
	if b.BelowScale != nil {
		ib = b.BelowScale.Indicators
	}
	d.indicators("规下企业 ", ia, ib)
	d.changed("rating", "", "亩均效益评价", "单项得分上限", num(a.Cap)+" 倍权重", num(b.Cap)+" 倍权重")
	band := func(bs []Band) map[string]Band {
		m := map[string]Band{}
		for _, x := range bs {
			m[x.Band] = x
		}
		return m
	}
	ba, bb := band(a.Bands), band(b.Bands)
	for _, n := range keysOf(ba, bb) {
		x, y := ba[n], bb[n]
		d.changed("rating", n, n+" 类", "累计比例", pct(x.UptoPercent), pct(y.UptoPercent))
		d.changed("rating", n, n+" 类", "末位比例", pct(x.BottomPercent), pct(y.BottomPercent))
	}
	d.changed("rating", "", "亩均效益评价", "底线", floor(a.Floor), floor(b.Floor))
	d.changed("rating", "", "亩均效益评价", "新供地免评年限", strconv.Itoa(a.GraceYears)+" 年", strconv.Itoa(b.GraceYears)+" 年")
	d.changed("rating", "", "亩均效益评价", "整改期限", strconv.Itoa(a.RectificationDays)+" 天", strconv.Itoa(b.RectificationDays)+" 天")
	d.changed("rating", "", "亩均效益评价", "连续 D 类退出年数", strconv.Itoa(a.ExitAfterDYears)+" 年", strconv.Itoa(b.ExitAfterDYears)+" 年")
	d.changed("rating", "", "亩均效益评价", "公示天数", strconv.Itoa(a.PublicityDays)+" 天", strconv.Itoa(b.PublicityDays)+" 天")
	d.changed("rating", "", "亩均效益评价", "未申报企业归类", a.NotFiled, b.NotFiled)
	d.changed("rating", "", "亩均效益评价", "名次取整", a.BandRounding, b.BandRounding)
	if !same(a.Classes, b.Classes) {
		d.changed("rating", "", "亩均效益评价", "分类措施", "原措施", "新措施")
	}
	if !same(a.RDSupport, b.RDSupport) {
		d.changed("rating", "", "亩均效益评价", "研发倾斜", show(a.RDSupport), show(b.RDSupport))
	}
}

func pct(x float64) string {
	if x == 0 {
		return ""
	}
	return num(x) + "%"
}

func floor(f Floor) string {
	if f.Indicator == "" {
		return ""
	}
	return fmt.Sprintf("%s < %s 归 %s 类", f.Indicator, num(f.Below), f.Band)
}

// fields compares two structs of plain settings field by field, naming
// each by its yaml key.
func (d *differ) fields(area, rule, name string, a, b any) {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	t := va.Type()
	for i := range t.NumField() {
		key := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		fa, fb := va.Field(i).Interface(), vb.Field(i).Interface()
		if !same(fa, fb) {
			d.changed(area, rule, name, trackingZH[key], show(fa), show(fb))
		}
	}
}

var trackingZH = map[string]string{"start_within_months": "开工期限(月)", "construction_months": "建设期(月)",
	"full_production_months": "达产期限(月)", "escalation_grace_days": "逾期升级宽限(天)", "idle_land_years": "闲置土地认定(年)",
	"review_tolerance": "达产复核容差(%)"}

func (d *differ) deadlines(a, b map[string]int) {
	for _, k := range keysOf(a, b) {
		x, okx := a[k]
		y, oky := b[k]
		before, after := "", ""
		if okx {
			before = strconv.Itoa(x) + " 个工作日"
		}
		if oky {
			after = strconv.Itoa(y) + " 个工作日"
		}
		d.changed("deadline", k, k, "办理时限", before, after)
	}
}

func (d *differ) days(field string, a, b []string) {
	d.listDiff("calendar", "", "工作日历", field, a, b)
}

func (d *differ) examples(a, b []Example) {
	matchByID(a, b, func(x Example) string { return x.ID }, false,
		func(x Example) { d.add(DiffItem{Kind: "added", Area: "example", Rule: x.ID, Name: x.NameZH}) },
		func(old, x Example) {
			if !same(old, x) {
				d.changed("example", x.ID, x.NameZH, "内容", "原用例", "新用例")
			}
		},
		func(x Example) { d.add(DiffItem{Kind: "removed", Area: "example", Rule: x.ID, Name: x.NameZH}) })
}

func (d *differ) park(a, b *fileSpec) {
	d.changed("park", "", "园区", "中文名称", a.NameZH, b.NameZH)
	d.changed("park", "", "园区", "英文名称", a.NameEN, b.NameEN)
	d.changed("park", "", "园区", "级别", a.Level, b.Level)
	prec := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p) + " 位小数"
	}
	d.changed("park", "", "园区", "比较精度", prec(a.Precision), prec(b.Precision))
	if !same(a.Targets, b.Targets) {
		d.changed("park", "", "园区", "发展目标", show(a.Targets), show(b.Targets))
	}
}
