// Package engine is the domain of zonevet: parks, users, projects, the
// lifecycle as one fsm table, the guards around it, casbin authorization and
// the Store interface it needs. It imports rules and never store or web.
package engine

import (
	"context"
	"time"

	"zonevet/engine/tlog"
	"zonevet/rules"
)

// Role is what a user may do within one park (a casbin role in that park's domain).
type Role string

// The roles of DESIGN.md.
const (
	RolePromoter  Role = "promoter"  // 招商专员
	RoleReviewer  Role = "reviewer"  // 评审专家
	RoleCommittee Role = "committee" // 管委会审议
	RoleAuditor   Role = "auditor"   // 审计/纪检
	RoleAdmin     Role = "admin"     // 系统管理员
	// RoleObserver (知会单位, share.go) is the read-only role of other departments' staff.
)

// Roles lists every role in a stable order.
var Roles = []Role{RolePromoter, RoleReviewer, RoleCommittee, RoleAuditor, RoleAdmin, RoleObserver}

// Park is one park of the zone (一区多园); it is also the casbin domain.
type Park struct {
	ID     string `json:"id"` // e.g. "qingyuan"
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	Level  string `json:"level"` // "national" | "provincial"
}

// User is a person who signs in. Roles are per park.
type User struct {
	ID           int64     `json:"id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	// Department is the zone department the account belongs to (自然资源局 …),
	// empty for the park's own staff: a project can be shared with it (share.go).
	Department string `json:"department,omitempty"`
	// RoleGeneration is the role assignments' generation when the account
	// was read for a request (AccountStore.APITokenUser, SessionUser; 0 from
	// other reads): Service.CatchUpRoles reloads a policy older than it.
	RoleGeneration int64 `json:"-"`
}

// RoleAssignment grants a user a role in a park.
type RoleAssignment struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	Role     Role   `json:"role"`
	Park     string `json:"park"`
}

// Document is a file attached to a project; the bytes live outside the database.
type Document struct {
	ID         int64     `json:"id"`
	ProjectID  int64     `json:"project_id"`
	Kind       string    `json:"kind"` // feasibility | environmental | energy | agreement | milestone | other
	FileName   string    `json:"file_name"`
	StoredName string    `json:"-"`
	MediaType  string    `json:"media_type"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	UploadedBy string    `json:"uploaded_by"`
	UploadedAt time.Time `json:"uploaded_at"`
}

// Project is an investment project as stored: identity, the investor's
// figures, where it stands in the lifecycle and the latest rule report.
type Project struct {
	ID           int64         `json:"id"`
	Park         string        `json:"park"`
	Name         string        `json:"name"`
	InvestorName string        `json:"investor_name"`
	USCC         string        `json:"uscc"` // 统一社会信用代码, GB 32100
	Figures      rules.Figures `json:"figures"`
	State        State         `json:"state"`
	Version      int64         `json:"version"` // optimistic-lock counter, +1 on every change
	Round        int           `json:"round"`   // submission count; scores belong to a round
	DueAt        *time.Time    `json:"due_at,omitempty"`
	Report       *rules.Report `json:"report,omitempty"` // latest screening report
	// ReportJSON is Report's JSON exactly as stored, set by the store when
	// it reads or writes the report, and empty whenever Report is set in
	// memory otherwise: a pass records the report it rests on in its log
	// entry as these bytes, and the API's answer carries them, rather than
	// encoding ~7 KB again (BENCHMARKS.md, issue 16).
	ReportJSON string    `json:"-"`
	Override   bool      `json:"override"`   // committee overrode a hard failure in this round
	CreatedBy  int64     `json:"created_by"` // the submitting promoter
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Score is one reviewer's scoring sheet for one round of a project.
type Score struct {
	ProjectID  int64              `json:"project_id"`
	Round      int                `json:"round"`
	ReviewerID int64              `json:"reviewer_id"`
	Reviewer   string             `json:"reviewer"`
	Items      map[string]float64 `json:"items"` // criterion id → points
	Total      float64            `json:"total"`
	Comment    string             `json:"comment"`
	CreatedAt  time.Time          `json:"created_at"`
}

// Conflict is a reviewer's declaration that they may not score a project.
type Conflict struct {
	ProjectID int64     `json:"project_id"`
	UserID    int64     `json:"user_id"`
	Username  string    `json:"username"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// AuditEntry is one entry of the append-only, hash-chained decision log.
// Hash = ChainHashWith(the log's suite, PrevHash, entry): SHA-256 by default, SM3 for a
// log initialised with the 国密 suite; see audit.go for the encoding.
type AuditEntry struct {
	Seq            int64     `json:"seq"`
	Time           time.Time `json:"time"` // UTC
	Actor          string    `json:"actor"`
	Role           Role      `json:"role"`
	Park           string    `json:"park"`
	ProjectID      int64     `json:"project_id"` // 0 when the event is not about a project
	Event          string    `json:"event"`
	FromState      State     `json:"from_state"`
	ToState        State     `json:"to_state"`
	Reason         string    `json:"reason"`
	RuleSetVersion string    `json:"rule_set_version"`
	Payload        string    `json:"payload"` // JSON: the rule report, score sheet or figures the decision was based on
	PrevHash       string    `json:"prev_hash"`
	Hash           string    `json:"hash"`
	// OnBehalfOf is the delegator when Actor acted under a delegation (委托);
	// empty otherwise, and then left out of the chain message, so entries
	// written before delegations existed keep their hashes.
	OnBehalfOf string `json:"on_behalf_of"`
}

// Change is everything one command writes, applied by the store's one
// write path (Writer.Apply) in one transaction or not at all: every part
// that is set, and the command's log entries. Each part is optional.
//
// The project part: Project == nil: no project row is written. Project.ID ==
// 0: insert the project (version 1); the new id is written back and copied
// into Entry.ProjectID. Otherwise: update the row WHERE id = Project.ID AND
// version = ExpectedVersion, setting version = ExpectedVersion+1; zero rows
// is a conflict error (ErrStale).
//
// Order of writing: the project, Score, Conflict, Document, Entry, Extra,
// then the other parts (Tracking, Account, LandUsers, RuleSet, Calendar) in
// that order; a rating run's Moves append their entries last, so the run's
// own entry precedes those of what it caused.
type Change struct {
	Project         *Project
	ExpectedVersion int64
	Score           *Score    // inserted; a second score by the same reviewer in the same round is a conflict
	Conflict        *Conflict // inserted; a second declaration is a conflict
	// Document is inserted (its bytes already on disk); the entry's Payload
	// is the document as stored, with its new id, written by the store.
	Document *Document
	// Report replaces the project's screening report (a submit, a
	// resubmit). Absent, the stored report stays as it is whatever
	// Project.Report holds: most moves only read the ~7 KB report, and
	// encoding and hashing it again on each was CPU spent for nothing.
	// A new project is stored with its Project.Report.
	Report *ReportPart
	Entry  AuditEntry
	// Extra entries are appended after Entry in the same transaction, e.g. the
	// automatic "recommend" that follows the score completing the quorum.
	Extra []AuditEntry
	// Answer is what the command answers its caller once written back (the
	// project, a score's outcome). When the context carries an
	// IdempotencyClaim, the store renders it and stores it under the key in
	// the same transaction.
	Answer any

	Tracking  *TrackingPart  // after signing: agreement, milestones, figures, rating run, rectification, exit, publicity, moves
	Account   *AccountPart   // an account and its roles
	LandUsers *LandUsersPart // a park's land users and their figures
	Rules     *RulesPart     // rule-set governance: a proposal with its text, a decision on one, a what-if report
	Calendar  *CalendarPart  // a working-day calendar put in force, open deadlines re-counted
	Token     *TokenPart     // an API token made, revoked or first used from a new address; builds Entry itself
	Meeting   *MeetingPart   // a committee meeting opened, a vote, or an item decided with its minutes
	Experts   *ExpertsPart   // the expert pool: an expert added or changed, a draw (experts.go)
	// Delegation is a delegation (委托) made or revoked.
	Delegation *DelegationPart
	Notify     *NotifyPart // inbox notices, outbox messages, a reminder's key (notify.go; set for every move)
	Share      *SharePart  // a project shared (抄送), or a sharee's read mark (share.go)
}

// ReportPart is a project's new screening report; a nil Report removes it.
type ReportPart struct {
	Report *rules.Report
	// JSON is Report already encoded by the caller (json.Marshal), stored
	// as is; empty, the store encodes Report itself.
	JSON string
}

// ErrStale is the optimistic-lock failure: the row changed since the
// caller read it. Every stale version, the engine's check and the store's,
// is this one error (a new value each time, so no caller can alter a shared one).
func ErrStale() error {
	return Fail(ECONFLICT, "err.this_project_has_changed_since_you", nil)
}

// ProjectFilter selects projects for lists. Zero values mean "any".
type ProjectFilter struct {
	Parks    []string // restrict to these parks (the caller's parks); empty = all
	States   []State
	Industry string // prefix of the industry code
	Query    string // substring of name or investor, or exact USCC
	Overdue  bool   // due_at before Now
	Now      time.Time
	Sort     string // "due" | "updated" | "name" | "id"; "-" prefix for descending
	Limit    int
	Offset   int
	// After and Before page by keyset (next / previous): the rows just
	// after, or just before, this place in the sort; Offset is then ignored.
	After, Before *ListCursor
	// Summary reads only what a list row shows: no rule report, and of the
	// figures only the total investment.
	Summary bool
}

// AuditFilter selects decision-log entries. Zero values mean "any".
type AuditFilter struct {
	Parks     []string
	ProjectID int64
	Actor     string
	Role      Role
	Events    []string
	From, To  time.Time
	AfterSeq  int64
	Limit     int
}

// RuleSetRecord is one stored version of a park's rule set.
type RuleSetRecord struct {
	Park      string    `json:"park"`
	Version   string    `json:"version"` // content hash
	Source    []byte    `json:"-"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// Store is what the engine needs from persistence: one write path and the
// reads of each capability. Every method is one transaction. Missing rows
// are a not_found *Error, stale versions and duplicates a conflict *Error.
// NewService takes nothing less, so no capability is found missing at run
// time.
type Store interface {
	Clock
	Writer
	ParkStore
	UserStore
	ProjectStore
	LogStore
	TrackingStore
	LandUserStore
	PublicityStore
	CalendarStore
	CheckpointStore
	TreeStore
	CosignatureStore
	RuleGovernanceStore
	MeetingStore
	ExpertStore
	DelegationStore
	NotificationStore
	ShareStore
}

// Clock is the one clock: the time the store stamps on what a caller
// leaves untimed, and (unless Config.Now overrides it) the engine's.
type Clock interface {
	Clock() time.Time
}

// Writer is the one write path: every state change is one Change.
type Writer interface {
	Apply(ctx context.Context, c *Change) error
}

// ParkStore reads parks and rule sets. PutPark and PutRuleSet seed a
// database before anyone can act in it (start-up, tests): they are not
// decisions and carry no entry; an administrator's install is a Change.
type ParkStore interface {
	PutPark(ctx context.Context, p Park) error
	Parks(ctx context.Context) ([]Park, error)
	// PutRuleSet stores a version (idempotent on version) and makes it the park's active one.
	PutRuleSet(ctx context.Context, rs RuleSetRecord) error
	ActiveRuleSet(ctx context.Context, park string) (RuleSetRecord, error)
	RuleSet(ctx context.Context, version string) (RuleSetRecord, error)
	// RuleSets lists a park's stored versions, newest first, without their source.
	RuleSets(ctx context.Context, park string) ([]RuleSetRecord, error)
}

// UserStore reads users and roles; every change is a Change with an AccountPart.
type UserStore interface {
	UserByID(ctx context.Context, id int64) (*User, error)
	UserByName(ctx context.Context, username string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	Assignments(ctx context.Context) ([]RoleAssignment, error)
	// AssignmentsAt is Assignments with the role generation they are at,
	// read in one snapshot.
	AssignmentsAt(ctx context.Context) (int64, []RoleAssignment, error)
}

// ProjectStore reads projects and what hangs on them.
type ProjectStore interface {
	Project(ctx context.Context, id int64) (*Project, error)
	Projects(ctx context.Context, f ProjectFilter) ([]*Project, int, error) // page and total count
	CountByState(ctx context.Context, parks []string) (map[string]map[State]int, error)
	Scores(ctx context.Context, projectID int64, round int) ([]Score, error)
	Conflicts(ctx context.Context, projectID int64) ([]Conflict, error)
	Documents(ctx context.Context, projectID int64) ([]Document, error)
	Document(ctx context.Context, id int64) (*Document, error)
}

// LogStore reads the decision log.
type LogStore interface {
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// EachAuditEntry streams the whole log in sequence order, for export and verification.
	EachAuditEntry(ctx context.Context, fn func(AuditEntry) error) error
	// EachAuditEntryHashed is EachAuditEntry for a verifier: each reading
	// goroutine makes one hash with newHash and answers with it, beside the
	// reads, with which suite each entry's hash is its own (nil: none), so
	// a whole-log verification hashes on every core; fn gets the answer
	// with the entry, in seq order. The entry is reused: fn must not keep it.
	EachAuditEntryHashed(ctx context.Context, newHash func() EntryHasher, fn func(*AuditEntry, *tlog.Suite) error) error
}

// Session is a signed-in browser session, kept server-side so it can be
// revoked. ID is the SHA-256 (hex) of the cookie's secret, never the secret itself.
type Session struct {
	ID         string    `json:"-"`
	UserID     int64     `json:"user_id"`
	CSRFToken  string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	RemoteAddr string    `json:"remote_addr"`
}

// APIToken is a per-user token for the JSON API; only its SHA-256 is stored.
type APIToken struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	Revoked    bool       `json:"revoked"`
	// Scopes are what the token may do (engine.TokenScopes); none: every
	// scope, as tokens made before scopes existed.
	Scopes []string `json:"scopes"`
	// Parks are the only parks the token reaches, a subset of its owner's;
	// none: every park of the owner.
	Parks        []string   `json:"parks"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	LastUsedAddr string     `json:"last_used_addr,omitempty"`
}

// IdempotentResult is the stored outcome of a POST made with an Idempotency-Key.
type IdempotentResult struct {
	Key         string
	UserID      int64
	RequestHash string // SHA-256 of method, path and body: the same key with another request is a conflict
	Status      int    // the HTTP status answered
	Body        []byte
	CreatedAt   time.Time
}

// AccountStore keeps sessions, API tokens and idempotency records. The store
// implements it beside Store; web uses it for sign-in.
type AccountStore interface {
	CreateSession(ctx context.Context, s *Session) error
	Session(ctx context.Context, id string) (*Session, error)
	// SessionUser is Session with its account (disabled or not), in one read.
	SessionUser(ctx context.Context, id string) (*Session, *User, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, userID int64) error

	CreateAPIToken(ctx context.Context, t *APIToken) error // sets t.ID
	APITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// APITokenUser is APITokenByHash with the token's account, in one read.
	APITokenUser(ctx context.Context, hash string) (*APIToken, *User, error)
	// TouchAPIToken records a use from an address the token has used before.
	TouchAPIToken(ctx context.Context, id int64, at time.Time, addr string) error
	APITokens(ctx context.Context, userID int64) ([]APIToken, error)
	RevokeAPIToken(ctx context.Context, userID, id int64) error
	// TokenAddressKnown reports whether the token was used from addr before.
	TokenAddressKnown(ctx context.Context, id int64, addr string) (bool, error)

	// IdempotentResult returns the answer stored under userID's key
	// (not_found when there is none).
	IdempotentResult(ctx context.Context, userID int64, key string) (*IdempotentResult, error)
	// RecordIdempotent stores r unless the key already holds an answer:
	// (nil, nil) when r was stored, else the stored answer. The same key
	// with a different RequestHash is a conflict. It is for answers of
	// requests that changed nothing (a refusal); an action's answer is
	// stored with the action (IdempotencyClaim).
	RecordIdempotent(ctx context.Context, r IdempotentResult) (*IdempotentResult, error)

	// UpdateLimitCounts hands change the counts of the shared limits (the
	// sign-in throttle, the audit-pull limiter) kept under keys, zero
	// values where none, and stores what it leaves, so processes sharing
	// the database count together. change reports whether it changed
	// anything: a refusal that changes nothing is answered from a read and
	// writes nothing. A change is made in one write transaction on counts
	// read inside it, change running again there, so concurrent attempts
	// cannot all pass the same check; change may run several times. A
	// count whose Expires is not after now is deleted, as is every stored
	// count already expired at now (and reads as none).
	UpdateLimitCounts(ctx context.Context, now time.Time, keys []string, change func([]*LimitCount) (changed bool)) error
}

// LimitCount is what a shared limit keeps under one key: for the sign-in
// throttle (an account and address pair, or an address) failures since the
// last success, when the last was and the attempt times still inside the
// window; for a token bucket only Expires, the time it is full again. Every
// count may be forgotten at Expires.
type LimitCount struct {
	Failures int
	Last     time.Time
	Attempts []time.Time
	Expires  time.Time
}
