// Package rules holds a park's selection rules as versioned data: the rule-set
// file format, its validation, the automatic screening of a project's figures,
// the expert scoring sheet and the annual per-mu rating. It is pure: no I/O
// beyond parsing bytes it is handed, no database, no clock.
package rules

// Figures are the investor's declared numbers for one project: the only input
// the screening checks read. Money is in 万元, land in 亩, floor area in m²,
// shares in percent (12.5 means 12.5 %), energy in 吨标准煤 (tce) per year,
// electricity in 万千瓦时 (10,000 kWh) per year, land price in 万元/亩.
//
// Every figure is a pointer: nil is a blank, which is never the same as 0
// (a blank office share is not 0 % and does not pass ≤ 7 %). The rule set
// declares which figures are required (see RuleSet.Incomplete) and what a
// blank optional figure means. The veto declarations are explicit yes/no
// answers; nil is "not answered".
type Figures struct {
	IndustryCode         string   `json:"industry_code"`          // GB/T 4754-2017 class code, e.g. "C3985"
	LeasedPlant          bool     `json:"leased_plant,omitempty"` // 租赁标准厂房: no land of its own, land-based rules do not apply
	TotalInvestment      *float64 `json:"total_investment"`       // 总投资, 万元
	FixedAssetInvestment *float64 `json:"fixed_asset_investment"` // 固定资产投资, 万元
	LandArea             *float64 `json:"land_area"`              // 用地面积, 亩
	FloorArea            *float64 `json:"floor_area"`             // 总建筑面积, m²
	BuildingCoverage     *float64 `json:"building_coverage"`      // 建筑系数, %
	OfficeShare          *float64 `json:"office_share"`           // 行政办公及生活服务设施用地所占比重, %
	GreenRatio           *float64 `json:"green_ratio,omitempty"`  // 绿地率, %
	LandGrade            *int     `json:"land_grade,omitempty"`   // 土地等别 (全国工业用地出让最低价标准, 1–15)
	LandPrice            *float64 `json:"land_price,omitempty"`   // 土地出让价格, 万元/亩
	ExpectedOutput       *float64 `json:"expected_output"`        // 达产年产值, 万元/年
	Revenue              *float64 `json:"revenue"`                // 达产年营业收入, 万元/年
	Tax                  *float64 `json:"tax"`                    // 达产年税收, 万元/年
	RDExpense            *float64 `json:"rd_expense"`             // 研发经费投入, 万元/年
	EnergyUse            *float64 `json:"energy_use"`             // 综合能耗, 吨标准煤/年
	Electricity          *float64 `json:"electricity,omitempty"`  // 年用电量, 万千瓦时/年
	Employees            *int     `json:"employees"`              // 就业人数
	NegativeList         *bool    `json:"negative_list"`          // 属淘汰类/限制类/重污染行业
	EcoRedLine           *bool    `json:"eco_red_line"`           // 选址涉及生态保护红线或不符合生态环境分区管控(三线一单)
	BadCredit            *bool    `json:"bad_credit"`             // 投资方存在严重失信记录
	EnergyAssessment     *bool    `json:"energy_assessment"`      // 已取得节能报告及节能审查意见
}

// Severity says whether a failed check blocks the project (hard) or only warns (soft).
type Severity string

// Severities of a check.
const (
	Hard Severity = "hard"
	Soft Severity = "soft"
)

// CheckResult is one line of a rule report.
type CheckResult struct {
	ID        string   `json:"id"`
	NameZH    string   `json:"name_zh"`
	NameEN    string   `json:"name_en"`
	Metric    string   `json:"metric"`            // metric id, e.g. "investment_intensity"
	Unit      string   `json:"unit"`              // e.g. "万元/亩"
	UnitEN    string   `json:"unit_en,omitempty"` // e.g. "10k CNY/mu"; empty when the rule set gives none
	Actual    float64  `json:"actual"`            // computed metric value rounded to the rule set's precision (0/1 for flags)
	Threshold string   `json:"threshold"`         // human-readable, e.g. "≥ 300"
	Applies   bool     `json:"applies"`           // false when a condition made the check not apply (it then passes)
	Pass      bool     `json:"pass"`
	Severity  Severity `json:"severity"`
	// Veto marks a 一票否决 rule: its failure can never be overridden, by
	// anyone; only return (fix the facts) or reject. Every other failed hard
	// check is a quantitative threshold the committee may waive (一事一议).
	Veto bool `json:"veto,omitempty"`
	// NotReported is set when a figure the check reads was left blank: the
	// check then fails, or does not apply where the rule set says so.
	NotReported bool   `json:"not_reported,omitempty"`
	MessageZH   string `json:"message_zh"`
	MessageEN   string `json:"message_en"`
}

// Report is the automatic screening of one project's figures under one rule set.
type Report struct {
	Park            string        `json:"park"`
	RuleSetVersion  string        `json:"rule_set_version"`
	Checks          []CheckResult `json:"checks"`
	HardFailures    int           `json:"hard_failures"`
	VetoFailures    int           `json:"veto_failures,omitempty"` // failed vetoes, counted among HardFailures too
	LeasedPlant     bool          `json:"leased_plant,omitempty"`  // land-based checks did not apply (租赁标准厂房)
	SoftFailures    int           `json:"soft_failures"`
	Leading         bool          `json:"leading"`                     // industry is in the leading-industry catalogue
	LeadingSector   string        `json:"leading_sector"`              // which leading sector, zh
	LeadingSectorEN string        `json:"leading_sector_en,omitempty"` // the same in English
	Tier            string        `json:"tier"`                        // investment tier id, e.g. "land_eligible"
}

// Passed reports whether no hard check failed.
func (r *Report) Passed() bool { return r.HardFailures == 0 }

// Criterion is one line of the expert scoring sheet.
type Criterion struct {
	ID     string  `json:"id" yaml:"id"`
	NameZH string  `json:"name_zh" yaml:"name_zh"`
	NameEN string  `json:"name_en" yaml:"name_en"`
	Max    float64 `json:"max" yaml:"max"` // the criterion's weight in points; all sum to 100
}

// ScoringSheet is the expert review's sheet, pass mark and quorum.
type ScoringSheet struct {
	Criteria []Criterion `json:"criteria" yaml:"criteria"`
	PassMark float64     `json:"pass_mark" yaml:"pass_mark"`
	Quorum   int         `json:"quorum" yaml:"quorum"`
}

// OrZero is *p, or 0 for a blank. It is for places that keep a figure as a
// plain number, such as an agreement's default commitments; screening never
// uses it (a blank is not 0 there).
func OrZero[T int | float64](p *T) T {
	if p == nil {
		return 0
	}
	return *p
}
