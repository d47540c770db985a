// Package storetest gives tests a new, migrated database quickly. Migrating
// an empty SQLite file takes 2–3 s under -race on a busy 2-core machine,
// which every test that opened a store paid; a copy of one migrated file
// costs milliseconds and opens to the same schema.
package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/alexedwards/argon2id"

	"zonevet/engine"
	"zonevet/store"
)

// PasswordHashing is the argon2id cost tests give engine.Config: 64 KiB and
// one pass instead of the default 64 MiB, which under the race detector
// costs seconds of CPU a hash. Production never sets it (nil is the
// default); engine's TestPasswordHashingDefault checks the default.
var PasswordHashing = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Hash hashes password at PasswordHashing's cost, for accounts tests store
// directly (Account).
func Hash(password string) string {
	h, err := argon2id.CreateHash(password, PasswordHashing)
	if err != nil {
		panic(err) // only if the system's random source fails
	}
	return h
}

var (
	once     sync.Once
	template string
	failure  error
)

// Path returns the path of a new database in a temporary directory of t's,
// migrated to the current schema and empty (no parks, no users).
//
// The template it copies lives in the system's temporary directory, named
// by a digest of the migration files, so test processes share it and a
// changed or added migration makes a new one; store.Open would apply a
// missing migration anyway.
//
// With ZONEVET_TEST_STORE=postgres it returns a new PostgreSQL database's URL
// instead (PostgresURL), so the engine and web suites, which reach most store
// reads and writes, run on PostgreSQL too; their TestMain stops the server.
func Path(t testing.TB) string {
	t.Helper()
	if OnPostgres() {
		return PostgresURL(t)
	}
	return SQLitePath(t)
}

// SQLitePath is Path's SQLite file whatever ZONEVET_TEST_STORE says, for
// tests of SQLite itself (its catalogue, a copy from or to a file).
func SQLitePath(t testing.TB) string {
	t.Helper()
	once.Do(func() { template, failure = migratedTemplate() })
	if failure != nil {
		t.Fatalf("storetest: %v", failure)
	}
	data, err := os.ReadFile(template)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	path := filepath.Join(t.TempDir(), "zonevet.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return path
}

func migratedTemplate() (string, error) {
	_, self, _, _ := runtime.Caller(0)
	files, err := filepath.Glob(filepath.Join(filepath.Dir(self), "..", "migrations", "*.sql"))
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(data)
	}
	path := filepath.Join(os.TempDir(), "zonevet-storetest-"+hex.EncodeToString(h.Sum(nil))[:16]+".db")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	// Migrate in a directory of our own, then rename into place: test
	// processes running at once each build one and the last rename wins.
	dir, err := os.MkdirTemp("", "zonevet-storetest-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(filepath.Join(dir, "zonevet.db"))
	if err != nil {
		return "", err
	}
	if err := db.Close(); err != nil { // checkpoints the WAL into the file
		return "", err
	}
	if err := os.Rename(filepath.Join(dir, "zonevet.db"), path); err != nil {
		return "", err
	}
	return path, nil
}

// Account stores u with its roles the way the operator's CreateUser writes
// an account — user_create with the first park's roles, then user_roles for
// each further park, in one logged Change — but with the
// hash u already carries, so tests need not pay argon2id per account. The
// caller reloads the authorizer's roles (Service.ReloadRoles).
func Account(t testing.TB, ctx context.Context, db *store.DB, u *engine.User, roles ...engine.RoleAssignment) {
	t.Helper()
	groups := engine.GroupRoles(roles)
	c := &engine.Change{Account: &engine.AccountPart{NewUser: u, Roles: groups},
		Entry: engine.AuditEntry{Actor: engine.OperatorActor, Event: engine.EventUserCreate}}
	for i, g := range groups {
		if i == 0 {
			c.Entry.Park = g.Park
			continue
		}
		c.Extra = append(c.Extra, engine.AuditEntry{Actor: engine.OperatorActor, Park: g.Park, Event: engine.EventUserRoles})
	}
	if err := db.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
}

// Raw opens the database at path behind the store's back, as another
// process or someone tampering below the application would: the SQLite file,
// or the PostgreSQL database under ZONEVET_TEST_STORE=postgres. pg says
// which, for the SQL that differs. It is closed when t ends.
func Raw(t testing.TB, path string) (raw *sql.DB, pg bool) {
	t.Helper()
	driver := "sqlite"
	if pg = store.IsPostgresURL(path); pg {
		driver = "pgx"
	}
	raw, err := sql.Open(driver, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw, pg
}

// HoldWriter takes, on a connection of its own as another process would,
// what every write transaction of db needs until release: SQLite's write
// lock (a writer meanwhile waits out the busy timeout and fails) or
// PostgreSQL's chain-head row lock (a writer meanwhile waits).
func HoldWriter(t testing.TB, db *store.DB) (release func()) {
	t.Helper()
	ctx := context.Background()
	other, pg := Raw(t, db.Path())
	lock := []string{`BEGIN IMMEDIATE`}
	if pg {
		lock = []string{`BEGIN`, `SELECT id FROM chain_head WHERE id = 1 FOR UPDATE`}
	}
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range lock {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
			t.Error(err)
		}
		conn.Close()
	}
}
