package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"zonevet/engine"
)

var _ engine.TrackingStore = (*DB)(nil)

// writeTracking writes a Change's TrackingPart inside tx, after the
// change's entry (whose Seq is entrySeq, the run's AuditSeq): the agreement,
// milestones, figures, the run with its results, the rectification orders,
// the exit, the publicity step, then the Moves with their entries. It
// returns the write-back of the new ids and the moves' entries, to run once
// tx has committed.
func (db *DB) writeTracking(ctx context.Context, tx *sql.Tx, t *engine.TrackingPart, entrySeq int64, at time.Time) (func(), error) {
	if err := putAgreement(ctx, tx, t.Agreement); err != nil {
		return nil, err
	}
	if err := putMilestones(ctx, tx, t.Milestones); err != nil {
		return nil, err
	}
	if err := putFigures(ctx, tx, t.Figures); err != nil {
		return nil, err
	}
	var runID int64
	if r := t.Run; r != nil {
		var err error
		if runID, err = insertRun(ctx, tx, r, entrySeq); err != nil {
			return nil, err
		}
	}
	rectIDs, err := openRectifications(ctx, tx, t.Open, runID)
	if err != nil {
		return nil, err
	}
	if err := updateRectification(ctx, tx, t.UpdateRect); err != nil {
		return nil, err
	}
	if err := insertExit(ctx, tx, t.Exit); err != nil {
		return nil, err
	}
	if err := applyPublicity(ctx, tx, t.Publicity); err != nil {
		return nil, err
	}
	moves, err := db.applyMoves(ctx, tx, t.Moves, at)
	if err != nil {
		return nil, err
	}
	return func() {
		copy(t.Moves, moves)
		if t.Run != nil {
			t.Run.ID, t.Run.AuditSeq = runID, entrySeq
			for i := range t.Run.Results {
				t.Run.Results[i].RunID = runID
			}
		}
		for i := range t.Open {
			t.Open[i].ID = rectIDs[i]
			if t.Open[i].RunID == 0 {
				t.Open[i].RunID = runID
			}
		}
	}, nil
}

func putAgreement(ctx context.Context, tx *sql.Tx, a *engine.Agreement) error {
	if a == nil {
		return nil
	}
	return putJSON(ctx, tx, `INSERT INTO agreements (project_id, park, signed_on, body) VALUES (?, ?, ?, ?)
		ON CONFLICT (project_id) DO UPDATE SET signed_on = excluded.signed_on, body = excluded.body`,
		a, a.ProjectID, a.Park, a.SignedOn.Format(time.DateOnly))
}

// putMilestones upserts milestones on (project, kind).
func putMilestones(ctx context.Context, tx *sql.Tx, ms []engine.Milestone) error {
	for i := range ms {
		m := &ms[i]
		if err := putJSON(ctx, tx, `INSERT INTO milestones (project_id, kind, body) VALUES (?, ?, ?)
			ON CONFLICT (project_id, kind) DO UPDATE SET body = excluded.body`, m, m.ProjectID, m.Kind); err != nil {
			return err
		}
	}
	return nil
}

// putFigures upserts annual figures on (project, year), one prepared
// statement for the whole sheet.
func putFigures(ctx context.Context, tx *sql.Tx, figs []engine.AnnualFigures) error {
	if len(figs) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO annual_figures (project_id, year, park, body) VALUES (?, ?, ?, ?)
		ON CONFLICT (project_id, year) DO UPDATE SET park = excluded.park, body = excluded.body`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range figs {
		f := &figs[i]
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, f.ProjectID, f.Year, f.Park, string(b)); err != nil {
			return err
		}
	}
	return nil
}

// openRectifications inserts the orders (RunID from runID when zero) and
// returns their new ids.
func openRectifications(ctx context.Context, tx *sql.Tx, open []engine.Rectification, runID int64) ([]int64, error) {
	ids := make([]int64, len(open))
	if len(open) == 0 {
		return ids, nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO rectifications (project_id, park, outcome, body) VALUES (?, ?, ?, ?) RETURNING id`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for i := range open {
		r := open[i]
		if r.RunID == 0 {
			r.RunID = runID
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		// The body's id is left 0: reads take it from the column (json_set).
		if err := st.QueryRowContext(ctx, r.ProjectID, r.Park, r.Outcome, string(b)).Scan(&ids[i]); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// updateRectification writes an order's plan or outcome, by id.
func updateRectification(ctx context.Context, tx *sql.Tx, r *engine.Rectification) error {
	if r == nil {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return mustAffect(tx.ExecContext(ctx, `UPDATE rectifications SET outcome = ?, body = ? WHERE id = ? AND project_id = ?`,
		r.Outcome, string(b), r.ID, r.ProjectID))
}

// insertExit records a project's exit; a second one is a conflict.
func insertExit(ctx context.Context, tx *sql.Tx, x *engine.ExitRecord) error {
	if x == nil {
		return nil
	}
	err := putJSON(ctx, tx, `INSERT INTO exits (project_id, park, body) VALUES (?, ?, ?)`, x, x.ProjectID, x.Park)
	if isUnique(err) {
		return engine.Fail(engine.ECONFLICT, "err.project_has_already_exited", nil)
	}
	return err
}

// applyMoves moves each project (state, due date, version +1 under the
// version check) and appends its entry; it returns the moves with their
// entries as written.
func (db *DB) applyMoves(ctx context.Context, tx *sql.Tx, in []engine.Move, at time.Time) ([]engine.Move, error) {
	if len(in) == 0 {
		return nil, nil
	}
	moves := append([]engine.Move(nil), in...)
	st, err := tx.PrepareContext(ctx, `UPDATE projects SET state = ?, version = version + 1, due_at = ?, updated_at = ?
		WHERE id = ? AND version = ? RETURNING park`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for i := range moves {
		m := &moves[i]
		m.Entry.Time = orNow(m.Entry.Time, at)
		var park string
		err := st.QueryRowContext(ctx, string(m.To), fmtTimePtr(m.DueAt), fmtTime(m.Entry.Time), m.ProjectID, m.ExpectedVersion).Scan(&park)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, engine.ErrStale()
		} else if err != nil {
			return nil, err
		}
		if m.Entry.Park == "" {
			m.Entry.Park = park
		}
		if err := db.appendAudit(ctx, tx, &m.Entry); err != nil {
			return nil, err
		}
	}
	return moves, nil
}

// putJSON runs q with v's JSON as the last argument of the first group:
// args before the body, then after. A nil separator in args marks "body here".
func putJSON(ctx context.Context, tx *sql.Tx, q string, v any, args ...any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var all []any
	placed := false
	for _, a := range args {
		if a == nil && !placed {
			all, placed = append(all, string(b)), true
			continue
		}
		all = append(all, a)
	}
	if !placed {
		all = append(all, string(b))
	}
	_, err = tx.ExecContext(ctx, q, all...)
	return err
}

func insertRun(ctx context.Context, tx *sql.Tx, r *engine.RatingRun, auditSeq int64) (int64, error) {
	inputs, err := json.Marshal(r.Inputs)
	if err != nil {
		return 0, err
	}
	missing, _ := json.Marshal(r.Missing)
	bands, _ := json.Marshal(r.Bands)
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO rating_runs (park, year, rule_set_version, inputs, inputs_sha256, results_sha256, missing, bands, run_by, run_at, audit_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.Park, r.Year, r.RuleSetVersion, string(inputs), r.InputsSHA256, r.ResultsSHA256, string(missing), string(bands),
		r.RunBy, fmtTime(r.RunAt), auditSeq).Scan(&id); err != nil {
		return 0, err
	}
	// Many rows per statement: a park's run is thousands of lines, and each
	// statement costs more than the row it writes.
	const batch = 200
	var full *sql.Stmt
	for start := 0; start < len(r.Results); start += batch {
		end := min(start+batch, len(r.Results))
		args := make([]any, 0, 3*(end-start))
		for i := start; i < end; i++ {
			// The slim line: the detail is recomputed from the run's inputs.
			res := r.Results[i].Slim()
			res.RunID = id
			b, err := json.Marshal(&res)
			if err != nil {
				return 0, err
			}
			args = append(args, id, res.ProjectID, string(b))
		}
		q := `INSERT INTO rating_results (run_id, project_id, body) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", end-start), ", ")
		var err error
		if end-start == batch {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, q); err != nil {
					return 0, err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, q, args...)
		}
		if err != nil {
			return 0, err
		}
	}
	return id, nil
}

// ---- reads ----

// TrackedProjects lists the projects of parks in states, by id, without
// decoding their figures documents or reports.
func (db *DB) TrackedProjects(ctx context.Context, parks []string, states []engine.State) ([]engine.TrackedProject, error) {
	pin, pargs := inList(parks)
	sin, sargs := inList(states)
	var out []engine.TrackedProject
	err := db.eachRow(ctx, `
			SELECT id, park, name, investor_name, uscc, state, version,
				coalesce(json_extract(figures, '$.land_area'), '0'), coalesce(json_extract(figures, '$.fixed_asset_investment'), '0'), -- '0': one type on both engines
				created_by, due_at
			FROM projects WHERE park IN (`+pin+`) AND state IN (`+sin+`) ORDER BY id`, append(pargs, sargs...), func(rows *sql.Rows) error {
		var p engine.TrackedProject
		if err := rows.Scan(&p.ID, &p.Park, &p.Name, &p.InvestorName, &p.USCC, &p.State, &p.Version, &p.LandArea,
			&p.FixedAssetInvestment, &p.CreatedBy, nullTimeCol{&p.DueAt}); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, wrap("tracked projects", err)
}

// scanJSON runs a query whose first column is a JSON body and decodes every
// row into a T.
func scanJSON[T any](ctx context.Context, db *DB, op, q string, args ...any) ([]T, error) {
	var out []T
	err := db.eachRow(ctx, q, args, func(rows *sql.Rows) error {
		var body string
		if err := rows.Scan(&body); err != nil {
			return err
		}
		var v T
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		out = append(out, v)
		return nil
	})
	return out, wrap(op, err)
}

// Agreement returns a project's agreement.
func (db *DB) Agreement(ctx context.Context, projectID int64) (*engine.Agreement, error) {
	as, err := scanJSON[engine.Agreement](ctx, db, "agreement", `SELECT body FROM agreements WHERE project_id = ?`, projectID)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, notFound("what.agreement")
	}
	return &as[0], nil
}

// Agreements lists the agreements of parks, by signing date.
func (db *DB) Agreements(ctx context.Context, parks []string) ([]engine.Agreement, error) {
	in, args := inList(parks)
	return scanJSON[engine.Agreement](ctx, db, "agreements", `SELECT body FROM agreements WHERE park IN (`+in+`) ORDER BY signed_on, project_id`, args...)
}

// Milestones lists the recorded milestones of the projects.
func (db *DB) Milestones(ctx context.Context, projectIDs []int64) ([]engine.Milestone, error) {
	if len(projectIDs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(projectIDs))
	for i, id := range projectIDs {
		ids[i] = fmt.Sprint(id) // integers: no injection, and no 32k-parameter limit for a whole park
	}
	return scanJSON[engine.Milestone](ctx, db, "milestones", `SELECT body FROM milestones WHERE project_id IN (`+strings.Join(ids, ",")+`) ORDER BY project_id, kind`)
}

// AnnualFigures lists a park's figures for a year, by project.
func (db *DB) AnnualFigures(ctx context.Context, park string, year int) ([]engine.AnnualFigures, error) {
	return scanJSON[engine.AnnualFigures](ctx, db, "annual figures", `SELECT body FROM annual_figures WHERE park = ? AND year = ? ORDER BY project_id`, park, year)
}

// ProjectFigures lists a project's figures, newest year first.
func (db *DB) ProjectFigures(ctx context.Context, projectID int64) ([]engine.AnnualFigures, error) {
	return scanJSON[engine.AnnualFigures](ctx, db, "project figures", `SELECT body FROM annual_figures WHERE project_id = ? ORDER BY year DESC`, projectID)
}

// FigureYears lists the years with figures in parks, newest first.
func (db *DB) FigureYears(ctx context.Context, parks []string) ([]int, error) {
	in, args := inList(parks)
	var out []int
	err := db.eachRow(ctx, `SELECT DISTINCT year FROM annual_figures WHERE park IN (`+in+`) ORDER BY year DESC`, args, func(rows *sql.Rows) error {
		var y int
		if err := rows.Scan(&y); err != nil {
			return err
		}
		out = append(out, y)
		return nil
	})
	return out, wrap("figure years", err)
}

const runColumns = `id, park, year, rule_set_version, inputs_sha256, results_sha256, missing, bands, run_by, run_at, audit_seq`

func scanRun(s interface{ Scan(...any) error }) (*engine.RatingRun, error) {
	r := &engine.RatingRun{}
	var missing, bands string
	if err := s.Scan(&r.ID, &r.Park, &r.Year, &r.RuleSetVersion, &r.InputsSHA256, &r.ResultsSHA256, &missing, &bands,
		&r.RunBy, timeCol{&r.RunAt}, &r.AuditSeq); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(missing), &r.Missing); err != nil {
		return nil, err
	}
	return r, json.Unmarshal([]byte(bands), &r.Bands)
}

func (db *DB) run(ctx context.Context, op, where string, inputs bool, args ...any) (*engine.RatingRun, error) {
	var r *engine.RatingRun
	err := db.view(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM rating_runs `+where, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("what.rating_run")
		}
		if err != nil {
			return err
		}
		if inputs {
			var raw string
			if err := tx.QueryRowContext(ctx, `SELECT inputs FROM rating_runs WHERE id = ?`, r.ID).Scan(&raw); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(raw), &r.Inputs); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT body FROM rating_results WHERE run_id = ?`, r.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var body []byte
			if err := rows.Scan(&body); err != nil {
				return err
			}
			var res engine.RatingResult
			if err := json.Unmarshal(body, &res); err != nil {
				return err
			}
			r.Results = append(r.Results, res)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	sortResults(r.Results)
	return r, nil
}

// sortResults puts a run's lines in the rating's order: rated by rank, then
// firms in grace, ties by project.
func sortResults(rs []engine.RatingResult) {
	key := func(r engine.RatingResult) int {
		if !r.Rated {
			return 1 << 30
		}
		return r.Rank
	}
	slices.SortFunc(rs, func(a, b engine.RatingResult) int {
		return cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(a.ProjectID, b.ProjectID))
	})
}

// RatingRun returns a run with its inputs and results.
func (db *DB) RatingRun(ctx context.Context, id int64) (*engine.RatingRun, error) {
	return db.run(ctx, "rating run", `WHERE id = ?`, true, id)
}

// LatestRun returns the newest run of a park and year, with results.
func (db *DB) LatestRun(ctx context.Context, park string, year int) (*engine.RatingRun, error) {
	return db.run(ctx, "latest run", `WHERE park = ? AND year = ? ORDER BY id DESC LIMIT 1`, false, park, year)
}

// RatingRuns lists the runs of parks, newest first, without inputs or results.
func (db *DB) RatingRuns(ctx context.Context, parks []string) ([]engine.RatingRun, error) {
	in, args := inList(parks)
	var out []engine.RatingRun
	err := db.eachRow(ctx, `SELECT `+runColumns+` FROM rating_runs WHERE park IN (`+in+`) ORDER BY id DESC`, args, func(rows *sql.Rows) error {
		r, err := scanRun(rows)
		if err != nil {
			return err
		}
		out = append(out, *r)
		return nil
	})
	return out, wrap("rating runs", err)
}

// ProjectRatings lists a project's lines of every run, newest run first.
func (db *DB) ProjectRatings(ctx context.Context, projectID int64) ([]engine.RatingResult, error) {
	return scanJSON[engine.RatingResult](ctx, db, "project ratings", `SELECT body FROM rating_results WHERE project_id = ? ORDER BY run_id DESC`, projectID)
}

// Rectifications lists a project's orders, oldest first.
func (db *DB) Rectifications(ctx context.Context, projectID int64) ([]engine.Rectification, error) {
	return scanJSON[engine.Rectification](ctx, db, "rectifications", `SELECT json_set(body, '$.id', id) FROM rectifications WHERE project_id = ? ORDER BY id`, projectID)
}

// OpenRectifications lists the open orders of parks, oldest first.
func (db *DB) OpenRectifications(ctx context.Context, parks []string) ([]engine.Rectification, error) {
	in, args := inList(parks)
	return scanJSON[engine.Rectification](ctx, db, "open rectifications", `SELECT json_set(body, '$.id', id) FROM rectifications WHERE park IN (`+in+`) AND outcome = '' ORDER BY id`, args...)
}

// Exits lists the exits of parks, oldest first.
func (db *DB) Exits(ctx context.Context, parks []string) ([]engine.ExitRecord, error) {
	in, args := inList(parks)
	return scanJSON[engine.ExitRecord](ctx, db, "exits", `SELECT body FROM exits WHERE park IN (`+in+`) ORDER BY rowid`, args...)
}
