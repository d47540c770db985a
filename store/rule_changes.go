package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"zonevet/engine"
	"zonevet/rules"
)

var _ engine.RuleGovernanceStore = (*DB)(nil)

const changeCols = `id, park, version, base_version, state, note, diff, proposed_by, proposed_at, decided_by, decided_at,
	reason, effective_at, coalesce(whatif_id, 0), row_version`

func scanChange(sc interface{ Scan(...any) error }) (engine.RuleSetChange, error) {
	var c engine.RuleSetChange
	var diff, decidedAt, effectiveAt string
	err := sc.Scan(&c.ID, &c.Park, &c.Version, &c.BaseVersion, &c.State, &c.Note, &diff, &c.ProposedBy, timeCol{&c.ProposedAt},
		&c.DecidedBy, &decidedAt, &c.Reason, &effectiveAt, &c.WhatIfID, &c.RowVersion)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(diff), &c.Diff); err != nil {
		return c, err
	}
	for _, p := range []struct {
		s string
		t *time.Time
	}{{decidedAt, &c.DecidedAt}, {effectiveAt, &c.EffectiveAt}} {
		if p.s != "" {
			t, err := parseTime(p.s)
			if err != nil {
				return c, err
			}
			if t.Year() > 1 {
				*p.t = t
			}
		}
	}
	return c, nil
}

// RuleSetChanges lists a park's rule-set changes, newest first.
func (db *DB) RuleSetChanges(ctx context.Context, park string) ([]engine.RuleSetChange, error) {
	var out []engine.RuleSetChange
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+changeCols+` FROM rule_set_changes WHERE park = ? ORDER BY id DESC`, park)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChange(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, wrap("rule-set changes", err)
}

// RuleSetChange returns one change.
func (db *DB) RuleSetChange(ctx context.Context, id int64) (engine.RuleSetChange, error) {
	var c engine.RuleSetChange
	err := db.view(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanChange(tx.QueryRowContext(ctx, `SELECT `+changeCols+` FROM rule_set_changes WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("what.rule_set_proposal")
		}
		return err
	})
	return c, wrap("rule-set change", err)
}

// writeRules writes a rule-set governance part inside tx, after its entry,
// and returns its write-back (the new ids, the decided row version).
func (db *DB) writeRules(ctx context.Context, tx *sql.Tx, p *engine.RulesPart, at time.Time) (func(), error) {
	if p.Text != nil {
		if err := db.putRuleSet(ctx, tx, *p.Text); err != nil {
			return nil, err
		}
	}
	var proposed, whatIf int64
	if c := p.Propose; c != nil {
		diff, err := json.Marshal(orEmpty(c.Diff))
		if err != nil {
			return nil, err
		}
		err = tx.QueryRowContext(ctx, `
			INSERT INTO rule_set_changes (park, version, base_version, state, note, diff, proposed_by, proposed_at)
			VALUES (?, ?, ?, 'proposed', ?, ?, ?, ?) RETURNING id`,
			c.Park, c.Version, c.BaseVersion, c.Note, string(diff), c.ProposedBy, fmtTime(orNow(c.ProposedAt, at))).Scan(&proposed)
		if isUnique(err) {
			return nil, engine.Fail(engine.ECONFLICT, "err.version_already_proposed", nil)
		}
		if err != nil {
			return nil, err
		}
	}
	if c := p.Decide; c != nil {
		if err := decideRuleSetChange(ctx, tx, c); err != nil {
			return nil, err
		}
	}
	if w := p.WhatIf; w != nil {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO rule_set_whatifs (park, version, base_version, sha256, report, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			w.Park, w.Version, w.BaseVersion, w.SHA256, w.Report, w.CreatedBy, fmtTime(orNow(w.CreatedAt, at))).Scan(&whatIf)
		if err != nil {
			return nil, err
		}
	}
	return func() {
		if p.Propose != nil {
			p.Propose.ID = proposed
		}
		if p.Decide != nil {
			p.Decide.RowVersion++
		}
		if p.WhatIf != nil {
			p.WhatIf.ID = whatIf
		}
	}, nil
}

func orEmpty(d []rules.DiffItem) []rules.DiffItem {
	if d == nil {
		return []rules.DiffItem{}
	}
	return d
}

// decideRuleSetChange writes a decision on a proposal still proposed at
// c.RowVersion (approve, refuse, withdraw); a proposal decided meanwhile is
// a conflict, never overwritten. An approval also finds the what-if's base
// still in force and nothing approved since the report.
func decideRuleSetChange(ctx context.Context, tx *sql.Tx, c *engine.RuleSetChange) error {
	var whatif any
	if c.WhatIfID != 0 {
		whatif = c.WhatIfID
	}
	eff := ""
	if !c.EffectiveAt.IsZero() {
		eff = fmtTime(c.EffectiveAt)
	}
	if c.ExpectInForce != "" {
		var v string
		if err := tx.QueryRowContext(ctx, inForceSQL, c.Park, fmtTime(c.DecidedAt)).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if v != c.ExpectInForce {
			return engine.Fail(engine.ECONFLICT, "err.rules_in_force_changed", nil)
		}
	}
	if !c.WhatIfAt.IsZero() {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM rule_set_changes WHERE park = ? AND state = 'approved' AND decided_at > ?`,
			c.Park, fmtTime(c.WhatIfAt)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return engine.Fail(engine.ECONFLICT, "err.another_rule_set_change", nil)
		}
	}
	res, err := tx.ExecContext(ctx, `
		UPDATE rule_set_changes SET state = ?, decided_by = ?, decided_at = ?, reason = ?, effective_at = ?, whatif_id = ?,
			row_version = row_version + 1
		WHERE id = ? AND row_version = ? AND state = 'proposed'`,
		string(c.State), c.DecidedBy, fmtTime(c.DecidedAt), c.Reason, eff, whatif, c.ID, c.RowVersion)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return engine.Fail(engine.ECONFLICT, "err.rule_set_proposal_was", nil)
	}
	return nil
}

const whatIfCols = `id, park, version, base_version, sha256, report, created_by, created_at`

func (db *DB) whatIf(ctx context.Context, op, where string, args ...any) (engine.WhatIfRecord, error) {
	var w engine.WhatIfRecord
	err := db.view(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT `+whatIfCols+` FROM rule_set_whatifs WHERE `+where, args...).
			Scan(&w.ID, &w.Park, &w.Version, &w.BaseVersion, &w.SHA256, &w.Report, &w.CreatedBy, timeCol{&w.CreatedAt})
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("what.what_if_report")
		}
		return err
	})
	return w, wrap(op, err)
}

// WhatIf returns one stored what-if report.
func (db *DB) WhatIf(ctx context.Context, id int64) (engine.WhatIfRecord, error) {
	return db.whatIf(ctx, "what-if", `id = ?`, id)
}

// LatestWhatIf returns the newest report generated for a version in a park.
func (db *DB) LatestWhatIf(ctx context.Context, park, version string) (engine.WhatIfRecord, error) {
	return db.whatIf(ctx, "latest what-if", `park = ? AND version = ? ORDER BY id DESC LIMIT 1`, park, version)
}

// EachScreenedProject calls fn for every project of park ever screened,
// with the figures of its latest screening (as JSON, for the caller to
// decode on every core) and the version that screened them, from the
// screenings index the store keeps beside each submit entry (migration
// 00211, writeScreening).
func (db *DB) EachScreenedProject(ctx context.Context, park string, fn func(engine.ScreenedProject) error) error {
	return wrap("screened projects", db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT p.id, p.name, p.state, s.rule_set_version, s.figures
			FROM projects p JOIN screenings s ON s.project_id = p.id
			WHERE p.park = ? ORDER BY p.id`, park)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sp engine.ScreenedProject
			if err := rows.Scan(&sp.ID, &sp.Name, &sp.State, &sp.RuleSetVersion, &sp.FiguresJSON); err != nil {
				return err
			}
			if err := fn(sp); err != nil {
				return err
			}
		}
		return rows.Err()
	}))
}
