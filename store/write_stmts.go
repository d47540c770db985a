package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The decision path's writes beyond db.stmts, prepared once on the writer
// at Open. Parsing them anew in every transaction cost as much as running
// them: the notices alone were a sixth of a pass's CPU (BENCHMARKS.md,
// issue 16). They cannot be prepared lazily: the writer's one connection is
// held by the transaction that first needs them.
const (
	sqlNotifyUser = `INSERT INTO notifications (user_id, seq, park, project_id, event, kind, actor, created_at)
		SELECT w.id, ?, ?, ?, ?, ?, ?, ? FROM (SELECT id FROM users WHERE id = ?) w JOIN users u ON u.id = w.id
		WHERE u.username <> ? AND u.disabled = 0
		ON CONFLICT (user_id, seq) DO NOTHING`
	sqlNotifyRole = `INSERT INTO notifications (user_id, seq, park, project_id, event, kind, actor, created_at)
		SELECT w.id, ?, ?, ?, ?, ?, ?, ? FROM (SELECT u.id FROM users u JOIN role_assignments r ON r.user_id = u.id WHERE r.park = ? AND r.role = ?) w JOIN users u ON u.id = w.id
		WHERE u.username <> ? AND u.disabled = 0
		ON CONFLICT (user_id, seq) DO NOTHING`
	sqlOutboxInsert = `INSERT INTO outbox (channel, seq, park, project_id, event, kind, actor, created_at, next_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlTreeInsert   = `INSERT INTO audit_tree (seq, nodes) VALUES (?, ?)`
	sqlProjectFacts = `UPDATE projects SET name = ?, investor_name = ?, uscc = ?, figures = ?, industry_code = ? WHERE id = ?`
	sqlReportDelete = `DELETE FROM project_reports WHERE project_id = ?`
	sqlReportUpsert = `INSERT INTO project_reports (project_id, report) VALUES (?, ?) ON CONFLICT (project_id) DO UPDATE SET report = excluded.report`
	sqlReportDigest = `UPDATE projects SET report_sha256 = ? WHERE id = ?`
	sqlScoreInsert  = `INSERT INTO scores (project_id, round, reviewer_id, reviewer, items, total, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlScreening    = `INSERT INTO screenings (project_id, seq, rule_set_version, figures) VALUES (?, ?, ?, ?)
		ON CONFLICT (project_id) DO UPDATE SET seq = excluded.seq, rule_set_version = excluded.rule_set_version, figures = excluded.figures`
)

var hotWrites = []string{sqlNotifyUser, sqlNotifyRole, sqlOutboxInsert, sqlTreeInsert,
	sqlProjectFacts, sqlReportDelete, sqlReportUpsert, sqlReportDigest, sqlScoreInsert, sqlScreening}

// prepareWrites prepares hotWrites on the writer.
func (db *DB) prepareWrites(ctx context.Context) error {
	db.writes = make(map[string]*sql.Stmt, len(hotWrites))
	for _, q := range hotWrites {
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: prepare: %w", err)
		}
		db.writes[q] = st
	}
	return nil
}

// execWrite runs one of hotWrites inside tx through its prepared statement.
func (db *DB) execWrite(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st := db.writes[query]
	if st == nil {
		return nil, fmt.Errorf("store: write not prepared: %.60s", query)
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// closeWrites closes the prepared writes, for Close.
func (db *DB) closeWrites() error {
	var errs []error
	for _, st := range db.writes {
		errs = append(errs, st.Close())
	}
	db.writes = nil
	return errors.Join(errs...)
}
