// Package store implements engine.Store and engine.AccountStore on SQLite
// (modernc.org/sqlite, pure Go): embedded goose migrations, one writer
// connection plus a read pool, one transaction per exported method, and the
// hash-chained decision log.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"zonevet/engine"
	"zonevet/engine/tlog"
	"zonevet/rules/catalog"
)

// Compile-time proof that DB is what the engine and web need.
var (
	_ engine.Store        = (*DB)(nil)
	_ engine.AccountStore = (*DB)(nil)
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the zonevet database. SQLite admits one writer at a time, so writes go
// through a single connection (no SQLITE_BUSY between our own goroutines, and
// BEGIN IMMEDIATE takes the write lock up front so a transaction never fails
// half-way on lock upgrade); reads use a pool of query-only connections that
// WAL lets run beside the writer.
type DB struct {
	write   *sql.DB
	read    *sql.DB
	path    string
	dialect dialect        // which engine (dialect.go)
	readTx  *sql.TxOptions // view's transaction options: nil on SQLite
	stmts   stmts
	reads   sync.Map             // readRow's prepared statements, by SQL text
	writes  map[string]*sql.Stmt // hotWrites prepared (write_stmts.go)
	queue   commitQueue          // Apply's group commit
	tree    auditTree            // the Merkle tree's border, kept by the writer (audit_tree.go)
	// suite is the log's crypto suite, as its first entry records it; nil
	// while the log is empty (audit_suite.go).
	suite atomic.Pointer[tlog.Suite]

	stopOptimize chan struct{} // closed by Close: ends the periodic PRAGMA optimize
	optimizeDone chan struct{}

	// Now is the clock for times the caller does not supply (created, updated,
	// uploaded, audit entry time). Tests replace it to get repeatable times.
	Now func() time.Time
}

// Open opens (creating if needed) the database file at path, applies pending
// migrations and returns the store. Several processes may open the same file:
// SQLite's locks and busy timeout serialise their writes, and a lock on the
// side file path+"-migrate" their migrations. A postgres:// URL opens a
// PostgreSQL database instead (postgres.go).
func Open(path string) (*DB, error) {
	if IsPostgresURL(path) {
		return openPostgres(path)
	}
	if path == "" || strings.Contains(path, "?") || strings.HasPrefix(path, "file:") || strings.Contains(path, ":memory:") {
		// A query string in the path would swallow our pragmas, and an
		// in-memory database is one database per connection: neither works
		// with a writer plus a read pool.
		return nil, fmt.Errorf("store: open: unsupported database path %q", path)
	}
	db := &DB{path: path, Now: time.Now}

	var err error
	if db.write, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		return nil, fmt.Errorf("store: open writer: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)

	if db.read, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("store: open readers: %w", err)
	}
	n := max(4, runtime.NumCPU())
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)

	ctx := context.Background()
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.ready(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// The query planner chooses the list indexes from sqlite_stat1; without
	// it a filtered list at 100,000 projects takes 40 × longer (BENCHMARKS.md).
	// SQLite's advice for long-lived connections: optimize with 0x10002 on
	// open (every table, not just those this connection has queried), then
	// plain optimize now and then and on close.
	if err := db.optimize(ctx, `PRAGMA optimize=0x10002`); err != nil {
		db.Close()
		return nil, err
	}
	db.stopOptimize, db.optimizeDone = make(chan struct{}), make(chan struct{})
	go db.optimizePeriodically(optimizeEvery)
	return db, nil
}

// ready prepares the transition statements and reads the log's suite and
// tree border, on either engine, once the schema is up to date.
func (db *DB) ready(ctx context.Context) error {
	if err := db.prepare(ctx); err != nil {
		return err
	}
	if err := db.loadSuite(ctx, db.read); err != nil {
		return err
	}
	return db.catchUpTree(ctx)
}

// optimizeEvery is how often a long-running process refreshes the planner's
// statistics (SQLite suggests every few hours; PRAGMA optimize analyses only
// tables whose size changed tenfold, ANALYZE projects always).
const optimizeEvery = time.Hour

// optimize refreshes the planner's statistics: pragma (some PRAGMA
// optimize) for every table, then a full ANALYZE of projects. Optimize reads
// only the first 2,000 entries of each index (its own analysis_limit, which a
// connection's cannot raise); in the list indexes, led by the park, that is
// one park, and the estimates it leaves made the industry list slower than no
// statistics at all (123 ms against 78 ms; a full ANALYZE gives 2 ms). The
// projects table is a zone's worth of rows: analysed whole in 0.3 s at
// 100,000, with the writer held that long.
func (db *DB) optimize(ctx context.Context, pragma string) error {
	for _, stmt := range []string{pragma, `ANALYZE projects`} {
		if _, err := db.write.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: %s: %w", stmt, err)
		}
	}
	return nil
}

func (db *DB) optimizePeriodically(every time.Duration) {
	defer close(db.optimizeDone)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-db.stopOptimize:
			return
		case <-tick.C:
			// A failure (say, the disk full) leaves the old statistics,
			// which are still valid; the next tick tries again.
			_ = db.optimize(context.Background(), `PRAGMA optimize`)
		}
	}
}

// stmts are the statements of the transition path, prepared once on the
// writer: parsing SQL costs more than running it, and a transition runs
// three of them (five in a group commit).
type stmts struct {
	updateLifecycle *sql.Stmt
	auditHead       *sql.Stmt
	auditInsert     *sql.Stmt
	savepoint       *sql.Stmt
	rollbackTo      *sql.Stmt
	release         *sql.Stmt
	lockHead        *sql.Stmt // PostgreSQL only: the chain head's row lock (postgres.go)
}

func (s *stmts) all() []*sql.Stmt {
	return []*sql.Stmt{s.updateLifecycle, s.auditHead, s.auditInsert, s.savepoint, s.rollbackTo, s.release, s.lockHead}
}

func (db *DB) prepare(ctx context.Context) error {
	for _, s := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&db.stmts.updateLifecycle, `
			UPDATE projects SET state = ?, version = version + 1, round = ?, due_at = ?, override = ?, updated_at = ?
			WHERE id = ? AND version = ?
			RETURNING park, name, investor_name, uscc, figures, report_sha256`},
		{&db.stmts.auditHead, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`},
		{&db.stmts.auditInsert, auditInsertSQL},
		{&db.stmts.savepoint, `SAVEPOINT apply`},
		{&db.stmts.rollbackTo, `ROLLBACK TO apply`},
		{&db.stmts.release, `RELEASE apply`},
		{&db.stmts.lockHead, db.pick(`SELECT 1`, `SELECT id FROM chain_head WHERE id = 1 FOR UPDATE`)},
	} {
		st, err := db.write.PrepareContext(ctx, s.sql)
		if err != nil {
			return fmt.Errorf("store: prepare: %w", err)
		}
		*s.dst = st
	}
	return db.prepareWrites(ctx)
}

// dsn builds the data source name. The pragmas travel in the DSN because
// database/sql opens connections whenever it likes: a db.Exec("PRAGMA ...")
// would reach one pooled connection only. busy_timeout comes first so that
// switching to WAL waits for a lock instead of failing. synchronous=NORMAL is
// durable across application crashes in WAL mode and loses at most the last
// transactions on power loss, the usual trade for a web application.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if writer {
		q.Set("_txlock", "immediate")
		// The writer's statement journal (every group-commit SAVEPOINT and
		// every multi-row statement keeps one) stays in memory: on disk it
		// spilled past 64 KiB into a temporary file, a write system call per
		// page it saved, 13 % of a decision's CPU. It is bounded by one
		// batch's pages; readers keep temporary files for their big sorts.
		q.Add("_pragma", "temp_store(MEMORY)")
	} else {
		// Readers cannot write even by mistake: every write must go through
		// the one writer so that write transactions never contend in-process.
		q.Add("_pragma", "query_only(1)")
	}
	return path + "?" + q.Encode()
}

// migrate brings the schema up to date with the embedded migrations (goose,
// SQL files only); applied versions are recorded in goose_db_version, so a
// second run is a no-op.
func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	// Out of order: migrations are numbered by several authors working in
	// parallel (00003 landed after 00010), so a database may lack a lower
	// number than its highest. Each migration must therefore stand on its
	// own, never depending on a higher-numbered one.
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	unlock, err := lockMigrations(ctx, db.path)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// lockMigrations serialises migrations between processes that open the same
// file at once. goose has no lock for SQLite, and without one two starters
// can both list a version as pending and both apply it (a migration that
// happens to be re-runnable then succeeds twice). The lock is an exclusive
// transaction on a small side file, path + "-migrate": SQLite's own file
// locking, portable, and released by the operating system if the holder
// dies. Waiters wait up to two minutes.
func lockMigrations(ctx context.Context, path string) (unlock func(), err error) {
	lockDB, err := sql.Open("sqlite", path+"-migrate?_pragma=busy_timeout(120000)&_txlock=exclusive")
	if err != nil {
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	lockDB.SetMaxOpenConns(1)
	tx, err := lockDB.BeginTx(ctx, nil)
	if err != nil {
		lockDB.Close()
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	return func() {
		tx.Rollback()
		lockDB.Close()
	}, nil
}

// Close closes both pools. In WAL mode the last connection to close
// checkpoints the log into the main file.
func (db *DB) Close() error {
	var errs []error
	if db.stopOptimize != nil {
		close(db.stopOptimize)
		<-db.optimizeDone
		db.stopOptimize = nil
		errs = append(errs, db.optimize(context.Background(), `PRAGMA optimize`))
	}
	for _, st := range db.stmts.all() {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, db.closeReadStmts(), db.closeWrites())
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Path returns the database file the store was opened on, for backups and logs.
func (db *DB) Path() string { return db.path }

// Clock is the store's clock (engine.Clock), in UTC: the engine's too
// unless its Config overrides it.
func (db *DB) Clock() time.Time { return db.now() }

// now reads the injectable clock, in UTC as stored.
func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now().UTC()
	}
	return db.Now().UTC()
}

// update runs fn in one write transaction (BEGIN IMMEDIATE on the single
// writer connection; on PostgreSQL, the chain head's lock first) and commits
// if fn returns nil. On PostgreSQL a transaction that lost a race with
// another (serialization failure, deadlock) is run again, so fn must leave
// nothing behind outside tx before it returns.
func (db *DB) update(ctx context.Context, fn func(*sql.Tx) error) error {
	return db.retried(func() error {
		return db.updateOnce(ctx, true, func(_ *sql.Conn, tx *sql.Tx) error { return fn(tx) })
	})
}

// updateLockingLate is update for a transaction that takes the chain
// head's lock itself (lockChainHead), late, and may reach the driver's
// connection through conn (groupcommit_pg.go). PostgreSQL only.
func (db *DB) updateLockingLate(ctx context.Context, fn func(*sql.Conn, *sql.Tx) error) error {
	return db.retried(func() error { return db.updateOnce(ctx, false, fn) })
}

// retried runs a write transaction again while it loses races
// (isRetryable), up to maxRetries times.
func (db *DB) retried(run func() error) error {
	for try := 1; ; try++ {
		err := run()
		if err == nil || try == maxRetries || !isRetryable(err) {
			return err
		}
	}
}

func (db *DB) updateOnce(ctx context.Context, lockFirst bool, fn func(*sql.Conn, *sql.Tx) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if lockFirst {
		if err := db.lockChainHead(ctx, tx); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	if err := fn(conn, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// view runs fn in one read transaction so that several queries (a page and
// its total count) see the same snapshot.
func (db *DB) view(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, db.readTx)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// wrap prefixes internal errors with the operation and lets domain errors
// through unchanged, so web can show their message.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *engine.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isUnique reports a UNIQUE or PRIMARY KEY violation: a duplicate.
func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY ||
		pgCode(err) == pgUniqueViolation
}

// isForeignKey reports a reference to a row that does not exist.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY || pgCode(err) == pgForeignKeyViolation
}

// timeLayout is fixed-width (all nine fractional digits, always "Z") so that
// stored text sorts in time order; RFC3339Nano drops trailing zeros and
// would not.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// fmtTime renders t as stored.
func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// fmtTimePtr renders an optional time; nil is NULL.
func fmtTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

// parseTime reads a stored time back to the same instant, in UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// timeCol scans a NOT NULL time column into *t.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("time column holds %T", v)
	}
	t, err := parseTime(s)
	*c.t = t
	return err
}

// nullTimeCol scans a nullable time column into *t (nil for NULL).
type nullTimeCol struct{ t **time.Time }

// Scan implements sql.Scanner.
func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(v); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// orNow returns t, or now when t is zero (the caller did not supply it).
func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC()
}

// inList returns "?, ?, ?" for n values and the values as arguments.
func inList[T ~string](vals []T) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = string(v)
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", "), args
}

// notFound builds the not_found error for a kind of thing.
func notFound(what string) error {
	return engine.Fail(engine.ENOTFOUND, "err.not_found", engine.Args{"What": catalog.Message{ID: what}})
}

// eachRow runs q on a read snapshot and hands every row to fn, in order.
func (db *DB) eachRow(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	return db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		return forEachRow(rows, err, fn)
	})
}
