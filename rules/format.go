package rules

// This file is the rule-set file format: what a zone official reads and
// edits (parks/*.yaml are the worked examples). The exported types are also
// what the engine and web read back through RuleSet's accessors; the
// unexported ones exist only on the way in.
//
// A file is one YAML mapping (comments welcome; anchors and aliases are
// refused; unknown keys are errors, so a typo never silently drops a rule):
//
//	park, name_zh, name_en, level      identity; level is national or provincial
//	precision: n                       decimals every metric is rounded to (half up) before it is
//	                                   compared or shown; default 2, as published indicators are written
//	industry_catalogue: text           the industry classification codes are read in, with its
//	                                   edition year (GB/T 4754-2017); codes must be its 4-digit classes
//	figures: FiguresSpec               which figures are required, land-only or optional (see below)
//	leading_industries: [Sector]       the "3+1" catalogue, by GB/T 4754 code prefix
//	metrics: [Metric]                  id + formula over Figures' json names
//	checks: [check]                    the screening, reported in this order
//	scoring: ScoringSheet              expert sheet: criteria (max sums to 100), pass_mark, quorum
//	rating: RatingConfig               annual per-mu rating
//	tracking: Tracking                 post-signing milestones
//	targets: ParkTargets               the park's own dashboard targets (optional, targets.go)
//	deadlines: {state: working days}   see DeadlineStates
//	holidays, workdays: [YYYY-MM-DD]   the working-day calendar
//	examples: [Example]                test cases carried with the rules (examples.go)
//
// A check has id, name_zh, name_en, kind, severity (hard|soft), optionally
// veto: true, and, by kind:
//
//	veto           flag: a yes/no figure that fails the check when yes
//	industry_veto  codes: GB/T 4754 codes the industry code must not fall under; matched by
//	               prefix both ways, so neither C3360's class nor its group C336 or division C33 passes
//	threshold      metric, op (>=, >, <=, <; ≥ ≤ too), value: n or {leading: n, other: n}
//	requires       when: {metric, op, value} or when_any: [{…}, …] (any one triggers),
//	               require: a yes/no figure that must then be yes
//
// veto: true marks a 一票否决 rule: a failure can never be overridden by
// anyone, only returned or rejected. kind veto and industry_veto are vetoes
// whether or not the file says so (veto: false on them is an error); veto:
// true on a hard threshold or bracket makes that floor unwaivable too (e.g.
// the national minimum land price). Every other failed hard check is a
// quantitative threshold the committee may waive, naming it (一事一议).
//
// Comparisons are decimal: the metric is computed, cleaned of binary
// floating-point noise at 9 decimals, rounded half up to precision decimals,
// and that number is compared with the threshold and shown in the message;
// thresholds are shown with the same decimals (40,000 m² on 50 亩 is a plot
// ratio of 1.20 and passes ≥ 1.20). A threshold may not carry more decimals
// than precision.
//
// figures: every figure a check reads is declared exactly once:
//
//	required: [name, …]   blank blocks submit (the project stays an incomplete draft)
//	land: [name, …]       required unless the project rents a standard plant (leased_plant);
//	                      for such a project every check over them does not apply, and says so
//	optional: {name: not_applicable | fail}
//	                      a blank is reported as 未填报 and the check does not apply, or fails
//
// A file without figures: (older versions) treats every figure its checks
// read as required, and a yes/no figure a requires check reads as optional:
// fail.
//	bracket        metric, op, by: metric, table: [{upto, value}, …, {value}] (rows: by ≤ upto)
//	tier           metric, tiers: [{id, name_zh, name_en, below, pass}, …, {…, pass}] (tiers: metric < below)

// fileSpec is one rule-set file as written.
type fileSpec struct {
	Park      string       `yaml:"park" json:"park"`
	NameZH    string       `yaml:"name_zh" json:"name_zh"`
	NameEN    string       `yaml:"name_en" json:"name_en"`
	Level     string       `yaml:"level" json:"level"`
	Precision *int         `yaml:"precision,omitempty" json:"precision,omitempty"`
	Catalogue string       `yaml:"industry_catalogue,omitempty" json:"industry_catalogue,omitempty"`
	Figures   *FiguresSpec `yaml:"figures,omitempty" json:"figures,omitempty"`
	Leading   []Sector     `yaml:"leading_industries" json:"leading_industries"`
	Metrics   []Metric     `yaml:"metrics" json:"metrics"`
	Checks    []checkSpec  `yaml:"checks" json:"checks"`
	Scoring   ScoringSheet `yaml:"scoring" json:"scoring"`
	// Committee is how the committee decides in a meeting (集体决策);
	// absent, the defaults of CommitteeRules apply.
	Committee *CommitteeRules `yaml:"committee,omitempty" json:"committee,omitempty"`
	// Experts is the random draw from the park's expert pool (专家库);
	// absent, the defaults of ExpertRules apply.
	Experts *ExpertRules `yaml:"experts,omitempty" json:"experts,omitempty"`
	// Reminders is how overdue projects are chased (催办); absent, DefaultReminderRules.
	Reminders *ReminderRules `yaml:"reminders,omitempty" json:"reminders,omitempty"`
	Rating    RatingConfig   `yaml:"rating" json:"rating"`
	Tracking  Tracking       `yaml:"tracking" json:"tracking"`
	Targets   *ParkTargets   `yaml:"targets,omitempty" json:"targets,omitempty"` // targets.go
	Deadlines map[string]int `yaml:"deadlines" json:"deadlines"`
	Examples  []Example      `yaml:"examples,omitempty" json:"examples,omitempty"` // examples.go
	// Holidays and Workdays are no longer used: the working-day calendar is
	// its own versioned data (engine's calendar). They stay readable so rule
	// sets stored before the change still parse to the same version.
	Holidays []string `yaml:"holidays" json:"holidays"`
	Workdays []string `yaml:"workdays" json:"workdays"`
}

// FiguresSpec declares, for every figure the checks read, whether a blank
// blocks submit (Required), blocks submit unless the project rents a
// standard plant (Land), or is allowed (Optional, with what a blank means).
type FiguresSpec struct {
	Required []string          `yaml:"required" json:"required"`
	Land     []string          `yaml:"land,omitempty" json:"land,omitempty"`
	Optional map[string]string `yaml:"optional,omitempty" json:"optional,omitempty"`
}

// What a blank optional figure means for a check that reads it.
const (
	BlankNotApplicable = "not_applicable"
	BlankFail          = "fail"
)

// Sector is one leading industry of the park's catalogue (主导产业), matched
// by GB/T 4754 code prefix: "C39" covers every code of division 39.
type Sector struct {
	ID     string   `yaml:"id" json:"id"`
	NameZH string   `yaml:"name_zh" json:"name_zh"`
	NameEN string   `yaml:"name_en" json:"name_en"`
	Codes  []string `yaml:"codes" json:"codes"`
}

// Metric is a named formula over the project's Figures, e.g.
// "fixed_asset_investment / land_area". Checks refer to metrics by ID, so a
// number like investment intensity is defined once and reported with its unit.
type Metric struct {
	ID      string `yaml:"id" json:"id"`
	NameZH  string `yaml:"name_zh" json:"name_zh"`
	NameEN  string `yaml:"name_en" json:"name_en"`
	Unit    string `yaml:"unit" json:"unit"`       // as shown in Chinese, e.g. "万元/亩"
	UnitEN  string `yaml:"unit_en" json:"unit_en"` // as shown in English, e.g. "10k CNY/mu"
	Formula string `yaml:"formula" json:"formula"`
}

// Check kinds.
const (
	kindVeto         = "veto"          // a yes/no figure that must be no
	kindIndustryVeto = "industry_veto" // the industry code must not start with a listed prefix
	kindThreshold    = "threshold"     // metric op value, value possibly per industry class
	kindRequires     = "requires"      // when metric op value, a yes/no figure must be yes
	kindBracket      = "bracket"       // metric op value, value looked up by another metric
	kindTier         = "tier"          // which band of a metric the project falls in
)

// checkSpec is one check as written. Which fields apply depends on Kind;
// validation rejects fields that the kind does not use, so a misplaced line
// is an error rather than silently ignored.
//
// Value, Upto and Below are decoded as any so that a threshold of the wrong
// type ("300万", yes) is reported by validation with rule and field, instead
// of aborting the decoder at the first mistake.
type checkSpec struct {
	ID       string       `yaml:"id" json:"id"`
	NameZH   string       `yaml:"name_zh" json:"name_zh"`
	NameEN   string       `yaml:"name_en" json:"name_en"`
	Kind     string       `yaml:"kind" json:"kind"`
	Severity string       `yaml:"severity" json:"severity"`
	Veto     *bool        `yaml:"veto,omitempty" json:"veto,omitempty"`
	Flag     string       `yaml:"flag,omitempty" json:"flag,omitempty"`
	Codes    []string     `yaml:"codes,omitempty" json:"codes,omitempty"`
	Metric   string       `yaml:"metric,omitempty" json:"metric,omitempty"`
	Op       string       `yaml:"op,omitempty" json:"op,omitempty"`
	Value    any          `yaml:"value,omitempty" json:"value,omitempty"`
	When     *condSpec    `yaml:"when,omitempty" json:"when,omitempty"`
	WhenAny  []condSpec   `yaml:"when_any,omitempty" json:"when_any,omitempty"`
	Require  string       `yaml:"require,omitempty" json:"require,omitempty"`
	By       string       `yaml:"by,omitempty" json:"by,omitempty"`
	Table    []bracketRow `yaml:"table,omitempty" json:"table,omitempty"`
	Tiers    []tierSpec   `yaml:"tiers,omitempty" json:"tiers,omitempty"`
}

// condSpec is the condition of a requires check: metric op value.
type condSpec struct {
	Metric string `yaml:"metric" json:"metric"`
	Op     string `yaml:"op" json:"op"`
	Value  any    `yaml:"value" json:"value"`
}

// bracketRow is one row of a decision table: while the "by" metric is ≤
// Upto, the threshold is Value. The last row has no Upto and catches the rest.
type bracketRow struct {
	Upto  any `yaml:"upto,omitempty" json:"upto,omitempty"`
	Value any `yaml:"value" json:"value"`
}

// tierSpec is one band of a tier check: metric < Below (the last tier has
// no Below). Pass says whether a project in this tier passes the check.
type tierSpec struct {
	ID     string `yaml:"id" json:"id"`
	NameZH string `yaml:"name_zh" json:"name_zh"`
	NameEN string `yaml:"name_en" json:"name_en"`
	Below  any    `yaml:"below,omitempty" json:"below,omitempty"`
	Pass   bool   `yaml:"pass" json:"pass"`
}

// RatingConfig is the annual per-mu efficiency rating (亩均效益评价).
type RatingConfig struct {
	// Indicators are scored value ÷ benchmark × weight (or benchmark ÷ value
	// × weight when lower is better), each capped at Cap × weight.
	Indicators []Indicator `yaml:"indicators" json:"indicators"`
	Cap        float64     `yaml:"cap" json:"cap"` // multiple of an indicator's weight, e.g. 1.5
	// Bands are assigned by rank, best first; see Rate for the exact rule.
	Bands []Band `yaml:"bands" json:"bands"`
	Floor Floor  `yaml:"floor" json:"floor"`
	// GraceYears after the land grant a firm is not rated and counts as GraceBand.
	// The engine decides FirmYear.InGrace from dates; rules has no clock.
	GraceYears int    `yaml:"grace_years" json:"grace_years"`
	GraceBand  string `yaml:"grace_band" json:"grace_band"`
	// RectificationDays is the calendar-day period of a rectification order.
	RectificationDays int `yaml:"rectification_days" json:"rectification_days"`
	// ExitAfterDYears consecutive years in the worst band open exit.
	ExitAfterDYears int `yaml:"exit_after_d_years" json:"exit_after_d_years"`

	// BandRounding is the published convention that turns shares of firms
	// into numbers of firms: "half_up" (a band's cumulative count from the
	// top is round(n × P %), 0.5 rounded up; a bottom band's count from the
	// bottom likewise). Left out, the rule set keeps the first convention
	// ("ceil": fewer than P % of the rated firms strictly ahead), so the
	// runs made under such rule-set versions still reproduce.
	BandRounding string `yaml:"band_rounding,omitempty" json:"band_rounding,omitempty"`
	// NotRatedClass names the class of firms that are not rated (only
	// NotRatedClassName, "T", is accepted): a firm with an indicator whose Missing is "not_rated", or that filed
	// nothing when NotFiled names this class.
	NotRatedClass string `yaml:"not_rated_class,omitempty" json:"not_rated_class,omitempty"`
	// NotFiled is what a firm that filed no annual figures gets: the
	// NotRatedClass, or one of the bands (e.g. "D"). Left out, such firms are
	// only listed as missing (the first convention).
	NotFiled string `yaml:"not_filed,omitempty" json:"not_filed,omitempty"`
	// Classes are the differentiated measures per class (A 优先保障 …).
	Classes []ClassMeasures `yaml:"classes,omitempty" json:"classes,omitempty"`
	// RDSupport flags rated firms with high R&D intensity for support
	// (对研发投入高的企业予以倾斜支持).
	RDSupport *RDSupport `yaml:"rd_support,omitempty" json:"rd_support,omitempty"`
	// PublicityDays is how many calendar days a run is published (公示) for
	// objections before the committee may make it final; 0 means runs are
	// final at once and act when they are made (the first convention).
	PublicityDays int `yaml:"publicity_days,omitempty" json:"publicity_days,omitempty"`
	// BelowScale is the method of firms below designated size (规下), rated
	// and ranked among themselves on their own indicators (e.g. 亩均税收 and
	// tax per kWh); the classes, rounding, floor (when the method has the
	// floor's indicator) and the rest are shared. Left out, every firm is
	// rated on Indicators.
	BelowScale *RatingMethod `yaml:"below_scale,omitempty" json:"below_scale,omitempty"`
}

// RatingMethod is a second set of indicators for a group of firms.
type RatingMethod struct {
	NameZH     string      `yaml:"name_zh" json:"name_zh"`
	NameEN     string      `yaml:"name_en" json:"name_en"`
	Indicators []Indicator `yaml:"indicators" json:"indicators"` // weights sum to 100
}

// Band rounding conventions (RatingConfig.BandRounding).
const (
	RoundingCeil   = "ceil"
	RoundingHalfUp = "half_up"
)

// What an indicator without data scores (Indicator.Missing).
const (
	MissingAverage  = "average"   // the average points of the indicator among rated firms that have the data
	MissingZero     = "zero"      // 0 points
	MissingNotRated = "not_rated" // the firm is not rated: the not_rated_class
)

// ClassMeasures are the measures that go with one class of the rating
// (差别化政策): land, electricity, water and gas prices, credit, subsidies.
type ClassMeasures struct {
	Class      string   `yaml:"class" json:"class"`
	NameZH     string   `yaml:"name_zh" json:"name_zh"` // e.g. 优先保障
	NameEN     string   `yaml:"name_en" json:"name_en"`
	MeasuresZH []string `yaml:"measures_zh" json:"measures_zh"`
	MeasuresEN []string `yaml:"measures_en" json:"measures_en"`
}

// RDSupport flags firms whose R&D intensity (R&D expense ÷ revenue × 100)
// reaches AtLeast percent, with the support they are due.
type RDSupport struct {
	AtLeast   float64 `yaml:"at_least" json:"at_least"`
	MeasureZH string  `yaml:"measure_zh" json:"measure_zh"`
	MeasureEN string  `yaml:"measure_en" json:"measure_en"`
}

// Indicator is one weighted indicator of the annual rating.
type Indicator struct {
	ID        string  `yaml:"id" json:"id"`
	NameZH    string  `yaml:"name_zh" json:"name_zh"`
	NameEN    string  `yaml:"name_en" json:"name_en"`
	Unit      string  `yaml:"unit" json:"unit"`
	UnitEN    string  `yaml:"unit_en" json:"unit_en"`
	Formula   string  `yaml:"formula" json:"formula"` // over FirmYear's fields, e.g. "tax / land_area"
	Weight    float64 `yaml:"weight" json:"weight"`   // points; all weights sum to 100
	Benchmark float64 `yaml:"benchmark" json:"benchmark"`
	Better    string  `yaml:"better" json:"better"` // "higher" or "lower"
	// Data are the reported figures the indicator rests on (e.g. energy_use):
	// a 0 there means "not reported", never "none at all".
	Data []string `yaml:"data,omitempty" json:"data,omitempty"`
	// Missing is what the indicator scores when a Data figure is 0 or the
	// value cannot be computed: average, zero or not_rated. Left out, the
	// first convention holds (the formula's value as it comes; not computable
	// is 0 points).
	Missing string `yaml:"missing,omitempty" json:"missing,omitempty"`
}

// BandNames are the names of the rating bands, best first, and
// NotRatedClassName the class of firms not rated. A rule set sets how many
// bands it has (two to four, named from the start of this list) and their
// shares, not their names: the dashboard, the Excel exports and the rating
// run's log entry list the classes by these names, and validation refuses
// others rather than let them vanish from those views.
var BandNames = []string{"A", "B", "C", "D"}

// NotRatedClassName is the one name of the not-rated class (see BandNames).
const NotRatedClassName = "T"

// Band is one rating band. UptoPercent is the cumulative share of rated
// firms, by rank, that the band reaches (A 20, B 60); the last band leaves
// it 0 and takes the rest, or (with half_up rounding) is counted from the
// bottom: BottomPercent of the rated firms, at least MinFirms once there are
// MinFirmsFrom rated firms; the band before it then takes what is between.
type Band struct {
	Band          string  `yaml:"band" json:"band"`
	UptoPercent   float64 `yaml:"upto_percent,omitempty" json:"upto_percent,omitempty"`
	BottomPercent float64 `yaml:"bottom_percent,omitempty" json:"bottom_percent,omitempty"`
	MinFirms      int     `yaml:"min_firms,omitempty" json:"min_firms,omitempty"`
	MinFirmsFrom  int     `yaml:"min_firms_from,omitempty" json:"min_firms_from,omitempty"`
}

// Floor puts a firm in Band regardless of rank when Indicator is below Below
// (a firm under 5 万元/亩 tax is D).
type Floor struct {
	Indicator string  `yaml:"indicator" json:"indicator"`
	Below     float64 `yaml:"below" json:"below"`
	Band      string  `yaml:"band" json:"band"`
}

// Tracking holds the defaults of the post-signing follow-up
// (落地跟踪服务): the milestones an investor promises and when a miss escalates.
type Tracking struct {
	StartWithinMonths    int   `yaml:"start_within_months" json:"start_within_months"`       // construction starts within this many months of land delivery
	ConstructionMonths   int   `yaml:"construction_months" json:"construction_months"`       // from construction start to completion
	FullProductionMonths int   `yaml:"full_production_months" json:"full_production_months"` // from land delivery to full production
	EscalationGraceDays  int   `yaml:"escalation_grace_days" json:"escalation_grace_days"`   // a missed milestone escalates after this many calendar days
	IdleLandYears        []int `yaml:"idle_land_years" json:"idle_land_years"`               // years past the agreed start at which land is flagged idle (fee, then recovery)
	// ReviewTolerance is the full-production review's (达产复核) tolerance, in
	// % of each committed figure: an actual below commitment × (1 − t/100)
	// opens rectification.
	ReviewTolerance float64 `yaml:"review_tolerance" json:"review_tolerance"`
}
