package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)

// mustOpen opens a fresh database in a temporary directory, with a fixed clock
// and the two parks every test uses, and closes it when the test ends. It
// starts as a copy of a migrated one (storetest); the migrations themselves
// are tested on new files.
//
// With ZONEVET_TEST_STORE=postgres it opens a fresh PostgreSQL database
// instead (storetest.Path): the same tests, the other engine.
func mustOpen(t testing.TB) *store.DB {
	t.Helper()
	return mustOpenPath(t, storetest.Path(t))
}

// newDBPath names a new database for tests that open it several times (as
// several processes would): a file that Open migrates, or with
// ZONEVET_TEST_STORE=postgres a fresh PostgreSQL database.
func newDBPath(t testing.TB) string {
	t.Helper()
	if storetest.OnPostgres() {
		return storetest.PostgresURL(t)
	}
	return filepath.Join(t.TempDir(), "zonevet.db")
}

// mustOpenPath opens path (possibly already open elsewhere) and seeds the parks.
func mustOpenPath(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	db.Now = func() time.Time { return t0 }
	ctx := context.Background()
	for _, p := range []engine.Park{
		{ID: "qingyuan", NameZH: "清远高新区", NameEN: "Qingyuan Hi-tech Zone", Level: "national"},
		{ID: "yingde", NameZH: "英德高新区", NameEN: "Yingde Hi-tech Zone", Level: "provincial"},
	} {
		if err := db.PutPark(ctx, p); err != nil {
			t.Fatalf("put park: %v", err)
		}
	}
	return db
}

// mustUser creates a user by the one write path for accounts, with its
// user_create log entry, and returns its id.
func mustUser(t testing.TB, db *store.DB, name string) int64 {
	t.Helper()
	u := &engine.User{Username: name, DisplayName: name}
	if err := db.Apply(context.Background(), &engine.Change{Account: &engine.AccountPart{NewUser: u}, Entry: accountEntry(engine.EventUserCreate)}); err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u.ID
}

// accountEntry is the log entry of an operator's account change.
func accountEntry(event string) engine.AuditEntry {
	return engine.AuditEntry{Actor: engine.OperatorActor, Event: event}
}

// applyAccount applies c with an operator's log entry for event.
func applyAccount(t testing.TB, db *store.DB, event string, c engine.AccountPart) error {
	t.Helper()
	return db.Apply(context.Background(), &engine.Change{Account: &c, Entry: accountEntry(event)})
}

// wantCode fails the test unless err carries the domain code want ("" = nil).
func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := engine.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func TestOpenRejectsPaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		t.Run(path, func(t *testing.T) {
			if db, err := store.Open(path); err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want error", path)
			}
		})
	}
}

// TestPragmasOnEveryConnection: every pooled connection carries the
// store's settings, readers unable to write. PostgreSQL has no pragmas: its
// counterpart of query_only is default_transaction_read_only on readers.
func TestPragmasOnEveryConnection(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()

	// setting → value on a reader, on the writer.
	show, settings := "PRAGMA ", map[string][2]string{
		"journal_mode": {"wal", "wal"},
		"foreign_keys": {"1", "1"},
		"busy_timeout": {"5000", "5000"},
		"synchronous":  {"1", "1"}, // NORMAL
		"query_only":   {"1", "0"},
		"temp_store":   {"0", "2"}, // the writer's statement journal in memory (2); readers' big sorts may spill (0)
	}
	if storetest.OnPostgres() {
		show, settings = "SHOW ", map[string][2]string{"default_transaction_read_only": {"on", "off"}}
	}
	check := func(t *testing.T, name string, q func(string) (string, error), writer int) {
		t.Helper()
		for setting, want := range settings {
			got, err := q(show + setting)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, setting, err)
			}
			if got != want[writer] {
				t.Errorf("%s: %s%s = %q, want %q", name, show, setting, got, want[writer])
			}
		}
	}

	t.Run("Readers", func(t *testing.T) {
		// Hold several connections at once so the pool must open distinct ones.
		const n = 4
		for i := range n {
			c, err := db.Reader().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			check(t, "reader "+string(rune('0'+i)), func(q string) (s string, err error) {
				err = c.QueryRowContext(ctx, q).Scan(&s)
				return
			}, 0)
		}
		if got := db.Reader().Stats().OpenConnections; got < n {
			t.Fatalf("open reader connections = %d, want >= %d", got, n)
		}
	})
	t.Run("Writer", func(t *testing.T) {
		c, err := db.Writer().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		check(t, "writer", func(q string) (s string, err error) {
			err = c.QueryRowContext(ctx, q).Scan(&s)
			return
		}, 1)
	})
	t.Run("WriterIsSingle", func(t *testing.T) {
		if got, want := db.Writer().Stats().MaxOpenConnections, 1; got != want {
			t.Fatalf("writer MaxOpenConnections = %d, want %d", got, want)
		}
	})
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zonevet.db")
	db := mustOpenPath(t, path)
	ctx := context.Background()
	// applied lists the recorded versions; every embedded file must be there
	// exactly once, however often migrations run.
	applied := func() string {
		t.Helper()
		rows, err := db.Reader().QueryContext(ctx, `SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var vs []string
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			vs = append(vs, fmt.Sprint(v))
		}
		return strings.Join(vs, " ")
	}
	files, _ := filepath.Glob("migrations/*.sql")
	var want []string
	for _, f := range files {
		var v int64
		fmt.Sscanf(filepath.Base(f), "%d_", &v)
		want = append(want, fmt.Sprint(v))
	}
	if got, want := applied(), strings.Join(want, " "); got != want {
		t.Fatalf("applied versions = %q, want %q", got, want)
	}
	before := applied()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if got := applied(); got != before {
		t.Fatalf("applied versions after second run = %q, want %q", got, before)
	}
	// A second handle on the same file migrates nothing and sees the data.
	db2 := mustOpenPath(t, path)
	parks, err := db2.Parks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(parks), 2; got != want {
		t.Fatalf("parks = %d, want %d", got, want)
	}
	if got := applied(); got != before {
		t.Fatalf("applied versions after reopen = %q, want %q", got, before)
	}
}

// TestMigrationOutOfOrder: a database that got a higher-numbered migration
// before a lower one was written still opens, and gets the lower one.
func TestMigrationOutOfOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "zonevet.db")
	raw, err := store.OpenAtVersion(ctx, path, 1<<62, 3)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db := mustOpenPath(t, path)
	var n int
	if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id = 3`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("version 3 applied %d times, want 1", n)
	}
	mustCreate(t, db, sampleProject("qingyuan", "迁移后"))
}

// TestMigrationMovesReports: a database made before 00002 keeps its reports
// when Open moves them to project_reports, the first change afterwards
// stores the digest, and 00003 fills the industry code from the figures.
func TestMigrationMovesReports(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "zonevet.db")
	raw, err := store.OpenAtVersion(ctx, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO parks (id, name_zh) VALUES ('qingyuan', '清远')`,
		`INSERT INTO projects (id, park, name, state, version, report, created_at, updated_at)
		 VALUES (1, 'qingyuan', 'old', 'screening', 3, '{"park":"qingyuan","rule_set_version":"v1","hard_failures":2}',
		         '2025-01-01T00:00:00.000000000Z', '2025-01-01T00:00:00.000000000Z')`,
		`INSERT INTO projects (id, park, name, figures, state, version, created_at, updated_at)
		 VALUES (2, 'qingyuan', 'no report', '{"industry_code":"C2710"}', 'draft', 1, '2025-01-01T00:00:00.000000000Z', '2025-01-01T00:00:00.000000000Z')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db := mustOpenPath(t, path)
	p, err := db.Project(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Report == nil || p.Report.RuleSetVersion != "v1" || p.Report.HardFailures != 2 {
		t.Fatalf("report after migration = %+v", p.Report)
	}
	if p2, _ := db.Project(ctx, 2); p2.Report != nil {
		t.Fatalf("project without report has %+v", p2.Report)
	}
	// 00003 filled the industry_code column from the figures.
	if ps, _, err := db.Projects(ctx, engine.ProjectFilter{Industry: "C27"}); err != nil || len(ps) != 1 || ps[0].ID != 2 {
		t.Fatalf("industry filter after migration = %v, %v", ps, err)
	}
	c := &engine.Change{Project: p, ExpectedVersion: 3, Entry: engine.AuditEntry{Event: engine.EventPass}}
	if err := db.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	var sha string
	if err := db.Reader().QueryRowContext(ctx, `SELECT report_sha256 FROM projects WHERE id = 1`).Scan(&sha); err != nil {
		t.Fatal(err)
	}
	if len(sha) != 64 {
		t.Fatalf("report digest after first change = %q, want a SHA-256", sha)
	}
	if got, _ := db.Project(ctx, 1); got.Report == nil || got.Report.HardFailures != 2 {
		t.Fatalf("report after rewrite = %+v", got.Report)
	}
}

// TestOpenConcurrently starts several stores on one new file at once, as
// several processes might: all must come up on the same, fully migrated
// schema, each migration applied exactly once.
func TestOpenConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zonevet.db")
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			db, err := store.Open(path)
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("opener %d: %v", i, err)
		}
	}
	db := mustOpenPath(t, path)
	var applied int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migrations/*.sql")
	if got, want := applied, len(files); got != want {
		t.Fatalf("applied migrations = %d, want %d", got, want)
	}
}

func TestParksAndRuleSets(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()

	t.Run("PutParkUpdates", func(t *testing.T) {
		if err := db.PutPark(ctx, engine.Park{ID: "yingde", NameZH: "英德", Level: "provincial"}); err != nil {
			t.Fatal(err)
		}
		parks, err := db.Parks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := parks[1].NameZH, "英德"; got != want {
			t.Fatalf("name = %q, want %q", got, want)
		}
	})
	t.Run("NoActiveRuleSet", func(t *testing.T) {
		_, err := db.ActiveRuleSet(ctx, "qingyuan")
		wantCode(t, err, engine.ENOTFOUND)
		_, err = db.RuleSetVersionInForce(ctx, "qingyuan", t0)
		wantCode(t, err, engine.ENOTFOUND)
	})
	t.Run("Activate", func(t *testing.T) {
		for _, v := range []string{"v1", "v2"} {
			if err := db.PutRuleSet(ctx, engine.RuleSetRecord{Park: "qingyuan", Version: v, Source: []byte("src " + v)}); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := db.ActiveRuleSet(ctx, "qingyuan")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rs.Version, "v2"; got != want {
			t.Fatalf("active = %q, want %q", got, want)
		}
		if got, want := string(rs.Source), "src v2"; got != want {
			t.Fatalf("source = %q, want %q", got, want)
		}
		if !rs.CreatedAt.Equal(t0) {
			t.Fatalf("created = %v, want %v", rs.CreatedAt, t0)
		}
		// Putting v1 again re-activates it without a second row.
		if err := db.PutRuleSet(ctx, engine.RuleSetRecord{Park: "qingyuan", Version: "v1", Source: []byte("src v1")}); err != nil {
			t.Fatal(err)
		}
		rs, _ = db.ActiveRuleSet(ctx, "qingyuan")
		if got, want := rs.Version, "v1"; got != want {
			t.Fatalf("active = %q, want %q", got, want)
		}
		if got, err := db.RuleSetVersionInForce(ctx, "qingyuan", t0); err != nil || got != "v1" {
			t.Fatalf("version in force = %q, %v; want v1", got, err)
		}
		old, err := db.RuleSet(ctx, "v2")
		if err != nil {
			t.Fatal(err)
		}
		if old.Active {
			t.Fatalf("v2 still active")
		}
	})
	t.Run("VersionOfAnotherPark", func(t *testing.T) {
		err := db.PutRuleSet(ctx, engine.RuleSetRecord{Park: "yingde", Version: "v1", Source: []byte("x")})
		wantCode(t, err, engine.ECONFLICT)
	})
	t.Run("UnknownPark", func(t *testing.T) {
		err := db.PutRuleSet(ctx, engine.RuleSetRecord{Park: "nowhere", Version: "v9", Source: []byte("x")})
		wantCode(t, err, engine.ENOTFOUND)
	})
	t.Run("UnknownVersion", func(t *testing.T) {
		_, err := db.RuleSet(ctx, "nope")
		wantCode(t, err, engine.ENOTFOUND)
	})
}

func TestUsersAndRoles(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	alice := mustUser(t, db, "alice")
	bob := mustUser(t, db, "bob")

	t.Run("DuplicateUsername", func(t *testing.T) {
		err := applyAccount(t, db, engine.EventUserCreate, engine.AccountPart{NewUser: &engine.User{Username: "alice"}})
		wantCode(t, err, engine.ECONFLICT)
	})
	t.Run("Lookup", func(t *testing.T) {
		u, err := db.UserByName(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := u.ID, alice; got != want {
			t.Fatalf("id = %d, want %d", got, want)
		}
		if !u.CreatedAt.Equal(t0) {
			t.Fatalf("created = %v, want %v", u.CreatedAt, t0)
		}
		_, err = db.UserByID(ctx, 999)
		wantCode(t, err, engine.ENOTFOUND)
		users, err := db.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(users), 2; got != want {
			t.Fatalf("users = %d, want %d", got, want)
		}
	})
	t.Run("Password", func(t *testing.T) {
		if err := applyAccount(t, db, engine.EventUserPassword, engine.AccountPart{UserID: bob, PasswordHash: "$argon2id$x"}); err != nil {
			t.Fatal(err)
		}
		u, _ := db.UserByID(ctx, bob)
		if got, want := u.PasswordHash, "$argon2id$x"; got != want {
			t.Fatalf("hash = %q, want %q", got, want)
		}
		wantCode(t, applyAccount(t, db, engine.EventUserPassword, engine.AccountPart{UserID: 999, PasswordHash: "x"}), engine.ENOTFOUND)
	})
	t.Run("DisableEndsSessions", func(t *testing.T) {
		for _, id := range []string{"s1", "s2"} {
			if err := db.CreateSession(ctx, &engine.Session{ID: id, UserID: alice, CSRFToken: "c"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateSession(ctx, &engine.Session{ID: "s3", UserID: bob, CSRFToken: "c"}); err != nil {
			t.Fatal(err)
		}
		yes, no := true, false
		if err := applyAccount(t, db, engine.EventUserDisable, engine.AccountPart{UserID: alice, Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"s1", "s2"} {
			_, err := db.Session(ctx, id)
			wantCode(t, err, engine.ENOTFOUND)
		}
		if _, err := db.Session(ctx, "s3"); err != nil {
			t.Fatalf("other user's session: %v", err)
		}
		u, _ := db.UserByID(ctx, alice)
		if !u.Disabled {
			t.Fatal("alice not disabled")
		}
		if err := applyAccount(t, db, engine.EventUserEnable, engine.AccountPart{UserID: alice, Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, applyAccount(t, db, engine.EventUserDisable, engine.AccountPart{UserID: 999, Disabled: &yes}), engine.ENOTFOUND)
	})
	t.Run("Roles", func(t *testing.T) {
		for _, c := range []engine.AccountPart{
			{UserID: alice, Roles: []engine.ParkRoles{{Park: "qingyuan", Roles: []engine.Role{engine.RoleReviewer, engine.RoleReviewer}}}}, // a repeated role is kept once
			{UserID: bob, Roles: []engine.ParkRoles{{Park: "yingde", Roles: []engine.Role{engine.RoleAuditor}}}},
			{UserID: alice, Roles: []engine.ParkRoles{{Park: "yingde", Roles: []engine.Role{engine.RolePromoter}}}},
			{UserID: alice, Roles: []engine.ParkRoles{{Park: "yingde"}}}, // replaces alice's yingde roles with none
		} {
			if err := applyAccount(t, db, engine.EventUserRoles, c); err != nil {
				t.Fatalf("roles %+v: %v", c, err)
			}
		}
		wantCode(t, applyAccount(t, db, engine.EventUserRoles, engine.AccountPart{UserID: alice, Roles: []engine.ParkRoles{{Park: "nowhere", Roles: []engine.Role{engine.RoleAdmin}}}}), engine.ENOTFOUND)
		wantCode(t, applyAccount(t, db, engine.EventUserRoles, engine.AccountPart{UserID: 999, Roles: []engine.ParkRoles{{Park: "yingde", Roles: []engine.Role{engine.RoleAdmin}}}}), engine.ENOTFOUND)
		got, err := db.Assignments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []engine.RoleAssignment{
			{UserID: alice, Username: "alice", Role: engine.RoleReviewer, Park: "qingyuan"},
			{UserID: bob, Username: "bob", Role: engine.RoleAuditor, Park: "yingde"},
		}
		if len(got) != len(want) {
			t.Fatalf("assignments = %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("assignment %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	})
	// Every change above that succeeded is one log entry, and a refused one
	// is none: 2 creations, 1 password, 2 disable/enable, 4 role changes.
	t.Run("EachChangeLogged", func(t *testing.T) {
		var events []string
		if err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error { events = append(events, e.Event); return nil }); err != nil {
			t.Fatal(err)
		}
		want := []string{engine.EventUserCreate, engine.EventUserCreate, engine.EventUserPassword, engine.EventUserDisable, engine.EventUserEnable,
			engine.EventUserRoles, engine.EventUserRoles, engine.EventUserRoles, engine.EventUserRoles}
		if !slices.Equal(events, want) {
			t.Fatalf("log = %v, want %v", events, want)
		}
	})
}

func TestErrorsAreWrapped(t *testing.T) {
	db := mustOpen(t)
	db.Close()
	_, err := db.Parks(context.Background())
	if err == nil {
		t.Fatal("query on closed store succeeded")
	}
	var e *engine.Error
	if errors.As(err, &e) {
		t.Fatalf("internal failure surfaced as domain error %v", e)
	}
}
