package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
		if j, err = encodeProject(c.Project); err != nil {
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
	empty := c.Entry.Event == ""
	for _, x := range c.Extra {
		empty = empty || x.Event == ""
	}
	if c.Tracking != nil {
		for _, m := range c.Tracking.Moves {
			empty = empty || m.Entry.Event == ""
		}
	}
	if empty {
		return engine.FieldError("event", "审计事件不能为空", "Audit event is required")
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
	e.Time = orNow(e.Time, db.now())
	w, err := db.writeProjectPart(ctx, tx, c, j, &e)
	if err != nil {
		return nil, err
	}
	extra, err := db.appendEntries(ctx, tx, &e, c.Extra)
	if err != nil {
		return nil, err
	}
	parts, err := db.writeParts(ctx, tx, c, &e)
	if err != nil {
		return nil, err
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
		if err := insertScore(ctx, tx, &s); err != nil {
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

// appendEntries appends e, then the extra entries chained after it (their
// time, project and park from e when left empty), and returns the extra
// entries as written.
func (db *DB) appendEntries(ctx context.Context, tx *sql.Tx, e *engine.AuditEntry, in []engine.AuditEntry) ([]engine.AuditEntry, error) {
	if err := db.appendAudit(ctx, tx, e); err != nil {
		return nil, err
	}
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
		if err := db.appendAudit(ctx, tx, x); err != nil {
			return nil, err
		}
	}
	return extra, nil
}

// writeParts writes the parts of c beside the project part, after its
// entry e (already appended), and returns their write-back.
func (db *DB) writeParts(ctx context.Context, tx *sql.Tx, c *engine.Change, e *engine.AuditEntry) (func(), error) {
	if c.Tracking == nil && c.Account == nil && c.LandUsers == nil && c.RuleSet == nil && c.Calendar == nil {
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
	if c.RuleSet != nil {
		if err := putRuleSet(ctx, tx, *c.RuleSet, e.Time); err != nil {
			return nil, err
		}
	}
	if c.Calendar != nil {
		if err := writeCalendar(ctx, tx, c.Calendar, e.Time); err != nil {
			return nil, err
		}
	}
	return func() {
		for _, w := range backs {
			w()
		}
	}, nil
}

// projectJSON is a project's JSON as stored: the figures, and the report
// with its SHA-256 (nil and NULL when there is none).
type projectJSON struct {
	figures   string
	report    []byte
	reportSHA sql.NullString
}

func encodeProject(p *engine.Project) (projectJSON, error) {
	var j projectJSON
	f, err := json.Marshal(p.Figures)
	if err != nil {
		return j, fmt.Errorf("encode figures: %w", err)
	}
	j.figures = string(f)
	if p.Report != nil {
		if j.report, err = json.Marshal(p.Report); err != nil {
			return j, fmt.Errorf("encode report: %w", err)
		}
		sum := sha256.Sum256(j.report)
		j.reportSHA = sql.NullString{String: hex.EncodeToString(sum[:]), Valid: true}
	}
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
		return 0, notFound("园区", "Park")
	}
	if err != nil || j.report == nil {
		return id, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO project_reports (project_id, report) VALUES (?, ?)`, id, string(j.report))
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
			return "", notFound("项目", "Project")
		}
		return "", engine.ErrStale()
	}
	if err != nil {
		return "", err
	}

	if name != p.Name || investor != p.InvestorName || uscc != p.USCC || figures != j.figures {
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET name = ?, investor_name = ?, uscc = ?, figures = ?, industry_code = ? WHERE id = ?`,
			p.Name, p.InvestorName, p.USCC, j.figures, p.Figures.IndustryCode, p.ID); err != nil {
			return "", err
		}
	}
	if reportSHA != j.reportSHA { // a stored '' (moved by migration 00002) differs from every digest
		if j.report == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM project_reports WHERE project_id = ?`, p.ID)
		} else {
			_, err = tx.ExecContext(ctx, `
				INSERT INTO project_reports (project_id, report) VALUES (?, ?)
				ON CONFLICT (project_id) DO UPDATE SET report = excluded.report`, p.ID, string(j.report))
		}
		if err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET report_sha256 = ? WHERE id = ?`, j.reportSHA, p.ID); err != nil {
			return "", err
		}
	}
	return park, nil
}

func insertScore(ctx context.Context, tx *sql.Tx, s *engine.Score) error {
	items, err := json.Marshal(s.Items)
	if err != nil {
		return fmt.Errorf("encode score items: %w", err)
	}
	if s.Items == nil {
		items = []byte("{}")
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO scores (project_id, round, reviewer_id, reviewer, items, total, comment, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ProjectID, s.Round, s.ReviewerID, s.Reviewer, string(items), s.Total, s.Comment, fmtTime(s.CreatedAt))
	switch {
	case isUnique(err):
		return engine.Errorf(engine.ECONFLICT, "该评审专家本轮已评分", "This reviewer has already scored this round")
	case isForeignKey(err):
		return notFound("项目或评审专家", "Project or reviewer")
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
		return engine.Errorf(engine.ECONFLICT, "已申报过利益冲突", "A conflict of interest was already declared")
	case isForeignKey(err):
		return notFound("项目或用户", "Project or user")
	}
	return err
}

// projectColumns and projectFrom read a project with its latest report.
const (
	projectColumns = `p.id, p.park, p.name, p.investor_name, p.uscc, p.figures, p.state, p.version, p.round, p.due_at, r.report, p.override, p.created_by, p.created_at, p.updated_at`
	projectFrom    = ` FROM projects p LEFT JOIN project_reports r ON r.project_id = p.id`
)

func scanProject(s interface{ Scan(...any) error }) (*engine.Project, error) {
	p := &engine.Project{}
	var figures string
	var report sql.NullString
	err := s.Scan(&p.ID, &p.Park, &p.Name, &p.InvestorName, &p.USCC, &figures, &p.State, &p.Version, &p.Round,
		nullTimeCol{&p.DueAt}, &report, &p.Override, &p.CreatedBy, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(figures), &p.Figures); err != nil {
		return nil, fmt.Errorf("project %d: decode figures: %w", p.ID, err)
	}
	if report.Valid {
		p.Report = &rules.Report{}
		if err := json.Unmarshal([]byte(report.String), p.Report); err != nil {
			return nil, fmt.Errorf("project %d: decode report: %w", p.ID, err)
		}
	}
	return p, nil
}

// Project returns one project.
func (db *DB) Project(ctx context.Context, id int64) (*engine.Project, error) {
	var p *engine.Project
	err := db.view(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanProject(tx.QueryRowContext(ctx, `SELECT `+projectColumns+projectFrom+` WHERE p.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("项目", "Project")
		}
		return err
	})
	if err != nil {
		return nil, wrap("project", err)
	}
	return p, nil
}

// listSegment is one run of a sorted list: the rows matching cond, in the
// order of cols (id last, breaking ties so that pages never overlap or skip).
// A sort is one segment, or two where SQL's order is not an index's order:
// "due" lists the projects with a deadline, by deadline, and then those
// without one, by id. Sorting on "due_at IS NULL, due_at" would make SQLite
// sort every matching row; each segment alone is one (park, state, due_at)
// index range, read in order and stopped at the page's end.
type listSegment struct {
	cond string // extra condition, "" for none
	cols []string
	desc bool
}

// order is the segment's ORDER BY, forwards or reversed.
func (s listSegment) order(reverse bool) string {
	dir := ""
	if s.desc != reverse {
		dir = " DESC"
	}
	return strings.Join(s.cols, dir+", ") + dir
}

// projectSorts maps ProjectFilter.Sort keys to their segments. Projects
// without a deadline sort after those with one, in both directions.
var projectSorts = map[string][]listSegment{
	"due": {{cond: `due_at IS NOT NULL`, cols: []string{"due_at", "id"}},
		{cond: `due_at IS NULL`, cols: []string{"id"}}},
	"-due": {{cond: `due_at IS NOT NULL`, cols: []string{"due_at", "id"}, desc: true},
		{cond: `due_at IS NULL`, cols: []string{"id"}, desc: true}},
	"updated":  {{cols: []string{"updated_at", "id"}}},
	"-updated": {{cols: []string{"updated_at", "id"}, desc: true}},
	"name":     {{cols: []string{"name", "id"}}},
	"-name":    {{cols: []string{"name", "id"}, desc: true}},
	"id":       {{cols: []string{"id"}}},
	"-id":      {{cols: []string{"id"}, desc: true}},
}

// Projects returns one page of the projects matching f, and how many match in
// all, from one snapshot. Sort defaults to "-updated" (recently touched
// first); an unknown key is an invalid error. Limit <= 0 means no limit.
//
// Query matches a substring of the name or investor (case-insensitive for
// Latin letters) or the exact USCC. From three characters on, the substring
// search uses the trigram index; shorter queries scan the narrow
// projects_search index (readHits).
//
// The total of a list filtered by park and state only is read from
// project_counts (migration 00030); other filters count their rows. A page
// in the second half of the list is read backwards from the end, so no page
// skips more than half the list.
func (db *DB) Projects(ctx context.Context, f engine.ProjectFilter) ([]*engine.Project, int, error) {
	var out []*engine.Project
	var total int
	err := db.view(ctx, func(tx *sql.Tx) error {
		hits, err := readHits(ctx, tx, f)
		if err != nil {
			return err
		}
		if hits.complete && hits.n > maxHits && parksOnly(f) {
			// A short search that every project of the parks matches ("项目"
			// is in most names) filters nothing: list the parks as they are,
			// without probing each entry against tens of thousands of hits.
			var all int
			cq, ca := countFromTable(f)
			if err := tx.QueryRowContext(ctx, cq, ca...).Scan(&all); err != nil {
				return err
			}
			if all == hits.n {
				f.Query, hits = "", hitList{}
			}
		}
		q, err := db.projectQuery(f, hits)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, q.count, q.countArgs...).Scan(&total); err != nil {
			return err
		}
		ids, err := q.pageIDs(ctx, tx, total)
		if err != nil {
			return err
		}
		out, err = projectsByID(ctx, tx, ids)
		return err
	})
	if err != nil {
		return nil, 0, wrap("projects", err)
	}
	return out, total, nil
}

// maxHits is the number of search hits up to which a list is read from the
// hits rather than from a (park, ...) index. Reading from the hits looks up
// each one; walking the index probes each project of the park against them.
// In a park of 66,666 projects, a search with 11 hits takes 2 ms read from
// the hits; one that finds every project 380 ms from the hits and 80 ms by
// the index. A variable only so that tests can reach both paths with few rows.
var maxHits = 2000

// hitList is a search's hits, as a JSON array of ids, and how many.
type hitList struct {
	ids string // "" when the search is not read from its hits
	n   int
	// complete: these are all of the parks' matches (a short search's are,
	// see shortHits), so with no other filter n is the list's total.
	complete bool
}

// readHits returns the ids a search finds, so that the list's total and page
// read them instead of searching again. For three or more characters it
// asks the trigram index and keeps the hits only if there are at most
// maxHits (otherwise the list asks the index itself, which for a query
// sharing a trigram with every name, "项目-", reads a posting list of every
// project each time). For one or two characters (common in Chinese: "铜箔")
// it scans the narrow projects_search index once and keeps every hit: the
// list reads few hits by id, and probes each entry of its (park, ...) index
// against many.
func readHits(ctx context.Context, tx *sql.Tx, f engine.ProjectFilter) (hitList, error) {
	q := strings.TrimSpace(f.Query)
	switch n := utf8.RuneCountInString(q); {
	case n == 0:
		return hitList{}, nil
	case n < 3:
		query, args := shortHits, []any{q, q}
		if strings.ContainsFunc(q, func(r rune) bool { return r < utf8.RuneSelf && unicode.IsLetter(r) }) {
			like := "%" + escapeLike(q) + "%"
			query, args = shortHitsLike, []any{like, like}
		}
		if len(f.Parks) > 0 {
			in, a := inList(f.Parks)
			query, args = query+` AND park IN (`+in+`)`, append(args, a...)
		}
		// Every hit is kept, maybe every project of the park: SQLite counts
		// them and writes their JSON in one row rather than handing over
		// tens of thousands of rows one by one.
		h := hitList{complete: true}
		err := tx.QueryRowContext(ctx, `SELECT count(*), json_group_array(id) FROM (`+query+`)`, args...).Scan(&h.n, &h.ids)
		return h, err
	}
	ids, err := queryIDs(ctx, tx, searchHits+` LIMIT ?`, q, ftsPhrase(q), maxHits+1)
	if err != nil || len(ids) > maxHits {
		return hitList{}, err
	}
	hits, err := json.Marshal(append([]int64{}, ids...)) // [] rather than null
	return hitList{ids: string(hits), n: len(ids)}, err
}

// shortHits selects the ids a search of one or two characters finds: a
// substring of the name or investor (a USCC has 18 characters, so none
// equals such a query), read from the projects_search index (migration
// 00040) alone, a fraction of the rows' size. Its arguments are the query
// twice (shortHitsLike: the LIKE pattern twice); readHits adds the parks.
//
// instr() looks for the bytes where LIKE runs its pattern matcher character
// by character; LIKE stays for queries with ASCII letters, which it matches
// regardless of case, as the trigram index does.
const (
	shortHits     = `SELECT id FROM projects INDEXED BY projects_search WHERE (instr(name, ?) > 0 OR instr(investor_name, ?) > 0)`
	shortHitsLike = `SELECT id FROM projects INDEXED BY projects_search WHERE (name LIKE ? ESCAPE '\' OR investor_name LIKE ? ESCAPE '\')`
)

// searchHits selects the ids of the projects a search of three or more
// characters finds: the USCC exactly, or a substring of the name or the
// investor through the trigram index. Its arguments are the query and
// ftsPhrase(query).
const searchHits = `SELECT id FROM projects WHERE uscc = ? UNION SELECT rowid FROM projects_fts WHERE projects_fts MATCH ?`

// ftsPhrase quotes a query as one FTS5 phrase, so that its characters are
// matched literally, in sequence.
func ftsPhrase(q string) string { return `"` + strings.ReplaceAll(q, `"`, `""`) + `"` }

// projectQuery is the SQL of one Projects call: the total, and the segments
// the page is read from.
type projectQuery struct {
	count     string
	countArgs []any
	where     string // the filter, " WHERE ..."
	args      []any
	segs      []listSegment
	limit     int // <= 0: no limit
	offset    int
}

// projectQuery builds the SQL of f; hits are a search's hits, if it is read
// from them (see readHits and projectWhere).
func (db *DB) projectQuery(f engine.ProjectFilter, hits hitList) (projectQuery, error) {
	sortKey := f.Sort
	if sortKey == "" {
		sortKey = "-updated"
	}
	segs, ok := projectSorts[sortKey]
	if !ok {
		return projectQuery{}, engine.FieldError("sort", "不支持的排序方式", "Unknown sort order")
	}
	onlyPark := parksOnly(f)
	if len(f.States) == 0 && segs[0].cols[0] == "due_at" {
		// Name every state, so that (park, state, due_at) gives the order.
		f.States = engine.States
	}
	where, args := db.projectWhere(f, hits)
	q := projectQuery{where: where, args: args, segs: segs, limit: f.Limit, offset: max(f.Offset, 0),
		count: `SELECT count(*) FROM projects` + where, countArgs: args}
	switch {
	case f.Industry == "" && strings.TrimSpace(f.Query) == "" && !f.Overdue:
		q.count, q.countArgs = countFromTable(f)
	case onlyPark && hits.complete:
		// The hits are all the parks' matches: their number is the total,
		// with no second pass over them.
		q.count, q.countArgs = `SELECT ?`, []any{hits.n}
	}
	return q, nil
}

// parksOnly reports whether f filters by park at most (a query aside).
func parksOnly(f engine.ProjectFilter) bool {
	return len(f.States) == 0 && f.Industry == "" && !f.Overdue
}

// countFromTable is the total of a list filtered by park and state only,
// from the per-(park, state) counts the triggers keep.
func countFromTable(f engine.ProjectFilter) (string, []any) {
	var args []any
	q := `SELECT coalesce(sum(n), 0) FROM project_counts WHERE `
	if len(f.Parks) > 0 {
		in, a := inList(f.Parks)
		q, args = q+`park IN (`+in+`)`, a
	} else {
		q += `park IN (SELECT id FROM parks)`
	}
	if len(f.States) > 0 {
		in, a := inList(f.States)
		q, args = q+` AND state IN (`+in+`)`, append(args, a...)
	}
	return q, args
}

// segmentPage is the SQL reading up to limit ids of a segment after skipping
// offset, in the segment's order or reversed.
func (q projectQuery) segmentPage(s listSegment, reverse bool) string {
	return `SELECT id FROM projects` + q.segmentWhere(s) + ` ORDER BY ` + s.order(reverse) + ` LIMIT ? OFFSET ?`
}

// segmentCount is the SQL counting a segment's rows.
func (q projectQuery) segmentCount(s listSegment) string {
	return `SELECT count(*) FROM projects` + q.segmentWhere(s)
}

func (q projectQuery) segmentWhere(s listSegment) string {
	if s.cond == "" {
		return q.where
	}
	return q.where + ` AND ` + s.cond
}

// pageIDs reads the ids of the page, in order, given the list's total.
func (q projectQuery) pageIDs(ctx context.Context, tx *sql.Tx, total int) ([]int64, error) {
	offset, limit := q.offset, q.limit
	if offset >= total {
		return nil, nil
	}
	reverse := false
	if limit > 0 && total-offset < offset+limit {
		// Nearer the end: read the same rows backwards from there.
		reverse = true
		limit = min(limit, total-offset)
		offset = total - offset - limit
	}
	segs := q.segs
	if reverse {
		segs = slices.Clone(segs)
		slices.Reverse(segs)
	}
	var ids []int64
	for _, s := range segs {
		want := -1 // SQLite: no limit
		if limit > 0 {
			want = limit - len(ids)
			if want == 0 {
				break
			}
		}
		got, err := queryIDs(ctx, tx, q.segmentPage(s, reverse), append(slices.Clone(q.args), want, offset)...)
		if err != nil {
			return nil, err
		}
		switch {
		case len(got) > 0:
			offset = 0 // the page started in this segment
		case offset > 0:
			// The whole segment lies before the page.
			var n int
			if err := tx.QueryRowContext(ctx, q.segmentCount(s), q.args...).Scan(&n); err != nil {
				return nil, err
			}
			offset -= n
		}
		ids = append(ids, got...)
	}
	if reverse {
		slices.Reverse(ids)
	}
	return ids, nil
}

func queryIDs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// projectsByID reads the projects with these ids, in this order: the page
// is chosen on (key, id) pairs an index covers, and only its rows carry
// their figures and report out of the table.
func projectsByID(ctx context.Context, tx *sql.Tx, ids []int64) ([]*engine.Project, error) {
	out := make([]*engine.Project, 0, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		at := make(map[int64]int, len(chunk))
		args := make([]any, len(chunk))
		for i, id := range chunk {
			at[id], args[i] = len(out)+i, id
		}
		out = out[:len(out)+len(chunk)]
		rows, err := tx.QueryContext(ctx, `SELECT `+projectColumns+projectFrom+` WHERE p.id IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			p, err := scanProject(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[at[p.ID]] = p
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	for _, p := range out {
		if p == nil { // cannot happen within one snapshot
			return nil, errors.New("page row vanished")
		}
	}
	return out, nil
}

// projectWhere turns a filter into a WHERE clause. Every clause is shaped to
// reach an index: the park is always constrained (all parks when the filter
// names none) so the (park, ...) indexes lead, and the overdue view names all
// states so that (park, state, due_at) answers "due_at < now".
//
// A search of three or more characters takes its ids from searchHits. When
// they are few, readHits has them (hits) and the list is read from those: the
// other columns are written "+park" and so on, which keeps SQLite from
// walking a (park, ...) index instead and probing every project of the park
// against the hits.
func (db *DB) projectWhere(f engine.ProjectFilter, hits hitList) (string, []any) {
	var where []string
	var args []any
	q := strings.TrimSpace(f.Query)
	trigram := utf8.RuneCountInString(q) >= 3
	byHits := hits.ids != "" && hits.n <= maxHits
	col := func(name string) string {
		if byHits {
			return "+" + name
		}
		return name
	}
	if len(f.Parks) > 0 {
		in, a := inList(f.Parks)
		where, args = append(where, col("park")+` IN (`+in+`)`), append(args, a...)
	} else {
		where = append(where, col("park")+` IN (SELECT id FROM parks)`)
	}
	states := f.States
	if len(states) == 0 && f.Overdue {
		states = engine.States
	}
	if len(states) > 0 {
		in, a := inList(states)
		where, args = append(where, col("state")+` IN (`+in+`)`), append(args, a...)
	}
	if f.Industry != "" {
		// A range rather than LIKE 'C39%' so the index applies whatever the
		// LIKE settings; 0xFF never occurs in UTF-8 text, so it bounds every
		// string that starts with the prefix.
		where = append(where, col("industry_code")+` >= ? AND `+col("industry_code")+` < ?`)
		args = append(args, f.Industry, f.Industry+"\xff")
	}
	switch {
	case byHits:
		where, args = append(where, `id IN (SELECT value FROM json_each(?))`), append(args, hits.ids)
	case hits.ids != "":
		// Many hits of a short search: "+id" walks the list's own
		// (park, ...) index and probes each entry against the hits, instead
		// of fetching thousands of hits by id and sorting them.
		where, args = append(where, `+id IN (SELECT value FROM json_each(?))`), append(args, hits.ids)
	case trigram:
		where, args = append(where, `id IN (`+searchHits+`)`), append(args, q, ftsPhrase(q))
	}
	if f.Overdue {
		now := f.Now
		if now.IsZero() {
			now = db.now()
		}
		where, args = append(where, col("due_at")+` < ?`), append(args, fmtTime(now))
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// escapeLike escapes LIKE's wildcards so a user's "%" or "_" matches itself.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
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
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
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
			if err := json.Unmarshal([]byte(items), &s.Items); err != nil {
				return fmt.Errorf("decode score items: %w", err)
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, wrap("scores", err)
}

// Conflicts returns the conflict declarations on a project in the order made.
func (db *DB) Conflicts(ctx context.Context, projectID int64) ([]engine.Conflict, error) {
	var out []engine.Conflict
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT project_id, user_id, username, reason, created_at
			FROM conflicts WHERE project_id = ? ORDER BY rowid`, projectID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c engine.Conflict
			if err := rows.Scan(&c.ProjectID, &c.UserID, &c.Username, &c.Reason, timeCol{&c.CreatedAt}); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
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
		return 0, notFound("项目", "Project")
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
			return notFound("文件", "Document")
		}
		return err
	})
	if err != nil {
		return nil, wrap("document", err)
	}
	return &d, nil
}
