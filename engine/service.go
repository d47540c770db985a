package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"zonevet/rules/catalog"

	"github.com/alexedwards/argon2id"

	"zonevet/rules"
)

// Service runs every command of the domain: it authorizes the actor against
// the stored project's park, checks the lifecycle and the guards, and hands
// the store one Change to apply atomically.
type Service struct {
	store       Store
	checkpoints CheckpointStore
	authz       *Authorizer
	now         func() time.Time
	location    *time.Location
	outbound    Outbound
	passwords   *argon2id.Params
	dummyHash   dummyHash // an unknown user's sign-in is checked against it

	mu       sync.Mutex
	ruleSets map[string]*rules.RuleSet // parsed, by version; versions are immutable
	cal      calendarCache             // the working-day calendar in force, parsed

	signer signerState // the checkpoint file and the signer's alarm (checkpoint.go)
}

// Config wires a Service.
type Config struct {
	Store       Store            // every capability the engine uses (see Store)
	Checkpoints CheckpointStore  // signed heads of the decision log; defaults to the Store
	Now         func() time.Time // defaults to the store's Clock: one time for engine and store
	Location    *time.Location   // the zone's time zone for working days; defaults to Asia/Shanghai
	Outbound    Outbound         // the channels and events that go out by e-mail and robot webhooks; none by default
	// PasswordHashing is the argon2id cost of new password hashes and of an
	// unknown user's sign-in; nil is argon2id.DefaultParams (64 MiB), which
	// production always uses. Tests pass a cheap one: under the race detector
	// one default hash costs seconds of CPU.
	PasswordHashing *argon2id.Params
}

// NewService loads role assignments and returns a ready service.
func NewService(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("engine: no store configured")
	}
	if cfg.Now == nil {
		cfg.Now = cfg.Store.Clock
	}
	if cfg.Checkpoints == nil {
		cfg.Checkpoints = cfg.Store
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		cfg.Location = loc
	}
	s := &Service{store: cfg.Store, checkpoints: cfg.Checkpoints, now: cfg.Now,
		location: cfg.Location, outbound: cfg.Outbound, passwords: cfg.PasswordHashing, ruleSets: map[string]*rules.RuleSet{}}
	if s.passwords == nil {
		s.passwords = argon2id.DefaultParams
	}
	s.store = notifying{Store: cfg.Store, s: s}
	s.authz = &Authorizer{}
	if err := s.ReloadRoles(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Authorizer returns the casbin authorizer.
func (s *Service) Authorizer() *Authorizer { return s.authz }

// Location is the zone's time zone.
func (s *Service) Location() *time.Location { return s.location }

// Now is the service clock.
func (s *Service) Now() time.Time { return s.now() }

// ReloadRoles re-reads role assignments into the authorizer.
func (s *Service) ReloadRoles(ctx context.Context) error {
	gen, as, err := s.store.AssignmentsAt(ctx)
	if err != nil {
		return fmt.Errorf("load role assignments: %w", err)
	}
	return s.authz.LoadAt(gen, as)
}

// CatchUpRoles reloads the role assignments when the store's role
// generation gen (User.RoleGeneration, read with the request's token or
// session) is newer than the policy's: another process (the CLI, a second
// node) changed them. Every request calls it before anything is authorized,
// so a withdrawn role is never served; it reads nothing while they agree.
func (s *Service) CatchUpRoles(ctx context.Context, gen int64) error {
	if gen <= s.authz.Generation() {
		return nil
	}
	return s.ReloadRoles(ctx)
}

// ---- rule sets ----

// InstallRuleSet stores a parsed rule set as its park's active version.
func (s *Service) InstallRuleSet(ctx context.Context, rs *rules.RuleSet) error {
	rec := RuleSetRecord{Park: rs.Park(), Version: rs.Version(), Source: rs.Source(), Active: true, CreatedAt: s.now().UTC()}
	if err := s.store.PutRuleSet(ctx, rec); err != nil {
		return fmt.Errorf("install rule set: %w", err)
	}
	s.mu.Lock()
	s.ruleSets[rs.Version()] = rs
	s.mu.Unlock()
	return nil
}

// ActiveRuleSet returns the park's rule set now in force.
func (s *Service) ActiveRuleSet(ctx context.Context, park string) (*rules.RuleSet, error) {
	return s.RuleSetInForce(ctx, park, s.now())
}

// RuleSetVersion returns the stored rule set of that version, so an old
// decision can be reproduced under the rules that produced it.
func (s *Service) RuleSetVersion(ctx context.Context, version string) (*rules.RuleSet, error) {
	s.mu.Lock()
	rs := s.ruleSets[version]
	s.mu.Unlock()
	if rs != nil {
		return rs, nil
	}
	rec, err := s.store.RuleSet(ctx, version)
	if err != nil {
		return nil, err
	}
	return s.parsedRuleSet(rec)
}

func (s *Service) parsedRuleSet(rec RuleSetRecord) (*rules.RuleSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs := s.ruleSets[rec.Version]; rs != nil {
		return rs, nil
	}
	rs, err := rules.Parse(rec.Park+".yaml", rec.Source)
	if err != nil {
		return nil, fmt.Errorf("stored rule set %s: %w", rec.Version, err)
	}
	s.ruleSets[rec.Version] = rs
	return rs, nil
}

// Evaluate screens figures under the park's active rule set. Invalid figures
// come back as an invalid *Error naming the field.
func (s *Service) Evaluate(ctx context.Context, park string, f rules.Figures) (*rules.Report, error) {
	rs, err := s.ActiveRuleSet(ctx, park)
	if err != nil {
		return nil, err
	}
	return evaluate(rs, f)
}

func evaluate(rs *rules.RuleSet, f rules.Figures) (*rules.Report, error) {
	rep, err := rs.Evaluate(f)
	var ie *rules.InputError
	if errors.As(err, &ie) {
		return nil, inputError(ie)
	}
	return rep, err
}

// ---- users ----

// HashPassword hashes a password with argon2id (RFC 9106 defaults of the library).
func HashPassword(password string) (string, error) {
	return argon2id.CreateHash(password, argon2id.DefaultParams)
}

// dummyHash makes a login for an unknown user cost as much as a real one.
// It is made on the first such login, not at start-up: argon2id takes 64 MiB
// by design, and every process (each CLI command too) would otherwise pay
// that in resident memory without ever signing anyone in.
type dummyHash struct {
	once sync.Once
	hash string
}

// equaliseLoginTime spends on an unknown user's login what checking a real
// password costs. The first time, making the hash is that cost (argon2id
// with the same parameters); afterwards the password is checked against it.
func (s *Service) equaliseLoginTime(password string) {
	made := false
	s.dummyHash.once.Do(func() {
		s.dummyHash.hash, _ = argon2id.CreateHash("zonevet-timing-equaliser", s.passwords)
		made = true
	})
	if !made {
		_, _ = argon2id.ComparePasswordAndHash(password, s.dummyHash.hash)
	}
}

// Authenticate returns the user whose password matches, or an unauthorized
// error that does not tell a wrong name from a wrong password.
func (s *Service) Authenticate(ctx context.Context, username, password string) (*User, error) {
	bad := Fail(EUNAUTHORIZED, "err.wrong_user_name_or_password", nil)
	u, err := s.store.UserByName(ctx, username)
	if ErrorCode(err) == ENOTFOUND {
		s.equaliseLoginTime(password)
		return nil, bad
	} else if err != nil {
		return nil, err
	}
	ok, err := argon2id.ComparePasswordAndHash(password, u.PasswordHash)
	if err != nil || !ok {
		return nil, bad
	}
	if u.Disabled {
		return nil, Fail(EUNAUTHORIZED, "err.account_disabled", nil)
	}
	return u, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// AllParks lists every park of the zone. A park's name is reference data
// any page may show (the sign-in page's demo accounts, a log entry, an
// account's roles in parks its admin does not manage), so no
// authorization applies; what a user may do in a park is decided elsewhere.
func (s *Service) AllParks(ctx context.Context) ([]Park, error) {
	return s.store.Parks(ctx)
}

// Ping reads the database, for the health check.
func (s *Service) Ping(ctx context.Context) error {
	_, err := s.store.Parks(ctx)
	return err
}

// KnownUser reports whether username names an account, for the sign-in
// log (a failed sign-in of a real account is the one worth watching).
func (s *Service) KnownUser(ctx context.Context, username string) bool {
	_, err := s.store.UserByName(ctx, username)
	return err == nil
}

// Parks lists the parks where u holds any role.
func (s *Service) Parks(ctx context.Context, u *User) ([]Park, error) {
	all, err := s.store.Parks(ctx)
	if err != nil {
		return nil, err
	}
	var out []Park
	for _, p := range all {
		if len(s.authz.RolesIn(u.Username, p.ID)) > 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// ReadableParks lists the ids of parks where u may read projects.
func (s *Service) ReadableParks(ctx context.Context, u *User) ([]string, error) {
	parks, err := s.parksAllowing(ctx, u, "project", "read")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range parks {
		out = append(out, p.ID)
	}
	return out, nil
}

// ---- projects ----

// ProjectInput is what a promoter fills in on the project form.
type ProjectInput struct {
	Park         string        `json:"park"`
	Name         string        `json:"name"`
	InvestorName string        `json:"investor_name"`
	USCC         string        `json:"uscc"`
	Figures      rules.Figures `json:"figures"`
}

// Validate checks the form fields that are the engine's (the figures are
// checked by the rule set on submit, and their signs here). It returns the
// first of Problems.
func (in *ProjectInput) Validate() error {
	if errs := in.Problems(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// checkFigures refuses what no project can have (rules.CheckFigures: signs,
// upper bounds, shares, the industry code's shape), so a draft never stores
// nonsense. Blanks are allowed in a draft; submit refuses them (submittable).
func checkFigures(f rules.Figures) error {
	return inputErr(rules.CheckFigures(f))
}

// inputErr turns the rules package's *InputError into an invalid *Error naming the field.
func inputErr(err error) error {
	var ie *rules.InputError
	if errors.As(err, &ie) {
		return inputError(ie)
	}
	return err
}

// actor is who does a command and through which role.
type actor struct {
	user       *User
	role       Role
	onBehalfOf string // the delegator whose delegated role the user acts through (委托), if any
}

// authorize finds the role through which u may do act on obj in park.
func (s *Service) authorize(u *User, park, obj, act string) (actor, error) {
	if u == nil {
		return actor{}, Fail(EUNAUTHORIZED, "err.please_sign_in", nil)
	}
	if u.Disabled {
		return actor{}, Fail(EUNAUTHORIZED, "err.account_disabled", nil)
	}
	r, ok := s.authz.Role(u.Username, park, obj, act)
	if !ok {
		return actor{}, Fail(EFORBIDDEN, "err.not_allowed_in_park", Args{
			"Park": s.parkName(park), "Action": catalog.Text{ZH: EventLabel(act, "zh"), EN: EventLabel(act, "en")}})
	}
	return actor{user: u, role: r}, nil
}

// parkName names a park in both languages for a message, its id if the
// park is unknown (a refusal names what the user asked for).
func (s *Service) parkName(id string) catalog.Text {
	parks, err := s.store.Parks(context.Background())
	if err == nil {
		for _, p := range parks {
			if p.ID == id {
				return catalog.Text{ZH: p.NameZH, EN: p.NameEN}
			}
		}
	}
	return catalog.Text{ZH: id, EN: id}
}

func (s *Service) entry(a actor, p *Project, event string, from, to State) AuditEntry {
	e := AuditEntry{Time: s.now().UTC(), Actor: a.user.Username, Role: a.role, Park: p.Park,
		ProjectID: p.ID, Event: event, FromState: from, ToState: to, OnBehalfOf: a.onBehalfOf}
	if p.Report != nil {
		e.RuleSetVersion = p.Report.RuleSetVersion
	}
	return e
}

func payload(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("payload: %v", err)) // only our own types go here
	}
	return string(b)
}

// CreateProject registers a project in draft.
func (s *Service) CreateProject(ctx context.Context, u *User, in ProjectInput) (*Project, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	a, err := s.authorize(u, in.Park, "project", "create")
	if err != nil {
		return nil, err
	}
	rs, err := s.ActiveRuleSet(ctx, in.Park)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := &Project{Park: in.Park, Name: in.Name, InvestorName: in.InvestorName, USCC: in.USCC, Figures: in.Figures,
		State: StateDraft, CreatedBy: u.ID, CreatedAt: now, UpdatedAt: now}
	cal, err := s.calendar(ctx)
	if err != nil {
		return nil, err
	}
	p.DueAt = cal.Due(now, rs.DeadlineDays(string(StateDraft)))
	e := s.entry(a, p, EventCreate, "", StateDraft)
	e.RuleSetVersion = rs.Version()
	e.Payload = payload(in)
	if err := s.store.Apply(ctx, &Change{Project: p, Entry: e, Answer: p}); err != nil {
		return nil, err
	}
	return p, nil
}

// UpdateProject edits a project's form while it is a draft or returned.
func (s *Service) UpdateProject(ctx context.Context, u *User, id, version int64, in ProjectInput) (*Project, error) {
	p, err := s.store.Project(ctx, id)
	if err != nil {
		return nil, err
	}
	in.Park = p.Park // a project never moves between parks
	if err := in.Validate(); err != nil {
		return nil, err
	}
	a, err := s.authorize(u, p.Park, string(p.State), "update")
	if err != nil {
		return nil, s.stateOrPermission(u, p, "update", err)
	}
	if version != p.Version {
		return nil, ErrStale()
	}
	p.Name, p.InvestorName, p.USCC, p.Figures = in.Name, in.InvestorName, in.USCC, in.Figures
	p.UpdatedAt = s.now().UTC()
	e := s.entry(a, p, EventUpdate, p.State, p.State)
	e.Payload = payload(in)
	if err := s.store.Apply(ctx, &Change{Project: p, ExpectedVersion: version, Entry: e}); err != nil {
		return nil, err
	}
	return p, nil
}

// moveTo puts p in state to at now, due within the rule set's working days
// for that state.
func (s *Service) moveTo(ctx context.Context, p *Project, to State, now time.Time) error {
	p.State, p.UpdatedAt = to, now
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return err
	}
	cal, err := s.calendar(ctx)
	if err != nil {
		return err
	}
	p.DueAt = cal.Due(now, rs.DeadlineDays(string(to)))
	return nil
}

// stateOrPermission explains a refusal: if u could act in another state the
// problem is the state (conflict), otherwise it is the permission.
func (s *Service) stateOrPermission(u *User, p *Project, act string, permErr error) error {
	for _, st := range States {
		if s.authz.Allowed(u.Username, p.Park, string(st), act) {
			return errNotNow(p.State, act)
		}
	}
	return permErr
}

// Action is a lifecycle command on one project.
type Action struct {
	Event   string `json:"event"`
	Version int64  `json:"version"` // the version the user saw; a different stored version is a conflict
	Reason  string `json:"reason"`
	// Clauses are the agreement clauses an exit invokes (ExitClauses).
	Clauses []string `json:"clauses,omitempty"`
	// Idle are the facts of an idle-land finding or recovery (stalled construction, land price).
	Idle *IdleFacts `json:"idle,omitempty"`
	// Evidence is what "rectified" rests on besides the reason: re-measured figures.
	Evidence *RectifiedEvidence `json:"evidence,omitempty"`
	// Override (一事一议) only: the failed hard rules waived, each named,
	// and the meeting minutes (会议纪要) already uploaded to the project, with
	// their document number (文号) and date (YYYY-MM-DD).
	Waive           []string `json:"waive,omitempty"`
	MinutesDocument int64    `json:"minutes_document,omitempty"`
	MinutesNumber   string   `json:"minutes_number,omitempty"`
	MinutesDate     string   `json:"minutes_date,omitempty"`
	// Meeting (approve, reject from committee review): the meeting whose
	// vote decides; MinutesStored and MinutesSHA256 name the minutes
	// (Service.Minutes) the caller stored as the document's bytes.
	Meeting       int64  `json:"meeting,omitempty"`
	MinutesStored string `json:"-"`
	MinutesSHA256 string `json:"minutes_sha256,omitempty"`
	// Fix (return only) lists what the promoter must fix (ReturnTargets).
	Fix []string `json:"fix,omitempty"`
	// OnBehalfOf (委托) is the delegator whose role the user acts through
	// under a delegation in force; empty: the user's own roles.
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	// LandDeliveredOn (sign only, YYYY-MM-DD) is the land-delivery date
	// (交地日期) the deadlines run from; omitted, the signing day.
	LandDeliveredOn string `json:"land_delivered_on,omitempty"`
	// DoneOn (start_construction only, YYYY-MM-DD) is the day construction
	// started (开工日期), checked as a recorded 开工 milestone is; omitted,
	// today. Document is the milestone's evidence, already attached.
	DoneOn   string `json:"done_on,omitempty"`
	Document int64  `json:"document,omitempty"`
}

// needsReason lists the events that must carry a written reason.
var needsReason = map[string]bool{
	EventReturn: true, EventReject: true, EventOverride: true, EventRectify: true, EventApprove: true, // 审批意见
	EventRectified: true, EventExit: true, EventIdleLand: true, EventRecoverLand: true, EventResumeConstruction: true,
}

// reviewEvents are judgements on a project; its submitter and anyone who
// declared a conflict may not make them (segregation of duties).
var reviewEvents = map[string]bool{
	EventPass: true, EventReturn: true, EventReject: true, EventOverride: true,
	EventScore: true, EventApprove: true, EventVote: true,
}

// maxTextLength bounds a free-text reason or comment, in characters: two
// pages of Chinese is more than any reason needs, and what is written is
// kept twice (its row and its log entry) for ever.
const maxTextLength = 2000

// checkTextLength refuses a free text over maxTextLength, naming its field
// as the form calls it (label: a catalogue id).
func checkTextLength(field, label, text string) error {
	if utf8.RuneCountInString(text) > maxTextLength {
		return FieldFail(field, "err.text_too_long", Args{"Name": catalog.Message{ID: label}, "Max": maxTextLength})
	}
	return nil
}

// Act performs a lifecycle event on a project as u.
func (s *Service) Act(ctx context.Context, u *User, id int64, act Action) (*Project, error) {
	act.Reason = strings.TrimSpace(act.Reason)
	if act.Event == EventScore || act.Event == EventConflict {
		return nil, Fail(EINVALID, "err.use_scoring_sheet_to_score_or", nil)
	}
	p, err := s.store.Project(ctx, id)
	if err != nil {
		return nil, err
	}
	if act.Event == EventRecall {
		return s.recall(ctx, u, p, act)
	}
	if act.Event == EventRemind {
		return s.remind(ctx, u, p, act)
	}
	a, err := s.authorizeAct(ctx, u, p, act)
	if err != nil {
		return nil, err
	}
	if act.Version != p.Version {
		return nil, ErrStale()
	}
	// Without its meeting, a meeting's decision is refused before anything
	// else is asked of it: no reason would make it one person's.
	if decidedInMeeting(p.State, act.Event) && act.Meeting == 0 {
		return nil, Fail(EFORBIDDEN, "err.decide_in_meeting", nil)
	}
	// An override checks its reason with everything else it needs, so one
	// refusal names every missing piece (checkOverride).
	// A meeting's decision is reasoned by its votes and minutes (decideInMeeting).
	if needsReason[act.Event] && act.Reason == "" && act.Event != EventOverride && act.Meeting == 0 {
		return nil, FieldFail("reason", "err.this_action_needs_written_reason", nil)
	}
	if err := checkTextLength("reason", "textfield.reason", act.Reason); err != nil {
		return nil, err
	}
	if err := checkReturnTargets(act); err != nil {
		return nil, err
	}
	if err := s.segregation(ctx, u, p, act.Event); err != nil {
		return nil, err
	}
	if err := s.segregationOnBehalf(ctx, a, p, act.Event); err != nil {
		return nil, err
	}
	to, err := transition(p.State, act.Event)
	if err != nil {
		return nil, err
	}
	from := p.State
	now := s.now().UTC()
	var (
		basis     any         = act
		basisJSON string      // basis as already stored (a pass's report), if known
		report    *ReportPart // only a screening writes the report
	)
	switch act.Event {
	case EventSubmit, EventResubmit:
		// The rules in force at the entry's own time: a submit at the
		// boundary of a rule change gets exactly one version.
		rs, err := s.RuleSetInForce(ctx, p.Park, now)
		if err != nil {
			return nil, err
		}
		if err := submittable(rs, p.Figures); err != nil {
			return nil, err
		}
		rep, err := evaluate(rs, p.Figures)
		if err != nil {
			return nil, err
		}
		// Encoded once, for the stored report, the entry and the answer.
		rj := payload(rep)
		p.Report, p.ReportJSON, p.Round, p.Override = rep, rj, p.Round+1, false
		basisJSON, report = submissionJSON(p.Figures, rj), &ReportPart{Report: rep, JSON: rj}
	case EventPass:
		if p.Report != nil && !p.Report.Passed() {
			return nil, Fail(EFORBIDDEN, "err.hard_rule_failed_screening_cannot_pass", Args{"HardFailures": p.Report.HardFailures})
		}
		basis, basisJSON = p.Report, p.ReportJSON
	case EventOverride:
		rec, err := s.checkOverride(ctx, a, p, act)
		if err != nil {
			return nil, err
		}
		p.Override = true
		basis = rec
	}
	if err := s.moveTo(ctx, p, to, now); err != nil {
		return nil, err
	}
	e := s.entry(a, p, act.Event, from, to)
	e.Reason = act.Reason
	if e.Payload = basisJSON; e.Payload == "" {
		e.Payload = payload(basis)
	}
	if err := s.applyAct(ctx, a, &Change{Project: p, ExpectedVersion: act.Version, Report: report, Entry: e, Answer: p}, act); err != nil {
		return nil, err
	}
	return p, nil
}

// submission is what a submit entry records: the figures and the screening of them.
type submission struct {
	Figures rules.Figures `json:"figures"`
	Report  *rules.Report `json:"report"`
}

// submissionJSON is a submission's JSON, json.Marshal's bytes exactly,
// around its report already encoded as reportJSON.
func submissionJSON(f rules.Figures, reportJSON string) string {
	return `{"figures":` + payload(f) + `,"report":` + reportJSON + `}`
}

// segregation refuses review events to the submitter and to anyone who declared a conflict.
func (s *Service) segregation(ctx context.Context, u *User, p *Project, event string) error {
	if !reviewEvents[event] {
		return nil
	}
	if p.CreatedBy == u.ID {
		return Fail(EFORBIDDEN, "err.you_may_not_review_or_decide", nil)
	}
	cs, err := s.store.Conflicts(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.UserID == u.ID {
			return Fail(EFORBIDDEN, "err.you_declared_conflict_of_interest_on", nil)
		}
	}
	return nil
}

// projectRuleSet is the rule set the project was screened under (or the
// park's active one before its first screening).
func (s *Service) projectRuleSet(ctx context.Context, p *Project) (*rules.RuleSet, error) {
	if p.Report != nil && p.Report.RuleSetVersion != "" {
		return s.RuleSetVersion(ctx, p.Report.RuleSetVersion)
	}
	return s.ActiveRuleSet(ctx, p.Park)
}

// ScoreInput is one reviewer's scoring sheet.
type ScoreInput struct {
	Round   int                `json:"round"` // the round the reviewer saw; a resubmission since is a conflict
	Items   map[string]float64 `json:"items"`
	Comment string             `json:"comment"`
}

// ScoreOutcome is what a score did: the project afterwards and, when it
// completed the quorum, the mean and where the project went.
type ScoreOutcome struct {
	Project *Project `json:"project"`
	Score   Score    `json:"score"`
	Quorum  bool     `json:"quorum"`
	Mean    float64  `json:"mean"`
}

// Score records u's scoring sheet. When it completes the quorum the project
// moves on in the same transaction: to committee review if the mean reaches
// the pass mark, back to the promoter otherwise. Scores of different reviewers
// commute, so a version conflict from a colleague scoring at the same moment
// is retried rather than shown to the user.
func (s *Service) Score(ctx context.Context, u *User, id int64, in ScoreInput) (*ScoreOutcome, error) {
	for attempt := 0; ; attempt++ {
		out, err := s.score(ctx, u, id, in)
		if ErrorCode(err) != ECONFLICT || attempt == 5 || errors.Is(err, errDuplicateScore) {
			return out, err
		}
		if p, perr := s.store.Project(ctx, id); perr != nil || p.State != StateExpertReview || p.Round != in.Round {
			return out, err
		}
	}
}

var errDuplicateScore = Fail(ECONFLICT, "err.you_have_already_scored_this_round", nil)

func (s *Service) score(ctx context.Context, u *User, id int64, in ScoreInput) (*ScoreOutcome, error) {
	p, err := s.store.Project(ctx, id)
	if err != nil {
		return nil, err
	}
	a, err := s.authorize(u, p.Park, string(p.State), EventScore)
	if err != nil {
		return nil, s.stateOrPermission(u, p, EventScore, err)
	}
	if in.Round != p.Round {
		return nil, ErrStale()
	}
	if err := checkTextLength("comment", "textfield.review_comment", strings.TrimSpace(in.Comment)); err != nil {
		return nil, err
	}
	if err := s.segregation(ctx, u, p, EventScore); err != nil {
		return nil, err
	}
	if err := s.checkDrawn(ctx, u, p); err != nil {
		return nil, err
	}
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return nil, err
	}
	total, err := rs.ScoreTotal(in.Items)
	if err != nil {
		var ie *rules.InputError
		if errors.As(err, &ie) {
			e := inputError(ie)
			e.Field = "items." + ie.Field
			return nil, e
		}
		return nil, FieldFail("items", "err.score_items", Args{"Err": err.Error()})
	}
	existing, err := s.store.Scores(ctx, p.ID, p.Round)
	if err != nil {
		return nil, err
	}
	for _, sc := range existing {
		if sc.ReviewerID == u.ID {
			return nil, errDuplicateScore
		}
	}
	now := s.now().UTC()
	sc := Score{ProjectID: p.ID, Round: p.Round, ReviewerID: u.ID, Reviewer: u.Username, Items: in.Items,
		Total: total, Comment: strings.TrimSpace(in.Comment), CreatedAt: now}
	version := p.Version
	p.UpdatedAt = now
	e := s.entry(a, p, EventScore, p.State, p.State)
	e.Payload = payload(sc)
	c := &Change{Project: p, ExpectedVersion: version, Score: &sc, Entry: e}
	out := &ScoreOutcome{Project: p, Score: sc}
	c.Answer = out

	sheet := rs.Scoring()
	if n := len(existing) + 1; n >= sheet.Quorum {
		sum := total
		for _, x := range existing {
			sum += x.Total
		}
		out.Quorum, out.Mean = true, math.Round(sum/float64(n)*100)/100
		event, reason := EventRecommend, fmt.Sprintf("专家评审平均分 %.2f,达到及格线 %.0f,提交管委会审议", out.Mean, sheet.PassMark)
		if out.Mean < sheet.PassMark {
			event, reason = EventFailReview, fmt.Sprintf("专家评审平均分 %.2f,低于及格线 %.0f,退回修改", out.Mean, sheet.PassMark)
		}
		to, err := transition(p.State, event)
		if err != nil {
			return nil, err
		}
		follow := s.entry(actor{user: u, role: a.role}, p, event, p.State, to)
		follow.Reason = reason
		follow.Payload = payload(map[string]any{"round": p.Round, "scores": n, "mean": out.Mean, "pass_mark": sheet.PassMark})
		c.Extra = []AuditEntry{follow}
		p.State = to
		cal, err := s.calendar(ctx)
		if err != nil {
			return nil, err
		}
		p.DueAt = cal.Due(now, rs.DeadlineDays(string(to)))
	}
	if err := s.store.Apply(ctx, c); err != nil {
		if ErrorCode(err) == ECONFLICT && c.Score != nil {
			if again, _ := s.store.Scores(ctx, p.ID, sc.Round); hasReviewer(again, u.ID) {
				return nil, errDuplicateScore
			}
		}
		return nil, err
	}
	return out, nil
}

func hasReviewer(scores []Score, id int64) bool {
	for _, s := range scores {
		if s.ReviewerID == id {
			return true
		}
	}
	return false
}

// DeclareConflict records that u must stand aside from a project.
func (s *Service) DeclareConflict(ctx context.Context, u *User, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	p, err := s.store.Project(ctx, id)
	if err != nil {
		return err
	}
	a, err := s.authorize(u, p.Park, string(p.State), EventConflict)
	if err != nil {
		return s.stateOrPermission(u, p, EventConflict, err)
	}
	if reason == "" {
		return FieldFail("reason", "err.state_reason_for_conflict", nil)
	}
	if err := checkTextLength("reason", "textfield.conflict_reason", reason); err != nil {
		return err
	}
	c := &Conflict{ProjectID: p.ID, UserID: u.ID, Username: u.Username, Reason: reason, CreatedAt: s.now().UTC()}
	e := s.entry(a, p, EventConflict, p.State, p.State)
	e.Reason = reason
	ch := &Change{Conflict: c, Entry: e}
	if err := s.recusal(ctx, a, u, p, ch); err != nil {
		return err
	}
	return s.store.Apply(ctx, ch)
}

// Project returns a project u may read.
func (s *Service) Project(ctx context.Context, u *User, id int64) (*Project, error) {
	p, err := s.store.Project(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, p.Park, "project", "read"); err != nil {
		if shared, revoked, serr := s.sharedWith(ctx, u, p); serr != nil {
			return nil, serr
		} else if shared {
			return p, nil // shared with u (抄送): readable, nothing more
		} else if revoked {
			// A former sharee knows the project: refused as such (403, so
			// the refusal is logged), not hidden.
			return nil, Fail(EFORBIDDEN, "err.share_revoked", nil)
		}
		// Do not reveal that a project exists in a park the user cannot see.
		return nil, Fail(ENOTFOUND, "err.project_not_found", nil)
	}
	return p, nil
}

// Projects lists projects in the parks u may read, narrowed by f.Parks.
func (s *Service) Projects(ctx context.Context, u *User, f ProjectFilter) ([]*Project, int, error) {
	readable, err := s.ReadableParks(ctx, u)
	if err != nil {
		return nil, 0, err
	}
	if len(f.Parks) > 0 {
		var keep []string
		for _, p := range f.Parks {
			if contains(readable, p) {
				keep = append(keep, p)
			}
		}
		readable = keep
	}
	if len(readable) == 0 {
		return nil, 0, nil
	}
	f.Parks = readable
	if f.Overdue && f.Now.IsZero() {
		f.Now = s.now()
	}
	return s.store.Projects(ctx, f)
}

// Actions lists the events u may take on p now: lifecycle events allowed by
// casbin and the fsm, plus "update", "score" and "conflict" where they apply.
// The UI shows exactly these buttons; the commands check again.
func (s *Service) Actions(ctx context.Context, u *User, p *Project) []string {
	var out []string
	if u == nil {
		return nil
	}
	m := newMachine(p.State)
	for _, ev := range append(m.AvailableTransitions(), EventUpdate, EventScore, EventConflict, EventRecall, EventRemind) {
		if ev == EventRecommend || ev == EventFailReview || ev == EventRate {
			continue // automatic: follow from scores and rating runs
		}
		if !s.authz.Allowed(u.Username, p.Park, string(p.State), ev) {
			continue
		}
		if reviewEvents[ev] || ev == EventConflict {
			if s.segregation(ctx, u, p, ev) != nil {
				continue
			}
		}
		switch ev {
		case EventPass:
			if p.Report != nil && !p.Report.Passed() {
				continue
			}
		case EventOverride:
			// Only quantitative hard failures can be waived; with a failed
			// veto the committee sees return and reject, never override.
			if s.waivable(ctx, p) == nil {
				continue
			}
		case EventScore:
			if sc, err := s.store.Scores(ctx, p.ID, p.Round); err != nil || hasReviewer(sc, u.ID) {
				continue
			}
		case EventRecall:
			if _, err := s.recallTarget(ctx, u, p); err != nil {
				continue
			}
		case EventRemind:
			if _, err := s.remindRefusal(ctx, u, p); err != nil {
				continue
			}
		}
		out = append(out, ev)
	}
	sort.SliceStable(out, func(i, j int) bool { return actionRank[out[i]] < actionRank[out[j]] })
	return out
}

// actionRank orders actions so the one that moves the project forward comes
// first: the UI makes the first one the obvious next step.
var actionRank = func() map[string]int {
	order := []string{EventSubmit, EventResubmit, EventPass, EventScore, EventApprove, EventSign, EventStartConstruction,
		EventStartProduction, EventRectified, EventUpdate, EventOverride, EventReturn, EventReject, EventRectify,
		EventExit, EventWithdraw, EventConflict, EventRecall, EventRemind}
	m := make(map[string]int, len(order))
	for i, ev := range order {
		m[ev] = i + 1
	}
	return m
}()

// History returns the decision-log entries of a project u may read, oldest
// first. An auditor's reading of the dossier is left out: inspection is not
// announced to the inspected; the auditor's log view (AuditLog) lists it.
func (s *Service) History(ctx context.Context, u *User, id int64) ([]AuditEntry, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, err
	}
	es, err := s.store.AuditEntries(ctx, AuditFilter{ProjectID: p.ID, Parks: []string{p.Park}})
	es = slices.DeleteFunc(es, func(e AuditEntry) bool { return e.Event == EventDossierView })
	if err == nil && (p.CreatedBy == u.ID || !s.authz.Allowed(u.Username, p.Park, "project", "read")) && p.State == StateExpertReview {
		sealReview(es) // experts.go
	}
	return es, err
}

// Scores returns the sheets of the project's current round. A reviewer sees
// colleagues' sheets only once the quorum is complete or after they scored
// themselves is not enough: independence needs all sheets in first. The
// committee and auditors see them always.
func (s *Service) Scores(ctx context.Context, u *User, id int64) ([]Score, bool, error) {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return nil, false, err
	}
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return nil, false, err
	}
	scores, err := s.store.Scores(ctx, p.ID, p.Round)
	if err != nil {
		return nil, false, err
	}
	roles := s.authz.RolesIn(u.Username, p.Park)
	if len(scores) >= rs.Scoring().Quorum || containsRole(roles, RoleCommittee) || containsRole(roles, RoleAuditor) {
		return scores, true, nil
	}
	var own []Score
	for _, sc := range scores {
		if sc.ReviewerID == u.ID {
			own = append(own, sc)
		}
	}
	return own, false, nil
}

func containsRole(rs []Role, r Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}
