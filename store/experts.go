package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"zonevet/engine"
)

// writeExperts writes a Change's expert-pool part inside tx, after its entry
// e: an expert added or changed under its version, or a draw seeded by e's
// hash, logged right after e, with its drawn rows (and a recusal marked).
func (db *DB) writeExperts(ctx context.Context, tx *sql.Tx, c *engine.ExpertsPart, e *engine.AuditEntry) (func(), error) {
	var newID int64
	if x := c.Expert; x != nil {
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		if x.ID == 0 {
			err = tx.QueryRowContext(ctx, `INSERT INTO experts (park, user_id, version, body) VALUES (?, ?, 1, ?) RETURNING id`,
				x.Park, x.UserID, string(b)).Scan(&newID)
			if isUnique(err) {
				return nil, engine.FieldFail("username", "err.experts_already_in_pool", nil)
			}
			if err != nil {
				return nil, err
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE experts SET body = ?, version = version + 1 WHERE id = ? AND version = ? AND park = ?`,
				string(b), x.ID, c.ExpectedVersion, x.Park)
			if err != nil {
				return nil, err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil, engine.ErrStale()
			}
		}
	}
	if c.Recused != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE expert_draws SET recused = 1 WHERE project_id = ? AND round = ? AND expert_id = ?`,
			c.Draw.ProjectID, c.Draw.Round, c.Recused); err != nil {
			return nil, err
		}
	}
	if c.Draw != nil {
		de := c.Complete(*e)
		de.Time = e.Time
		if err := db.appendAudit(ctx, tx, &de); err != nil {
			return nil, err
		}
		c.DrawEntry = de
		for _, id := range c.Draw.Drawn {
			if _, err := tx.ExecContext(ctx, `INSERT INTO expert_draws (project_id, round, expert_id, draw_seq) VALUES (?, ?, ?, ?)`,
				c.Draw.ProjectID, c.Draw.Round, id, de.Seq); isUnique(err) {
				return nil, engine.ErrStale() // two recusals at once drew the same replacement: the second reloads
			} else if err != nil {
				return nil, err
			}
		}
	}
	return func() {
		if newID != 0 {
			c.Expert.ID, c.Expert.Version = newID, 1
		} else if c.Expert != nil {
			c.Expert.Version = c.ExpectedVersion + 1
		}
	}, nil
}

// Experts lists a park's expert pool by id.
func (db *DB) Experts(ctx context.Context, park string) ([]engine.Expert, error) {
	var out []engine.Expert
	err := db.eachPrepared(ctx, `SELECT id, version, body FROM experts WHERE park = ? ORDER BY id`, []any{park}, func(rows *sql.Rows) error {
		var x engine.Expert
		var id, version int64
		var body string
		if err := rows.Scan(&id, &version, &body); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(body), &x); err != nil {
			return err
		}
		x.ID, x.Version = id, version
		out = append(out, x)
		return nil
	})
	return out, wrap("experts", err)
}

// DrawnExperts lists the experts drawn for a project's round, in order of draw.
func (db *DB) DrawnExperts(ctx context.Context, projectID int64, round int) ([]engine.DrawnExpert, error) {
	var out []engine.DrawnExpert
	err := db.eachPrepared(ctx, `SELECT d.project_id, d.round, d.expert_id, e.user_id, json_extract(e.body, '$.name'), json_extract(e.body, '$.username'), d.draw_seq, d.recused
		FROM expert_draws d JOIN experts e ON e.id = d.expert_id
		WHERE d.project_id = ? AND d.round = ? ORDER BY d.draw_seq, d.rowid`, []any{projectID, round}, func(rows *sql.Rows) error {
		var d engine.DrawnExpert
		if err := rows.Scan(&d.ProjectID, &d.Round, &d.ExpertID, &d.UserID, &d.Name, &d.Username, &d.DrawSeq, &d.Recused); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, wrap("drawn experts", err)
}

// OpenReviews counts per expert of park the draws, not recused, on the
// current round of projects still in expert review.
func (db *DB) OpenReviews(ctx context.Context, park string) (map[int64]int, error) {
	out := map[int64]int{}
	err := db.eachPrepared(ctx, `SELECT d.expert_id, count(*) FROM expert_draws d JOIN projects p ON p.id = d.project_id
		WHERE p.park = ? AND p.state = 'expert_review' AND d.round = p.round AND d.recused = 0
		GROUP BY d.expert_id`, []any{park}, func(rows *sql.Rows) error {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		out[id] = n
		return nil
	})
	return out, wrap("open reviews", err)
}
