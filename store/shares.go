package store

import (
	"context"
	"database/sql"

	"zonevet/engine"
)

var _ engine.ShareStore = (*DB)(nil)

// writeShare writes a Change's share part inside tx after its entry e: the
// shares, each under e's seq (a target already shared with is a conflict,
// so two people sharing at once cannot double a row), a share revoked
// under e's seq (one already revoked is a conflict), or a sharee's read
// mark at e's seq.
func writeShare(ctx context.Context, tx *sql.Tx, c *engine.SharePart, e *engine.AuditEntry) (func(), error) {
	ids := make([]int64, len(c.Create))
	for i, x := range c.Create {
		err := tx.QueryRowContext(ctx, `INSERT INTO shares (project_id, park, username, department, shared_by, note, seq, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			x.ProjectID, x.Park, x.Username, x.Department, x.SharedBy, x.Note, e.Seq, fmtTime(e.Time)).Scan(&ids[i])
		if isUnique(err) {
			return nil, engine.Fail(engine.ECONFLICT, "err.share_already", engine.Args{"Target": x.Username + x.Department})
		}
		if err != nil {
			return nil, wrap("share", err)
		}
	}
	if x := c.Revoke; x != nil {
		res, err := tx.ExecContext(ctx, `UPDATE shares SET revoked_seq = ?, revoked_by = ?, revoked_at = ?
			WHERE id = ? AND project_id = ? AND revoked_seq IS NULL`, e.Seq, x.RevokedBy, fmtTime(e.Time), x.ID, x.ProjectID)
		if err != nil {
			return nil, wrap("share revoke", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, wrap("share revoke", err)
		} else if n == 0 {
			return nil, engine.Fail(engine.ECONFLICT, "err.share_already_revoked", nil)
		}
	}
	if r := c.Read; r != nil {
		_, err := tx.ExecContext(ctx, `INSERT INTO share_reads (project_id, user_id, seq) VALUES (?, ?, ?)
			ON CONFLICT (project_id, user_id) DO UPDATE SET seq = excluded.seq`, r.ProjectID, r.UserID, e.Seq)
		if err != nil {
			return nil, wrap("share read", err)
		}
	}
	return func() {
		for i := range c.Create {
			c.Create[i].ID, c.Create[i].Seq = ids[i], e.Seq
		}
		if x := c.Revoke; x != nil {
			x.RevokedSeq = e.Seq
		}
	}, nil
}

const shareColumns = `s.id, s.project_id, p.name, s.park, s.username, s.department, s.shared_by, s.note, s.seq, s.created_at,
	COALESCE(s.revoked_seq, 0), s.revoked_by, s.revoked_at`

func scanShare(rows *sql.Rows, more ...any) (engine.Share, error) {
	var x engine.Share
	err := rows.Scan(append([]any{&x.ID, &x.ProjectID, &x.ProjectName, &x.Park, &x.Username, &x.Department, &x.SharedBy,
		&x.Note, &x.Seq, timeCol{&x.CreatedAt}, &x.RevokedSeq, &x.RevokedBy, nullTimeCol{&x.RevokedAt}}, more...)...)
	return x, err
}

// Shares lists a project's shares, revoked ones too, oldest first.
func (db *DB) Shares(ctx context.Context, projectID int64) ([]engine.Share, error) {
	var out []engine.Share
	err := db.eachRow(ctx, `SELECT `+shareColumns+` FROM shares s JOIN projects p ON p.id = s.project_id
		WHERE s.project_id = ? ORDER BY s.id`, []any{projectID}, func(rows *sql.Rows) error {
		x, err := scanShare(rows)
		out = append(out, x)
		return err
	})
	return out, wrap("shares", err)
}

// SharedWith lists the live shares with u, by name or by u's department in
// a park where u holds a role, newest first; New when u has not read the
// project (as a sharee) since.
func (db *DB) SharedWith(ctx context.Context, u *engine.User) ([]engine.Share, error) {
	var out []engine.Share
	err := db.eachRow(ctx, `SELECT `+shareColumns+`,
			s.seq > COALESCE((SELECT r.seq FROM share_reads r WHERE r.project_id = s.project_id AND r.user_id = ?), 0)
		FROM shares s JOIN projects p ON p.id = s.project_id
		WHERE s.revoked_seq IS NULL AND (s.username = ? OR (s.department <> '' AND s.department = ?
			AND EXISTS (SELECT 1 FROM role_assignments ra WHERE ra.user_id = ? AND ra.park = s.park)))
		ORDER BY s.id DESC`, []any{u.ID, u.Username, u.Department, u.ID}, func(rows *sql.Rows) error {
		var fresh bool
		x, err := scanShare(rows, &fresh)
		x.New = fresh
		out = append(out, x)
		return err
	})
	return out, wrap("shared with", err)
}
