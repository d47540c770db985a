package store_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/store"
	"zonevet/store/storetest"
)

// benchDir holds the 100,000-project database shared by the list benchmarks;
// TestMain removes it.
var (
	benchDir  string
	benchOnce sync.Once
	benchDB   *store.DB
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.StopPostgres()
	if benchDB != nil {
		benchDB.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// reportPayload is what a submit, pass, resubmit or override entry carries:
// the screening report of the realistic project (~6 KB of JSON), as the
// engine writes it (json.Marshal of the report).
func reportPayload(b *testing.B) string {
	b.Helper()
	j, err := json.Marshal(realisticProject(b).Report)
	if err != nil {
		b.Fatal(err)
	}
	return string(j)
}

// plainPayload is what the other decisions carry (return, rate, rectify…):
// no basis, which the engine writes as JSON null.
const plainPayload = "null"

// transitionBytes is roughly what one transition writes: the project row and
// the audit row. The baseline inserts a row of this size.
func transitionBytes(p *engine.Project, e engine.AuditEntry) int {
	fig, _ := json.Marshal(p.Figures)
	n := len(fig) + len(p.Park) + len(p.Name) + len(p.InvestorName) + len(p.USCC) + len(p.State) + 3*30 + 5*8
	n += len(e.Actor) + len(e.Role) + len(e.Park) + len(e.Event) + len(e.FromState) + len(e.ToState) + len(e.Reason) +
		len(e.RuleSetVersion) + len(e.Payload) + 2*64 + 30 + 2*8
	return n
}

// realisticProject is a project as it stands after screening: the figures
// and the ~6 KB rule report the default qingyuan rules give for them.
func realisticProject(b *testing.B) *engine.Project {
	b.Helper()
	p := sampleProject("qingyuan", "高性能锂电池正极材料项目")
	rs, err := rules.Default("qingyuan")
	if err != nil {
		b.Fatal(err)
	}
	if p.Report, err = rs.Evaluate(p.Figures); err != nil {
		b.Fatal(err)
	}
	due := t0.Add(72 * time.Hour)
	p.DueAt, p.Round = &due, 1
	return p
}

// BenchmarkApplyTransition is the durable unit of work of the whole system:
// a project update guarded by its version plus a chained audit append, in one
// immediate transaction, committed (WAL, synchronous=NORMAL).
//
// Screened is the common case: the project carries its ~6 KB rule report, as
// every project past screening does, and the store must find it unchanged
// (encode and digest it) before leaving it alone. Draft has no report yet.
// Both "rate", which keeps the state; StateChange moves the screened project
// between in_production and rectification, so each decision also updates its
// row of project_counts (migration 00030).
//
// The Draft cases with indexes dropped price the three indexes a transition
// rewrites (the list's by-update and by-deadline sorts, a project's history
// in the log): what the single-caller figure would be without them.
func BenchmarkApplyTransition(b *testing.B) {
	for _, bc := range []struct {
		name         string
		report, move bool
		drop         []string
	}{
		{"Screened", true, false, nil}, {"Draft", false, false, nil}, {"StateChange", true, true, nil},
		{"DraftWithoutHistoryIndex", false, false, []string{"audit_log_project"}},
		{"DraftWithoutAllThree", false, false, []string{"audit_log_project", "projects_park_updated", "projects_park_state_due"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := mustOpen(b)
			ctx := context.Background()
			for _, index := range bc.drop {
				if _, err := db.Writer().ExecContext(ctx, `DROP INDEX `+index); err != nil {
					b.Fatal(err)
				}
			}
			p := realisticProject(b)
			if !bc.report {
				p.Report = nil
			}
			p = mustCreate(b, db, p)
			p.State = engine.StateInProduction
			payload := reportPayload(b)
			c := transition(p, p.Version, engine.EventRate, engine.StateInProduction)
			c.Entry.Payload = payload
			size := transitionBytes(p, c.Entry)
			for b.Loop() {
				ev, to := engine.EventRate, engine.StateInProduction
				if bc.move && p.State == engine.StateInProduction {
					ev, to = engine.EventRectify, engine.StateRectification
				} else if bc.move {
					ev = engine.EventRectified
				}
				c := transition(p, p.Version, ev, to)
				c.Entry.Payload = payload
				if err := db.Apply(ctx, c); err != nil {
					b.Fatal(err)
				}
				p.Version, p.State = c.Project.Version, to
			}
			b.ReportMetric(float64(size), "rowbytes")
		})
	}
}

// BenchmarkBaselineInsert is the yardstick for BenchmarkApplyTransition: one
// plain INSERT of a row of the same size in its own transaction, through the
// same writer pool (same DSN, pragmas and BEGIN IMMEDIATE), in the same run.
func BenchmarkBaselineInsert(b *testing.B) {
	insert, rowBytes := baselineInsert(b)
	for b.Loop() {
		if err := insert(0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rowBytes), "rowbytes")
}

// baselineInsert creates the baseline's table in dbs' database (by default
// a new one) and returns one insert of a row of a transition's size,
// committed through the writer of dbs[caller % len(dbs)], and that size.
func baselineInsert(b *testing.B, dbs ...*store.DB) (insert func(caller int) error, rowBytes int) {
	if len(dbs) == 0 {
		dbs = []*store.DB{mustOpen(b)}
	}
	ctx := context.Background()
	p := realisticProject(b)
	c := transition(p, 1, engine.EventRate, engine.StateInProduction)
	c.Entry.Payload = reportPayload(b)
	data := strings.Repeat("x", transitionBytes(p, c.Entry))
	create := `CREATE TABLE IF NOT EXISTS baseline (id INTEGER PRIMARY KEY, data TEXT NOT NULL) STRICT`
	if storetest.OnPostgres() || store.IsPostgresURL(dbs[0].Path()) {
		create = `CREATE TABLE IF NOT EXISTS baseline (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, data text NOT NULL)`
	}
	if _, err := dbs[0].Writer().ExecContext(ctx, create); err != nil {
		b.Fatal(err)
	}
	return func(caller int) error {
		tx, err := dbs[caller%len(dbs)].Writer().BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO baseline (data) VALUES (?)`, data); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}, len(data)
}

// parallelClients is how many callers the parallel benchmarks run at once,
// the web benchmark's 16 concurrent clients.
const parallelClients = 16

// BenchmarkApplyTransitionParallel is the zone's decisions as it lives
// them: 16 callers deciding on 16 different projects at once, so that group
// commit (groupcommit.go) can share commits between them. Half the callers
// vet (pass with the screening report, return, resubmit with the report
// again: two of three entries carry ~6 KB and every one moves a state and
// its project_counts row), half track (rate twice, rectify, rectified: small
// entries, two of four moving a state). It reports the mean number of
// decisions per commit.
func BenchmarkApplyTransitionParallel(b *testing.B) {
	benchTransitionsParallel(b, nil, mustOpen(b))
}

// BenchmarkApplyNotifiedParallel is BenchmarkApplyTransitionParallel with
// the notices the engine writes for a move (engine/notify.go moveNotices):
// "waiting" to the role the project now waits on (the reviewers), held by
// three users of the park, and "decision" to the promoter. Each notified
// user's inbox pages are rewritten by every commit, as in the product.
func BenchmarkApplyNotifiedParallel(b *testing.B) {
	db := mustOpen(b)
	promoter := mustUser(b, db, "promoter1")
	mustReviewers(b, db, 3)
	benchTransitionsParallel(b, &engine.NotifyPart{Notices: []engine.Notice{
		{Kind: engine.NoticeWaiting, Role: engine.RoleReviewer, Park: "qingyuan"},
		{Kind: engine.NoticeDecision, UserID: promoter},
	}}, db)
}

// BenchmarkWriterBatch is the writer's serial section alone: one goroutine
// runs batches of 8 decisions as group commit's leader would (pass with the
// screening report, return, resubmit with it again, each with the notices
// of BenchmarkApplyNotifiedParallel) in a zone of 200 more accounts
// holding other roles, and nothing else running in the process. CPU-µs/cmd
// is the time every other decision waits for, per decision, without the
// scheduling noise of 16 callers.
func BenchmarkWriterBatch(b *testing.B) {
	db, notify := writerZone(b)
	report := reportPayload(b)
	steps := []struct {
		event   string
		to      engine.State
		payload string
	}{
		{engine.EventPass, engine.StateExpertReview, report},
		{engine.EventReturn, engine.StateReturned, plainPayload},
		{engine.EventResubmit, engine.StateScreening, report},
	}
	ps := make([]*engine.Project, writerBatch)
	for i := range ps {
		ps[i] = mustCreate(b, db, realisticProject(b))
		ps[i].State = engine.StateScreening
	}
	runWriterBatches(b, db, ps, func(n int, p *engine.Project) *engine.Change {
		st := steps[n%len(steps)]
		c := transition(p, p.Version, st.event, st.to)
		c.Entry.Payload, c.Notify = st.payload, notify
		return c
	})
}

// BenchmarkWriterBatchSubmit is BenchmarkWriterBatch for the screening
// moves, the heaviest writes of the act path: batches of 8 returns, then 8
// resubmits as the engine writes them, with figures corrected in between
// (two sets alternate), so each resubmit stores its new figures and ~6 KB
// report, the screenings row, and an entry carrying both (~8 KB).
func BenchmarkWriterBatchSubmit(b *testing.B) {
	db, notify := writerZone(b)
	rs, err := rules.Default("qingyuan")
	if err != nil {
		b.Fatal(err)
	}
	type screened struct {
		figures rules.Figures
		report  *rules.Report
		json    string
		basis   string
	}
	var sets [2]screened
	for k := range sets {
		f := sampleProject("qingyuan", "").Figures
		f.Tax = fp(4000 + 100*float64(k))
		rep, err := rs.Evaluate(f)
		if err != nil {
			b.Fatal(err)
		}
		rj, _ := json.Marshal(rep)
		fj, _ := json.Marshal(f)
		sets[k] = screened{f, rep, string(rj), `{"figures":` + string(fj) + `,"report":` + string(rj) + `}`}
	}
	ps := make([]*engine.Project, writerBatch)
	for i := range ps {
		ps[i] = mustCreate(b, db, realisticProject(b))
		ps[i].State = engine.StateScreening
	}
	runWriterBatches(b, db, ps, func(n int, p *engine.Project) *engine.Change {
		if n%2 == 0 {
			c := transition(p, p.Version, engine.EventReturn, engine.StateReturned)
			c.Entry.Payload, c.Notify = plainPayload, notify
			return c
		}
		set := sets[(n/2)%2]
		q := *p
		q.Figures, q.Report, q.ReportJSON = set.figures, set.report, set.json
		c := transition(&q, p.Version, engine.EventResubmit, engine.StateScreening)
		c.Report = &engine.ReportPart{Report: set.report, JSON: set.json}
		c.Entry.Payload, c.Entry.RuleSetVersion, c.Notify = set.basis, set.report.RuleSetVersion, notify
		return c
	})
}

// writerBatch is how many decisions the writer benchmarks commit together.
const writerBatch = 8

// writerZone is the writer benchmarks' store: a park with its promoter and
// three reviewers, 200 more accounts holding other roles, and the notices
// of a move (waiting → the reviewers, decision → the promoter).
func writerZone(b *testing.B) (*store.DB, *engine.NotifyPart) {
	ctx := context.Background()
	db := mustOpen(b)
	promoter := mustUser(b, db, "promoter1")
	mustReviewers(b, db, 3)
	for i := range 200 {
		u := &engine.User{Username: "staff" + strconv.Itoa(i)}
		park, role := "yingde", engine.RoleReviewer
		if i%2 == 0 {
			park, role = "qingyuan", engine.RolePromoter
		}
		if err := db.Apply(ctx, &engine.Change{Account: &engine.AccountPart{NewUser: u, Roles: []engine.ParkRoles{{Park: park, Roles: []engine.Role{role}}}},
			Entry: accountEntry(engine.EventUserCreate)}); err != nil {
			b.Fatal(err)
		}
	}
	return db, &engine.NotifyPart{Notices: []engine.Notice{
		{Kind: engine.NoticeWaiting, Role: engine.RoleReviewer, Park: "qingyuan"},
		{Kind: engine.NoticeDecision, UserID: promoter},
	}}
}

// runWriterBatches commits b.N batches, one change per project of ps made
// by next (the batch's number and the project as it stands), through the
// writer alone, and reports its CPU and wall time per decision.
func runWriterBatches(b *testing.B, db *store.DB, ps []*engine.Project, next func(n int, p *engine.Project) *engine.Change) {
	ctx := context.Background()
	cs := make([]*engine.Change, len(ps))
	b.ResetTimer()
	cpu, wall := cpuTime(), time.Now()
	for n := range b.N {
		for i, p := range ps {
			cs[i] = next(n, p)
		}
		for i, err := range db.ApplyBatch(ctx, cs) {
			if err != nil {
				b.Fatal(err)
			}
			*ps[i] = *cs[i].Project
		}
	}
	cmds := float64(b.N * len(ps))
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/cmds, "CPU-µs/cmd")
	b.ReportMetric(float64(time.Since(wall).Microseconds())/cmds, "µs/cmd")
}

// benchTransitionsParallel runs BenchmarkApplyTransitionParallel's 16
// callers spread over dbs, handles on one database (as from as many
// processes), each change with the notices notify (nil: none).
func benchTransitionsParallel(b *testing.B, notify *engine.NotifyPart, dbs ...*store.DB) {
	ctx := context.Background()
	report := reportPayload(b)
	type step struct {
		event   string
		to      engine.State
		payload string
	}
	vetting := []step{
		{engine.EventPass, engine.StateExpertReview, report},
		{engine.EventReturn, engine.StateReturned, plainPayload},
		{engine.EventResubmit, engine.StateScreening, report},
	}
	tracking := []step{
		{engine.EventRate, engine.StateInProduction, plainPayload},
		{engine.EventRate, engine.StateInProduction, plainPayload},
		{engine.EventRectify, engine.StateRectification, plainPayload},
		{engine.EventRectified, engine.StateInProduction, plainPayload},
	}
	type caller struct {
		db    *store.DB
		p     *engine.Project
		steps []step
	}
	callers := make(chan caller, parallelClients)
	for i := range parallelClients {
		db := dbs[i%len(dbs)]
		p := mustCreate(b, db, realisticProject(b))
		c := caller{db, p, tracking}
		p.State = engine.StateInProduction
		if i%2 == 0 {
			c.steps, p.State = vetting, engine.StateScreening
		}
		callers <- c
	}
	stats := func() (commits, commands int64) {
		for _, db := range dbs {
			c, n := db.CommitStats()
			commits, commands = commits+c, commands+n
		}
		return commits, commands
	}
	commits0, commands0 := stats()
	var busy0 time.Duration
	for _, db := range dbs {
		busy0 += db.WriterBusy()
	}
	b.SetParallelism(max(1, parallelClients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	cpu := cpuTime() // a server's own CPU is not counted
	b.RunParallel(func(pb *testing.PB) {
		me := <-callers
		p := me.p
		for i := 0; pb.Next(); i++ {
			st := me.steps[i%len(me.steps)]
			c := transition(p, p.Version, st.event, st.to)
			c.Entry.Payload, c.Notify = st.payload, notify
			if err := me.db.Apply(ctx, c); err != nil {
				b.Error(err)
				return
			}
			p.Version, p.State = c.Project.Version, st.to
		}
	})
	reportCPU(b, cpu)
	commits, commands := stats()
	b.ReportMetric(float64(commands-commands0)/float64(max(1, commits-commits0)), "cmds/commit")
	var busy time.Duration
	for _, db := range dbs {
		busy += db.WriterBusy()
	}
	b.ReportMetric(float64((busy-busy0).Microseconds())/float64(max(1, commands-commands0)), "writer-µs/cmd")
}

// BenchmarkBaselineInsertParallel is BenchmarkBaselineInsert with the same
// 16 callers: the plain inserts still take one transaction each.
func BenchmarkBaselineInsertParallel(b *testing.B) {
	benchBaselineParallel(b)
}

// benchBaselineParallel runs the plain inserts of 16 callers spread over dbs.
func benchBaselineParallel(b *testing.B, dbs ...*store.DB) {
	insert, _ := baselineInsert(b, dbs...)
	var callers atomic.Int64
	b.SetParallelism(max(1, parallelClients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	cpu := cpuTime()
	defer func() { reportCPU(b, cpu) }()
	b.RunParallel(func(pb *testing.PB) {
		me := int(callers.Add(1))
		for pb.Next() {
			if err := insert(me); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchProjects is the size of the list benchmarks' database: 100,000, or
// ZONEVET_BENCH_PROJECTS (1000000 for the million-project run, which takes
// minutes to seed and is never part of a default run).
func benchProjects() int {
	if n, err := strconv.Atoi(os.Getenv("ZONEVET_BENCH_PROJECTS")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// seed100k builds, once per test binary, a database of benchProjects()
// projects (100,000 by default) spread over two parks, every state and
// seven industries, with deadlines. One INSERT ... SELECT from a recursive
// CTE: the rows never cross into Go.
//
// With ZONEVET_TEST_STORE=postgres the same rows go into a fresh database
// of the PostgreSQL test server instead (seed100kPostgres).
func seed100k(b *testing.B) *store.DB {
	b.Helper()
	if storetest.OnPostgres() {
		return seed100kPostgres(b)
	}
	benchOnce.Do(func() {
		if benchDir, benchErr = os.MkdirTemp("", "zonevet-bench-"); benchErr != nil {
			return
		}
		if benchDB, benchErr = store.Open(filepath.Join(benchDir, "zonevet.db")); benchErr != nil {
			return
		}
		benchDB.Now = func() time.Time { return t0 }
		ctx := context.Background()
		for _, park := range []string{"qingyuan", "yingde"} {
			if benchErr = benchDB.PutPark(ctx, engine.Park{ID: park, NameZH: park}); benchErr != nil {
				return
			}
		}
		states := make([]string, len(engine.States))
		for i, s := range engine.States {
			states[i] = "'" + string(s) + "'"
		}
		fig, _ := json.Marshal(sampleProject("", "").Figures)
		_, benchErr = benchDB.Writer().ExecContext(ctx, `
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < `+strconv.Itoa(benchProjects())+`),
			m(i, code) AS (SELECT i, substr('C3985C2710C3562C2761C3841C3874C4011', 1 + (i % 7) * 5, 5) FROM n)
			INSERT INTO projects (park, name, investor_name, uscc, figures, industry_code, state, version, round, due_at, report_sha256, override, created_by, created_at, updated_at)
			SELECT
				CASE i % 2 WHEN 0 THEN 'qingyuan' ELSE 'yingde' END,
				'项目' || i || ' ' || substr('新材料电子信息智能装备生物医药光伏储能', 1 + (i % 7) * 2, 4),
				-- One firm in a thousand is not a 有限公司, so that a short
				-- search can match nearly every project without matching all.
				CASE WHEN i % 1000 = 0 THEN '个体工商户' || i ELSE '投资方' || (i % 5000) || '有限公司' END,
				printf('91441800%010d', i),
				json_set(?, '$.industry_code', code), code,
				json_extract(json_array(`+strings.Join(states, ", ")+`), '$[' || (i % `+strconv.Itoa(len(states))+`) || ']'),
				1, 1,
				CASE WHEN i % 10 = 0 THEN NULL
					ELSE strftime('%Y-%m-%dT%H:%M:%S', 1740000000 + (i * 7919 % 100000) * 600, 'unixepoch') || printf('.%09dZ', i) END,
				NULL, 0, 1,
				strftime('%Y-%m-%dT%H:%M:%S', 1700000000 + i * 60, 'unixepoch') || '.000000000Z',
				strftime('%Y-%m-%dT%H:%M:%S', 1700000000 + i * 60, 'unixepoch') || '.000000000Z'
			FROM m`, string(fig))
		if benchErr == nil {
			// Every tenth project has been screened and carries a report.
			_, benchErr = benchDB.Writer().ExecContext(ctx, `
				INSERT INTO project_reports (project_id, report)
				SELECT id, json_object('park', park, 'rule_set_version', 'sha256:5f2b', 'hard_failures', id % 3, 'checks', json('[]'))
				FROM projects WHERE id % 10 = 0`)
		}
		if benchErr == nil {
			// No ANALYZE here: the lists are measured with the statistics the
			// product keeps itself, those a restart (PRAGMA optimize on close
			// and on open) leaves after a bulk load.
			if benchErr = benchDB.Close(); benchErr == nil {
				benchDB, benchErr = store.Open(filepath.Join(benchDir, "zonevet.db"))
			}
			if benchErr == nil {
				benchDB.Now = func() time.Time { return t0 }
			}
		}
	})
	if benchErr != nil {
		b.Fatalf("seed: %v", benchErr)
	}
	return benchDB
}

// seed100kPostgres is seed100k's database on PostgreSQL, row for row the
// same, in PostgreSQL's SQL (generate_series for the recursive CTE, to_char
// for strftime). One per benchmark: the test server drops it when the
// benchmark ends. VACUUM ANALYZE stands for autovacuum, which after a bulk
// load sets the statistics and the visibility map (index-only scans) on its
// own within a minute; done here so that no run depends on when it wakes.
func seed100kPostgres(b *testing.B) *store.DB {
	b.Helper()
	// A database seeded by an earlier run (kept by hand), so that binaries
	// can be alternated on the same rows without minutes of seeding each;
	// an empty one is seeded by this run.
	url, seeded := os.LookupEnv("ZONEVET_BENCH_POSTGRES_SEEDED")
	if !seeded {
		url = storetest.PostgresURL(b)
	}
	db, err := store.Open(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return t0 }
	if seeded {
		// An empty database given by hand is seeded here and kept.
		var some bool
		if err := db.Writer().QueryRowContext(context.Background(), `SELECT EXISTS (SELECT 1 FROM projects)`).Scan(&some); err != nil {
			b.Fatal(err)
		}
		if some {
			return db
		}
	}
	seedProjectsPostgres(b, db, benchProjects())
	return db
}

// seedProjectsPostgres adds n projects to db on PostgreSQL as seed100k
// spreads them (two parks, every state, seven industries, a deadline on
// nine in ten), with a report on every tenth, and leaves the statistics and
// the visibility map as autovacuum would.
func seedProjectsPostgres(tb testing.TB, db *store.DB, n int) {
	tb.Helper()
	ctx := context.Background()
	for _, park := range []string{"qingyuan", "yingde"} {
		if err := db.PutPark(ctx, engine.Park{ID: park, NameZH: park}); err != nil {
			tb.Fatal(err)
		}
	}
	states := make([]string, len(engine.States))
	for i, s := range engine.States {
		states[i] = "'" + string(s) + "'"
	}
	fig, _ := json.Marshal(sampleProject("", "").Figures)
	stamp := func(secs string) string {
		return `to_char(to_timestamp(` + secs + `) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')`
	}
	for _, q := range []string{`
		INSERT INTO projects (park, name, investor_name, uscc, figures, industry_code, state, version, round, due_at, report_sha256, override, created_by, created_at, updated_at)
		SELECT
			CASE i % 2 WHEN 0 THEN 'qingyuan' ELSE 'yingde' END,
			'项目' || i || ' ' || substr('新材料电子信息智能装备生物医药光伏储能', 1 + (i % 7)::int * 2, 4),
			CASE WHEN i % 1000 = 0 THEN '个体工商户' || i ELSE '投资方' || (i % 5000) || '有限公司' END,
			'91441800' || lpad(i::text, 10, '0'),
			json_set(CAST(? AS text), '$.industry_code', code), code,
			(ARRAY[` + strings.Join(states, ", ") + `])[1 + i % ` + strconv.Itoa(len(states)) + `],
			1, 1,
			CASE WHEN i % 10 = 0 THEN NULL
				ELSE ` + stamp(`1740000000 + (i * 7919 % 100000) * 600`) + ` || '.' || lpad(i::text, 9, '0') || 'Z' END,
			NULL, 0, 1,
			` + stamp(`1700000000 + i * 60`) + ` || '.000000000Z',
			` + stamp(`1700000000 + i * 60`) + ` || '.000000000Z'
		FROM (SELECT i, substr('C3985C2710C3562C2761C3841C3874C4011', 1 + (i % 7)::int * 5, 5) AS code
			FROM generate_series(1::bigint, ` + strconv.Itoa(n) + `) i) m`,
		`INSERT INTO project_reports (project_id, report)
		SELECT id, jsonb_build_object('park', park, 'rule_set_version', 'sha256:5f2b', 'hard_failures', id % 3, 'checks', '[]'::jsonb)::text
		FROM projects WHERE id % 10 = 0`,
	} {
		var args []any
		if strings.Contains(q, "?") {
			args = []any{string(fig)}
		}
		// The test server commits asynchronously, and a row whose commit is
		// not yet flushed cannot be marked visible to all: VACUUM would
		// leave the visibility map empty and every index-only scan reading
		// the heap. This commit waits for its flush.
		tx, err := db.Writer().BeginTx(ctx, nil)
		if err != nil {
			tb.Fatalf("seed: %v", err)
		}
		if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
			tb.Fatalf("seed: %v", err)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			tb.Fatalf("seed: %v", err)
		}
		if err := tx.Commit(); err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
	if _, err := db.Writer().ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		tb.Fatalf("seed: %v", err)
	}
}

// half is the middle of a list of n at 100,000 projects, scaled to the
// benchmark's size.
func half(n int) int { return n * benchProjects() / 100000 / 2 }

// BenchmarkProjectsList100k lists one page of 50 (and the total count) from
// 100,000 projects, the way the work lists ask.
func BenchmarkProjectsList100k(b *testing.B) {
	db := seed100k(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		f    engine.ProjectFilter
	}{
		{"ParkStatesByDue", engine.ProjectFilter{Parks: []string{"qingyuan"},
			States: []engine.State{engine.StateScreening, engine.StateExpertReview, engine.StateCommitteeReview}, Sort: "due", Limit: 50}},
		{"OverdueByDue", engine.ProjectFilter{Parks: []string{"qingyuan", "yingde"}, Overdue: true,
			Now: time.Unix(1740000000+3000*600, 0), Sort: "due", Limit: 50}},
		{"IndustryByName", engine.ProjectFilter{Parks: []string{"yingde"}, Industry: "C38", Sort: "name", Limit: 50, Offset: 100}},
		{"QueryInvestor", engine.ProjectFilter{Query: "投资方123有限", Sort: "-updated", Limit: 50}},
		{"AllByUpdated", engine.ProjectFilter{Sort: "-updated", Limit: 50}},
		// An industry in every park (migrations_pg/00436).
		{"IndustryAllParks", engine.ProjectFilter{Industry: "C39", Sort: "-updated", Limit: 50}},
		// The web list's cases (issue 3): the first page of a park, a deep
		// page, one state by deadline, a search with few hits.
		{"ParkByUpdated", engine.ProjectFilter{Parks: []string{"qingyuan"}, Sort: "-updated", Limit: 50}},
		{"ParkByUpdatedPage600", engine.ProjectFilter{Parks: []string{"qingyuan"}, Sort: "-updated", Limit: 50, Offset: 29950}},
		{"ParkStateByDue", engine.ProjectFilter{Parks: []string{"qingyuan"}, States: []engine.State{engine.StateDraft}, Sort: "due", Limit: 50}},
		{"QueryName", engine.ProjectFilter{Parks: []string{"qingyuan"}, Query: "项目4242", Sort: "-updated", Limit: 50}},
		// Two characters, the trigram index's blind spot: a sector name that
		// one project in seven carries (more hits than maxHits).
		{"QueryTwoCharsManyHits", engine.ProjectFilter{Parks: []string{"qingyuan"}, Query: "装备", Sort: "-updated", Limit: 50}},
		{"QueryTwoCharsManyHitsState", engine.ProjectFilter{Parks: []string{"qingyuan"}, States: []engine.State{engine.StateDraft}, Query: "装备", Sort: "-updated", Limit: 50}},
		{"QueryTwoCharsEveryProject", engine.ProjectFilter{Parks: []string{"qingyuan"}, Query: "项目", Sort: "-updated", Limit: 50}},
		// The same without the every-project shortcut: 有限 is in every
		// investor's name but one in a thousand (the seed's 个体工商户).
		{"QueryTwoCharsAllButFew", engine.ProjectFilter{Parks: []string{"qingyuan"}, Query: "有限", Sort: "-updated", Limit: 50}},
		// Issue 16's slow cases: a search of three or more characters with
		// more than 2,000 hits, on the first page and in the middle; a
		// sparser one (one in seven); a state filter read deep; the middle
		// of a park by update.
		{"QueryManyHits", engine.ProjectFilter{Parks: []string{"qingyuan"}, Query: "有限公司", Sort: "-updated", Limit: 50}},
		{"QueryManyHitsMiddle", engine.ProjectFilter{Parks: []string{"qingyuan"}, Query: "有限公司", Sort: "-updated", Limit: 50, Offset: half(49950)}},
		{"QueryThreeCharsOneInSeven", engine.ProjectFilter{Parks: []string{"qingyuan"}, Query: "能装备", Sort: "-updated", Limit: 50}},
		{"ParkStateMiddlePage", engine.ProjectFilter{Parks: []string{"qingyuan"}, States: []engine.State{engine.StateDraft}, Sort: "-updated", Limit: 50, Offset: half(3846)}},
		{"ParkMiddlePage", engine.ProjectFilter{Parks: []string{"qingyuan"}, Sort: "-updated", Limit: 50, Offset: half(50000)}},
		{"ParkByDueMiddlePage", engine.ProjectFilter{Parks: []string{"qingyuan"}, Sort: "due", Limit: 50, Offset: half(50000)}},
		// In the park's tail of projects without a deadline (10,000 of its
		// 50,000), read backwards from the end.
		{"ParkByDueNoDeadline", engine.ProjectFilter{Parks: []string{"qingyuan"}, Sort: "due", Limit: 50, Offset: half(94000)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var total int
			var took []time.Duration // each call's, for the goal's p99
			for b.Loop() {
				start := time.Now()
				ps, n, err := db.Projects(ctx, bc.f)
				took = append(took, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(ps) == 0 {
					b.Fatal("empty page")
				}
				total = n
			}
			b.ReportMetric(float64(total), "matches")
			slices.Sort(took)
			b.ReportMetric(float64(took[(len(took)*99+99)/100-1])/1e6, "p99-ms") // nearest rank
		})
	}
}

// BenchmarkDurablePostgres is issue 17's durable figure: 16 callers over
// three handles on one PostgreSQL database (as three serve processes, each
// with its writer and group commit), on a server that syncs every commit
// (fsync, full-page writes, synchronous commit on), beside plain INSERTs
// of a transition's size through the same three writers on the same server.
// SQLite's figure for the same run is BenchmarkApplyTransitionParallel.
func BenchmarkDurablePostgres(b *testing.B) {
	url := storetest.DurablePostgresURL(b)
	var dbs []*store.DB
	for range 3 {
		dbs = append(dbs, mustOpenPath(b, url))
	}
	b.Run("Transitions3Processes", func(b *testing.B) { benchTransitionsParallel(b, nil, dbs...) })
	b.Run("BaselineInsert3Processes", func(b *testing.B) { benchBaselineParallel(b, dbs...) })
}
