package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"zonevet/engine"
)

// PostgreSQL is the second engine (issue 17): several zonevet processes on
// one database. The store's code is the same; what differs is opening,
// migrating, and how a write transaction excludes other writers — SQLite's
// BEGIN IMMEDIATE locks the file, here every write transaction first locks
// the one row of chain_head (lockChainHead), so decisions and log appends
// are serialised across processes exactly as on SQLite, and the version
// check and the chain's seq/prev_hash cannot fork. (A batch of decisions
// writes its version-checked project rows first and locks the head only
// to chain their entries: groupcommit_pg.go.)

//go:embed migrations_pg/*.sql
var migrationsPG embed.FS

// openPostgres opens the PostgreSQL database named by url
// ("postgres://user@host/db?…", or host=/socket/dir for a Unix socket).
func openPostgres(url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db := &DB{path: url, Now: time.Now, dialect: postgresDialect}
	// Like SQLite's, one writer connection per process: the chain-head lock
	// admits one writer at a time anyway, and group commit (groupcommit.go)
	// shares that writer's transactions between concurrent callers.
	db.write = sql.OpenDB(qmarkConnector{stdlib.GetConnector(*cfg)})
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)

	// Readers cannot write even by mistake (SQLite's query_only).
	rcfg := cfg.Copy()
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	db.read = sql.OpenDB(qmarkConnector{stdlib.GetConnector(*rcfg)})
	n := max(4, runtime.NumCPU())
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	// view's transactions read one snapshot, as SQLite's do; a read-only
	// REPEATABLE READ transaction never fails with a serialization error.
	db.readTx = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}

	ctx := context.Background()
	if err := migratePostgres(ctx, cfg); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.ready(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// No optimize loop: PostgreSQL's autovacuum keeps the planner's
	// statistics.
	return db, nil
}

// migratePostgres applies the embedded PostgreSQL migrations on a
// connection of its own (no placeholder rewriting: the files are
// PostgreSQL's own SQL). goose's session lock, an advisory lock, keeps two
// processes starting at once from applying a migration twice.
func migratePostgres(ctx context.Context, cfg *pgx.ConnConfig) error {
	fsys, err := fs.Sub(migrationsPG, "migrations_pg")
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	conn := stdlib.OpenDB(*cfg)
	defer conn.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, conn, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// lockChainHead takes the write lock of a PostgreSQL write transaction: the
// chain head's row, held to the commit. Every write transaction takes it
// first, so no two can deadlock on each other's rows, except a batch of
// decisions, which writes its projects' rows before (groupcommit_pg.go).
func (db *DB) lockChainHead(ctx context.Context, tx *sql.Tx) error {
	if db.dialect != postgresDialect {
		return nil // SQLite: BEGIN IMMEDIATE has taken the lock already
	}
	_, err := tx.StmtContext(ctx, db.stmts.lockHead).ExecContext(ctx)
	return err
}

// maxRetries bounds how often a write transaction that lost a race
// (serialization failure, deadlock) is run again before its error surfaces.
const maxRetries = 5

var _ engine.SigningLocker = (*DB)(nil)

// signingLockKey names the checkpoint signer's advisory lock; any constant
// apart from goose's own lock id would do.
const signingLockKey = 0x7a6f6e65766574 // "zonevet"

// LockSigning implements engine.SigningLocker. On PostgreSQL it holds a
// transaction-level advisory lock on a reader connection until release (the
// rollback drops it; a process killed while holding it loses its connection
// and with it the lock), so with several serve processes one signs at a time
// and the others find its checkpoint. On SQLite one process signs per file,
// as before, and there is nothing to take.
func (db *DB) LockSigning(ctx context.Context) (release func(), err error) {
	if db.dialect != postgresDialect {
		return func() {}, nil
	}
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("lock signing", err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, signingLockKey); err != nil {
		tx.Rollback()
		return nil, wrap("lock signing", err)
	}
	return func() { tx.Rollback() }, nil
}
