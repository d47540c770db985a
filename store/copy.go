package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// CopyTo copies every row of db into dst, an empty store on either engine:
// `zonevet migrate` from SQLite to PostgreSQL and back. It is a bulk copy of
// history already written and logged, not a decision, so it bypasses Apply;
// the caller verifies dst's log afterwards, which proves the copy kept every
// entry byte for byte. The tables are copied in copyTables' order (parents
// before children, the log in seq order so its triggers accept each entry);
// derivedTables are rebuilt by dst's own triggers as the rows arrive. It
// returns the number of rows copied per table.
func (db *DB) CopyTo(ctx context.Context, dst *DB) (map[string]int64, error) {
	if err := dst.mustBeEmpty(ctx); err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	// One read snapshot for every table, so a copy of a database in use
	// (a backup while serving) is consistent: no row refers to one the copy
	// lacks, and the log ends where the tables' state does.
	err := db.view(ctx, func(src *sql.Tx) error {
		for _, table := range copyTables {
			n, err := db.copyTable(ctx, src, dst, table)
			if err != nil {
				return fmt.Errorf("store: copy %s: %w", table, err)
			}
			counts[table] = n
		}
		return nil
	})
	return counts, err
}

// copyTables are the tables CopyTo copies, parents first.
var copyTables = []string{
	"parks", "rule_sets", "users", "role_assignments", "projects", "project_reports",
	"scores", "conflicts", "documents", "audit_log", "screenings", "audit_tree", "audit_checkpoints", "audit_cosignatures",
	"sessions", "api_tokens", "api_token_addrs", "idempotency",
	"agreements", "milestones", "annual_figures", "rating_runs", "rating_results", "rectifications", "exits",
	"rating_publicity", "rating_objections", "land_users", "land_user_figures", "calendars",
	"rule_set_whatifs", "rule_set_changes", "meetings", "meeting_agenda", "meeting_votes",
	"experts", "expert_draws", "delegations", "notifications", "outbox", "reminders",
	"shares", "share_reads", "calendar_changes",
}

// derivedTables are kept by triggers from the copied rows (or are an
// engine's own, or expire on their own, as the sign-in throttle's
// limit_counts), so CopyTo leaves them to the target.
var derivedTables = []string{"project_counts", "project_grams", "chain_head", "goose_db_version", "limit_counts", "role_generation"}

// mustBeEmpty refuses a target that holds any row of a copied table: a
// migration never merges into, or overwrites, a database in use.
func (db *DB) mustBeEmpty(ctx context.Context) error {
	for _, table := range copyTables {
		var some bool
		if err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+`)`).Scan(&some); err != nil {
			return fmt.Errorf("store: copy: %w", err)
		}
		if some {
			return fmt.Errorf("store: copy: the target is not empty (table %s has rows); migrate only into a new database", table)
		}
	}
	return nil
}

// copyTable copies one table's rows in their insertion order, in one
// transaction on dst, and returns how many.
func (db *DB) copyTable(ctx context.Context, src *sql.Tx, dst *DB, table string) (int64, error) {
	cols, err := db.copyColumns(ctx, table)
	if err != nil {
		return 0, err
	}
	order, err := db.insertionOrder(ctx, table)
	if err != nil {
		return 0, err
	}
	kinds, err := dst.columnKinds(ctx, table, cols)
	if err != nil {
		return 0, err
	}
	var n int64
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table+` ORDER BY `+order)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	err = dst.update(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (`+strings.Join(cols, ", ")+`) VALUES (?`+strings.Repeat(", ?", len(cols)-1)+`)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			for i, k := range kinds {
				vals[i] = k.convert(vals[i])
			}
			if _, err := ins.ExecContext(ctx, vals...); err != nil {
				return err
			}
			n++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return dst.resetIdentity(ctx, tx, table, cols)
	})
	return n, err
}

// copyColumns lists table's columns on db, without PostgreSQL's rowid
// (which the target assigns in insertion order, as SQLite does).
func (db *DB) copyColumns(ctx context.Context, table string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT * FROM `+table+` LIMIT 0`)
	if err != nil {
		return nil, err
	}
	cols, err := rows.Columns()
	rows.Close()
	return slices.DeleteFunc(cols, func(c string) bool { return c == "rowid" }), err
}

// columnKind is what a column holds, as far as a copy must convert: the
// decision log's texts are TEXT on SQLite and bytea on PostgreSQL
// (migrations_pg/00395), so they arrive as the other engine's type.
type columnKind uint8

const (
	otherColumn columnKind = iota
	textColumn
	bytesColumn
)

// convert turns v into what a column of kind k takes: bytes, unchanged, for
// bytea (pgx sends []byte as bytea, a string as text); text for TEXT
// (SQLite's STRICT tables refuse a blob there).
func (k columnKind) convert(v any) any {
	switch b := v.(type) {
	case string:
		if k == bytesColumn {
			return []byte(b)
		}
	case []byte:
		if k == textColumn {
			return string(b)
		}
	}
	return v
}

// columnKinds are the kinds of table's columns cols on db.
func (db *DB) columnKinds(ctx context.Context, table string, cols []string) ([]columnKind, error) {
	q := db.pick(`SELECT name, type FROM pragma_table_info(?)`,
		`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`)
	rows, err := db.read.QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		types[name] = strings.ToLower(typ)
	}
	out := make([]columnKind, len(cols))
	for i, c := range cols {
		switch types[c] {
		case "text":
			out[i] = textColumn
		case "blob", "bytea":
			out[i] = bytesColumn
		}
	}
	return out, rows.Err()
}

// insertionOrder is the ORDER BY that reads table in the order its rows
// were written: SQLite's rowid, PostgreSQL's rowid column where the table
// has one, else the primary key's first column (seq, id), which for the
// tables without either is as good as any.
func (db *DB) insertionOrder(ctx context.Context, table string) (string, error) {
	var has bool
	var err error
	if db.dialect == postgresDialect {
		err = db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = 'rowid')`, table).Scan(&has)
	} else {
		err = db.read.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM pragma_table_list WHERE name = ? AND wr = 1)`, table).Scan(&has)
	}
	if err != nil || has {
		return "rowid", err
	}
	return "1", nil
}

// resetIdentity moves a PostgreSQL id sequence past the ids copied
// explicitly; SQLite takes max(id) + 1 by itself.
func (db *DB) resetIdentity(ctx context.Context, tx *sql.Tx, table string, cols []string) error {
	if db.dialect != postgresDialect || !slices.Contains(cols, "id") {
		return nil
	}
	var seq sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT pg_get_serial_sequence(?, 'id')`, table).Scan(&seq); err != nil || !seq.Valid {
		return err
	}
	_, err := tx.ExecContext(ctx, `SELECT setval(?, coalesce((SELECT max(id) FROM `+table+`), 0) + 1, false)`, seq.String)
	return err
}
