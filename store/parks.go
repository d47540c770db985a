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
		return engine.FieldError("id", "园区编号不能为空", "Park id is required")
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

// PutRuleSet stores a rule-set version and makes it the park's active one.
// Storing a version again only re-activates it (versions are content hashes,
// so the same version is the same text); the same version under another park
// is a conflict, because an evaluation names a version alone.
func (db *DB) PutRuleSet(ctx context.Context, rs engine.RuleSetRecord) error {
	return wrap("put rule set", db.update(ctx, func(tx *sql.Tx) error { return putRuleSet(ctx, tx, rs, db.now()) }))
}

// putRuleSet stores a version (created at, when rs has no time) and makes
// it its park's active one, inside tx.
func putRuleSet(ctx context.Context, tx *sql.Tx, rs engine.RuleSetRecord, at time.Time) error {
	if rs.Park == "" || rs.Version == "" {
		return engine.FieldError("version", "规则集缺少园区或版本", "Rule set needs a park and a version")
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO rule_sets (park, version, source, active, created_at) VALUES (?, ?, ?, 0, ?)
		ON CONFLICT (version) DO NOTHING`,
		rs.Park, rs.Version, rs.Source, fmtTime(orNow(rs.CreatedAt, at)))
	if isForeignKey(err) {
		return notFound("园区", "Park")
	}
	if err != nil {
		return err
	}
	var park string
	if err := tx.QueryRowContext(ctx, `SELECT park FROM rule_sets WHERE version = ?`, rs.Version).Scan(&park); err != nil {
		return err
	}
	if park != rs.Park {
		return engine.Errorf(engine.ECONFLICT, "规则集版本 %s 已属于园区 %s", "Rule set version %s already belongs to park %s", rs.Version, park)
	}
	// Deactivate first: the partial unique index allows one active row per park.
	if _, err := tx.ExecContext(ctx, `UPDATE rule_sets SET active = 0 WHERE park = ? AND active = 1 AND version <> ?`, rs.Park, rs.Version); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE rule_sets SET active = 1 WHERE version = ?`, rs.Version)
	return err
}

// RuleSets lists a park's stored versions, newest first, without their
// source text.
func (db *DB) RuleSets(ctx context.Context, park string) ([]engine.RuleSetRecord, error) {
	var out []engine.RuleSetRecord
	err := db.eachRow(ctx, `SELECT park, version, active, created_at FROM rule_sets WHERE park = ? ORDER BY created_at DESC, id DESC`, []any{park}, func(rows *sql.Rows) error {
		var rs engine.RuleSetRecord
		if err := rows.Scan(&rs.Park, &rs.Version, &rs.Active, timeCol{&rs.CreatedAt}); err != nil {
			return err
		}
		out = append(out, rs)
		return nil
	})
	return out, wrap("rule sets", err)
}

// ActiveRuleSet returns the park's active rule set.
func (db *DB) ActiveRuleSet(ctx context.Context, park string) (engine.RuleSetRecord, error) {
	return db.ruleSet(ctx, "active rule set", `park = ? AND active = 1`, park)
}

// RuleSet returns a stored version, active or not, so that an old decision can
// be reproduced with the rules that made it.
func (db *DB) RuleSet(ctx context.Context, version string) (engine.RuleSetRecord, error) {
	return db.ruleSet(ctx, "rule set", `version = ?`, version)
}

func (db *DB) ruleSet(ctx context.Context, op, where string, arg any) (engine.RuleSetRecord, error) {
	var rs engine.RuleSetRecord
	// Every submit reads the active rule set: a prepared read (readRow).
	err := db.readRow(ctx, `SELECT park, version, source, active, created_at FROM rule_sets WHERE `+where, arg).
		Scan(&rs.Park, &rs.Version, &rs.Source, &rs.Active, timeCol{&rs.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		err = notFound("规则集", "Rule set")
	}
	return rs, wrap(op, err)
}
