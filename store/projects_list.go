package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"zonevet/engine"
)

// The project list: one page of the projects matching a filter, and how many
// match, from one snapshot. How the rows are found depends on the filter,
// above all on a search and on how many projects it finds; each way is one
// listStrategy below, chosen by planList. They differ only in the WHERE
// clause they add and in how they count; the sort, offsets, keyset cursors
// and reading the rows are shared. Every strategy gives exactly the list's
// plain definition (referenceList in the tests, which forces each one).

// listStrategy is one way of answering a filter: the SQL that selects its
// rows and the SQL that counts them.
type listStrategy interface {
	query(db *DB, f engine.ProjectFilter) listQuery
}

// listQuery is a strategy's SQL: the filter as a WHERE clause over projects,
// and the total's query.
type listQuery struct {
	from      string // the pages' table, if not plain "projects"
	where     string // " WHERE ..."
	args      []any
	count     string
	countArgs []any
}

// unsearched lists without a search, or for a search that every project of
// the parks matches: constraints on the (park, ...) indexes, and a total
// filtered by park and state alone summed from project_counts (migration
// 00030), kept by triggers in the writing transaction.
type unsearched struct{}

func (unsearched) query(db *DB, f engine.ProjectFilter) listQuery {
	where, args := db.filterWhere(f, false)
	q := listQuery{where: where, args: args, count: `SELECT count(*) FROM projects` + where, countArgs: args}
	if f.Industry == "" && !f.Overdue {
		q.count, q.countArgs = countFromTable(f)
	}
	return q
}

// industryWalk lists an industry with many projects (more than maxHits) by
// walking the sort's own index and checking each row's industry code, which
// stops once the page is full. SQLite would otherwise read every match
// through the (park, industry_code) index and sort them all for one page
// (80 ms for one project in seven at 100,000). n is the matches, counted
// once by planUnsearched.
type industryWalk struct{ n int }

func (s industryWalk) query(db *DB, f engine.ProjectFilter) listQuery {
	rest := f
	rest.Industry = ""
	where, args := db.filterWhere(rest, false)
	// filterWhere's range, with the column hidden from the planner by the
	// unary plus, so that no index on it leads.
	where, args = where+` AND +industry_code >= ? AND +industry_code < ?`, append(args, f.Industry, f.Industry+"\xff")
	return listQuery{from: walkIndex[strings.TrimPrefix(cmp.Or(f.Sort, "-updated"), "-")], where: where, args: args,
		count: `SELECT CAST(? AS bigint)`, countArgs: []any{s.n}}
}

// walkIndex names the index an industryWalk reads in each sort's order:
// with the industry hidden, SQLite would rather scan the table and sort it
// than look each row's industry up from an index that lacks it, which is
// only cheaper when it must read every row.
var walkIndex = map[string]string{
	"updated": "projects INDEXED BY projects_park_updated",
	"due":     "projects INDEXED BY projects_park_due",
	"name":    "projects INDEXED BY projects_park_name",
	"id":      "projects NOT INDEXED", // the table itself, in rowid order
}

// walkBudget bounds the rows an industryWalk may read (about offset+limit
// times the share of the parks' projects in the industry): beyond it a deep
// page by offset is cheaper read from the industry's index and sorted.
const walkBudget = 20000

// planUnsearched picks how to list without a search: an industry filter
// matching many projects on SQLite, read for one page that a walk of the
// sort's index reaches soon, is an industryWalk; PostgreSQL weighs the two
// plans itself.
func (db *DB) planUnsearched(ctx context.Context, tx *sql.Tx, f engine.ProjectFilter) (listStrategy, error) {
	if f.Industry == "" || db.dialect != sqliteDialect || f.Limit <= 0 {
		return unsearched{}, nil
	}
	u := unsearched{}.query(db, f)
	var n, all int
	if err := tx.QueryRowContext(ctx, u.count, u.countArgs...).Scan(&n); err != nil || n <= maxHits {
		return unsearched{}, err
	}
	cq, ca := countFromTable(engine.ProjectFilter{Parks: f.Parks, States: f.States})
	if err := tx.QueryRowContext(ctx, cq, ca...).Scan(&all); err != nil {
		return nil, err
	}
	skip := min(f.Offset, max(n-f.Offset-f.Limit, 0)) // a page past the middle is read from the end
	if f.After != nil || f.Before != nil {
		skip = 0
	}
	if (skip+f.Limit)*all/n > walkBudget {
		return unsearched{}, nil
	}
	return industryWalk{n: n}, nil
}

// fewHits lists a search's hits, at most maxHits of them, looked up by id.
// The other constraints are written "+park" and so on, which keeps SQLite
// from walking a (park, ...) index instead and probing every project of the
// parks against the hits.
type fewHits struct{ ids string } // JSON array

func (s fewHits) query(db *DB, f engine.ProjectFilter) listQuery {
	where, args := db.filterWhere(f, true)
	where, args = where+` AND `+db.inJSON(`id`, false), append(args, db.idsArg(s.ids))
	return listQuery{where: where, args: args, count: `SELECT count(*) FROM projects` + where, countArgs: args}
}

// manyHits lists a search with more hits than maxHits and more misses
// ("装备", one project in seven): the list's own index is
// walked and each entry probed against the hits ("+id" keeps SQLite from
// fetching thousands of hits by id and sorting them). The hits are all the
// parks' matches, so with no other filter their number is the total.
type manyHits struct {
	ids string // JSON array
	n   int
}

func (s manyHits) query(db *DB, f engine.ProjectFilter) listQuery {
	where, args := db.filterWhere(f, false)
	where, args = where+` AND `+db.inJSON(`+id`, false), append(args, db.idsArg(s.ids))
	q := listQuery{where: where, args: args, count: `SELECT count(*) FROM projects` + where, countArgs: args}
	if parksOnly(f) {
		q.count, q.countArgs = `SELECT CAST(? AS bigint)`, []any{s.n} // typed for PostgreSQL
	}
	return q
}

// mostHit lists a search that all but at most maxHits of the parks'
// projects match ("有限公司" is in nearly every investor's name): the index
// is walked and the few misses skipped, so neither the page nor the total
// handles tens of thousands of hits. n is the number of hits in the parks.
type mostHit struct {
	misses string // JSON array
	n      int
}

func (s mostHit) query(db *DB, f engine.ProjectFilter) listQuery {
	where, args := db.filterWhere(f, false)
	where, args = where+` AND `+db.inJSON(`+id`, true), append(args, db.idsArg(s.misses))
	q := listQuery{where: where, args: args, count: `SELECT count(*) FROM projects` + where, countArgs: args}
	if parksOnly(f) {
		q.count, q.countArgs = `SELECT CAST(? AS bigint)`, []any{s.n} // typed for PostgreSQL
	}
	return q
}

// trigramInline asks the trigram index inside the list's query. It serves
// searches of three or more characters with more than maxHits hits and a
// letter beyond ASCII that has a case: the trigram index folds every case,
// LIKE (which the scans use) only ASCII's, so only the index answers those
// as the other searches are answered. Rare, and slower on many hits.
type trigramInline struct{ q string }

func (s trigramInline) query(db *DB, f engine.ProjectFilter) listQuery {
	where, args := db.filterWhere(f, false)
	hits, hargs := db.searchHitsQuery(s.q)
	where, args = where+` AND id IN (`+hits+`)`, append(args, hargs...)
	return listQuery{where: where, args: args, count: `SELECT count(*) FROM projects` + where, countArgs: args}
}

// gramHits lists a search of two characters beyond ASCII ("装备") from
// project_grams (migration 00440), which holds every such pair of each
// project's name and investor: the hits are one range of it, n of them in
// the parks. Few are read by id, like fewHits; more are probed per row of
// the list's own index walk (an index seek each), so neither the page nor
// the total goes through a scan of the park or an id list.
type gramHits struct {
	gram string
	n    int
	few  bool // n <= maxHits
}

func (s gramHits) query(db *DB, f engine.ProjectFilter) listQuery {
	var where string
	var args []any
	if s.few {
		where, args = db.filterWhere(f, true)
		parks, pargs := searchParks(f)
		where = where + ` AND id IN (SELECT id FROM project_grams WHERE gram = ? AND ` + parks + `)`
		args = append(append(args, s.gram), pargs...)
	} else {
		where, args = db.filterWhere(f, false)
		where = where + ` AND EXISTS (SELECT 1 FROM project_grams g WHERE g.gram = ? AND g.park = projects.park AND g.id = projects.id)`
		args = append(args, s.gram)
	}
	q := listQuery{where: where, args: args, count: `SELECT count(*) FROM projects` + where, countArgs: args}
	if !s.few && parksOnly(f) {
		q.count, q.countArgs = `SELECT CAST(? AS bigint)`, []any{s.n}
	}
	return q
}

// searchGram reports whether q (trimmed) is a search project_grams answers:
// two characters, both beyond ASCII. Such a query has no letter LIKE folds,
// so its hits are exactly the projects holding it as a pair.
func searchGram(q string) bool {
	return utf8.RuneCountInString(q) == 2 && beyondASCII(q)
}

// beyondASCII reports whether q is valid UTF-8 of characters beyond ASCII
// only: every pair of them is in project_grams, and it is no USCC (18
// ASCII characters), so only the name and investor can match it.
func beyondASCII(q string) bool {
	return q != "" && utf8.ValidString(q) && !strings.ContainsFunc(q, func(r rune) bool { return r < utf8.RuneSelf })
}

// gramBound is an upper bound on the hits of q (three or more characters
// beyond ASCII) in f's parks, counted up to limit: the fewest projects
// holding one of its pairs.
func gramBound(ctx context.Context, tx *sql.Tx, f engine.ProjectFilter, q string, limit int) (int, error) {
	parks, args := searchParks(f)
	r := []rune(q)
	bound := limit
	for i := 0; i+1 < len(r); i++ {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM project_grams WHERE gram = ? AND `+parks+` LIMIT ?) s`,
			append(append([]any{string(r[i : i+2])}, args...), limit)...).Scan(&n)
		if err != nil {
			return 0, err
		}
		bound = min(bound, n)
	}
	return bound, nil
}

// sqliteMatch is the search's substring match of a row's name and
// investor on SQLite. instr() looks for the bytes where LIKE
// runs its pattern matcher character by character; LIKE is used for
// queries with ASCII letters, which it matches regardless of case, as the
// trigram index does.
func sqliteMatch(q string) (string, []any) {
	if strings.ContainsFunc(q, func(r rune) bool { return r < utf8.RuneSelf && unicode.IsLetter(r) }) {
		like := "%" + escapeLike(q) + "%"
		return `(name LIKE ? ESCAPE '\' OR investor_name LIKE ? ESCAPE '\')`, []any{like, like}
	}
	return `(instr(name, ?) > 0 OR instr(investor_name, ?) > 0)`, []any{q, q}
}

// countGram counts q's hits in f's parks from project_grams.
func countGram(ctx context.Context, tx *sql.Tx, f engine.ProjectFilter) (int, error) {
	parks, args := searchParks(f)
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM project_grams WHERE gram = ? AND `+parks, append([]any{f.Query}, args...)...).Scan(&n)
	return n, err
}

// maxHits is the number of search hits up to which a list is read from the
// hits (fewHits) rather than by walking a (park, ...) index. Reading from the
// hits looks up each one; walking the index probes each project of the park
// against them. In a park of 66,666 projects, a search with 11 hits takes
// 2 ms read from the hits; one that finds every project 380 ms from the hits
// and 80 ms by the index. A variable only so that tests can reach every
// strategy with few rows.
var maxHits = 2000

// planList chooses the strategy for f (whose Query is trimmed). A search of
// three or more characters first asks the trigram index for up to
// maxHits+1 hits, and few are read by id. Otherwise (or for one or two
// characters, common in Chinese, "铜箔", which the trigram index cannot
// answer) the narrow projects_search index (migration 00040) is scanned:
// first for the misses, stopping after maxHits+1 of them — with none the
// search filters nothing (unsearched), with few they are skipped
// (mostHit) — and then, once, for all the hits: few are read by id, many
// probed (manyHits). Each case costs one scan of the parks' narrow index.
// Two characters beyond ASCII, the common short Chinese search, skip all of
// this: project_grams holds their hits (gramHits).
func (db *DB) planList(ctx context.Context, tx *sql.Tx, f engine.ProjectFilter) (listStrategy, error) {
	q := f.Query
	if q == "" {
		return db.planUnsearched(ctx, tx, f)
	}
	if searchGram(q) {
		n, err := countGram(ctx, tx, f)
		if err != nil {
			return nil, err
		}
		var all int
		cq, ca := countFromTable(engine.ProjectFilter{Parks: f.Parks})
		if err := tx.QueryRowContext(ctx, cq, ca...).Scan(&all); err != nil || n == all {
			return unsearched{}, err
		}
		return gramHits{gram: q, n: n, few: n <= maxHits}, nil
	}
	// PostgreSQL's trigram probe fetches each hit from the table to recheck
	// it (40 ms for 2,001 of "能装备"). Where every pair of a query beyond
	// ASCII is held by more than maxHits projects, so that the probe is
	// likely to stop only after maxHits+1 fetches, the scans below answer
	// alone: as exactly for few hits, at the price of one scan.
	long, probe := utf8.RuneCountInString(q) >= 3, true
	if long && db.dialect == postgresDialect && beyondASCII(q) {
		bound, err := gramBound(ctx, tx, f, q, maxHits+1)
		if err != nil {
			return nil, err
		}
		probe = bound <= maxHits
	}
	if long && probe {
		hits, hargs := db.searchHitsQuery(q)
		ids, err := queryIDs(ctx, tx, hits+` LIMIT ?`, append(hargs, maxHits+1)...)
		if err != nil {
			return nil, err
		}
		if len(ids) <= maxHits {
			j, err := json.Marshal(append([]int64{}, ids...)) // [] rather than null
			return fewHits{string(j)}, err
		}
		if foldsBeyondASCII(q) && db.dialect == sqliteDialect { // PostgreSQL's scan folds every case
			return trigramInline{q}, nil
		}
	}
	m, misses, err := db.searchScan(ctx, tx, f, true, maxHits+1)
	switch {
	case err != nil:
		return nil, err
	case m == 0:
		return unsearched{}, nil
	case m <= maxHits:
		var all int
		cq, ca := countFromTable(engine.ProjectFilter{Parks: f.Parks})
		err := tx.QueryRowContext(ctx, cq, ca...).Scan(&all)
		return mostHit{misses: misses, n: all - m}, err
	}
	n, hits, err := db.searchScan(ctx, tx, f, false, -1)
	if err != nil || n <= maxHits {
		return fewHits{hits}, err
	}
	return manyHits{ids: hits, n: n}, nil
}

// scanSearch scans the narrow projects_search index of f's parks for
// f.Query's hits (a substring of the name or investor, or for three or more
// characters the exact USCC), or with misses for the rest, and returns up to
// limit of them (< 0: all) as a count and a JSON array. SQLite counts them
// and writes the JSON in one row rather than handing over tens of thousands
// of rows one by one.
func scanSearch(ctx context.Context, tx *sql.Tx, f engine.ProjectFilter, misses bool, limit int) (int, string, error) {
	q := f.Query
	parks, args := searchParks(f)
	match, margs := sqliteMatch(q)
	if misses {
		match = `NOT ` + match
	}
	scan := `SELECT id FROM projects INDEXED BY projects_search WHERE ` + parks + ` AND ` + match
	scanArgs := append(slices.Clone(args), margs...)
	if utf8.RuneCountInString(q) >= 3 { // a USCC has 18 characters: no shorter query equals one
		if misses {
			scan, scanArgs = scan+` AND id NOT IN (SELECT id FROM projects WHERE uscc = ?)`, append(scanArgs, q)
		} else {
			scan = scan + ` UNION SELECT id FROM projects WHERE uscc = ? AND ` + parks
			scanArgs = append(append(scanArgs, q), args...)
		}
	}
	var n int
	var ids string
	err := tx.QueryRowContext(ctx, `SELECT count(*), json_group_array(id) FROM (`+scan+` LIMIT ?)`, append(scanArgs, limit)...).Scan(&n, &ids)
	return n, ids, err
}

// foldsBeyondASCII reports whether q has a letter outside ASCII with another
// case, which the trigram index matches caselessly and LIKE does not.
func foldsBeyondASCII(q string) bool {
	return strings.ContainsFunc(q, func(r rune) bool { return r >= utf8.RuneSelf && unicode.SimpleFold(r) != r })
}

// searchHits selects the ids of the projects a search of three or more
// characters finds: the USCC exactly, or a substring of the name or the
// investor through the trigram index. Its arguments are the query and
// ftsPhrase(query).
const searchHits = `SELECT id FROM projects WHERE uscc = ? UNION SELECT rowid FROM projects_fts WHERE projects_fts MATCH ?`

// ftsPhrase quotes a query as one FTS5 phrase, so that its characters are
// matched literally, in sequence.
func ftsPhrase(q string) string { return `"` + strings.ReplaceAll(q, `"`, `""`) + `"` }

// searchParks is the park constraint of a search scan: f's parks, or all.
func searchParks(f engine.ProjectFilter) (string, []any) {
	if len(f.Parks) == 0 {
		return `park IN (SELECT id FROM parks)`, []any{}
	}
	in, args := inList(f.Parks)
	return `park IN (` + in + `)`, args
}

// The search on PostgreSQL. The strategies and planList are the same as on
// SQLite; what differs is where the hits come from. Three or more
// characters: pg_trgm's GIN indexes on name and investor_name (migration
// 00390 in migrations_pg) in place of FTS5's trigram table. One or two
// characters, which no trigram holds: the same narrow scan of
// projects_search (park, name, investor_name), here an index-only scan. Ids
// travel as the same JSON arrays (inJSON).

// inJSON is the condition that col is (not) one of the ids in a strategy's
// hits or misses, a JSON array passed through idsArg. PostgreSQL's is an
// array comparison with the array as its parameter, a constant the executor
// hashes; "IN (SELECT …)" over a set-returning function, or an array cast
// from text inside the statement, is compared element by element, thousands
// of times per row.
func (db *DB) inJSON(col string, not bool) string {
	if db.dialect == postgresDialect {
		if not {
			return col + ` <> ALL(CAST(? AS bigint[]))`
		}
		return col + ` = ANY(CAST(? AS bigint[]))`
	}
	if not {
		return col + ` NOT IN (SELECT value FROM json_each(?))`
	}
	return col + ` IN (SELECT value FROM json_each(?))`
}

// idsArg is inJSON's argument for a JSON array of ids: itself on SQLite,
// and on PostgreSQL the same list as an array literal ("{1,2}").
func (db *DB) idsArg(ids string) string {
	if db.dialect == postgresDialect {
		return "{" + strings.Trim(ids, "[]") + "}"
	}
	return ids
}

// searchHitsQuery selects the ids of the projects a search of three or more
// characters finds through the trigram index (FTS5's or pg_trgm's): the USCC
// exactly, or a substring of the name or the investor; and its arguments.
func (db *DB) searchHitsQuery(q string) (string, []any) {
	if db.dialect == postgresDialect {
		// One scan rather than SQLite's UNION, which would collect every hit
		// before the LIMIT (planList's probe) stops it.
		match, args := postgresMatch(q, "name", "investor_name")
		return `SELECT id FROM projects WHERE uscc = ? OR ` + match, append([]any{q}, args...)
	}
	return searchHits, []any{q, ftsPhrase(q)}
}

// searchScan is scanSearch on the store's engine.
func (db *DB) searchScan(ctx context.Context, tx *sql.Tx, f engine.ProjectFilter, misses bool, limit int) (int, string, error) {
	if db.dialect == postgresDialect {
		return scanSearchPostgres(ctx, tx, f, misses, limit)
	}
	return scanSearch(ctx, tx, f, misses, limit)
}

// scanSearchPostgres is scanSearch on PostgreSQL: the parks' projects_search
// entries read index-only. The columns are matched concatenated with an
// empty string, an expression no trigram index answers: the scan is chosen because there are many hits
// (or the query is too short for trigrams), where a bitmap of the GIN index
// would fetch every hit from the table.
func scanSearchPostgres(ctx context.Context, tx *sql.Tx, f engine.ProjectFilter, misses bool, limit int) (int, string, error) {
	q := f.Query
	parks, args := searchParks(f)
	match, margs := postgresMatch(q, `(name || '')`, `(investor_name || '')`)
	if misses {
		match = `NOT ` + match
	}
	scan := `SELECT id FROM projects WHERE ` + parks + ` AND ` + match
	scanArgs := append(slices.Clone(args), margs...)
	if utf8.RuneCountInString(q) >= 3 { // as scanSearch: no shorter query is a USCC
		if misses {
			scan, scanArgs = scan+` AND id NOT IN (SELECT id FROM projects WHERE uscc = ?)`, append(scanArgs, q)
		} else {
			scan = scan + ` UNION SELECT id FROM projects WHERE uscc = ? AND ` + parks
			scanArgs = append(append(scanArgs, q), args...)
		}
	}
	if limit < 0 {
		limit = math.MaxInt64
	}
	var n int
	var ids string
	err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(json_agg(id), '[]') FROM (`+scan+` LIMIT ?) s`, append(scanArgs, limit)...).Scan(&n, &ids)
	return n, ids, err
}

// postgresMatch is the search's substring match over the column
// expressions cols, with SQLite's case rules: three or more characters
// match in any case (SQLite's trigram index folds every case) — ILIKE, or
// LIKE when the query has no letter with a case, which is cheaper and finds
// the same; one or two characters fold ASCII letters only (SQLite's LIKE),
// so they are matched with LIKE once for each ASCII case variant of the
// query, at most four.
func postgresMatch(q string, cols ...string) (string, []any) {
	op, patterns := "LIKE", []string{q}
	switch {
	case utf8.RuneCountInString(q) < 3:
		patterns = asciiCaseVariants(q)
	case strings.ContainsFunc(q, func(r rune) bool { return unicode.SimpleFold(r) != r }):
		op = "ILIKE"
	}
	var terms []string
	var args []any
	for _, c := range cols {
		for _, p := range patterns {
			terms, args = append(terms, c+` `+op+` ? ESCAPE '\'`), append(args, "%"+escapeLike(p)+"%")
		}
	}
	return `(` + strings.Join(terms, ` OR `) + `)`, args
}

// asciiCaseVariants spells q in every combination of upper and lower case
// of its ASCII letters (other characters as they are).
func asciiCaseVariants(q string) []string {
	out := []string{""}
	for _, r := range q {
		alts := []rune{r}
		if r < utf8.RuneSelf && unicode.IsLetter(r) {
			alts = []rune{unicode.ToLower(r), unicode.ToUpper(r)}
		}
		var next []string
		for _, s := range out {
			for _, a := range alts {
				next = append(next, s+string(a))
			}
		}
		out = next
	}
	return out
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
	// lead is a column that cond holds constant (due_at IS NULL), put
	// first in the ORDER BY all the same: PostgreSQL does not take IS NULL
	// as fixing a column, and without it sorted the segment's rows rather
	// than walk (park, due_at, id) in order (TestProjectsByDueReadInIndexOrder).
	lead string
	desc bool
	// holds reports whether a cursor's row lies in this segment; nil: any.
	holds func(c *engine.ListCursor) bool
}

// order is the segment's ORDER BY, forwards or reversed.
func (s listSegment) order(reverse bool) string {
	dir := ""
	if s.desc != reverse {
		dir = " DESC"
	}
	cols := s.cols
	if s.lead != "" {
		cols = append([]string{s.lead}, cols...)
	}
	return strings.Join(cols, dir+", ") + dir
}

// keyset is the condition selecting the segment's rows after c in the
// segment's order (before c with backward), and its arguments. With the key
// first, "k >= ? AND (k > ? OR id > ?)" gives SQLite the key's index range
// and leaves only the rows tied on the key to the id.
func (s listSegment) keyset(c *engine.ListCursor, backward bool) (string, []any) {
	op := ">"
	if s.desc != backward {
		op = "<"
	}
	if len(s.cols) == 1 { // id alone
		return `id ` + op + ` ?`, []any{c.ID}
	}
	var key any
	switch s.cols[0] {
	case "updated_at":
		key = fmtTime(c.Updated)
	case "due_at":
		if c.Due != nil {
			key = fmtTime(*c.Due)
		}
	case "name":
		key = c.Name
	}
	k := s.cols[0]
	return k + ` ` + op + `= ? AND (` + k + ` ` + op + ` ? OR id ` + op + ` ?)`, []any{key, key, c.ID}
}

func dueHeld(c *engine.ListCursor) bool   { return c.Due != nil }
func noDueHeld(c *engine.ListCursor) bool { return c.Due == nil }

// projectSorts maps ProjectFilter.Sort keys to their segments. Projects
// without a deadline sort after those with one, in both directions.
var projectSorts = map[string][]listSegment{
	"due": {{cond: `due_at IS NOT NULL`, cols: []string{"due_at", "id"}, holds: dueHeld},
		{cond: `due_at IS NULL`, cols: []string{"id"}, lead: "due_at", holds: noDueHeld}},
	"-due": {{cond: `due_at IS NOT NULL`, cols: []string{"due_at", "id"}, desc: true, holds: dueHeld},
		{cond: `due_at IS NULL`, cols: []string{"id"}, lead: "due_at", desc: true, holds: noDueHeld}},
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
// After or Before page by keyset from a row's place (ignoring Offset);
// otherwise Offset rows are skipped, and a page in the second half of the
// list is read backwards from the end, so no page skips more than half.
// Summary leaves out what a list row does not show.
//
// Query matches a substring of the name or investor (case-insensitive for
// Latin letters) or the exact USCC; planList chooses how.
func (db *DB) Projects(ctx context.Context, f engine.ProjectFilter) ([]*engine.Project, int, error) {
	sortKey := f.Sort
	if sortKey == "" {
		sortKey = "-updated"
	}
	segs, ok := projectSorts[sortKey]
	if !ok {
		return nil, 0, engine.FieldFail("sort", "err.unknown_sort_order", nil)
	}
	f.Query = strings.TrimSpace(f.Query)
	var out []*engine.Project
	var total int
	err := db.view(ctx, func(tx *sql.Tx) error {
		if err := db.serialPlans(ctx, tx); err != nil {
			return err
		}
		s, err := db.planList(ctx, tx, f)
		if err != nil {
			return err
		}
		out, total, err = db.listWith(ctx, tx, s, f, segs)
		return err
	})
	if err != nil {
		return nil, 0, wrap("projects", err)
	}
	return out, total, nil
}

// serialPlans keeps PostgreSQL from planning the list's statements in
// parallel for the rest of tx. A page of 50 walked from an index, probing
// project_grams per row, was planned as a Gather Merge of two workers whose
// start-up alone took 80–140 ms on a loaded machine, against 8 ms for the
// whole walk in one process (EXPLAIN ANALYZE, "装备" among the drafts). No
// list statement reads enough rows to gain from workers.
func (db *DB) serialPlans(ctx context.Context, tx *sql.Tx) error {
	if db.dialect != postgresDialect {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`)
	return err
}

// listWith reads f's page and total the way s says.
func (db *DB) listWith(ctx context.Context, tx *sql.Tx, s listStrategy, f engine.ProjectFilter, segs []listSegment) ([]*engine.Project, int, error) {
	q := s.query(db, f)
	var total int
	if err := tx.QueryRowContext(ctx, q.count, q.countArgs...).Scan(&total); err != nil {
		return nil, 0, err
	}
	var ids []int64
	var err error
	if f.After != nil || f.Before != nil {
		ids, err = q.idsFrom(ctx, tx, segs, f)
	} else {
		ids, err = q.idsAt(ctx, tx, segs, f.Limit, max(f.Offset, 0), total)
	}
	if err != nil {
		return nil, 0, err
	}
	out, err := projectsByID(ctx, tx, ids, f.Summary)
	return out, total, err
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

// segmentIDs reads up to want ids (< 0: all) of a segment, skipping offset,
// after an extra condition (with its arguments), in the segment's order or
// reversed.
func (q listQuery) segmentIDs(ctx context.Context, tx *sql.Tx, s listSegment, extra string, extraArgs []any, reverse bool, want, offset int) ([]int64, error) {
	where, args := q.where, slices.Clone(q.args)
	if s.cond != "" {
		where += ` AND ` + s.cond
	}
	if extra != "" {
		where, args = where+` AND `+extra, append(args, extraArgs...)
	}
	limit := int64(want)
	if want < 0 {
		limit = math.MaxInt64 // no limit: LIMIT -1 means that to SQLite only
	}
	return queryIDs(ctx, tx, `SELECT id FROM `+cmp.Or(q.from, "projects")+where+` ORDER BY `+s.order(reverse)+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
}

// idsAt reads the ids of the page at offset, in order, given the total.
func (q listQuery) idsAt(ctx context.Context, tx *sql.Tx, segs []listSegment, limit, offset, total int) ([]int64, error) {
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
		got, err := q.segmentIDs(ctx, tx, s, "", nil, reverse, want, offset)
		if err != nil {
			return nil, err
		}
		switch {
		case len(got) > 0:
			offset = 0 // the page started in this segment
		case offset > 0:
			// The whole segment lies before the page.
			where := q.where
			if s.cond != "" {
				where += ` AND ` + s.cond
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM projects`+where, q.args...).Scan(&n); err != nil {
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

// idsFrom reads the ids of the page just after f.After (or just before
// f.Before), in order: from the cursor's segment on, the first one from the
// cursor's place, each an index range that starts there.
func (q listQuery) idsFrom(ctx context.Context, tx *sql.Tx, segs []listSegment, f engine.ProjectFilter) ([]int64, error) {
	c, backward := f.After, false
	if c == nil {
		c, backward = f.Before, true
	}
	at := slices.IndexFunc(segs, func(s listSegment) bool { return s.holds == nil || s.holds(c) })
	var ids []int64
	for i := at; i >= 0 && i < len(segs); {
		s := segs[i]
		want := -1
		if f.Limit > 0 {
			want = f.Limit - len(ids)
			if want == 0 {
				break
			}
		}
		var extra string
		var extraArgs []any
		if i == at {
			extra, extraArgs = s.keyset(c, backward)
		}
		got, err := q.segmentIDs(ctx, tx, s, extra, extraArgs, backward, want, 0)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
		if backward {
			i--
		} else {
			i++
		}
	}
	if backward {
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

// summaryColumns is what a list row shows (summary): of the figures only
// the total investment and the industry code, and no report.
const summaryColumns = `p.id, p.park, p.name, p.investor_name, p.uscc, json_extract(p.figures, '$.total_investment'), p.industry_code, p.state, p.version, p.round, p.due_at, p.override, p.created_by, p.created_at, p.updated_at FROM projects p`

func scanSummary(s interface{ Scan(...any) error }) (*engine.Project, error) {
	p := &engine.Project{}
	var total sql.NullFloat64
	err := s.Scan(&p.ID, &p.Park, &p.Name, &p.InvestorName, &p.USCC, &total, &p.Figures.IndustryCode, &p.State, &p.Version, &p.Round,
		nullTimeCol{&p.DueAt}, &p.Override, &p.CreatedBy, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt})
	if total.Valid {
		p.Figures.TotalInvestment = &total.Float64
	}
	return p, err
}

// projectsByID reads the projects with these ids, in this order: the page
// is chosen on (key, id) pairs an index covers, and only its rows are read
// from the table, whole or (summary) what a list row shows.
func projectsByID(ctx context.Context, tx *sql.Tx, ids []int64, summary bool) ([]*engine.Project, error) {
	cols, scan := projectColumns+projectFrom, scanProject
	if summary {
		cols, scan = summaryColumns, scanSummary
	}
	out := make([]*engine.Project, 0, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		at := make(map[int64]int, len(chunk))
		args := make([]any, len(chunk))
		for i, id := range chunk {
			at[id], args[i] = len(out)+i, id
		}
		out = out[:len(out)+len(chunk)]
		rows, err := tx.QueryContext(ctx, `SELECT `+cols+` WHERE p.id IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			p, err := scan(rows)
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

// filterWhere turns f's filters other than the search into a WHERE clause.
// Every clause is shaped to reach an index: the park is always constrained
// (all parks when the filter names none) so the (park, ...) indexes lead,
// and the overdue view names all states so that (park, state, due_at)
// answers "due_at < now". byID writes the columns "+park" and so on, for a
// list read from its hits by id (fewHits).
func (db *DB) filterWhere(f engine.ProjectFilter, byID bool) (string, []any) {
	var where []string
	var args []any
	col := func(name string) string {
		if byID && db.dialect == sqliteDialect {
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
		if db.dialect == postgresDialect {
			// PostgreSQL refuses the byte 0xFF in text; LIKE with a
			// prefix holds under any collation.
			where, args = append(where, `industry_code LIKE ? ESCAPE '\'`), append(args, escapeLike(f.Industry)+"%")
		} else {
			where = append(where, col("industry_code")+` >= ? AND `+col("industry_code")+` < ?`)
			args = append(args, f.Industry, f.Industry+"\xff")
		}
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
