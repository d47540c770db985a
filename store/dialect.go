package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// The store's SQL is written once, in the subset SQLite and PostgreSQL
// share: "?" placeholders, RETURNING, ON CONFLICT … DO UPDATE/NOTHING,
// times as fixed-width UTC text, flags as 0/1 integers. What differs lives
// here and in postgres.go: the placeholders and flags are rewritten by a thin
// wrapper around pgx's database/sql driver (so no call site knows which
// engine it talks to), errors are classified by both engines' codes, and the
// few statements that cannot be shared are chosen by db.pick.

// dialect says which engine a DB runs on.
type dialect uint8

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// IsPostgresURL reports whether a --db value names a PostgreSQL database by
// URL rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// pick returns the statement for the store's engine: sqlite's text unless
// the store runs on PostgreSQL and postgres is not empty.
func (db *DB) pick(sqlite, postgres string) string {
	if db.dialect == postgresDialect && postgres != "" {
		return postgres
	}
	return sqlite
}

// qmarkConnector wraps pgx's connector so that every connection rewrites
// "?" placeholders to "$n" and passes Go bools as 0/1.
type qmarkConnector struct{ driver.Connector }

func (c qmarkConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &qmarkConn{conn.(*stdlib.Conn)}, nil
}

// qmarkConn is a pgx connection that takes SQLite-style SQL. It implements
// the same optional interfaces as *stdlib.Conn, so database/sql treats it
// alike (contexts, transactions with options, session reset, prepared
// statements).
type qmarkConn struct{ c *stdlib.Conn }

var (
	_ driver.ConnPrepareContext = (*qmarkConn)(nil)
	_ driver.ConnBeginTx        = (*qmarkConn)(nil)
	_ driver.ExecerContext      = (*qmarkConn)(nil)
	_ driver.QueryerContext     = (*qmarkConn)(nil)
	_ driver.Pinger             = (*qmarkConn)(nil)
	_ driver.NamedValueChecker  = (*qmarkConn)(nil)
	_ driver.SessionResetter    = (*qmarkConn)(nil)
)

func (q *qmarkConn) Prepare(query string) (driver.Stmt, error) {
	return q.c.Prepare(dollarPlaceholders(query))
}
func (q *qmarkConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return q.c.PrepareContext(ctx, dollarPlaceholders(query))
}
func (q *qmarkConn) Close() error              { return q.c.Close() }
func (q *qmarkConn) Begin() (driver.Tx, error) { return q.c.Begin() }
func (q *qmarkConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return q.c.BeginTx(ctx, opts)
}
func (q *qmarkConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return q.c.ExecContext(ctx, dollarPlaceholders(query), args)
}
func (q *qmarkConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return q.c.QueryContext(ctx, dollarPlaceholders(query), args)
}
func (q *qmarkConn) Ping(ctx context.Context) error         { return q.c.Ping(ctx) }
func (q *qmarkConn) ResetSession(ctx context.Context) error { return q.c.ResetSession(ctx) }
func (q *qmarkConn) IsValid() bool                          { return !q.c.Conn().IsClosed() }
func (q *qmarkConn) CheckNamedValue(nv *driver.NamedValue) error {
	nv.Value = flagValue(nv.Value)
	return nil
}

// flagValue turns a Go bool into the 0/1 integer both schemas store flags
// as (SQLite's driver does the same); anything else passes unchanged.
func flagValue(v any) any {
	if b, ok := v.(bool); ok {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// flagValues is flagValue for each of args, for statements sent through
// pgx itself (withPgx), which the wrapper does not see.
func flagValues(args []any) []any {
	out := make([]any, len(args))
	for i, v := range args {
		out[i] = flagValue(v)
	}
	return out
}

// withPgx runs fn on the pgx connection under conn, a writer connection
// on PostgreSQL, for what database/sql cannot say: a pipeline of
// statements sent in one round trip (pgx.Batch). Inside conn's
// transaction, fn's statements are part of it.
func withPgx(conn *sql.Conn, fn func(*pgx.Conn) error) error {
	return conn.Raw(func(dc any) error {
		q, ok := dc.(*qmarkConn)
		if !ok {
			return fmt.Errorf("store: not a PostgreSQL connection: %T", dc)
		}
		return fn(q.c.Conn())
	})
}

// rewritten caches dollarPlaceholders by query text: the store's queries
// are a few hundred constant strings.
var rewritten sync.Map

// dollarPlaceholders rewrites SQLite's "?" placeholders to PostgreSQL's
// "$1", "$2", … in order, leaving string literals, quoted identifiers and
// comments alone.
func dollarPlaceholders(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	if s, ok := rewritten.Load(query); ok {
		return s.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '\'' || ch == '"':
			end := strings.IndexByte(query[i+1:], ch)
			if end < 0 {
				b.WriteString(query[i:])
				i = len(query)
				continue
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case ch == '-' && i+1 < len(query) && query[i+1] == '-':
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
		case ch == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(ch)
		}
	}
	s := b.String()
	rewritten.Store(query, s)
	return s
}

// pgCode returns the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// PostgreSQL's SQLSTATEs the store acts on.
const (
	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// isRetryable reports a PostgreSQL transaction that lost a race with
// another and may simply be run again.
func isRetryable(err error) bool {
	c := pgCode(err)
	return c == pgSerializationFailure || c == pgDeadlockDetected
}
