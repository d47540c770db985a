package engine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/store"
)

// BenchmarkWhatIfScreening100k: the screening replay of issue 12 over
// 100,000 stored, screened projects of one park (< 3 s on 2 cores). The
// projects' figures vary (investment intensity 250–449 万元/亩, tax per mu
// 20–39) and every submit entry carries the real ~6 KB basis (figures +
// report) the engine writes; the replay reads the figures from the
// screenings index the store keeps beside each submit entry.
func BenchmarkWhatIfScreening100k(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(b.TempDir(), "zonevet.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	def, _ := rules.Default("qingyuan")
	if err := db.PutPark(ctx, engine.Park{ID: "qingyuan", NameZH: "清远高新区"}); err != nil {
		b.Fatal(err)
	}
	svc, err := engine.NewService(ctx, engine.Config{Store: db})
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.InstallRuleSet(ctx, def); err != nil {
		b.Fatal(err)
	}
	raw, err := sql.Open("sqlite", db.Path())
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	f := goodFigures()
	rep, err := def.Evaluate(f)
	if err != nil {
		b.Fatal(err)
	}
	basis, _ := json.Marshal(map[string]any{"figures": f, "report": rep})
	fig, _ := json.Marshal(f)
	states := []string{"screening", "expert_review", "committee_review", "approved", "rejected", "signed", "in_production", "returned", "withdrawn", "draft"}
	for i := range states {
		states[i] = "'" + states[i] + "'"
	}
	_, err = raw.ExecContext(ctx, `
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
		INSERT INTO projects (park, name, investor_name, uscc, figures, state, version, round, created_by, created_at, updated_at)
		SELECT 'qingyuan', '项目' || i, '投资方' || i || '有限公司', printf('91441800%010d', i),
			json_set(?, '$.fixed_asset_investment', 50 * (250 + i % 200), '$.tax', 50 * (20 + i % 20)),
			json_extract(json_array(`+strings.Join(states, ",")+`), '$[' || (i % 10) || ']'), 2, 1, 1,
			'2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z'
		FROM n`, string(fig))
	if err != nil {
		b.Fatal(err)
	}
	// The entries are seeded below the application: the chain trigger
	// (which the replay does not read) would want each one hashed.
	if _, err := raw.ExecContext(ctx, `DROP TRIGGER audit_log_extend`); err != nil {
		b.Fatal(err)
	}
	_, err = raw.ExecContext(ctx, `
		INSERT INTO audit_log (time, actor, role, park, project_id, event, from_state, to_state, reason, rule_set_version, payload, prev_hash, hash)
		SELECT '2026-01-01T00:00:00.000000000Z', 'promoter', 'promoter', 'qingyuan', id, 'submit', 'draft', 'screening', '', ?,
			json_set(?, '$.figures', json(figures)), '', ''
		FROM projects ORDER BY id`, def.Version(), string(basis))
	if err != nil {
		b.Fatal(err)
	}
	// The store writes a submit's screenings row beside its entry; below
	// the application, so do we.
	_, err = raw.ExecContext(ctx, `
		INSERT INTO screenings (project_id, seq, rule_set_version, figures)
		SELECT project_id, seq, rule_set_version, json_extract(payload, '$.figures') FROM audit_log WHERE event = 'submit'`)
	if err != nil {
		b.Fatal(err)
	}
	draft, err := rules.Parse("q.yaml", []byte(strings.Replace(string(def.Source()), "value: 300 # 国家级园区取 300", "value: 320 #", 1)))
	if err != nil {
		b.Fatal(err)
	}
	var changed int
	for b.Loop() {
		r, err := svc.WhatIfOperator(ctx, draft)
		if err != nil {
			b.Fatal(err)
		}
		changed = r.Screening.Changed
	}
	// Intensity 300–319 of 250–449: 20 in 200 of the projects.
	if changed != 10000 {
		b.Fatalf("changed %d, want 10000", changed)
	}
}
