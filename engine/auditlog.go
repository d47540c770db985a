package engine

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"zonevet/engine/tlog"
)

// Events the system and the auditors write into the decision log beside the
// lifecycle's own. They carry project_id 0 unless they concern one project.
const (
	EventLogin       = "login"
	EventLoginFailed = "login_failed"
	EventRefused     = "refused"      // a request the authorization refused
	EventAuditExport = "audit_export" // an auditor pulled (part of) the log
	EventAuditVerify = "audit_verify" // a verification ran; the result is in the payload
	EventDossierView = "dossier_view" // an auditor opened a project dossier
)

// DecisionEvents are the judgements counted per reviewer in the statistics:
// what a person decided, as opposed to what followed automatically.
var DecisionEvents = []string{EventPass, EventOverride, EventReturn, EventReject, EventScore, EventApprove,
	EventRectify, EventRectified, EventExit}

// AuditQuery selects decision-log entries for the auditor's pages and exports.
type AuditQuery struct {
	AuditFilter
	// System also selects zone-wide entries (park ""): sign-ins, refusals,
	// auditors' exports across parks.
	System bool
	Desc   bool // newest first (pages); exports always stream oldest first
	Offset int
}

// AuditLog is the auditor's view of the decision log: filtered reading,
// exports, statistics, dossiers, signed checkpoints and verification. It
// authorizes every read with casbin's "audit" object in the entry's park.
type AuditLog struct {
	svc *Service
	cps CheckpointStore
	key crypto.Signer // nil: this process can verify but not sign
}

// AuditLog returns the service's audit view, signing checkpoints with key
// (nil for a verify-only view), keeping them in the service's checkpoint store.
func (s *Service) AuditLog(key crypto.Signer) *AuditLog {
	if k, ok := key.(ed25519.PrivateKey); ok && len(k) == 0 {
		key = nil // a nil Ed25519 key in an interface is still no key
	}
	return &AuditLog{svc: s, cps: s.checkpoints, key: key}
}

// PublicKey is the checkpoint signing key's public half, or nil.
func (l *AuditLog) PublicKey() crypto.PublicKey {
	if l.key == nil {
		return nil
	}
	return tlog.Public(l.key)
}

// CanSign reports whether this view holds the signing key.
func (l *AuditLog) CanSign() bool { return l.key != nil && l.cps != nil }

func (l *AuditLog) store() (CheckpointStore, error) {
	if l.cps == nil {
		return nil, errors.New("audit log: the store keeps no checkpoints")
	}
	return l.cps, nil
}

// AuditParks lists the parks where u may do act ("read", "export",
// "verify") on the decision log.
func (l *AuditLog) AuditParks(ctx context.Context, u *User, act string) ([]string, error) {
	if u == nil || u.Disabled {
		return nil, Fail(EUNAUTHORIZED, "err.please_sign_in", nil)
	}
	parks, err := l.svc.store.Parks(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range parks {
		if l.svc.authz.Allowed(u.Username, p.ID, "audit", act) {
			out = append(out, p.ID)
		}
	}
	return out, nil
}

// CanAudit reports whether u may do act on the log in any park.
func (l *AuditLog) CanAudit(ctx context.Context, u *User, act string) bool {
	parks, err := l.AuditParks(ctx, u, act)
	return err == nil && len(parks) > 0
}

// scope narrows q to the parks where u may do act; none is forbidden.
// System entries come along: an auditor of any park sees sign-ins and
// refusals, which name no park.
func (l *AuditLog) scope(ctx context.Context, u *User, act string, q *AuditQuery) (actor, error) {
	parks, err := l.AuditParks(ctx, u, act)
	if err != nil {
		return actor{}, err
	}
	if len(parks) == 0 {
		return actor{}, Fail(EFORBIDDEN, "err.you_may_not_read_decision_log", nil)
	}
	if len(q.Parks) > 0 {
		var keep []string
		for _, p := range q.Parks {
			if contains(parks, p) {
				keep = append(keep, p)
			}
		}
		if len(keep) == 0 {
			return actor{}, Fail(EFORBIDDEN, "err.not_auditor_of_park", nil)
		}
		q.Parks = keep
		q.System = q.System && len(keep) == len(parks)
	} else {
		q.Parks, q.System = parks, true
	}
	r, _ := l.svc.authz.Role(u.Username, q.Parks[0], "audit", act)
	return actor{user: u, role: r}, nil
}

// Page returns one page of the entries matching q in u's parks and the total.
func (l *AuditLog) Page(ctx context.Context, u *User, q AuditQuery) ([]AuditEntry, int, error) {
	cps, err := l.store()
	if err != nil {
		return nil, 0, err
	}
	if _, err := l.scope(ctx, u, "read", &q); err != nil {
		return nil, 0, err
	}
	return cps.AuditPage(ctx, q)
}

// Entry returns one entry if u may read its park; another park's entry is
// not_found, so its existence is not revealed.
func (l *AuditLog) Entry(ctx context.Context, u *User, seq int64) (*AuditEntry, error) {
	cps, err := l.store()
	if err != nil {
		return nil, err
	}
	parks, err := l.AuditParks(ctx, u, "read")
	if err != nil {
		return nil, err
	}
	if len(parks) == 0 {
		return nil, Fail(EFORBIDDEN, "err.you_may_not_read_decision_log", nil)
	}
	e, err := cps.AuditEntry(ctx, seq)
	if err != nil {
		return nil, err
	}
	if e.Park != "" && !contains(parks, e.Park) {
		return nil, Fail(ENOTFOUND, "err.log_entry_not_found", nil)
	}
	return e, nil
}

// Export streams the entries matching q in u's parks, oldest first, with the
// checkpoints of the same snapshot, after logging the export itself (so the
// export contains the record of its own making). When q selects the whole
// log and this process can sign, the head is checkpointed first, so the
// export ends on a signed entry and cutting its tail is detectable against
// any later copy.
func (l *AuditLog) Export(ctx context.Context, u *User, q AuditQuery, format string,
	checkpoints func([]Checkpoint) error, entry func(*AuditEntry) error) error {
	cps, err := l.store()
	if err != nil {
		return err
	}
	a, err := l.scope(ctx, u, "export", &q)
	if err != nil {
		return err
	}
	park := ""
	if len(q.Parks) == 1 && !q.System {
		park = q.Parks[0]
	}
	if err := l.logAction(ctx, a, park, q.ProjectID, EventAuditExport, format, payload(exportRecord{Format: format, Query: q})); err != nil {
		return err
	}
	if err := l.checkpointBeforeExport(ctx); err != nil {
		return err
	}
	return cps.ExportAudit(ctx, q, checkpoints, entry)
}

type exportRecord struct {
	Format string     `json:"format"`
	Query  AuditQuery `json:"query"`
}

// ExportAll streams the whole log for the operator's command line, which
// runs on the server with the database in hand and needs no user.
func (l *AuditLog) ExportAll(ctx context.Context, checkpoints func([]Checkpoint) error, entry func(*AuditEntry) error) error {
	cps, err := l.store()
	if err != nil {
		return err
	}
	if err := l.checkpointBeforeExport(ctx); err != nil {
		return err
	}
	return cps.ExportAudit(ctx, AuditQuery{}, checkpoints, entry)
}

// checkpointBeforeExport signs the head before an export when this process
// can. A refusal does not stop the export: a log the signer will not vouch
// for is exactly what an auditor must be able to take away; the alarm is
// raised and the export simply ends on no new checkpoint.
func (l *AuditLog) checkpointBeforeExport(ctx context.Context) error {
	if !l.CanSign() {
		return nil
	}
	if _, _, err := l.Checkpoint(ctx, false); err != nil && !errors.Is(err, ErrSignerRefused) {
		return err
	}
	return nil
}

// Checkpoint signs the log's current head and stores it, in the database and
// in the checkpoint file when there is one (UseCheckpointFile). Unless
// force, a head already checkpointed is not signed again, so a periodic run
// over an idle log adds nothing. It returns the checkpoint and whether it is
// new.
//
// The signer verifies before it signs (headToSign): the chain from the last
// checkpoint it can trust to the head must link, or it refuses, raises the
// alarm the proof page shows (SignerAlarm) and returns an error wrapping
// ErrSignerRefused. A signer that signed whatever head it found would vouch
// for a log cut or rewritten since the last checkpoint.
func (l *AuditLog) Checkpoint(ctx context.Context, force bool) (*Checkpoint, bool, error) {
	if !l.CanSign() {
		return nil, false, errors.New("audit log: no signing key")
	}
	if err := l.svc.CheckKeySuite(ctx, l.PublicKey()); err != nil {
		return nil, false, err
	}
	if err := l.svc.CheckSigningKey(ctx, l.PublicKey()); err != nil {
		if errors.Is(err, ErrKeyMismatch) {
			return nil, false, l.svc.raiseAlarm(err.Error())
		}
		return nil, false, err
	}
	if lk, ok := l.cps.(SigningLocker); ok {
		release, err := lk.LockSigning(ctx)
		if err != nil {
			return nil, false, err
		}
		defer release()
	}
	all, err := l.cps.Checkpoints(ctx)
	if err != nil {
		return nil, false, err
	}
	if !force {
		seq, hash, err := l.cps.AuditHead(ctx)
		if err != nil {
			return nil, false, err
		}
		if n := len(all); n > 0 && all[n-1].Seq == seq && all[n-1].Hash == hash && l.svc.SignerAlarm() == nil {
			return &all[n-1], false, nil
		}
	}
	seq, hash, err := l.headToSign(ctx, all)
	if err != nil {
		return nil, false, err
	}
	if seq == 0 {
		l.svc.clearAlarm()
		return nil, false, nil // nothing to vouch for yet
	}
	if n := len(all); !force && n > 0 && all[n-1].Seq == seq && all[n-1].Hash == hash {
		l.svc.clearAlarm() // what raised it has been put right
		return &all[n-1], false, nil
	}
	c, err := l.sign(ctx, seq, hash)
	if err != nil {
		return nil, false, err
	}
	// The database first: a crash before the file is written leaves the
	// file a subset of the database, which is fine; the other order would
	// leave a checkpoint the database "lost", a false alarm.
	if err := l.cps.AddCheckpoint(ctx, &c); err != nil {
		return nil, false, err
	}
	if file := l.svc.CheckpointFile(); file != "" {
		if err := appendCheckpointFile(file, c); err != nil {
			return &c, true, l.svc.raiseAlarm("the checkpoint could not be copied outside the database: " + err.Error())
		}
	}
	l.svc.clearAlarm()
	return &c, true, nil
}

// sign signs the head (seq, hash) as a C2SP note with the Merkle tree's root.
func (l *AuditLog) sign(ctx context.Context, seq int64, hash string) (Checkpoint, error) {
	ts := l.trees()
	root, err := ts.TreeRoot(ctx, seq)
	if err != nil {
		return Checkpoint{}, err
	}
	first, err := l.cps.AuditEntry(ctx, 1)
	if err != nil {
		return Checkpoint{}, err
	}
	return SignTreeCheckpoint(l.key, LogOrigin(first.Hash), seq, hash, root, l.svc.now())
}

// RunCheckpoints signs the head every interval until ctx ends, reporting
// failures to onErr (the log is not stopped by a failed checkpoint).
func (l *AuditLog) RunCheckpoints(ctx context.Context, interval time.Duration, onErr func(error)) {
	if interval <= 0 || !l.CanSign() {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, _, err := l.Checkpoint(ctx, false); err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Checkpoints lists the stored checkpoints for u (any auditor or verifier).
func (l *AuditLog) Checkpoints(ctx context.Context, u *User) ([]Checkpoint, error) {
	cps, err := l.store()
	if err != nil {
		return nil, err
	}
	if !l.CanAudit(ctx, u, "read") && !l.CanAudit(ctx, u, "verify") {
		return nil, Fail(EFORBIDDEN, "err.you_may_not_read_decision_log", nil)
	}
	return cps.Checkpoints(ctx)
}

// CheckpointNow signs the head on u's demand (a verifier's "checkpoint now").
func (l *AuditLog) CheckpointNow(ctx context.Context, u *User) (*Checkpoint, error) {
	if !l.CanAudit(ctx, u, "verify") {
		return nil, Fail(EFORBIDDEN, "err.you_may_not_verify_decision_log", nil)
	}
	c, _, err := l.Checkpoint(ctx, true)
	return c, err
}

// VerifyNow walks the whole stored log and every stored checkpoint (the
// chain is one for the zone, so the check is too) and logs the outcome as
// an audit_verify entry. trusted is the public key to check signatures
// against; nil means this process's own.
func (l *AuditLog) VerifyNow(ctx context.Context, u *User) (*VerifyResult, error) {
	parks, err := l.AuditParks(ctx, u, "verify")
	if err != nil {
		return nil, err
	}
	if len(parks) == 0 {
		return nil, Fail(EFORBIDDEN, "err.you_may_not_verify_decision_log", nil)
	}
	res, err := l.Verify(ctx, nil)
	if err != nil {
		return nil, err
	}
	r, _ := l.svc.authz.Role(u.Username, parks[0], "audit", "verify")
	reason := "intact"
	if !res.OK {
		reason = "BROKEN: " + res.Summary()
	}
	if err := l.logAction(ctx, actor{user: u, role: r}, "", 0, EventAuditVerify, reason, payload(res)); err != nil {
		return nil, err
	}
	return res, nil
}

// Verify checks the stored chain and the stored checkpoints against trusted
// (nil: this process's public key). It needs no user: the CLI runs it.
func (l *AuditLog) Verify(ctx context.Context, trusted crypto.PublicKey) (*VerifyResult, error) {
	return l.VerifyWith(ctx, trusted, nil)
}

// VerifyWith is Verify with checkpoints kept outside the database as well
// (the checkpoint file, an older export's): each must be in the database —
// one that is not was deleted from it — and is matched against the chain
// like the stored ones, so a log cut back behind a deleted checkpoint is
// caught too.
func (l *AuditLog) VerifyWith(ctx context.Context, trusted crypto.PublicKey, outside []Checkpoint) (*VerifyResult, error) {
	cps, err := l.store()
	if err != nil {
		return nil, err
	}
	if trusted == nil {
		trusted = l.PublicKey()
	}
	start := time.Now()
	all, err := cps.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	v := NewLogVerifier(trusted, false)
	if err := l.svc.handOverKeys(ctx, v, trusted); err != nil {
		return nil, err
	}
	var missing []Checkpoint
	for _, c := range outside {
		if !slices.ContainsFunc(all, func(d Checkpoint) bool { return sameCheckpoint(c, d) }) {
			v.problem("checkpoint #%d signed %s is not in the database: checkpoints were deleted from the database",
				c.Seq, c.Time.Format(time.RFC3339))
			missing = append(missing, c)
		}
	}
	v.AddCheckpoints(append(all, missing...))
	first := v.suite
	newHash := func() EntryHasher { return NewEntryHasher(first) }
	if err := l.svc.store.EachAuditEntryHashed(ctx, newHash, func(e *AuditEntry, s *tlog.Suite) error { v.entry(e, s); return nil }); err != nil {
		return nil, err
	}
	res := v.Finish()
	res.Duration = time.Since(start)
	return res, nil
}

// logAction appends an entry about the log itself (no lifecycle change).
func (l *AuditLog) logAction(ctx context.Context, a actor, park string, projectID int64, event, reason, body string) error {
	e := AuditEntry{Time: l.svc.now().UTC(), Actor: a.user.Username, Role: a.role, Park: park, ProjectID: projectID,
		Event: event, Reason: reason, Payload: body}
	return l.svc.store.Apply(ctx, &Change{Entry: e})
}

// AuthEvent is a sign-in, a failed sign-in or a refused request, as the web
// layer reports it. Never a password or a token: only who, from where, what.
type AuthEvent struct {
	Event    string // EventLogin, EventLoginFailed, EventRefused
	Username string // as typed for a failed sign-in; the signed-in user otherwise
	Known    bool   // Username is an existing account
	Remote   string // client address
	Method   string // refused: the request
	Path     string
	Status   int
	Message  string // the refusal's user-facing message
}

// LogAuth writes a sign-in, failed sign-in or refusal to the decision log
// as a zone-wide entry (park "", project 0). Names typed into the sign-in
// form are cut to 64 characters: the log must not become a store for what
// someone pasted there, such as a password typed into the wrong field.
func (s *Service) LogAuth(ctx context.Context, ev AuthEvent) error {
	switch ev.Event {
	case EventLogin, EventLoginFailed, EventRefused:
	default:
		return fmt.Errorf("log auth: unknown event %q", ev.Event)
	}
	name := ev.Username
	if r := []rune(name); len(r) > 64 {
		name = string(r[:64]) + "…"
	}
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "\uFFFD")
	}
	body := map[string]any{"remote": ev.Remote, "known_user": ev.Known}
	reason := ""
	if ev.Event == EventRefused {
		body["method"], body["path"], body["status"] = ev.Method, ev.Path, ev.Status
		reason = fmt.Sprintf("%s %s → %d %s", ev.Method, ev.Path, ev.Status, ev.Message)
	}
	e := AuditEntry{Time: s.now().UTC(), Actor: name, Event: ev.Event, Reason: reason, Payload: payload(body)}
	return s.store.Apply(ctx, &Change{Entry: e})
}

// EscapeText makes s safe to print as one field of one line: control
// characters (newlines, carriage returns, escape sequences), Unicode line
// and paragraph separators, bidirectional overrides and other invisible
// format characters are shown as \n, \r, \t or \u{…}, and a backslash as
// \\, so a name or reason can neither start a forged log line nor reorder
// what a terminal shows. Chinese and every other printable text stays as
// it is. It is the one escaping of everything the command line prints.
func EscapeText(s string) string {
	clean := true
	for _, r := range s {
		if r == '\\' || needsEscape(r) {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u{%x}`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// needsEscape: control characters, line and paragraph separators, and every
// format character (Cf: the bidi embeddings, overrides and isolates
// U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F and U+061C,
// zero-width characters, the byte-order mark), which print as nothing or
// reorder what is around them.
func needsEscape(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r)
}
