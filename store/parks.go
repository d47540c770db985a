package store

import (
	"time"

	"context"
	"database/sql"
	"errors"

	"zonevet/engine"
)

// PutPark creates the park or updates its names and level; the id never changes.
func (db *DB) PutPark(ctx context.Context, p engine.Park) error {
	if p.ID == "" {
		return engine.FieldFail("id", "err.park_id_required", nil)
	}
	return wrap("put park", db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO parks (id, name_zh, name_en, level) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, level = excluded.level`,
			p.ID, p.NameZH, p.NameEN, p.Level)
		return err
	}))
}

// Parks lists every park by id.
func (db *DB) Parks(ctx context.Context) ([]engine.Park, error) {
	var out []engine.Park
	err := db.eachRow(ctx, `SELECT id, name_zh, name_en, level FROM parks ORDER BY id`, nil, func(rows *sql.Rows) error {
		var p engine.Park
		if err := rows.Scan(&p.ID, &p.NameZH, &p.NameEN, &p.Level); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, wrap("parks", err)
}

// PutRuleSet stores a rule-set version and puts it in force at once, as
// an approved change by "system": the bootstrap path (init, the demo, tests)
// that gives a park its first rules. Every later change goes through
// ProposeRuleSet and DecideRuleSetChange. A park's first version is in force
// from the beginning of time (a park always has rules); a later one from
// rs.CreatedAt. Storing the same text again only puts it in force again
// (versions are content hashes); the same version under another park is a
// conflict, because an evaluation names a version alone.
func (db *DB) PutRuleSet(ctx context.Context, rs engine.RuleSetRecord) error {
	return wrap("put rule set", db.update(ctx, func(tx *sql.Tx) error {
		if err := db.putRuleSet(ctx, tx, rs); err != nil {
			return err
		}
		at := orNow(rs.CreatedAt, db.now())
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM rule_set_changes WHERE park = ? AND state = 'approved'`, rs.Park).Scan(&n); err != nil {
			return err
		}
		eff := at
		if n == 0 {
			eff = time.Time{}
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO rule_set_changes (park, version, state, note, proposed_by, proposed_at, decided_by, decided_at, effective_at)
			VALUES (?, ?, 'approved', '', ?, ?, ?, ?, ?)`,
			rs.Park, rs.Version, engine.SystemActor, fmtTime(at), engine.SystemActor, fmtTime(at), fmtTime(eff))
		return err
	}))
}

// putRuleSet stores a version's text if it is new (its content hash is its
// key) and checks it belongs to rs.Park.
func (db *DB) putRuleSet(ctx context.Context, tx *sql.Tx, rs engine.RuleSetRecord) error {
	if rs.Park == "" || rs.Version == "" {
		return engine.FieldFail("version", "err.rule_set_needs_park", nil)
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO rule_sets (park, version, source, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (version) DO NOTHING`,
		rs.Park, rs.Version, rs.Source, fmtTime(orNow(rs.CreatedAt, db.now())))
	if isForeignKey(err) {
		return notFound("what.park")
	}
	if err != nil {
		return err
	}
	var park string
	if err := tx.QueryRowContext(ctx, `SELECT park FROM rule_sets WHERE version = ?`, rs.Version).Scan(&park); err != nil {
		return err
	}
	if park != rs.Park {
		return engine.Fail(engine.ECONFLICT, "err.rule_set_version_already", engine.Args{"Version": rs.Version, "Park": park})
	}
	return nil
}

// inForceSQL picks the version in force for a park at a time: the newest
// approved change effective by then.
const inForceSQL = `SELECT version FROM rule_set_changes
	WHERE park = ? AND state = 'approved' AND effective_at <= ? ORDER BY effective_at DESC, id DESC LIMIT 1`

// RuleSets lists a park's stored versions, newest first, without their
// source text; Active marks the one in force now.
func (db *DB) RuleSets(ctx context.Context, park string) ([]engine.RuleSetRecord, error) {
	var out []engine.RuleSetRecord
	err := db.view(ctx, func(tx *sql.Tx) error {
		var active string
		if err := tx.QueryRowContext(ctx, inForceSQL, park, fmtTime(db.now())).Scan(&active); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT park, version, created_at FROM rule_sets WHERE park = ? ORDER BY created_at DESC, id DESC`, park)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rs engine.RuleSetRecord
			if err := rows.Scan(&rs.Park, &rs.Version, timeCol{&rs.CreatedAt}); err != nil {
				return err
			}
			rs.Active = rs.Version == active
			out = append(out, rs)
		}
		return rows.Err()
	})
	return out, wrap("rule sets", err)
}

// ActiveRuleSet returns the park's rule set in force now (the store's clock).
func (db *DB) ActiveRuleSet(ctx context.Context, park string) (engine.RuleSetRecord, error) {
	return db.RuleSetInForce(ctx, park, db.now())
}

// RuleSetInForce returns the park's rule set in force at a time: the newest
// approved change effective by then. A screening asks with its own time, so
// one at the boundary of a change gets exactly one version.
func (db *DB) RuleSetInForce(ctx context.Context, park string, at time.Time) (engine.RuleSetRecord, error) {
	// One prepared statement: every submit asks (BENCHMARKS.md, issue 16).
	rs := engine.RuleSetRecord{Active: true}
	err := db.readRow(ctx, `SELECT park, version, source, created_at FROM rule_sets WHERE version = (`+inForceSQL+`)`, park, fmtTime(at)).
		Scan(&rs.Park, &rs.Version, &rs.Source, timeCol{&rs.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return rs, notFound("what.rule_set")
	}
	return rs, wrap("rule set in force", err)
}

// RuleSetVersionInForce is the version RuleSetInForce would return, without
// reading its text: every submit asks (BENCHMARKS.md, issue 16), and the
// engine keeps each version's parsed text, which never changes.
func (db *DB) RuleSetVersionInForce(ctx context.Context, park string, at time.Time) (string, error) {
	var version string
	err := db.readRow(ctx, inForceSQL, park, fmtTime(at)).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("what.rule_set")
	}
	return version, wrap("rule set version in force", err)
}

// RuleSet returns a stored version, in force or not, so that an old decision
// can be reproduced with the rules that made it.
func (db *DB) RuleSet(ctx context.Context, version string) (engine.RuleSetRecord, error) {
	var rs engine.RuleSetRecord
	err := db.view(ctx, func(tx *sql.Tx) error {
		var err error
		rs, err = db.ruleSetTx(ctx, tx, version)
		if err != nil {
			return err
		}
		var active string
		if err := tx.QueryRowContext(ctx, inForceSQL, rs.Park, fmtTime(db.now())).Scan(&active); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rs.Active = active == version
		return nil
	})
	return rs, wrap("rule set", err)
}

func (db *DB) ruleSetTx(ctx context.Context, tx *sql.Tx, version string) (engine.RuleSetRecord, error) {
	var rs engine.RuleSetRecord
	err := tx.QueryRowContext(ctx, `SELECT park, version, source, created_at FROM rule_sets WHERE version = ?`, version).
		Scan(&rs.Park, &rs.Version, &rs.Source, timeCol{&rs.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return rs, notFound("what.rule_set")
	}
	return rs, err
}
