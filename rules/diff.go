package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"zonevet/rules/catalog"
)

// DiffItem is one change between two rule-set versions, in the words a zone
// official uses: which rule, which setting, before and after, with units.
// It is what a proposal's log entry records and the committee reads before
// approving, so it names rules by their Chinese names, not YAML paths.
// The words come from the catalogue (texts.*.json: diff.*), but the item
// keeps them rendered in both languages: a log entry reads the same forever,
// whatever later catalogues say.
type DiffItem struct {
	Kind   string `json:"kind"`   // added, removed, changed
	Area   string `json:"area"`   // check, metric, leading, scoring, rating, tracking, deadline, calendar, figures, example, park
	Rule   string `json:"rule"`   // the rule's id (check, metric, sector, criterion, indicator…), "" for park-wide settings
	Name   string `json:"name"`   // the rule's Chinese name
	Field  string `json:"field"`  // the setting's Chinese label (diff.field.*: 门槛, 权重, 行业代码…)
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
	d.fields("tracking", "", zhText("diff.name.tracking", nil), sa.Tracking, sb.Tracking)
	d.deadlines(sa.Deadlines, sb.Deadlines)
	d.days("diff.field.holidays", sa.Holidays, sb.Holidays)
	d.days("diff.field.workdays", sa.Workdays, sb.Workdays)
	d.examples(sa.Examples, sb.Examples)
	d.park(sa, sb)
	return d.items
}

type differ struct{ items []DiffItem }

// change is one difference before it is worded: field is the setting's
// catalogue id (diff.field.…, "" for a whole rule added or removed), name
// the rule's Chinese name.
type change struct{ kind, area, rule, name, field, before, after string }

// add words c in Chinese and English from the catalogue (texts.*.json) and
// records it. The English names the rule by its id (or the area for
// park-wide settings); values show as written in the file, in both.
func (d *differ) add(c change) {
	it := DiffItem{Kind: c.kind, Area: c.area, Rule: c.rule, Name: c.name, Before: c.before, After: c.after}
	what := c.name
	if what == "" {
		what = zhText("diff.name.rule_set", nil)
	}
	var m catalog.Message
	if c.field == "" {
		m.ID = map[string]string{"added": "diff.rule_added", "removed": "diff.rule_removed"}[c.kind]
		m.Args = catalog.Args{"Area": catalog.Message{ID: "diff.area." + c.area}, "Name": catalog.Text{ZH: what, EN: c.rule}}
	} else {
		it.Field = zhText(c.field, nil)
		m.Args = catalog.Args{"Name": catalog.Text{ZH: what, EN: orID(c.rule, c.area)}, "Field": catalog.Message{ID: c.field}}
		switch c.kind {
		case "added":
			m.ID, m.Args["Value"] = "diff.item_added", c.after
		case "removed":
			m.ID, m.Args["Value"] = "diff.item_removed", c.before
		default:
			m.ID, m.Args["Before"], m.Args["After"] = "diff.changed", orNone(c.before), orNone(c.after)
		}
	}
	it.TextZH, it.TextEN = m.Both()
	d.items = append(d.items, it)
}

// zhText renders a catalogue message in Chinese, the language of a
// DiffItem's Name, Field and values.
func zhText(id string, args catalog.Args) string { return catalog.T(catalog.ZH, id, args) }

// counted is a number with its unit (diff.value.points: 70 分), in Chinese.
func counted(id string, n any) string { return zhText(id, catalog.Args{"N": n}) }

func orID(id, area string) string {
	if id == "" {
		return area
	}
	return id
}

// orNone is a value, or "(none)" in the reader's language when there is none.
func orNone(s string) any {
	if s == "" {
		return catalog.Message{ID: "value.none"}
	}
	return s
}

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
			return zhText("label.yes", nil)
		}
		return zhText("label.no", nil)
	case []string:
		return strings.Join(x, "、")
	}
	if f, ok := number(v); ok {
		return num(f)
	}
	if m, ok := v.(map[string]any); ok {
		if l, ok1 := m["leading"]; ok1 {
			if o, ok2 := m["other"]; ok2 {
				return zhText("diff.value.by_class", catalog.Args{"Leading": show(l), "Other": show(o)})
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
			d.add(change{kind: "added", area: area, rule: rule, name: name, field: field, after: x})
		}
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			d.add(change{kind: "removed", area: area, rule: rule, name: name, field: field, before: x})
		}
	}
}

func (d *differ) changed(area, rule, name, field, before, after string) {
	if before != after {
		d.add(change{kind: "changed", area: area, rule: rule, name: name, field: field, before: before, after: after})
	}
}

func (d *differ) sectors(a, b []Sector) {
	matchByID(a, b, func(s Sector) string { return s.ID }, true,
		func(s Sector) {
			d.add(change{kind: "added", area: "leading", rule: s.ID, name: s.NameZH, after: strings.Join(s.Codes, "、")})
		},
		func(old, s Sector) {
			d.changed("leading", s.ID, s.NameZH, "diff.field.name", old.NameZH, s.NameZH)
			d.listDiff("leading", s.ID, s.NameZH, "diff.field.codes", old.Codes, s.Codes)
		},
		func(s Sector) {
			d.add(change{kind: "removed", area: "leading", rule: s.ID, name: s.NameZH, before: strings.Join(s.Codes, "、")})
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
			d.add(change{kind: "added", area: "metric", rule: m.ID, name: m.NameZH, after: m.Formula})
		},
		func(old, m Metric) {
			d.changed("metric", m.ID, m.NameZH, "diff.field.formula", old.Formula, m.Formula)
			d.changed("metric", m.ID, m.NameZH, "diff.field.unit", old.Unit, m.Unit)
			d.changed("metric", m.ID, m.NameZH, "diff.field.name", old.NameZH, m.NameZH)
		},
		func(m Metric) {
			d.add(change{kind: "removed", area: "metric", rule: m.ID, name: m.NameZH, before: m.Formula})
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
			d.add(change{kind: "added", area: "check", rule: c.ID, name: c.NameZH, after: checkSummary(sb, c)})
		},
		func(old, c checkSpec) { d.checkChanges(sa, sb, old, c) },
		func(c checkSpec) {
			d.add(change{kind: "removed", area: "check", rule: c.ID, name: c.NameZH, before: checkSummary(sa, c)})
		})
}

func checkSummary(s *fileSpec, c checkSpec) string {
	if c.Kind == kindThreshold {
		return diffUnit(normOp(c.Op)+" "+show(c.Value), unitOf(s, c.Metric))
	}
	return codeLabel("diff.kind.", c.Kind)
}

// codeLabel is a coded value's Chinese label (prefix+code: diff.kind.veto,
// diff.severity.hard, diff.blank.fail), "" when the value is not set.
func codeLabel(prefix, code string) string {
	if code == "" {
		return ""
	}
	return zhText(prefix+code, nil)
}

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
	d.changed("check", id, name, "diff.field.name", a.NameZH, b.NameZH)
	d.changed("check", id, name, "diff.field.kind", codeLabel("diff.kind.", a.Kind), codeLabel("diff.kind.", b.Kind))
	d.changed("check", id, name, "diff.field.severity", codeLabel("diff.severity.", a.Severity), codeLabel("diff.severity.", b.Severity))
	veto := func(p *bool) string {
		if p != nil && *p {
			return zhText("diff.value.veto", nil)
		}
		return zhText("diff.value.no_veto", nil)
	}
	if a.Kind == b.Kind && (a.Kind == kindThreshold || a.Kind == kindBracket) {
		d.changed("check", id, name, "diff.field.veto", veto(a.Veto), veto(b.Veto))
	}
	d.changed("check", id, name, "diff.field.metric", a.Metric, b.Metric)
	if a.Kind == kindThreshold && b.Kind == kindThreshold {
		d.changed("check", id, name, "diff.field.threshold", diffUnit(normOp(a.Op)+" "+show(a.Value), unitOf(sa, a.Metric)),
			diffUnit(normOp(b.Op)+" "+show(b.Value), unitOf(sb, b.Metric)))
	} else {
		d.changed("check", id, name, "diff.field.op", normOp(a.Op), normOp(b.Op))
	}
	d.changed("check", id, name, "diff.field.flag", a.Flag, b.Flag)
	d.listDiff("check", id, name, "diff.field.codes", a.Codes, b.Codes)
	d.changed("check", id, name, "diff.field.require", a.Require, b.Require)
	d.changed("check", id, name, "diff.field.by", a.By, b.By)
	if !same(a.When, b.When) || !same(a.WhenAny, b.WhenAny) {
		d.changed("check", id, name, "diff.field.when", conds(a), conds(b))
	}
	if !same(a.Table, b.Table) {
		d.changed("check", id, name, "diff.field.table", table(a.Table, unitOf(sa, a.Metric)), table(b.Table, unitOf(sb, b.Metric)))
	}
	if !same(a.Tiers, b.Tiers) {
		d.changed("check", id, name, "diff.field.tiers", tiers(a.Tiers), tiers(b.Tiers))
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
	if len(parts) == 0 {
		return ""
	}
	out := parts[0]
	for _, p := range parts[1:] {
		out = zhText("diff.value.or", catalog.Args{"A": out, "B": p})
	}
	return out
}

func table(rows []bracketRow, unit string) string {
	var parts []string
	for _, r := range rows {
		if r.Upto == nil {
			parts = append(parts, zhText("diff.value.rest", catalog.Args{"Value": diffUnit(show(r.Value), unit)}))
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
			if figureByName[n] != nil {
				out[i], _ = FigureLabel(n)
			}
		}
		return out
	}
	figures := zhText("diff.name.figures", nil)
	d.listDiff("figures", "", figures, "diff.field.required", label(a.Required), label(b.Required))
	d.listDiff("figures", "", figures, "diff.field.land", label(a.Land), label(b.Land))
	for _, k := range keysOf(a.Optional, b.Optional) {
		d.changed("figures", k, label([]string{k})[0], "diff.field.optional", codeLabel("diff.blank.", a.Optional[k]), codeLabel("diff.blank.", b.Optional[k]))
	}
}

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
			d.add(change{kind: "added", area: "scoring", rule: c.ID, name: c.NameZH, after: counted("diff.value.points", num(c.Max))})
			continue
		}
		d.changed("scoring", c.ID, c.NameZH, "diff.field.max", counted("diff.value.points", num(old.Max)), counted("diff.value.points", num(c.Max)))
	}
	for _, c := range a.Criteria {
		if !mb[c.ID] {
			d.add(change{kind: "removed", area: "scoring", rule: c.ID, name: c.NameZH, before: counted("diff.value.points", num(c.Max))})
		}
	}
	scoring := zhText("diff.name.scoring", nil)
	d.changed("scoring", "", scoring, "diff.field.pass_mark", counted("diff.value.points", num(a.PassMark)), counted("diff.value.points", num(b.PassMark)))
	d.changed("scoring", "", scoring, "diff.field.quorum", counted("diff.value.people", a.Quorum), counted("diff.value.people", b.Quorum))
}

// indicators compares two lists of rating indicators, those of firms below
// the statistical scale (规下企业) when belowScale, named so.
func (d *differ) indicators(belowScale bool, a, b []Indicator) {
	nameOf := func(x Indicator) string {
		if belowScale {
			return zhText("diff.name.below_scale", catalog.Args{"Name": x.NameZH})
		}
		return x.NameZH
	}
	matchByID(a, b, func(x Indicator) string { return x.ID }, false,
		func(x Indicator) {
			d.add(change{kind: "added", area: "rating", rule: x.ID, name: nameOf(x), after: counted("diff.value.weight", num(x.Weight))})
		},
		func(old, x Indicator) {
			name := nameOf(x)
			d.changed("rating", x.ID, name, "diff.field.weight", num(old.Weight), num(x.Weight))
			d.changed("rating", x.ID, name, "diff.field.benchmark", diffUnit(num(old.Benchmark), old.Unit), diffUnit(num(x.Benchmark), x.Unit))
			d.changed("rating", x.ID, name, "diff.field.formula", old.Formula, x.Formula)
			d.changed("rating", x.ID, name, "diff.field.missing", old.Missing, x.Missing)
			d.changed("rating", x.ID, name, "diff.field.better", old.Better, x.Better)
		},
		func(x Indicator) {
			d.add(change{kind: "removed", area: "rating", rule: x.ID, name: nameOf(x), before: counted("diff.value.weight", num(x.Weight))})
		})
}

func (d *differ) rating(a, b RatingConfig) {
	d.indicators(false, a.Indicators, b.Indicators)
	var ia, ib []Indicator
	if a.BelowScale != nil {
		ia = a.BelowScale.Indicators
	}
	if b.BelowScale != nil {
		ib = b.BelowScale.Indicators
	}
	d.indicators(true, ia, ib)
	rating := zhText("diff.name.rating", nil)
	d.changed("rating", "", rating, "diff.field.cap", counted("diff.value.times_weight", num(a.Cap)), counted("diff.value.times_weight", num(b.Cap)))
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
		band := zhText("diff.name.band", catalog.Args{"Band": n})
		d.changed("rating", n, band, "diff.field.upto_percent", pct(x.UptoPercent), pct(y.UptoPercent))
		d.changed("rating", n, band, "diff.field.bottom_percent", pct(x.BottomPercent), pct(y.BottomPercent))
	}
	d.changed("rating", "", rating, "diff.field.floor", floor(a.Floor), floor(b.Floor))
	d.changed("rating", "", rating, "diff.field.grace_years", counted("diff.value.years", a.GraceYears), counted("diff.value.years", b.GraceYears))
	d.changed("rating", "", rating, "diff.field.rectification_days", counted("diff.value.days", a.RectificationDays), counted("diff.value.days", b.RectificationDays))
	d.changed("rating", "", rating, "diff.field.exit_after_d_years", counted("diff.value.years", a.ExitAfterDYears), counted("diff.value.years", b.ExitAfterDYears))
	d.changed("rating", "", rating, "diff.field.publicity_days", counted("diff.value.days", a.PublicityDays), counted("diff.value.days", b.PublicityDays))
	d.changed("rating", "", rating, "diff.field.not_filed", a.NotFiled, b.NotFiled)
	d.changed("rating", "", rating, "diff.field.band_rounding", a.BandRounding, b.BandRounding)
	if !same(a.Classes, b.Classes) {
		d.changed("rating", "", rating, "diff.field.classes", zhText("diff.value.old_measures", nil), zhText("diff.value.new_measures", nil))
	}
	if !same(a.RDSupport, b.RDSupport) {
		d.changed("rating", "", rating, "diff.field.rd_support", show(a.RDSupport), show(b.RDSupport))
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
	return zhText("diff.value.floor", catalog.Args{"Indicator": f.Indicator, "Below": num(f.Below), "Band": f.Band})
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
			d.changed(area, rule, name, "diff.field."+key, show(fa), show(fb))
		}
	}
}

func (d *differ) deadlines(a, b map[string]int) {
	for _, k := range keysOf(a, b) {
		x, okx := a[k]
		y, oky := b[k]
		before, after := "", ""
		if okx {
			before = counted("diff.value.working_days", x)
		}
		if oky {
			after = counted("diff.value.working_days", y)
		}
		d.changed("deadline", k, k, "diff.field.deadline", before, after)
	}
}

func (d *differ) days(field string, a, b []string) {
	d.listDiff("calendar", "", zhText("diff.name.calendar", nil), field, a, b)
}

func (d *differ) examples(a, b []Example) {
	matchByID(a, b, func(x Example) string { return x.ID }, false,
		func(x Example) { d.add(change{kind: "added", area: "example", rule: x.ID, name: x.NameZH}) },
		func(old, x Example) {
			if !same(old, x) {
				d.changed("example", x.ID, x.NameZH, "diff.field.content", zhText("diff.value.old_example", nil), zhText("diff.value.new_example", nil))
			}
		},
		func(x Example) { d.add(change{kind: "removed", area: "example", rule: x.ID, name: x.NameZH}) })
}

func (d *differ) park(a, b *fileSpec) {
	park := zhText("diff.name.park", nil)
	d.changed("park", "", park, "diff.field.name_zh", a.NameZH, b.NameZH)
	d.changed("park", "", park, "diff.field.name_en", a.NameEN, b.NameEN)
	d.changed("park", "", park, "diff.field.level", a.Level, b.Level)
	prec := func(p *int) string {
		if p == nil {
			return ""
		}
		return counted("diff.value.decimals", *p)
	}
	d.changed("park", "", park, "diff.field.precision", prec(a.Precision), prec(b.Precision))
	if !same(a.Targets, b.Targets) {
		d.changed("park", "", park, "diff.field.targets", show(a.Targets), show(b.Targets))
	}
}
