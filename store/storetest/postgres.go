package storetest

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the admin connection

	"zonevet/store"
)

// The PostgreSQL test server: started by the tests themselves from Debian's
// postgresql package (apt-get install postgresql; .ci/run does), once per
// test process, on a Unix socket in a temporary directory — no port, no
// password, nothing left behind (DurablePostgresURL starts a second one
// with durability on, for benchmarks). initdb and postgres refuse to run as root,
// so as root they run as the system's postgres user (or nobody) through
// runuser, and the directory is handed to that user. Durability is switched
// off (fsync, full-page writes): a test server's data dies with it, and
// decisions are tested for atomicity, not for surviving power loss.
//
// Each test gets a database of its own, a copy of one migrated template
// (CREATE DATABASE … TEMPLATE), dropped when the test ends.

// TestStore is the environment variable that runs a package's store tests
// on PostgreSQL instead of SQLite: ZONEVET_TEST_STORE=postgres.
const TestStore = "ZONEVET_TEST_STORE"

// OnPostgres reports whether the tests should run on PostgreSQL.
func OnPostgres() bool { return os.Getenv(TestStore) == "postgres" }

var (
	pgOnce   sync.Once
	pgServer *postgresServer
	pgErr    error
	pgSeq    atomic.Int64
)

type postgresServer struct {
	bin, dir string
	runAs    []string // runuser -u NAME -- when the tests run as root
	admin    *sql.DB  // the postgres database, for CREATE/DROP DATABASE
}

// durablePG is a second test server with fsync, full-page writes and
// synchronous commit on, as in production, started only by the benchmark
// that measures durable transitions.
var durablePG struct {
	once   sync.Once
	server *postgresServer
	err    error
}

// DurablePostgresURL is PostgresURL on a server that syncs every commit to
// disk, for benchmarks of what production pays.
func DurablePostgresURL(t testing.TB) string {
	t.Helper()
	durablePG.once.Do(func() { durablePG.server, durablePG.err = startPostgres(true) })
	return newDatabase(t, durablePG.server, durablePG.err)
}

// PostgresURL returns the URL of a new database on the test server,
// migrated and empty like Path's, dropped when t ends. Without PostgreSQL
// installed the test is skipped with a message, or fails when $CI is set (as the browser tests do).
func PostgresURL(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgServer, pgErr = startPostgres(false) })
	return newDatabase(t, pgServer, pgErr)
}

// newDatabase makes a database from server's template for t, or skips (fails
// in CI) when the server could not start.
func newDatabase(t testing.TB, server *postgresServer, pgErr error) string {
	t.Helper()
	if pgErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("storetest: PostgreSQL: %v", pgErr)
		}
		t.Skipf("storetest: SKIPPING, no PostgreSQL test server: %v (apt-get install -y postgresql)", pgErr)
	}
	name := fmt.Sprintf("zv_%d_%d", os.Getpid(), pgSeq.Add(1))
	if _, err := server.admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE zv_template`); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := server.admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("storetest: drop database: %v", err)
		}
	})
	t.Logf("storetest: on PostgreSQL, database %s", name)
	return server.url(name)
}

// StopPostgres stops the test server if one was started; TestMain calls it
// after the tests.
func StopPostgres() {
	for _, s := range []**postgresServer{&pgServer, &durablePG.server} {
		if *s != nil {
			(*s).admin.Close()
			(*s).stop()
			*s = nil
		}
	}
}

func (s *postgresServer) url(db string) string {
	return "postgres://zonevet@/" + db + "?host=" + s.dir + "&sslmode=disable"
}

func (s *postgresServer) run(name string, args ...string) error {
	argv := append(append(append([]string{}, s.runAs...), filepath.Join(s.bin, name)), args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, out)
	}
	return nil
}

// postgresBin finds the newest installed server's binaries.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) < version(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("no /usr/lib/postgresql/*/bin/initdb")
}

func version(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return n
}

func startPostgres(durable bool) (*postgresServer, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "zvpg-")
	if err != nil {
		return nil, err
	}
	s := &postgresServer{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := unprivileged()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.runAs = []string{"runuser", "-u", u.Username, "--"}
	}
	data := filepath.Join(dir, "data")
	if err := s.run("initdb", "-D", data, "-U", "zonevet", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := []string{"-k", dir, "-c", "listen_addresses=", "-c", "max_connections=200"}
	if !durable {
		opts = append(opts, "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off")
	}
	if err := s.run("pg_ctl", "-D", data, "-o", strings.Join(opts, " "), "-l", filepath.Join(dir, "log"), "-w", "start"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.makeTemplate(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// stop stops the server at once and removes its files.
func (s *postgresServer) stop() {
	s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(s.dir)
}

// makeTemplate migrates zv_template once; every test's database copies it.
func (s *postgresServer) makeTemplate() error {
	var err error
	if s.admin, err = sql.Open("pgx", s.url("postgres")); err != nil {
		return err
	}
	if _, err := s.admin.Exec(`CREATE DATABASE zv_template`); err != nil {
		return err
	}
	db, err := store.Open(s.url("zv_template"))
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return db.Close()
}

// unprivileged is the account the server runs as when the tests run as root.
func unprivileged() (*user.User, error) {
	for _, name := range []string{"postgres", "nobody"} {
		if u, err := user.Lookup(name); err == nil {
			return u, nil
		}
	}
	return nil, fmt.Errorf("running as root and no postgres or nobody account to run the server as")
}
