package engine

import (
	"context"
	"math"
	"time"

	"zonevet/rules"
)

// This file holds the after-signature half of the lifecycle
// (《重大招商引资项目落地跟踪服务制度》): the investment agreement's
// commitments, the milestones that show whether a project lands, the
// annual figures firms report, the per-mu rating runs over them, and the
// rectification and exit that follow a poor rating.

// Tracking events: not fsm events (the project's state does not change), but
// every one is a decision-log entry, so who recorded what is on file.
const (
	EventAgreement     = "agreement"      // agreement commitments recorded or edited
	EventMilestone     = "milestone"      // a milestone's completion recorded
	EventFigures       = "annual_figures" // one firm's annual figures entered in the form
	EventImport        = "import_figures" // a park's annual sheet imported
	EventPlan          = "rectification_plan"
	trackingObject     = "tracking" // the casbin object of the tracking actions
	actAgreement       = "agreement"
	actMilestone       = "milestone"
	actFigures         = "figures"
	actRate            = "rate"
	actPlan            = "plan"
	bracketCheckID     = "hightech_rd_bracket" // the rule-set check holding the high-tech R&D bracket
	maxTrackingComment = 2000
)

// Agreement is the investment agreement's commitments (投资协议承诺), recorded
// at signing and editable afterwards. Dates are civil dates in the zone's
// time zone, held as midnight UTC so they compare and store without drift.
type Agreement struct {
	ProjectID            int64     `json:"project_id"`
	Park                 string    `json:"park"`
	SignedOn             time.Time `json:"signed_on"`
	LandDeliveredOn      time.Time `json:"land_delivered_on"` // 交地日期: the grace period and idle-land clock start here
	LandArea             float64   `json:"land_area"`         // 亩
	FixedAssetInvestment float64   `json:"fixed_asset_investment"`
	OutputPerMu          float64   `json:"output_per_mu"` // at full production, 万元/亩
	TaxPerMu             float64   `json:"tax_per_mu"`    // at full production, 万元/亩
	RDIntensity          float64   `json:"rd_intensity"`  // %, R&D expense ÷ revenue
	Employees            int       `json:"employees"`
	StartBy              time.Time `json:"start_by"`           // construction start
	CompleteBy           time.Time `json:"complete_by"`        // construction completed
	ProductionBy         time.Time `json:"production_by"`      // production start
	FullProductionBy     time.Time `json:"full_production_by"` // full production (达产)
	// ReviewClause is the agreement's clause holding the full-production
	// commitments (e.g. "第五条"), which a 达产复核 shortfall cites.
	ReviewClause string    `json:"review_clause,omitempty"`
	UpdatedBy    string    `json:"updated_by"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Milestone kinds, in the order a project passes them.
const (
	MilestoneStart          = "construction_start"
	MilestoneCompletion     = "completion"
	MilestoneProduction     = "production_start"
	MilestoneFullProduction = "full_production"
)

// MilestoneKinds lists the milestones of an agreement in order.
var MilestoneKinds = []string{MilestoneStart, MilestoneCompletion, MilestoneProduction, MilestoneFullProduction}

// Milestone is a milestone reached, with its evidence.
type Milestone struct {
	ProjectID  int64     `json:"project_id"`
	Kind       string    `json:"kind"`
	DoneOn     time.Time `json:"done_on"`
	Note       string    `json:"note"`
	DocumentID int64     `json:"document_id,omitempty"` // evidence (a project document of kind "milestone")
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

// MilestoneStatus is where one milestone of a project stands today.
type MilestoneStatus struct {
	Kind      string     `json:"kind"`
	Due       time.Time  `json:"due"`
	Done      *Milestone `json:"done,omitempty"`
	DaysLate  int        `json:"days_late"` // days past due, 0 when on time or done in time
	Overdue   bool       `json:"overdue"`   // not done and past due
	Escalated bool       `json:"escalated"` // overdue for longer than the rule set's grace period: the committee follows it
}

// IdleLand is the idle-land flag of a project whose land was delivered but
// where construction has not started (《闲置土地处置办法》).
type IdleLand struct {
	Years    int       `json:"years"`     // full years past the agreed construction start
	Since    time.Time `json:"since"`     // the agreed start date the years count from
	Recovery bool      `json:"recovery"`  // the last threshold: land liable for recovery (无偿收回)
	LevelZH  string    `json:"level_zh"`  // 闲置土地 / 可无偿收回
	LevelEN  string    `json:"level_en"`  // idle land / liable for recovery
	Delivery time.Time `json:"delivered"` // land delivery date
}

// AnnualFigures are one firm's figures for one year, as it reports them for
// the per-mu rating and the zone's statistics. Money in 万元, energy in tce,
// emissions in tonnes.
type AnnualFigures struct {
	ProjectID  int64   `json:"project_id"`
	Park       string  `json:"park"`
	Year       int     `json:"year"`
	Revenue    float64 `json:"revenue"`
	Output     float64 `json:"output"`
	ValueAdded float64 `json:"value_added"`
	Tax        float64 `json:"tax"`
	RDExpense  float64 `json:"rd_expense"`
	EnergyUse  float64 `json:"energy_use"`
	Emissions  float64 `json:"emissions"`
	Employees  int     `json:"employees"`
	// Electricity is the year's electricity use in 万千瓦时 (10,000 kWh),
	// the base of the below-scale rating's tax per kWh; 0 when not reported.
	Electricity float64   `json:"electricity,omitempty"`
	HighTech    bool      `json:"high_tech"`   // certified high-tech enterprise (高新技术企业)
	AboveScale  bool      `json:"above_scale"` // above-designated-size industrial firm (规上工业企业)
	EnteredBy   string    `json:"entered_by"`
	EnteredAt   time.Time `json:"entered_at"`
}

// RatingInput is one firm's input to a rating run: everything the run's
// result depends on, stored with the run so it can be recomputed.
type RatingInput struct {
	Firm        rules.FirmYear `json:"firm"`
	RDCommitted float64        `json:"rd_committed"` // %, from the agreement; 0 when none
	HighTech    bool           `json:"high_tech"`
	Delivered   string         `json:"land_delivered_on,omitempty"` // why InGrace is what it is
}

// RatingResult is one firm's line of a rating run: the rules' rating plus the
// R&D checks and what the run did about it.
type RatingResult struct {
	rules.Rating
	RunID       int64   `json:"run_id"`
	Year        int     `json:"year"`
	TaxPerMu    float64 `json:"tax_per_mu"`
	OutputPerMu float64 `json:"output_per_mu"`
	RDIntensity float64 `json:"rd_intensity"` // %; -1 when revenue is 0
	RDCommitted float64 `json:"rd_committed"`
	// RDBelowCommitment: R&D intensity below the agreement's commitment, which
	// opens rectification like a D rating.
	RDBelowCommitment bool `json:"rd_below_commitment"`
	// RDBracket is the high-tech R&D bracket for the firm's revenue (e.g. "≥ 4");
	// RDBelowBracket says the firm misses it and so risks its high-tech status.
	RDBracket      string `json:"rd_bracket"`
	RDBelowBracket bool   `json:"rd_below_bracket"`
	HighTech       bool   `json:"high_tech"`
	// Action is what the run did: "rectify" (opened rectification),
	// "exit_due" (D for the second year running: the committee must decide
	// exit), "in_rectification" (already rectifying) or "".
	Action string `json:"action"`
}

// Rating run actions.
const (
	ActionRectify         = "rectify"
	ActionExitDue         = "exit_due"
	ActionInRectification = "in_rectification"
)

// RatingRun is one rating of a park's firms for one year. It records the rule
// set version and every input, so it can be recomputed years later and must
// come out the same (ResultsSHA256).
type RatingRun struct {
	ID             int64          `json:"id"`
	Park           string         `json:"park"`
	Year           int            `json:"year"`
	RuleSetVersion string         `json:"rule_set_version"`
	Inputs         []RatingInput  `json:"inputs,omitempty"`
	InputsSHA256   string         `json:"inputs_sha256"`
	ResultsSHA256  string         `json:"results_sha256"`
	Results        []RatingResult `json:"results,omitempty"`
	Missing        []int64        `json:"missing"` // projects in production without figures for the year
	Bands          map[string]int `json:"bands"`
	RunBy          string         `json:"run_by"`
	RunAt          time.Time      `json:"run_at"`
	AuditSeq       int64          `json:"audit_seq"`
}

// Rectification causes and outcomes.
const (
	CauseRatingD    = "rating_d"
	CauseRDBelow    = "rd_below_commitment"
	CauseManual     = "committee"
	OutcomeRectifed = "rectified"
	OutcomeFailed   = "failed"
)

// Rectification is one rectification order (限期整改) of a project.
type Rectification struct {
	ID            int64      `json:"id"`
	ProjectID     int64      `json:"project_id"`
	Park          string     `json:"park"`
	Cause         string     `json:"cause"`
	RunID         int64      `json:"run_id,omitempty"`
	Detail        string     `json:"detail"` // why, in words
	OpenedAt      time.Time  `json:"opened_at"`
	DueOn         time.Time  `json:"due_on"` // calendar days from opening (rule set, default 90)
	Plan          string     `json:"plan"`   // the firm's rectification plan, required before "rectified"
	PlanBy        string     `json:"plan_by"`
	PlanAt        *time.Time `json:"plan_at,omitempty"`
	Outcome       string     `json:"outcome"` // "" while open, rectified, failed
	DecidedBy     string     `json:"decided_by"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	OutcomeReason string     `json:"outcome_reason"`
	// Clause is the agreement clause the order cites (full-production shortfall).
	Clause string                `json:"clause,omitempty"`
	Review *FullProductionReview `json:"review,omitempty"` // the 达产复核 that opened it
	Idle   *IdleFinding          `json:"idle,omitempty"`   // the idle-land finding that opened it
	// Evidence is what the committee found the rectification done on.
	Evidence *RectifiedEvidence `json:"evidence,omitempty"`
}

// Exit clauses of an investment agreement that an exit invokes.
const (
	ClauseBuyBack   = "land_buyback"   // 土地回购
	ClauseRecovery  = "land_recovery"  // 土地收回
	ClauseRepayment = "repayment"      // 返还奖补资金
	ClauseUnstated  = "not_stated"     // an exit recorded without naming a clause (older path)
	clauseLabelNone = "unknown clause" // never shown: validation refuses unknown clauses
)

// ExitClauses lists the clauses an exit may invoke, in form order.
var ExitClauses = []string{ClauseBuyBack, ClauseRecovery, ClauseRepayment}

// ExitRecord is a project's exit (退出): why, and which agreement clauses it invokes.
type ExitRecord struct {
	ProjectID int64     `json:"project_id"`
	Park      string    `json:"park"`
	Clauses   []string  `json:"clauses"`
	Reason    string    `json:"reason"`
	DecidedBy string    `json:"decided_by"`
	DecidedAt time.Time `json:"decided_at"`
}

// TrackingChange is everything one tracking command writes, applied by the
// store in one transaction or not at all: the rows below, then Changes in
// order (project updates under their version checks, and audit entries).
type TrackingChange struct {
	Agreement  *Agreement
	Milestones []Milestone     // upserted on (project, kind)
	Figures    []AnnualFigures // upserted on (project, year)
	Run        *RatingRun      // inserted with its results; ID and AuditSeq (= Changes[0]'s entry) written back
	Open       []Rectification // inserted; RunID filled from Run when zero; IDs written back
	UpdateRect *Rectification  // plan or outcome written, by ID
	Exit       *ExitRecord
	Publicity  *PublicityChange // a rating run's publicity step (rating_publicity.go)
	Changes    []Change
	// Moves are lifecycle-only transitions (a rating run's rectifications),
	// applied after Changes: state, due date, version +1 under the version
	// check, and the entry.
	Moves []Move
}

// Move is a lifecycle-only transition of a project the command did not load in full.
type Move struct {
	ProjectID       int64
	ExpectedVersion int64
	To              State
	DueAt           *time.Time
	Entry           AuditEntry
}

// TrackedProject is the slice of a project the tracking views and the
// rating run need, read without the figures document and rule report.
type TrackedProject struct {
	ID                   int64      `json:"id"`
	Park                 string     `json:"park"`
	Name                 string     `json:"name"`
	InvestorName         string     `json:"investor_name"`
	USCC                 string     `json:"uscc"`
	State                State      `json:"state"`
	Version              int64      `json:"version"`
	LandArea             float64    `json:"land_area"`
	FixedAssetInvestment float64    `json:"fixed_asset_investment"`
	CreatedBy            int64      `json:"created_by"`
	DueAt                *time.Time `json:"due_at,omitempty"`
}

// TrackingStore is what the after-signature half of the lifecycle (agreements,
// milestones, annual figures, rating runs, rectification) needs from
// persistence, beside Store. store.DB implements it. Missing rows are
// not_found *Errors.
type TrackingStore interface {
	ApplyTracking(ctx context.Context, c *TrackingChange) error
	// TrackedProjects lists the projects of parks in states, by id.
	TrackedProjects(ctx context.Context, parks []string, states []State) ([]TrackedProject, error)

	Agreement(ctx context.Context, projectID int64) (*Agreement, error)
	Agreements(ctx context.Context, parks []string) ([]Agreement, error)
	Milestones(ctx context.Context, projectIDs []int64) ([]Milestone, error)

	AnnualFigures(ctx context.Context, park string, year int) ([]AnnualFigures, error)
	ProjectFigures(ctx context.Context, projectID int64) ([]AnnualFigures, error)
	FigureYears(ctx context.Context, parks []string) ([]int, error) // years with figures, newest first

	RatingRun(ctx context.Context, id int64) (*RatingRun, error) // with inputs and results
	// LatestRun is the newest run of a park and year, with results, not inputs.
	LatestRun(ctx context.Context, park string, year int) (*RatingRun, error)
	RatingRuns(ctx context.Context, parks []string) ([]RatingRun, error) // headers, newest first
	ProjectRatings(ctx context.Context, projectID int64) ([]RatingResult, error)

	Rectifications(ctx context.Context, projectID int64) ([]Rectification, error)
	OpenRectifications(ctx context.Context, parks []string) ([]Rectification, error)
	Exits(ctx context.Context, parks []string) ([]ExitRecord, error)
}

// trackingStore is the configured tracking store, or the main store when it
// implements TrackingStore too (store.DB does), so a Service wired with only
// Store still tracks.
func (s *Service) trackingStore() TrackingStore {
	if s.tracking != nil {
		return s.tracking
	}
	if ts, ok := s.store.(TrackingStore); ok {
		return ts
	}
	return nil
}

func (s *Service) ts() (TrackingStore, error) {
	ts := s.trackingStore()
	if ts == nil {
		return nil, Fail(EINTERNAL, "err.no_tracking_store_configured", nil)
	}
	return ts, nil
}

// civil is t's calendar date in loc, as midnight UTC: the form every tracking
// date is kept in.
func civil(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Today is the service clock's calendar date in the zone, as midnight UTC.
func (s *Service) Today() time.Time { return civil(s.now(), s.location) }

// ParseDate reads "2006-01-02" as a civil date (midnight UTC).
func ParseDate(v string) (time.Time, error) {
	return time.Parse(time.DateOnly, v)
}

func finiteNonNeg(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }

func round2(v float64) float64 { return math.Round(v*100) / 100 }
