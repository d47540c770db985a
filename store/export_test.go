package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"zonevet/engine"
)

// Writer exposes the raw writer pool to tests that must bypass the store:
// tampering with the log, checking triggers, the baseline benchmark.
func (db *DB) Writer() *sql.DB { return db.write }

// Reader exposes the read pool so tests can check each connection's pragmas.
func (db *DB) Reader() *sql.DB { return db.read }

// Migrate runs the migrations again, to prove a second run is a no-op.
func (db *DB) Migrate(ctx context.Context) error { return db.migrate(ctx) }

// ProjectsPlan returns the query plans for the statements Projects(f)
// may run: the total, each segment's page forwards and backwards, from a
// cursor either way, and its count; for a search, under every strategy
// that can answer one. On SQLite a line per step (EXPLAIN QUERY PLAN), on
// PostgreSQL a JSON document per statement (postgresPlan).
func (db *DB) ProjectsPlan(ctx context.Context, f engine.ProjectFilter) ([]string, error) {
	due := t0plan
	return db.ProjectsPlanFrom(ctx, f, &engine.ListCursor{Updated: t0plan, Due: &due, Name: "x", ID: 7})
}

// ProjectsPlanFrom is ProjectsPlan with the pages' cursor c. On PostgreSQL
// a search is planned under the one strategy planList picks on the
// database's rows, with its real hits: the planner's choice depends on them.
func (db *DB) ProjectsPlanFrom(ctx context.Context, f engine.ProjectFilter, c *engine.ListCursor) ([]string, error) {
	strategies := []listStrategy{unsearched{}}
	if f.Query != "" {
		strategies = []listStrategy{fewHits{"[1, 2, 3]"}, manyHits{"[1, 2, 3]", 3}, mostHit{"[1, 2, 3]", 3}, trigramInline{f.Query}}
		if q := strings.TrimSpace(f.Query); searchGram(q) {
			strategies = append(strategies, gramHits{q, 3, true}, gramHits{q, 3, false})
		}
		if db.dialect == postgresDialect {
			err := db.view(ctx, func(tx *sql.Tx) error {
				s, err := db.planList(ctx, tx, f)
				strategies = []listStrategy{s}
				return err
			})
			if err != nil {
				return nil, err
			}
		}
	}
	sortKey := f.Sort
	if sortKey == "" {
		sortKey = "-updated"
	}
	segs := projectSorts[sortKey]
	type stmt struct {
		sql  string
		args []any
	}
	var stmts []stmt
	for _, st := range strategies {
		q := st.query(db, f)
		stmts = append(stmts, stmt{q.count, q.countArgs})
		for _, s := range segs {
			page := func(extra string, extraArgs []any, reverse bool) stmt {
				where, args := q.where, append([]any{}, q.args...)
				if s.cond != "" {
					where += ` AND ` + s.cond
				}
				if extra != "" {
					where, args = where+` AND `+extra, append(args, extraArgs...)
				}
				return stmt{`SELECT id FROM projects` + where + ` ORDER BY ` + s.order(reverse) + ` LIMIT ? OFFSET ?`, append(args, 50, 0)}
			}
			after, afterArgs := s.keyset(c, false)
			before, beforeArgs := s.keyset(c, true)
			stmts = append(stmts, page("", nil, false), page("", nil, true), page(after, afterArgs, false), page(before, beforeArgs, true))
		}
	}
	if db.dialect == postgresDialect {
		var plan []string
		for _, s := range stmts {
			lines, err := db.postgresPlan(ctx, s.sql, s.args)
			if err != nil {
				return nil, err
			}
			plan = append(plan, lines...)
		}
		return plan, nil
	}
	var plan []string
	for _, s := range stmts {
		lines, err := db.sqlitePlan(ctx, s.sql, s.args)
		if err != nil {
			return nil, err
		}
		plan = append(plan, lines...)
	}
	return plan, nil
}

// sqlitePlan is SQLite's EXPLAIN QUERY PLAN of one statement, a line per step.
func (db *DB) sqlitePlan(ctx context.Context, query string, args []any) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}

// NotifyRolePlan is SQLite's plan for a notice to a role (sqlNotifyRole),
// which runs on the single writer inside a decision's transaction.
func (db *DB) NotifyRolePlan(ctx context.Context) ([]string, error) {
	return db.sqlitePlan(ctx, sqlNotifyRole, []any{1, "qingyuan", 1, "pass", "waiting", "actor", "t", "qingyuan", "reviewer", "actor"})
}

// postgresPlan is PostgreSQL's EXPLAIN (FORMAT JSON) of one statement, as
// the planner chooses for production: nothing priced out, so the test's
// rows and statistics must be a realistic table's (seedProjectsPostgres).
// The statement's ? placeholders become $n as everywhere (dialect.go).
func (db *DB) postgresPlan(ctx context.Context, query string, args []any) ([]string, error) {
	var plan string
	if err := db.read.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&plan); err != nil {
		return nil, err
	}
	return []string{plan}, nil
}

var t0plan = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// ListStrategy names the strategy Projects chooses for f.
func (db *DB) ListStrategy(ctx context.Context, f engine.ProjectFilter) (string, error) {
	f.Query = strings.TrimSpace(f.Query)
	var name string
	err := db.view(ctx, func(tx *sql.Tx) error {
		s, err := db.planList(ctx, tx, f)
		name = fmt.Sprintf("%T", s)
		return err
	})
	return strings.TrimPrefix(name, "store."), err
}

// ListStrategies are the strategies ProjectsWith can force.
var ListStrategies = []string{"unsearched", "industryWalk", "fewHits", "manyHits", "mostHit", "trigramInline", "gramFew", "gramMany"}

// SearchGram reports whether project_grams answers the (trimmed) query q,
// i.e. whether ProjectsWith can force gramFew and gramMany on it.
func SearchGram(q string) bool { return searchGram(strings.TrimSpace(q)) }

// ProjectsWith answers f as Projects does but with the named strategy,
// whichever planList would choose, so that each can be held to the list's
// definition on every filter it can answer: unsearched on those without a
// search; for a search, each of the others, with the hits (or misses)
// collected in full by scanSearch (and for trigramInline, the trigram
// index's own matching).
func (db *DB) ProjectsWith(ctx context.Context, strategy string, f engine.ProjectFilter) ([]*engine.Project, int, error) {
	sortKey := f.Sort
	if sortKey == "" {
		sortKey = "-updated"
	}
	segs := projectSorts[sortKey]
	f.Query = strings.TrimSpace(f.Query)
	var out []*engine.Project
	var total int
	err := db.view(ctx, func(tx *sql.Tx) error {
		var s listStrategy
		err := db.serialPlans(ctx, tx)
		switch {
		case err != nil:
		case strategy == "unsearched":
			s = unsearched{}
		case strategy == "industryWalk":
			u := unsearched{}.query(db, f)
			var n int
			err = tx.QueryRowContext(ctx, u.count, u.countArgs...).Scan(&n)
			s = industryWalk{n: n}
		case strategy == "trigramInline":
			s = trigramInline{f.Query}
		case strategy == "gramFew", strategy == "gramMany": // the hits read by id, or probed per row
			g := gramHits{gram: f.Query, few: strategy == "gramFew"}
			g.n, err = countGram(ctx, tx, f)
			s = g
		case strategy == "mostHit":
			var all, m int
			var misses string
			cq, ca := countFromTable(engine.ProjectFilter{Parks: f.Parks})
			if err = tx.QueryRowContext(ctx, cq, ca...).Scan(&all); err == nil {
				m, misses, err = db.searchScan(ctx, tx, f, true, -1)
			}
			s = mostHit{misses: misses, n: all - m}
		default:
			n, hits, err2 := db.searchScan(ctx, tx, f, false, -1)
			err = err2
			if strategy == "fewHits" {
				s = fewHits{hits}
			} else {
				s = manyHits{hits, n}
			}
		}
		if err != nil {
			return err
		}
		out, total, err = db.listWith(ctx, tx, s, f, segs)
		return err
	})
	return out, total, err
}

// SetMaxHits lowers the number of search hits up to which lists are read
// from the hits, for the length of a test.
func SetMaxHits(t testing.TB, n int) {
	old := maxHits
	maxHits = n
	t.Cleanup(func() { maxHits = old })
}

// OpenAtVersion creates a database at path migrated only up to version and
// returns it raw, so a test can put data in the old shape before Open
// migrates the rest. Versions in skip are left out.
func OpenAtVersion(ctx context.Context, path string, version int64, skip ...int64) (*sql.DB, error) {
	raw, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, err
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, fsys, goose.WithDisableGlobalRegistry(true),
		goose.WithExcludeVersions(skip))
	if err != nil {
		return nil, err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return nil, err
	}
	return raw, nil
}

// ApplyQueue reports whether an Apply is running a batch and how many wait
// behind it.
func (db *DB) ApplyQueue() (busy bool, waiting int) {
	db.queue.mu.Lock()
	defer db.queue.mu.Unlock()
	return db.queue.busy, len(db.queue.waiting)
}

// CopyTables and DerivedTables expose copy.go's lists to TestCopyCoversEveryTable.
var CopyTables, DerivedTables = copyTables, derivedTables

// ApplyBatch runs changes as one batch of the group commit, as a leader
// runs the calls queued behind it (encoded first, as Apply does before it
// queues), and returns each one's result. Nothing else may be applying.
func (db *DB) ApplyBatch(ctx context.Context, cs []*engine.Change) []error {
	batch := make([]*applyCall, len(cs))
	for i, c := range cs {
		call := &applyCall{ctx: ctx, c: c, done: make(chan error, 1)}
		if c.Project != nil {
			var err error
			if call.j, err = encodeProject(c.Project, c.Report); err != nil {
				panic(err)
			}
		}
		batch[i] = call
	}
	db.runBatch(batch)
	errs := make([]error, len(batch))
	for i, call := range batch {
		errs[i] = <-call.done
	}
	return errs
}
