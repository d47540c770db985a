package rules

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"zonevet/rules/catalog"
)

// figureDef describes one field of Figures: its json name, whether it has a
// unit, and the largest value a person could mean. Exactly one accessor is
// set. Its words are catalogue ids named after it (figure.label.<name> as the
// form labels it, figure.name.<name> as messages name it, figure.unit.<name>),
// in locales/figures.*.json, where a firm's annual figures are named too.
type figureDef struct {
	name string
	unit bool // figure.unit.<name> is defined
	// max is the inclusive upper bound of what a human could mean: a value
	// above it is a typing slip (an extra 0, yuan for 万元) or an attack, and
	// is refused naming the field rather than screened.
	max   float64
	min   float64 // inclusive lower bound (0 for every figure but land_grade)
	share bool    // a percentage
	num   func(*Figures) **float64
	count func(*Figures) **int
	flag  func(*Figures) **bool
}

// maxMoney is 1 亿 万元 (one trillion yuan): more than any single industrial
// project in China has ever declared, far below what float64 could hold.
const maxMoney = 1e8

// figureDefs lists every figure a project declares, in form order. It is the
// one place a figure's bounds live; its words are the catalogue's (figureDef).
var figureDefs = []figureDef{
	{name: "total_investment", unit: true, max: maxMoney,
		num: func(f *Figures) **float64 { return &f.TotalInvestment }},
	{name: "fixed_asset_investment", unit: true, max: maxMoney,
		num: func(f *Figures) **float64 { return &f.FixedAssetInvestment }},
	// 1e5 亩 is about 67 km², the size of a whole national high-tech zone.
	{name: "land_area", unit: true, max: 1e5,
		num: func(f *Figures) **float64 { return &f.LandArea }},
	{name: "floor_area", unit: true, max: 1e8,
		num: func(f *Figures) **float64 { return &f.FloorArea }},
	{name: "building_coverage", unit: true, max: 100, share: true,
		num: func(f *Figures) **float64 { return &f.BuildingCoverage }},
	{name: "office_share", unit: true, max: 100, share: true,
		num: func(f *Figures) **float64 { return &f.OfficeShare }},
	{name: "green_ratio", unit: true, max: 100, share: true,
		num: func(f *Figures) **float64 { return &f.GreenRatio }},
	{name: "land_grade", unit: true, min: 1, max: 15,
		count: func(f *Figures) **int { return &f.LandGrade }},
	// 1e4 万元/亩 is 150,000 元/m², over twice the dearest industrial land ever sold.
	{name: "land_price", unit: true, max: 1e4,
		num: func(f *Figures) **float64 { return &f.LandPrice }},
	{name: "expected_output", unit: true, max: maxMoney,
		num: func(f *Figures) **float64 { return &f.ExpectedOutput }},
	{name: "revenue", unit: true, max: maxMoney,
		num: func(f *Figures) **float64 { return &f.Revenue }},
	{name: "tax", unit: true, max: maxMoney,
		num: func(f *Figures) **float64 { return &f.Tax }},
	{name: "rd_expense", unit: true, max: maxMoney,
		num: func(f *Figures) **float64 { return &f.RDExpense }},
	// 1e8 吨标准煤/年 is about twice the largest steel works in the world.
	{name: "energy_use", unit: true, max: 1e8,
		num: func(f *Figures) **float64 { return &f.EnergyUse }},
	// 1e7 万千瓦时 is 100 TWh a year, more than any single plant draws.
	{name: "electricity", unit: true, max: 1e7,
		num: func(f *Figures) **float64 { return &f.Electricity }},
	{name: "employees", unit: true, max: 1e6,
		count: func(f *Figures) **int { return &f.Employees }},
	{name: "negative_list", flag: func(f *Figures) **bool { return &f.NegativeList }},
	{name: "eco_red_line", flag: func(f *Figures) **bool { return &f.EcoRedLine }},
	{name: "bad_credit", flag: func(f *Figures) **bool { return &f.BadCredit }},
	{name: "energy_assessment", flag: func(f *Figures) **bool { return &f.EnergyAssessment }},
}

var figureByName = func() map[string]*figureDef {
	m := make(map[string]*figureDef, len(figureDefs))
	for i := range figureDefs {
		m[figureDefs[i].name] = &figureDefs[i]
	}
	return m
}()

// blank reports whether the figure name is left blank in f. The industry
// code is blank when empty.
func blank(f *Figures, name string) bool {
	if name == "industry_code" {
		return strings.TrimSpace(f.IndustryCode) == ""
	}
	d := figureByName[name]
	switch {
	case d == nil:
		return false
	case d.num != nil:
		return *d.num(f) == nil
	case d.count != nil:
		return *d.count(f) == nil
	}
	return *d.flag(f) == nil
}

// FigureNames lists the json names of every figure, in form order.
func FigureNames() []string {
	out := make([]string, len(figureDefs))
	for i, d := range figureDefs {
		out[i] = d.name
	}
	return out
}

// FigureLabel names a figure in Chinese and English as the project form
// does, for messages that list fields.
func FigureLabel(name string) (zh, en string) {
	if figureByName[name] != nil {
		return catalog.Message{ID: "figure.label." + name}.Both()
	}
	if w, ok := figureWords()[name]; ok {
		return w[0], w[1]
	}
	return name, name
}

// FigureUnit is a figure's unit in Chinese and English (万元, 10k CNY), ""
// for a figure without one.
func FigureUnit(name string) (zh, en string) {
	if d := figureByName[name]; d != nil && d.unit {
		return catalog.Message{ID: "figure.unit." + name}.Both()
	}
	return "", ""
}

// figureWords are the names messages give figures (a project's and a firm's,
// figure.name.<name>), zh and en, rendered once: screening joins them on its
// hot path.
var figureWords = sync.OnceValue(func() map[string][2]string {
	m := map[string][2]string{}
	for _, name := range append(FigureNames(), firmFigures...) {
		m[name] = both("figure.name." + name)
	}
	return m
})

// both renders a message without arguments in Chinese and English.
func both(id string) [2]string {
	zh, en := catalog.Message{ID: id}.Both()
	return [2]string{zh, en}
}

// firmFigures are the figures messages name beside a project's: the
// industry code, the leased-plant mark and a firm's annual figures that a
// project does not declare.
var firmFigures = []string{"industry_code", "leased_plant", "output", "value_added", "emissions"}

// figureName is a figure as an argument of a message, rendered in the
// reader's language; "" for a name that is not a figure.
func figureName(name string) any {
	if m, ok := figureNameMessages()[name]; ok {
		return m
	}
	return ""
}

// figureNameMessages are figureName's answers, made once: every screening
// checks every figure, naming it for a refusal it almost never makes.
var figureNameMessages = sync.OnceValue(func() map[string]any {
	m := map[string]any{}
	for name := range figureWords() {
		m[name] = catalog.Message{ID: "figure.name." + name}
	}
	return m
})

// rangeUnit is what follows a figure's bounds in figure.out_of_range: its
// unit, "a percentage" for a share, nothing for a grade (an ordinal).
func (d *figureDef) rangeUnit() any {
	switch {
	case d.share:
		return catalog.Message{ID: "figure.range_unit.share"}
	case d.min > 0 || !d.unit:
		return ""
	}
	return catalog.Message{ID: "figure.unit_after", Args: catalog.Args{"Unit": catalog.Message{ID: "figure.unit." + d.name}}}
}

// FigureMax is the largest value of a figure a person could mean, for the
// form's max attribute; 0 for yes/no figures and unknown names.
func FigureMax(name string) float64 {
	if d := figureByName[name]; d != nil {
		return d.max
	}
	return 0
}

// CheckFigures refuses what no project can have, whatever the rule set: a
// number that is not finite, negative, above what a human could mean
// (figureDefs' max), a share above 100, a land grade outside 1–15, a
// fixed-asset investment above the total, and a malformed industry code.
// Blanks are fine here (a draft may be incomplete); Incomplete and
// CheckSubmission judge them at submit. The error names the field.
func CheckFigures(f Figures) error {
	if errs := FigureProblems(f); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// FigureProblems is every problem CheckFigures looks for, at most one per
// figure, in form order: a form shows them all at once beside their fields
// instead of one per round trip.
func FigureProblems(f Figures) []error {
	var out []error
	if code := strings.ToUpper(strings.TrimSpace(f.IndustryCode)); code != "" {
		if err := checkIndustryCode(code, false); err != nil {
			out = append(out, err)
		}
	}
	for i := range figureDefs {
		d := &figureDefs[i]
		var v float64
		switch {
		case d.num != nil && *d.num(&f) != nil:
			v = **d.num(&f)
		case d.count != nil && *d.count(&f) != nil:
			v = float64(**d.count(&f))
		default:
			continue
		}
		if d.min == 0 {
			if err := CheckAmount(d.name, figureName(d.name), v); err != nil {
				out = append(out, err)
				continue
			}
		}
		switch {
		case !finite(v):
			out = append(out, CheckAmount(d.name, figureName(d.name), v))
		case v < d.min || v > d.max:
			out = append(out, inputMsg(d.name, "figure.out_of_range", catalog.Args{"Name": figureName(d.name),
				"Min": fmtNum(d.min), "Max": fmtNum(d.max), "Unit": d.rangeUnit(), "Value": fmtNum(v)}))
		}
	}
	if f.FixedAssetInvestment != nil && f.TotalInvestment != nil && *f.FixedAssetInvestment > *f.TotalInvestment {
		out = append(out, inputMsg("fixed_asset_investment", "figure.fixed_over_total", nil))
	}
	return out
}

// gbt4754Sections maps each section letter of GB/T 4754-2017 to its range
// of two-digit divisions (门类 → 大类): A 农林牧渔业 01–05, B 采矿业 06–12,
// C 制造业 13–43, … T 国际组织 98. A code whose digits do not belong to its
// letter (C05, A13) is not a code of the catalogue.
var gbt4754Sections = map[byte][2]int{
	'A': {1, 5}, 'B': {6, 12}, 'C': {13, 43}, 'D': {44, 46}, 'E': {47, 50}, 'F': {51, 52}, 'G': {53, 60},
	'H': {61, 62}, 'I': {63, 65}, 'J': {66, 69}, 'K': {70, 70}, 'L': {71, 72}, 'M': {73, 75}, 'N': {76, 79},
	'O': {80, 82}, 'P': {83, 83}, 'Q': {84, 85}, 'R': {86, 90}, 'S': {91, 97}, 'T': {98, 98},
}

// IndustryCatalogue is the industry classification every code is read in.
const IndustryCatalogue = "GB/T 4754-2017"

// checkIndustryCode refuses a code that is not of GB/T 4754-2017's shape:
// a section letter and 2 (division, 大类), 3 (group, 中类) or 4 (class, 小类)
// digits, the division within the letter's range. With class, only a 4-digit
// class code is accepted, as screening needs (a division or group spans
// classes with different rules).
func checkIndustryCode(code string, class bool) error {
	bad := func(id string, args catalog.Args) error {
		return inputMsg("industry_code", "industry.bad_code", catalog.Args{"Code": code, "Problem": catalog.Message{ID: id, Args: args}})
	}
	if !industryCode.MatchString(code) {
		return bad("industry.not_a_code", catalog.Args{"Catalogue": IndustryCatalogue})
	}
	div, _ := strconv.Atoi(code[1:3])
	if r := gbt4754Sections[code[0]]; div < r[0] || div > r[1] {
		return bad("industry.no_division", catalog.Args{"Section": string(code[0]),
			"Div": fmt.Sprintf("%02d", div), "From": fmt.Sprintf("%02d", r[0]), "To": fmt.Sprintf("%02d", r[1])})
	}
	if class && len(code) != 5 {
		level := map[int]string{3: "industry.level_division", 4: "industry.level_group"}[len(code)]
		return bad("industry.too_coarse", catalog.Args{"Level": catalog.Message{ID: level}})
	}
	return nil
}

// Incomplete lists the figures the rule set requires that f leaves blank,
// in form order (the industry code first); the land figures count unless the
// project rents a standard plant. Submit is refused while it is not empty,
// every field named at once; a draft may stay incomplete.
func (rs *RuleSet) Incomplete(f Figures) []string {
	var out []string
	for _, r := range rs.required {
		if !(r.land && f.LeasedPlant) && blank(&f, r.name) {
			out = append(out, r.name)
		}
	}
	return out
}

// requiredFigures lists, once per rule set, the figures Incomplete asks for.
func (rs *RuleSet) requiredFigures() []requiredFigure {
	var out []requiredFigure
	for _, name := range append([]string{"industry_code"}, FigureNames()...) {
		switch rs.figureMode[name] {
		case figureRequired:
			out = append(out, requiredFigure{name: name})
		case figureLand:
			out = append(out, requiredFigure{name: name, land: true})
		}
	}
	return out
}

// CheckIndustryClass refuses an industry code that is not a 4-digit class of
// GB/T 4754-2017 (a division C33 or group C336 spans classes the rules treat
// differently); an empty code is "required".
func CheckIndustryClass(code string) error {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return inputMsg("industry_code", "industry.required", catalog.Args{"Catalogue": IndustryCatalogue})
	}
	return checkIndustryCode(code, true)
}

// FigureMode says how the rule set treats a blank figure: "required",
// "land" (required unless leased_plant), "not_applicable" or "fail"
// (optional), or "" when no check reads it.
func (rs *RuleSet) FigureMode(name string) string { return rs.figureMode[name] }

// IsVeto reports whether the check id is a veto (一票否决) in this rule set;
// the engine asks the rule set rather than trusting a stored report, which
// may predate the report's Veto field.
func (rs *RuleSet) IsVeto(id string) bool {
	for _, c := range rs.checks {
		if c.id == id {
			return c.veto
		}
	}
	return false
}

// Precision is the number of decimals metrics are rounded to (half up)
// before they are compared and shown.
func (rs *RuleSet) Precision() int { return rs.precision }

// Number returns the address of the named numeric figure (nil when name is
// not one), so a form or import can set or read it by its json name.
func (f *Figures) Number(name string) **float64 {
	if d := figureByName[name]; d != nil && d.num != nil {
		return d.num(f)
	}
	return nil
}

// Count returns the address of the named whole-number figure (employees,
// land_grade), or nil.
func (f *Figures) Count(name string) **int {
	if d := figureByName[name]; d != nil && d.count != nil {
		return d.count(f)
	}
	return nil
}

// Flag returns the address of the named yes/no figure, or nil.
func (f *Figures) Flag(name string) **bool {
	if d := figureByName[name]; d != nil && d.flag != nil {
		return d.flag(f)
	}
	return nil
}
