package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/store"
	"zonevet/store/storetest"
)

// sampleProject is a draft in park with typical figures.
func sampleProject(park, name string) *engine.Project {
	return &engine.Project{
		Park:         park,
		Name:         name,
		InvestorName: "广东某某新材料有限公司",
		USCC:         "91441800MA4UXXXX1A",
		Figures: rules.Figures{
			IndustryCode: "C3985", TotalInvestment: fp(50000), FixedAssetInvestment: fp(36000), LandArea: fp(100),
			FloorArea: fp(90000), BuildingCoverage: fp(45), OfficeShare: fp(5), ExpectedOutput: fp(120000), Revenue: fp(110000),
			Tax: fp(4000), RDExpense: fp(3600), EnergyUse: fp(800), Employees: ip(300),
		},
		State:     engine.StateDraft,
		CreatedBy: 1,
	}
}

// mustCreate registers a project through Apply and returns it as stored.
func mustCreate(t testing.TB, db *store.DB, p *engine.Project) *engine.Project {
	t.Helper()
	c := &engine.Change{Project: p, Entry: engine.AuditEntry{
		Actor: "promoter1", Role: engine.RolePromoter, Event: engine.EventCreate, ToState: engine.StateDraft,
	}}
	if err := db.Apply(context.Background(), c); err != nil {
		t.Fatalf("create project: %v", err)
	}
	return p
}

// transition moves p from its current state to `to` by event, expecting
// version `expected`.
func transition(p *engine.Project, expected int64, event string, to engine.State) *engine.Change {
	q := *p
	from := q.State
	q.State = to
	return &engine.Change{Project: &q, ExpectedVersion: expected, Entry: engine.AuditEntry{
		Actor: "promoter1", Role: engine.RolePromoter, Event: event, FromState: from, ToState: to,
		Reason: "提交评审", Payload: `{"note":"x"}`,
	}}
}

// lastAuditEntry is the newest entry of the log.
func lastAuditEntry(t testing.TB, db *store.DB) engine.AuditEntry {
	t.Helper()
	var last engine.AuditEntry
	if err := db.EachAuditEntry(context.Background(), func(e engine.AuditEntry) error { last = e; return nil }); err != nil {
		t.Fatal(err)
	}
	return last
}

// auditCount is the number of entries in the log.
func auditCount(t testing.TB, db *store.DB) int {
	t.Helper()
	es, err := db.AuditEntries(context.Background(), engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	reviewer := mustUser(t, db, "reviewer1") // the log's first entry, user_create
	userEntry := lastAuditEntry(t, db)

	p := sampleProject("qingyuan", "高性能锂电池正极材料项目")
	due := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	p.DueAt = &due
	c := &engine.Change{Project: p, Entry: engine.AuditEntry{Actor: "promoter1", Role: engine.RolePromoter, Event: engine.EventCreate, ToState: engine.StateDraft}}
	if err := db.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	var hash1 string

	t.Run("CreateWritesBack", func(t *testing.T) {
		if p.ID == 0 {
			t.Fatal("project id not written back")
		}
		for _, tc := range []struct {
			name      string
			got, want any
		}{
			{"Version", p.Version, int64(1)},
			{"Entry.Seq", c.Entry.Seq, int64(2)},
			{"Entry.ProjectID", c.Entry.ProjectID, p.ID},
			{"Entry.Park", c.Entry.Park, "qingyuan"},
			{"Entry.PrevHash", c.Entry.PrevHash, userEntry.Hash},
			{"Entry.Hash", c.Entry.Hash, engine.ChainHash(userEntry.Hash, &c.Entry)},
			{"Entry.Time", c.Entry.Time, t0},
			{"CreatedAt", p.CreatedAt, t0},
		} {
			if tc.got != tc.want {
				t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
			}
		}
		hash1 = c.Entry.Hash
	})
	t.Run("CreateRoundTrips", func(t *testing.T) {
		got, err := db.Project(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Figures, p.Figures) || got.Name != p.Name || got.USCC != p.USCC || got.State != p.State ||
			got.DueAt == nil || !got.DueAt.Equal(due) || !got.CreatedAt.Equal(t0) || got.Version != 1 {
			t.Fatalf("stored project = %+v, want %+v", got, p)
		}
		es, _ := db.AuditEntries(ctx, engine.AuditFilter{})
		if len(es) != 2 || es[0] != userEntry || es[1] != c.Entry {
			t.Fatalf("stored entries = %+v, want [%+v %+v]", es, userEntry, c.Entry)
		}
	})
	t.Run("Update", func(t *testing.T) {
		db.Now = func() time.Time { return t0.Add(time.Hour) }
		defer func() { db.Now = func() time.Time { return t0 } }()
		u := transition(p, 1, engine.EventSubmit, engine.StateScreening)
		u.Report = &engine.ReportPart{Report: &rules.Report{Park: "qingyuan", RuleSetVersion: "v1", HardFailures: 1,
			Checks: []rules.CheckResult{{ID: "tax", Actual: 40, Pass: true, Severity: rules.Hard}}}}
		u.Project.Round = 1
		if err := db.Apply(ctx, u); err != nil {
			t.Fatal(err)
		}
		if got, want := u.Project.Version, int64(2); got != want {
			t.Fatalf("version = %d, want %d", got, want)
		}
		if got, want := u.Entry.Seq, int64(3); got != want {
			t.Fatalf("seq = %d, want %d", got, want)
		}
		if got, want := u.Entry.PrevHash, hash1; got != want {
			t.Fatalf("prev hash = %s, want %s", got, want)
		}
		got, _ := db.Project(ctx, p.ID)
		if got.State != engine.StateScreening || got.Version != 2 || got.Round != 1 || got.Report == nil ||
			got.Report.Checks[0].ID != "tax" || !got.UpdatedAt.Equal(t0.Add(time.Hour)) || !got.CreatedAt.Equal(t0) {
			t.Fatalf("stored project = %+v", got)
		}
		*p = *got
	})

	// Every failure below must leave both the project row and the log as they were.
	type failure struct {
		name   string
		change func() *engine.Change
		code   string
	}
	for _, tc := range []failure{
		{"StaleVersion", func() *engine.Change { return transition(p, 1, engine.EventPass, engine.StateExpertReview) }, engine.ECONFLICT},
		{"FutureVersion", func() *engine.Change { return transition(p, 7, engine.EventPass, engine.StateExpertReview) }, engine.ECONFLICT},
		{"NotFound", func() *engine.Change {
			c := transition(p, 2, engine.EventPass, engine.StateExpertReview)
			c.Project.ID = 9999
			return c
		}, engine.ENOTFOUND},
		{"UnknownPark", func() *engine.Change {
			return &engine.Change{Project: sampleProject("nowhere", "x"), Entry: engine.AuditEntry{Event: engine.EventCreate}}
		}, engine.ENOTFOUND},
		{"UnknownReviewerRollsBackUpdate", func() *engine.Change {
			c := transition(p, 2, engine.EventPass, engine.StateExpertReview)
			c.Score = &engine.Score{ProjectID: p.ID, Round: 1, ReviewerID: 4242, Reviewer: "ghost", Items: map[string]float64{"a": 1}}
			return c
		}, engine.ENOTFOUND},
		{"MissingEvent", func() *engine.Change {
			c := transition(p, 2, engine.EventPass, engine.StateExpertReview)
			c.Entry.Event = ""
			return c
		}, engine.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := auditCount(t, db)
			c := tc.change()
			want := *c
			err := db.Apply(ctx, c)
			wantCode(t, err, tc.code)
			if got := auditCount(t, db); got != before {
				t.Errorf("audit entries = %d, want %d", got, before)
			}
			got, _ := db.Project(ctx, p.ID)
			if got.Version != p.Version || got.State != p.State {
				t.Errorf("project = v%d %s, want v%d %s", got.Version, got.State, p.Version, p.State)
			}
			if c.Entry != want.Entry {
				t.Errorf("failed Apply wrote back entry %+v", c.Entry)
			}
		})
	}

	t.Run("ScoreThenDuplicate", func(t *testing.T) {
		score := func() *engine.Change {
			return &engine.Change{
				Score: &engine.Score{ProjectID: p.ID, Round: 1, ReviewerID: reviewer, Reviewer: "reviewer1",
					Items: map[string]float64{"chain_fit": 18, "tax": 15}, Total: 33, Comment: "好"},
				Entry: engine.AuditEntry{Actor: "reviewer1", Role: engine.RoleReviewer, Event: engine.EventScore, ProjectID: p.ID, Park: "qingyuan"},
			}
		}
		if err := db.Apply(ctx, score()); err != nil {
			t.Fatal(err)
		}
		before := auditCount(t, db)
		wantCode(t, db.Apply(ctx, score()), engine.ECONFLICT)
		if got := auditCount(t, db); got != before {
			t.Fatalf("audit entries = %d after duplicate score, want %d", got, before)
		}
		scores, err := db.Scores(ctx, p.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(scores) != 1 || scores[0].Items["chain_fit"] != 18 || scores[0].Total != 33 || !scores[0].CreatedAt.Equal(t0) {
			t.Fatalf("scores = %+v", scores)
		}
	})
	t.Run("DuplicateConflictRollsBackUpdate", func(t *testing.T) {
		decl := &engine.Conflict{ProjectID: p.ID, UserID: reviewer, Username: "reviewer1", Reason: "亲属"}
		if err := db.Apply(ctx, &engine.Change{Conflict: decl, Entry: engine.AuditEntry{Event: engine.EventConflict, ProjectID: p.ID}}); err != nil {
			t.Fatal(err)
		}
		before := auditCount(t, db)
		c := transition(p, p.Version, engine.EventPass, engine.StateExpertReview)
		c.Conflict = &engine.Conflict{ProjectID: p.ID, UserID: reviewer, Username: "reviewer1"}
		wantCode(t, db.Apply(ctx, c), engine.ECONFLICT)
		got, _ := db.Project(ctx, p.ID)
		if got.Version != p.Version || got.State != p.State {
			t.Fatalf("project changed by a failed Apply: v%d %s", got.Version, got.State)
		}
		if n := auditCount(t, db); n != before {
			t.Fatalf("audit entries = %d, want %d", n, before)
		}
		cs, _ := db.Conflicts(ctx, p.ID)
		if len(cs) != 1 || cs[0].Reason != "亲属" {
			t.Fatalf("conflicts = %+v", cs)
		}
	})
	t.Run("ReportReplacedAndRemoved", func(t *testing.T) {
		// Only a report part writes the report: without one, whatever the
		// project in the change holds, the stored report stays.
		for _, tc := range []struct {
			name   string
			part   bool
			report *rules.Report
			want   *rules.Report
		}{
			{"Same", true, p.Report, p.Report},
			{"Replaced", true, &rules.Report{Park: "qingyuan", RuleSetVersion: "v2", SoftFailures: 3}, &rules.Report{Park: "qingyuan", RuleSetVersion: "v2", SoftFailures: 3}},
			{"NoPartKeepsIt", false, &rules.Report{Park: "qingyuan", RuleSetVersion: "v9"}, &rules.Report{Park: "qingyuan", RuleSetVersion: "v2", SoftFailures: 3}},
			{"NoPartNilKeepsIt", false, nil, &rules.Report{Park: "qingyuan", RuleSetVersion: "v2", SoftFailures: 3}},
			{"Removed", true, nil, nil},
			{"Back", true, &rules.Report{Park: "qingyuan", RuleSetVersion: "v3"}, &rules.Report{Park: "qingyuan", RuleSetVersion: "v3"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := *p
				q.Report = tc.report
				c := &engine.Change{Project: &q, ExpectedVersion: p.Version, Entry: engine.AuditEntry{Event: engine.EventUpdate}}
				if tc.part {
					c.Report = &engine.ReportPart{Report: tc.report}
				}
				if err := db.Apply(ctx, c); err != nil {
					t.Fatal(err)
				}
				got, _ := db.Project(ctx, p.ID)
				switch {
				case tc.want == nil && got.Report != nil:
					t.Fatalf("report = %+v, want none", got.Report)
				case tc.want != nil && (got.Report == nil || got.Report.RuleSetVersion != tc.want.RuleSetVersion || got.Report.SoftFailures != tc.want.SoftFailures):
					t.Fatalf("report = %+v, want %+v", got.Report, tc.want)
				}
				*p = *got
			})
		}
	})
	t.Run("IdentityEdited", func(t *testing.T) {
		q := *p
		q.Name, q.Figures.IndustryCode, q.Figures.Tax = "改名后的项目", "C2710", fp(5000)
		c := &engine.Change{Project: &q, ExpectedVersion: p.Version, Entry: engine.AuditEntry{Event: engine.EventUpdate}}
		if err := db.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Project(ctx, p.ID)
		if got.Name != q.Name || !reflect.DeepEqual(got.Figures, q.Figures) {
			t.Fatalf("project = %q %+v, want %q %+v", got.Name, got.Figures, q.Name, q.Figures)
		}
		ps, _, err := db.Projects(ctx, engine.ProjectFilter{Industry: "C27", Query: "改名后"})
		if err != nil || len(ps) != 1 || ps[0].ID != p.ID {
			t.Fatalf("indexes not updated: %v, %v", ps, err)
		}
		*p = *got
	})
	t.Run("ChainIntact", func(t *testing.T) {
		v, err := engine.VerifyLog(ctx, db)
		if err != nil || v.Bad != nil {
			t.Fatalf("verify: %v %v", err, v.Bad)
		}
		if got, want := v.Count, int64(auditCount(t, db)); got != want {
			t.Fatalf("verified %d entries, want %d", got, want)
		}
	})
}

// TestApplyConcurrent races 50 identical transitions from the same version:
// the version check must let exactly one through, whether the racers share a
// handle or use separate handles (separate pools, as separate processes
// would) on the same file.
func TestApplyConcurrent(t *testing.T) {
	for _, handles := range []int{1, 5} {
		t.Run(fmt.Sprintf("Handles%d", handles), func(t *testing.T) {
			ctx := context.Background()
			path := newDBPath(t)
			dbs := []*store.DB{mustOpenPath(t, path)}
			for len(dbs) < handles {
				dbs = append(dbs, mustOpenPath(t, path))
			}
			p := mustCreate(t, dbs[0], sampleProject("qingyuan", "并发项目"))

			const n = 50
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					errs[i] = dbs[i%len(dbs)].Apply(ctx, transition(p, 1, engine.EventSubmit, engine.StateScreening))
				})
			}
			close(start)
			wg.Wait()

			var ok, conflicts int
			for _, err := range errs {
				switch engine.ErrorCode(err) {
				case "":
					ok++
				case engine.ECONFLICT:
					conflicts++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if ok != 1 || conflicts != n-1 {
				t.Fatalf("successes = %d, conflicts = %d; want 1, %d", ok, conflicts, n-1)
			}
			es, err := dbs[0].AuditEntries(ctx, engine.AuditFilter{Events: []string{engine.EventSubmit}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(es), 1; got != want {
				t.Fatalf("submit entries = %d, want %d", got, want)
			}
			got, _ := dbs[0].Project(ctx, p.ID)
			if got.Version != 2 || got.State != engine.StateScreening {
				t.Fatalf("project = v%d %s, want v2 screening", got.Version, got.State)
			}
		})
	}
}

// TestAppendConcurrent has many handles append distinct entries at once: the
// chain must come out gapless and verifiable.
func TestAppendConcurrent(t *testing.T) {
	ctx := context.Background()
	path := newDBPath(t)
	dbs := []*store.DB{mustOpenPath(t, path), mustOpenPath(t, path), mustOpenPath(t, path)}
	const n = 60
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := &engine.Change{Entry: engine.AuditEntry{Actor: fmt.Sprint("u", i), Event: "login"}}
			if err := dbs[i%len(dbs)].Apply(ctx, c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	v, err := engine.VerifyLog(ctx, dbs[1])
	if err != nil || v.Bad != nil {
		t.Fatalf("verify: %v %v", err, v.Bad)
	}
	if got, want := v.Count, int64(n); got != want {
		t.Fatalf("entries = %d, want %d", got, want)
	}
}

// TestApplyExtra: follow-on entries (the automatic "recommend" after the
// quorum's last score) are chained right after Entry in the same transaction,
// and vanish with it when it fails.
func TestApplyExtra(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	reviewer := mustUser(t, db, "reviewer1")
	p := mustCreate(t, db, sampleProject("qingyuan", "额外条目项目"))

	change := func() *engine.Change {
		c := transition(p, p.Version, engine.EventScore, engine.StateCommitteeReview)
		c.Entry.FromState, c.Entry.ToState = p.State, p.State
		c.Score = &engine.Score{ProjectID: p.ID, Round: 1, ReviewerID: reviewer, Reviewer: "reviewer1", Total: 80}
		c.Extra = []engine.AuditEntry{{Actor: "reviewer1", Event: engine.EventRecommend, FromState: p.State,
			ToState: engine.StateCommitteeReview, Reason: "平均分 80"}}
		return c
	}
	c := change()
	if err := db.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	x := c.Extra[0]
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"Entry.Seq", c.Entry.Seq, int64(3)}, // after the reviewer's and the project's creation
		{"Extra.Seq", x.Seq, int64(4)},
		{"Extra.PrevHash", x.PrevHash, c.Entry.Hash},
		{"Extra.Hash", x.Hash, engine.ChainHash(c.Entry.Hash, &x)},
		{"Extra.ProjectID", x.ProjectID, p.ID},
		{"Extra.Park", x.Park, "qingyuan"},
		{"Extra.Time", x.Time, c.Entry.Time},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	es, _ := db.AuditEntries(ctx, engine.AuditFilter{AfterSeq: 3})
	if len(es) != 1 || es[0] != x {
		t.Fatalf("stored extra = %+v, want %+v", es, x)
	}

	p.Version = c.Project.Version
	again := change() // same reviewer, same round: the score is a duplicate
	wantCode(t, db.Apply(ctx, again), engine.ECONFLICT)
	if got, want := auditCount(t, db), 4; got != want { // user, project, score, recommend
		t.Fatalf("audit entries = %d, want %d", got, want)
	}
	if again.Extra[0].Seq != 0 {
		t.Fatalf("failed Apply wrote back extra entry %+v", again.Extra[0])
	}
	v, err := engine.VerifyLog(ctx, db)
	if err != nil || v.Bad != nil || v.Count != 4 {
		t.Fatalf("verify = %+v, %v", v, err)
	}
}

// TestGroupCommit queues commands behind a leader that waits for the writer,
// then lets them run: they share one transaction, and each that fails is
// undone alone, including what it wrote before failing.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	p := mustCreate(t, db, sampleProject("qingyuan", "合并提交项目"))
	login := func(actor string) *engine.Change {
		return &engine.Change{Entry: engine.AuditEntry{Actor: actor, Event: "login"}}
	}
	waitQueue := func(busy bool, waiting int) {
		t.Helper()
		waitApplyQueue(t, db, busy, waiting)
	}

	hold, err := db.Writer().Conn(ctx) // the one write connection: the leader waits for it
	if err != nil {
		t.Fatal(err)
	}
	commits0, commands0 := db.CommitStats()
	leader := make(chan error, 1)
	go func() { leader <- db.Apply(ctx, login("leader")) }()
	waitQueue(true, 0)

	submit := func() *engine.Change { return transition(p, 1, engine.EventSubmit, engine.StateScreening) }
	p2 := *p
	p2.State = engine.StateScreening
	// Fails after its project update: the conflict names a user that does not exist.
	undone := transition(&p2, 2, engine.EventConflict, engine.StateScreening)
	undone.Conflict = &engine.Conflict{ProjectID: p.ID, UserID: 999, Username: "nobody"}
	cancelCtx, cancel := context.WithCancel(ctx)
	calls := []struct {
		name string
		ctx  context.Context
		c    *engine.Change
		want string // error code; "canceled" for the context's error
	}{
		{"submit", ctx, submit(), ""},
		{"stale submit", ctx, submit(), engine.ECONFLICT},
		{"failing after its update", ctx, undone, engine.ENOTFOUND},
		{"cancelled while queued", cancelCtx, login("gave-up"), "canceled"},
		{"same version as the failed one", ctx, transition(&p2, 2, engine.EventReturn, engine.StateDraft), ""},
		{"login", ctx, login("reviewer1"), ""},
	}
	errs := make([]chan error, len(calls))
	for i, call := range calls {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- db.Apply(call.ctx, call.c) }()
		waitQueue(true, i+1)
	}
	cancel()
	waitQueue(true, len(calls)-1) // the cancelled call left the queue
	hold.Close()

	if err := <-leader; err != nil {
		t.Fatalf("leader: %v", err)
	}
	for i, call := range calls {
		err := <-errs[i]
		switch {
		case call.want == "canceled":
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: error %v, want context.Canceled", call.name, err)
			}
		case engine.ErrorCode(err) != call.want:
			t.Errorf("%s: error %v, want code %q", call.name, err, call.want)
		}
		if (err == nil) != (call.c.Entry.Seq != 0) {
			t.Errorf("%s: err %v with written-back seq %d", call.name, err, call.c.Entry.Seq)
		}
	}
	waitQueue(false, 0)

	commits, commands := db.CommitStats()
	if got, want := [2]int64{commits - commits0, commands - commands0}, [2]int64{leaderCommits(), 4}; got != want {
		t.Errorf("commits, commands = %v, want %v (the leader alone, then the three that landed together; on PostgreSQL all in one, drained after the lock)", got, want)
	}
	if calls[0].c.Project.Version != 2 || calls[4].c.Project.Version != 3 {
		t.Errorf("written-back versions = %d, %d; want 2, 3", calls[0].c.Project.Version, calls[4].c.Project.Version)
	}
	got, err := db.Project(ctx, p.ID)
	if err != nil || got.Version != 3 || got.State != engine.StateDraft {
		t.Fatalf("project = %+v, %v; want v3 draft", got, err)
	}
	var events []string
	es, _ := db.AuditEntries(ctx, engine.AuditFilter{})
	for _, e := range es {
		events = append(events, e.Actor+":"+e.Event)
	}
	if want := []string{"promoter1:create", "leader:login", "promoter1:submit", "promoter1:return", "reviewer1:login"}; !slices.Equal(events, want) {
		t.Errorf("log = %v, want %v", events, want)
	}
	if v, err := engine.VerifyLog(ctx, db); err != nil || v.Bad != nil || v.Count != 5 {
		t.Fatalf("verify = %+v, %v", v, err)
	}
}

// fp, ip and bp make a declared figure; nil is a blank (rules.Figures).
func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }
func bp(v bool) *bool       { return &v }

// waitApplyQueue waits until Apply's queue is busy or not with waiting
// callers queued.
func waitApplyQueue(t *testing.T, db *store.DB, busy bool, waiting int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b, w := db.ApplyQueue()
		if b == busy && w == waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue = busy %v, %d waiting; want %v, %d", b, w, busy, waiting)
		}
	}
}

// mustReviewers creates n users holding the reviewer role in qingyuan.
func mustReviewers(t testing.TB, db *store.DB, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		u := &engine.User{Username: "reviewer" + strconv.Itoa(i+1)}
		err := db.Apply(context.Background(), &engine.Change{Account: &engine.AccountPart{NewUser: u,
			Roles: []engine.ParkRoles{{Park: "qingyuan", Roles: []engine.Role{engine.RoleReviewer}}}}, Entry: accountEntry(engine.EventUserCreate)})
		if err != nil {
			t.Fatalf("create reviewer: %v", err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

// TestNoticeToARoleFindsItsHoldersByIndex: a notice to a role looks up
// the role's holders in the park by index (migration 00456), not by a scan
// of every assignment of every park, inside the writer's transaction.
func TestNoticeToARoleFindsItsHoldersByIndex(t *testing.T) {
	if storetest.OnPostgres() {
		t.Skip("SQLite's plan")
	}
	db := mustOpen(t)
	mustReviewers(t, db, 3)
	plan, err := db.NotifyRolePlan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(plan, "\n")
	if !strings.Contains(joined, "role_assignments_holders") || strings.Contains(joined, "SCAN") {
		t.Errorf("plan of a notice to a role:\n%s\nwant role_assignments_holders and no SCAN", joined)
	}
}

// TestGroupCommitRunsTheBatchAgainWhenACommandFails: on SQLite a batch runs
// without savepoints; when one of its commands fails after writing, the
// whole transaction is undone and the batch runs again, each command in its
// savepoint. What lands is what the savepoints alone would have landed:
// each notice, entry and tree node once, the failed command's nothing.
func TestGroupCommitRunsTheBatchAgainWhenACommandFails(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	reviewers := mustReviewers(t, db, 3)
	var ps []*engine.Project
	for i := range 3 {
		ps = append(ps, mustCreate(t, db, sampleProject("qingyuan", "重跑项目"+strconv.Itoa(i))))
	}
	notify := &engine.NotifyPart{Notices: []engine.Notice{{Kind: engine.NoticeWaiting, Role: engine.RoleReviewer, Park: "qingyuan"}}}
	submit := func(p *engine.Project) *engine.Change {
		c := transition(p, 1, engine.EventSubmit, engine.StateScreening)
		c.Notify = notify
		return c
	}
	// Fails after its project update: the conflict names a user that does not exist.
	failing := submit(ps[1])
	failing.Conflict = &engine.Conflict{ProjectID: ps[1].ID, UserID: 999, Username: "nobody"}

	hold, err := db.Writer().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	commits0, commands0 := db.CommitStats()
	leader := make(chan error, 1)
	go func() {
		leader <- db.Apply(ctx, &engine.Change{Entry: engine.AuditEntry{Actor: "leader", Event: "login"}})
	}()
	waitApplyQueue(t, db, true, 0)
	changes := []*engine.Change{submit(ps[0]), failing, submit(ps[2])}
	errs := make([]chan error, len(changes))
	for i, c := range changes {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- db.Apply(ctx, c) }()
		waitApplyQueue(t, db, true, i+1)
	}
	hold.Close()
	if err := <-leader; err != nil {
		t.Fatalf("leader: %v", err)
	}
	for i, want := range []string{"", engine.ENOTFOUND, ""} {
		if err := <-errs[i]; engine.ErrorCode(err) != want {
			t.Errorf("change %d: error %v, want code %q", i, err, want)
		}
	}
	waitApplyQueue(t, db, false, 0)
	if commits, commands := db.CommitStats(); commits-commits0 != leaderCommits() || commands-commands0 != 3 {
		t.Errorf("commits, commands = %d, %d; want %d, 3", commits-commits0, commands-commands0, leaderCommits())
	}

	for i, want := range []struct {
		state   engine.State
		version int64
	}{{engine.StateScreening, 2}, {engine.StateDraft, 1}, {engine.StateScreening, 2}} {
		if got, err := db.Project(ctx, ps[i].ID); err != nil || got.State != want.state || got.Version != want.version {
			t.Errorf("project %d = %+v, %v; want %s v%d", i, got, err, want.state, want.version)
		}
	}
	wantSeqs := []int64{changes[2].Entry.Seq, changes[0].Entry.Seq} // newest first
	for _, id := range reviewers {
		ns, err := db.Notifications(ctx, id, 10)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, n := range ns {
			seqs = append(seqs, n.Seq)
		}
		if !slices.Equal(seqs, wantSeqs) {
			t.Errorf("reviewer %d's notices = seqs %v, want %v", id, seqs, wantSeqs)
		}
	}
	if v, err := engine.VerifyLog(ctx, db); err != nil || v.Bad != nil {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	checkTree(t, db)
}

// leaderCommits is how many commits a leader held off the write connection
// while others queue takes: alone then the batch on SQLite; one on
// PostgreSQL, whose leader drains the queue once it holds the chain-head lock.
func leaderCommits() int64 {
	if storetest.OnPostgres() {
		return 1
	}
	return 2
}
