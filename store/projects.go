package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"zonevet/engine"
	"zonevet/rules"
)

// Apply is the store's one write path: it writes one command's Change in
// one write transaction. First the project part (insert, or update guarded
// by its version), the score, conflict declaration or document if any, the
// audit entry chained to the last one and the Extra entries chained after
// it; then each other part that is set (tracking.go, users.go,
// land_users.go, parks.go, calendars.go). Either all of it lands or none of
// it does: Apply returns nil only once the transaction holding it has
// committed. Commands arriving together may share that transaction (see
// groupcommit.go), each undone alone if it fails.
//
// On success it writes back to c: a new project's ID, the project's Version,
// CreatedAt and UpdatedAt, each entry's Seq, Time, PrevHash and Hash (and
// ProjectID and Park when they were left empty: from the project, and for
// Extra entries from Entry), and the new ids of the parts' rows. On failure
// c is unchanged, except under an Idempotency-Key (below).
//
// When ctx carries an engine.IdempotencyClaim and c has an Answer, the key is
// looked up first in the same transaction: a key already answered stops the
// command with *engine.IdempotentReplay; otherwise the command is written, c
// written back, its Answer rendered and stored under the key, all before the
// commit, so the key and the effect land together or not at all. On failure
// the caller must then drop c, whose write-back may have happened.
//
// Times: the entry's Time is the time of the change (the store's clock when
// zero); a project's UpdatedAt, a new project's CreatedAt and the parts'
// times left zero are set to it, so the list's "updated" column and the log agree.
func (db *DB) Apply(ctx context.Context, c *engine.Change) error {
	if err := checkEvents(c); err != nil {
		return err
	}
	// Encoded here, before queueing for the writer: encoding a report of
	// ~6 KB is work the other writers should not wait for.
	var j projectJSON
	if c.Project != nil {
		var err error
		if j, err = encodeProject(c.Project, c.Report); err != nil {
			return wrap("apply", err)
		}
	}
	var claim *engine.IdempotencyClaim
	if c.Answer != nil {
		claim = engine.IdempotencyClaimFrom(ctx)
	}
	return db.applyGrouped(ctx, c, j, claim)
}

// checkEvents refuses a Change with an entry that names no event.
func checkEvents(c *engine.Change) error {
	empty := c.Entry.Event == "" && c.Token == nil // a token part builds its entry in the transaction
	for _, x := range c.Extra {
		empty = empty || x.Event == ""
	}
	if c.Tracking != nil {
		for _, m := range c.Tracking.Moves {
			empty = empty || m.Entry.Event == ""
		}
	}
	if empty {
		return engine.FieldFail("event", "err.audit_event_required", nil)
	}
	return nil
}

// applyTx writes c, whose project encodes to j, inside tx and returns the
// write-back to c, to be run only once tx has committed; c itself is not
// touched here, except under an idempotency claim: then c is written back
// here, its Answer stored under the key, and the returned func hands the
// claim its record.
func (db *DB) applyTx(ctx context.Context, tx *sql.Tx, c *engine.Change, j projectJSON, claim *engine.IdempotencyClaim) (writeBack func(), err error) {
	if claim != nil {
		if err := claimIdempotency(ctx, tx, claim); err != nil {
			return nil, err
		}
	}
	e := c.Entry
	if c.Token != nil {
		id, changed, err := writeToken(ctx, tx, c.Token, db.now())
		if err != nil || !changed {
			return func() {}, err
		}
		if e = c.Token.Entry(id); e.Event == "" {
			return nil, engine.FieldFail("event", "err.audit_event_required", nil)
		}
	}
	e.Time = orNow(e.Time, db.now())
	w, err := db.writeProjectPart(ctx, tx, c, j, &e)
	if err != nil {
		return nil, err
	}
	extra, err := db.appendEntries(ctx, tx, &e, c.Extra)
	if err != nil {
		return nil, err
	}
	if err := db.writeScreening(ctx, tx, c, j, &e); err != nil {
		return nil, err
	}
	parts, err := db.writeParts(ctx, tx, c, &e)
	if err != nil {
		return nil, err
	}
	if c.Notify != nil {
		last := &e
		if len(extra) > 0 {
			last = &extra[len(extra)-1]
		}
		if err := db.writeNotify(ctx, tx, c.Notify, last); err != nil {
			return nil, err
		}
	}
	writeBack = func() {
		w()
		parts()
		c.Entry = e
		copy(c.Extra, extra)
	}
	if claim == nil {
		return writeBack, nil
	}
	writeBack()
	rec, err := db.recordClaim(ctx, tx, claim, c.Answer)
	if err != nil {
		return nil, err
	}
	return func() { claim.Recorded = rec }, nil
}

// writeProjectPart writes the project, score, conflict and document of c,
// filling in e's project and park from the project, and returns their
// write-back.
func (db *DB) writeProjectPart(ctx context.Context, tx *sql.Tx, c *engine.Change, j projectJSON, e *engine.AuditEntry) (func(), error) {
	var (
		id, version int64
		created     time.Time
		score       *engine.Score
		err         error
	)
	if p := c.Project; p != nil {
		var park string
		if p.ID == 0 {
			created = orNow(p.CreatedAt, e.Time)
			version, park = 1, p.Park
			id, err = insertProject(ctx, tx, p, j, created, e.Time)
		} else {
			id, version = p.ID, c.ExpectedVersion+1
			park, err = db.updateProject(ctx, tx, p, j, c.ExpectedVersion, e.Time)
		}
		if err != nil {
			return nil, err
		}
		if e.ProjectID == 0 {
			e.ProjectID = id
		}
		if e.Park == "" {
			e.Park = park
		}
	}
	if c.Score != nil {
		s := *c.Score
		if s.ProjectID == 0 {
			s.ProjectID = id
		}
		s.CreatedAt = orNow(s.CreatedAt, e.Time)
		if err := db.insertScore(ctx, tx, &s); err != nil {
			return nil, err
		}
		score = &s
	}
	if c.Conflict != nil {
		if err := insertConflict(ctx, tx, c.Conflict, id, e.Time); err != nil {
			return nil, err
		}
	}
	var doc engine.Document
	if c.Document != nil {
		doc = *c.Document
		doc.UploadedAt = orNow(doc.UploadedAt, e.Time)
		if doc.ID, err = insertDocument(ctx, tx, &doc); err != nil {
			return nil, err
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("encode document: %w", err)
		}
		e.Payload = string(b)
	}
	return func() {
		if p := c.Project; p != nil {
			if p.ID == 0 {
				p.ID, p.CreatedAt = id, created
			}
			p.Version, p.UpdatedAt = version, e.Time
			if c.Report != nil {
				p.Report, p.ReportJSON = c.Report.Report, j.report.String // the caller's project holds what is stored
			}
		}
		if score != nil {
			c.Score.ProjectID, c.Score.CreatedAt = score.ProjectID, score.CreatedAt
		}
		if c.Document != nil {
			c.Document.ID, c.Document.UploadedAt = doc.ID, doc.UploadedAt
		}
		if c.Conflict != nil {
			if c.Conflict.ProjectID == 0 {
				c.Conflict.ProjectID = id
			}
			c.Conflict.CreatedAt = orNow(c.Conflict.CreatedAt, e.Time)
		}
	}, nil
}

// screening is the row of the screenings index (migration 00211; the
// what-if replay's figures) that c's entry e writes: a submit or resubmit,
// which records the figures j holds and comes with the report c's report
// part stores (only Act's screening writes one, always with that part).
// The store writes it beside the entry from the figures already encoded,
// rather than a trigger on the log, which had SQLite parse the ~8 KB entry
// again inside the one writer (migration 00465, BENCHMARKS.md).
func screening(c *engine.Change, j projectJSON, e *engine.AuditEntry) (args []any, ok bool) {
	if c.Project == nil || c.Report == nil || e.ProjectID <= 0 || e.Event != engine.EventSubmit && e.Event != engine.EventResubmit {
		return nil, false
	}
	return []any{e.ProjectID, e.Seq, e.RuleSetVersion, j.figures}, true
}

// writeScreening writes c's screening, if it has one (screening).
func (db *DB) writeScreening(ctx context.Context, tx *sql.Tx, c *engine.Change, j projectJSON, e *engine.AuditEntry) error {
	args, ok := screening(c, j, e)
	if !ok {
		return nil
	}
	_, err := db.execWrite(ctx, tx, sqlScreening, args...)
	return err
}

// appendEntries appends e, then the extra entries chained after it (their
// time, project and park from e when left empty), and returns the extra
// entries as written.
func (db *DB) appendEntries(ctx context.Context, tx *sql.Tx, e *engine.AuditEntry, in []engine.AuditEntry) ([]engine.AuditEntry, error) {
	if err := db.appendAudit(ctx, tx, e); err != nil {
		return nil, err
	}
	extra := extraEntries(e, in)
	for i := range extra {
		if err := db.appendAudit(ctx, tx, &extra[i]); err != nil {
			return nil, err
		}
	}
	return extra, nil
}

// extraEntries are the extra entries in to be chained after e: copies,
// their time, project and park from e when left empty.
func extraEntries(e *engine.AuditEntry, in []engine.AuditEntry) []engine.AuditEntry {
	extra := append([]engine.AuditEntry(nil), in...)
	for i := range extra {
		x := &extra[i]
		x.Time = orNow(x.Time, e.Time)
		if x.ProjectID == 0 {
			x.ProjectID = e.ProjectID
		}
		if x.Park == "" {
			x.Park = e.Park
		}
	}
	return extra
}

// hasParts reports whether c has a part beside its project part (and
// Notify); a decision on a project, the hot path, has none.
func hasParts(c *engine.Change) bool {
	return c.Tracking != nil || c.Account != nil || c.LandUsers != nil || c.Rules != nil || c.Calendar != nil || c.Meeting != nil ||
		c.Experts != nil || c.Delegation != nil || c.Share != nil
}

// writeParts writes the parts of c beside the project part, after its
// entry e (already appended), and returns their write-back.
func (db *DB) writeParts(ctx context.Context, tx *sql.Tx, c *engine.Change, e *engine.AuditEntry) (func(), error) {
	if !hasParts(c) {
		return func() {}, nil // a decision on a project: the hot path
	}
	var backs []func()
	if c.Tracking != nil {
		w, err := db.writeTracking(ctx, tx, c.Tracking, e.Seq, e.Time)
		if err != nil {
			return nil, err
		}
		backs = append(backs, w)
	}
	if c.Account != nil {
		w, err := writeAccount(ctx, tx, c.Account, e.Time)
		if err != nil {
			return nil, err
		}
		backs = append(backs, w)
	}
	if c.LandUsers != nil {
		w, err := writeLandUsers(ctx, tx, c.LandUsers)
		if err != nil {
			return nil, err
		}
		backs = append(backs, w)
	}
	if c.Rules != nil {
		w, err := db.writeRules(ctx, tx, c.Rules, e.Time)
		if err != nil {
			return nil, err
		}
		backs = append(backs, w)
	}
	if c.Calendar != nil {
		w, err := writeCalendar(ctx, tx, c.Calendar, e.Time)
		if err != nil {
			return nil, err
		}
		backs = append(backs, w)
	}
	if c.Meeting != nil {
		w, err := writeMeeting(ctx, tx, c.Meeting)
		if err != nil {
			return nil, err
		}
		backs = append(backs, w)
	}
	if c.Experts != nil {
		w, err := db.writeExperts(ctx, tx, c.Experts, e)
		if err != nil {
			return nil, err
		}
		backs = append(backs, w)
	}
	if c.Delegation != nil {
		w, err := writeDelegation(ctx, tx, c.Delegation, e.Time)
		if err != nil {
			return nil, err
		}
		backs = append(backs, w)
	}
	if c.Share != nil {
		w, err := writeShare(ctx, tx, c.Share, e)
		if err != nil {
			return nil, err
		}
		backs = append(backs, w)
	}
	return func() {
		for _, w := range backs {
			w()
		}
	}, nil
}

// projectJSON is a project's JSON as stored: the figures, and the report
// with its SHA-256 (both NULL when there is none). keepReport: the change
// has no report part, so an existing project's report is not written.
type projectJSON struct {
	figures    string
	report     sql.NullString
	reportSHA  sql.NullString
	keepReport bool
}

// encodeProject encodes p's figures, and the report to store: the report
// part's, or for a new project (ID 0) its own.
func encodeProject(p *engine.Project, part *engine.ReportPart) (projectJSON, error) {
	var j projectJSON
	f, err := json.Marshal(p.Figures)
	if err != nil {
		return j, fmt.Errorf("encode figures: %w", err)
	}
	j.figures = string(f)
	rep := p.Report
	switch {
	case part != nil:
		rep = part.Report
	case p.ID != 0:
		j.keepReport = true
		return j, nil
	}
	if rep == nil {
		return j, nil
	}
	var b []byte
	if part != nil && part.JSON != "" {
		b = []byte(part.JSON)
		j.report = sql.NullString{String: part.JSON, Valid: true}
	} else {
		if b, err = json.Marshal(rep); err != nil {
			return j, fmt.Errorf("encode report: %w", err)
		}
		j.report = sql.NullString{String: string(b), Valid: true}
	}
	sum := sha256.Sum256(b)
	j.reportSHA = sql.NullString{String: hex.EncodeToString(sum[:]), Valid: true}
	return j, nil
}

func insertProject(ctx context.Context, tx *sql.Tx, p *engine.Project, j projectJSON, created, updated time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO projects (park, name, investor_name, uscc, figures, industry_code, state, version, round, due_at, report_sha256, override, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		p.Park, p.Name, p.InvestorName, p.USCC, j.figures, p.Figures.IndustryCode, string(p.State), p.Round, fmtTimePtr(p.DueAt), j.reportSHA,
		p.Override, p.CreatedBy, fmtTime(created), fmtTime(updated)).Scan(&id)
	if isForeignKey(err) {
		return 0, notFound("what.park")
	}
	if err != nil || !j.report.Valid {
		return id, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO project_reports (project_id, report) VALUES (?, ?)`, id, j.report.String)
	return id, err
}

// updateProject is the optimistic lock: the row changes only if nobody else
// changed it since the caller read it. Park, creator and creation time are
// identity and are never rewritten (authorization is decided on the stored
// park). It returns the stored park.
//
// The first UPDATE writes only the lifecycle columns, which is all a
// transition changes, and returns the stored identity and report digest; the
// rest is written only if it differs. Naming a column in SET makes SQLite
// rewrite every index on it, changed or not, and a report rewritten in place
// is two overflow pages: each page is one more WAL frame per decision.
func (db *DB) updateProject(ctx context.Context, tx *sql.Tx, p *engine.Project, j projectJSON, expected int64, updated time.Time) (string, error) {
	var (
		park, name, investor, uscc, figures string
		reportSHA                           sql.NullString
	)
	err := tx.StmtContext(ctx, db.stmts.updateLifecycle).QueryRowContext(ctx,
		string(p.State), p.Round, fmtTimePtr(p.DueAt), p.Override, fmtTime(updated), p.ID, expected).
		Scan(&park, &name, &investor, &uscc, &figures, &reportSHA)
	if errors.Is(err, sql.ErrNoRows) {
		// Nothing matched: either there is no such project or it has moved on.
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = ?)`, p.ID).Scan(&exists); err != nil {
			return "", err
		}
		if !exists {
			return "", notFound("what.project")
		}
		return "", engine.ErrStale()
	}
	if err != nil {
		return "", err
	}

	if name != p.Name || investor != p.InvestorName || uscc != p.USCC || figures != j.figures {
		if _, err := db.execWrite(ctx, tx, sqlProjectFacts,
			p.Name, p.InvestorName, p.USCC, j.figures, p.Figures.IndustryCode, p.ID); err != nil {
			return "", err
		}
	}
	if j.keepReport && reportSHA.Valid && reportSHA.String == "" {
		// A report moved by migration 00002 has no digest yet: the first
		// change stores it, encoded from the report as read.
		if j, err = encodeProject(p, &engine.ReportPart{Report: p.Report}); err != nil {
			return "", err
		}
	}
	if !j.keepReport && reportSHA != j.reportSHA { // a stored '' differs from every digest
		if !j.report.Valid {
			_, err = db.execWrite(ctx, tx, sqlReportDelete, p.ID)
		} else {
			_, err = db.execWrite(ctx, tx, sqlReportUpsert, p.ID, j.report.String)
		}
		if err != nil {
			return "", err
		}
		if _, err := db.execWrite(ctx, tx, sqlReportDigest, j.reportSHA, p.ID); err != nil {
			return "", err
		}
	}
	return park, nil
}

func (db *DB) insertScore(ctx context.Context, tx *sql.Tx, s *engine.Score) error {
	items, err := json.Marshal(s.Items)
	if err != nil {
		return fmt.Errorf("encode score items: %w", err)
	}
	if s.Items == nil {
		items = []byte("{}")
	}
	_, err = db.execWrite(ctx, tx, sqlScoreInsert, s.ProjectID, s.Round, s.ReviewerID, s.Reviewer, string(items), s.Total, s.Comment, fmtTime(s.CreatedAt))
	switch {
	case isUnique(err):
		return engine.Fail(engine.ECONFLICT, "err.reviewer_has_already_scored", nil)
	case isForeignKey(err):
		return notFound("what.project_or_reviewer")
	}
	return err
}

func insertConflict(ctx context.Context, tx *sql.Tx, c *engine.Conflict, newID int64, at time.Time) error {
	pid := c.ProjectID
	if pid == 0 {
		pid = newID
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO conflicts (project_id, user_id, username, reason, created_at) VALUES (?, ?, ?, ?, ?)`,
		pid, c.UserID, c.Username, c.Reason, fmtTime(orNow(c.CreatedAt, at)))
	switch {
	case isUnique(err):
		return engine.Fail(engine.ECONFLICT, "err.conflict_interest_was_already", nil)
	case isForeignKey(err):
		return notFound("what.project_or_user")
	}
	return err
}

// projectColumns and projectFrom read a project with its latest report.
const (
	projectColumns = `p.id, p.park, p.name, p.investor_name, p.uscc, p.figures, p.state, p.version, p.round, p.due_at, r.report, p.override, p.created_by, p.created_at, p.updated_at`
	projectFrom    = ` FROM projects p LEFT JOIN project_reports r ON r.project_id = p.id`
)

func scanProject(s interface{ Scan(...any) error }) (*engine.Project, error) {
	p, err := scanProjectKeep(s)
	if p != nil {
		p.ReportJSON = "" // a list's rows do not keep ~7 KB each twice
	}
	return p, err
}

// scanProjectKeep is scanProject keeping the report's stored JSON in
// ReportJSON, for the read of one project a command acts on.
func scanProjectKeep(s interface{ Scan(...any) error }) (*engine.Project, error) {
	p := &engine.Project{}
	var figures string
	var report sql.NullString
	err := s.Scan(&p.ID, &p.Park, &p.Name, &p.InvestorName, &p.USCC, &figures, &p.State, &p.Version, &p.Round,
		nullTimeCol{&p.DueAt}, &report, &p.Override, &p.CreatedBy, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt})
	if err != nil {
		return nil, err
	}
	if err := decodeStored(figures, &p.Figures); err != nil {
		return nil, fmt.Errorf("project %d: decode figures: %w", p.ID, err)
	}
	if report.Valid {
		p.Report, p.ReportJSON = &rules.Report{}, report.String
		if err := decodeStored(report.String, p.Report); err != nil {
			return nil, fmt.Errorf("project %d: decode report: %w", p.ID, err)
		}
	}
	return p, nil
}

// Project returns one project.
func (db *DB) Project(ctx context.Context, id int64) (*engine.Project, error) {
	p, err := scanProjectKeep(db.readRow(ctx, `SELECT `+projectColumns+projectFrom+` WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = notFound("what.project")
	}
	if err != nil {
		return nil, wrap("project", err)
	}
	return p, nil
}

// CountByState counts projects per park and state, for the dashboard. Parks
// restricts to those parks; empty means all. Answered from the (park, state,
// due_at) index alone.
func (db *DB) CountByState(ctx context.Context, parks []string) (map[string]map[engine.State]int, error) {
	q := `SELECT park, state, count(*) FROM projects`
	var args []any
	if len(parks) > 0 {
		var in string
		in, args = inList(parks)
		q += ` WHERE park IN (` + in + `)`
	}
	q += ` GROUP BY park, state`
	out := map[string]map[engine.State]int{}
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var park string
			var state engine.State
			var n int
			if err := rows.Scan(&park, &state, &n); err != nil {
				return err
			}
			if out[park] == nil {
				out[park] = map[engine.State]int{}
			}
			out[park][state] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("count by state", err)
	}
	return out, nil
}

// Scores returns the sheets of one round of a project in the order they were given.
func (db *DB) Scores(ctx context.Context, projectID int64, round int) ([]engine.Score, error) {
	var out []engine.Score
	err := func() error {
		rows, err := db.readRows(ctx, `
			SELECT project_id, round, reviewer_id, reviewer, items, total, comment, created_at
			FROM scores WHERE project_id = ? AND round = ? ORDER BY rowid`, projectID, round)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s engine.Score
			var items string
			if err := rows.Scan(&s.ProjectID, &s.Round, &s.ReviewerID, &s.Reviewer, &items, &s.Total, &s.Comment, timeCol{&s.CreatedAt}); err != nil {
				return err
			}
			if err := decodeStored(items, &s.Items); err != nil {
				return fmt.Errorf("decode score items: %w", err)
			}
			out = append(out, s)
		}
		return rows.Err()
	}()
	return out, wrap("scores", err)
}

// conflictColumns and scanConflict read conflict declarations (c).
const conflictColumns = `c.project_id, c.user_id, c.username, c.reason, c.created_at FROM conflicts c`

func scanConflict(s interface{ Scan(...any) error }) (engine.Conflict, error) {
	var c engine.Conflict
	err := s.Scan(&c.ProjectID, &c.UserID, &c.Username, &c.Reason, timeCol{&c.CreatedAt})
	return c, err
}

// Conflicts returns the conflict declarations on a project in the order made.
func (db *DB) Conflicts(ctx context.Context, projectID int64) ([]engine.Conflict, error) {
	var out []engine.Conflict
	rows, err := db.readRows(ctx, `SELECT `+conflictColumns+` WHERE c.project_id = ? ORDER BY c.rowid`, projectID)
	err = forEachRow(rows, err, func(rows *sql.Rows) error {
		c, err := scanConflict(rows)
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, wrap("conflicts", err)
}

// AddDocument records a document's metadata alone, with no log entry, and
// sets d.ID (and d.UploadedAt when zero); for restores and tests. An upload
// goes through Apply with Change.Document, which writes its entry with it.
func (db *DB) AddDocument(ctx context.Context, d *engine.Document) error {
	at := orNow(d.UploadedAt, db.now())
	var id int64
	err := db.update(ctx, func(tx *sql.Tx) error {
		x := *d
		x.UploadedAt = at
		var err error
		id, err = insertDocument(ctx, tx, &x)
		return err
	})
	if err != nil {
		return wrap("add document", err)
	}
	d.ID, d.UploadedAt = id, at
	return nil
}

// insertDocument inserts d's row and returns its id.
func insertDocument(ctx context.Context, tx *sql.Tx, d *engine.Document) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO documents (project_id, kind, file_name, stored_name, media_type, size, sha256, uploaded_by, uploaded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.ProjectID, d.Kind, d.FileName, d.StoredName, d.MediaType, d.Size, d.SHA256, d.UploadedBy, fmtTime(d.UploadedAt)).Scan(&id)
	if isForeignKey(err) {
		return 0, notFound("what.project")
	}
	return id, err
}

const documentColumns = `id, project_id, kind, file_name, stored_name, media_type, size, sha256, uploaded_by, uploaded_at`

func scanDocument(s interface{ Scan(...any) error }) (engine.Document, error) {
	var d engine.Document
	err := s.Scan(&d.ID, &d.ProjectID, &d.Kind, &d.FileName, &d.StoredName, &d.MediaType, &d.Size, &d.SHA256, &d.UploadedBy, timeCol{&d.UploadedAt})
	return d, err
}

// Documents lists a project's documents in upload order.
func (db *DB) Documents(ctx context.Context, projectID int64) ([]engine.Document, error) {
	out, err := db.documents(ctx, `WHERE project_id = ?`, projectID)
	return out, wrap("documents", err)
}

// AllDocuments lists every project's documents in upload order, for a backup
// to copy and check their files.
func (db *DB) AllDocuments(ctx context.Context) ([]engine.Document, error) {
	out, err := db.documents(ctx, ``)
	return out, wrap("all documents", err)
}

func (db *DB) documents(ctx context.Context, where string, args ...any) ([]engine.Document, error) {
	var out []engine.Document
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+documentColumns+` FROM documents `+where+` ORDER BY id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDocument(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// Document returns one document's metadata.
func (db *DB) Document(ctx context.Context, id int64) (*engine.Document, error) {
	var d engine.Document
	err := db.view(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDocument(tx.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("what.document")
		}
		return err
	})
	if err != nil {
		return nil, wrap("document", err)
	}
	return &d, nil
}
