-- After the signature (issue 5): agreements, milestones, annual figures,
-- rating runs, rectification orders and exits.
--
-- Each row's content is one JSON document in the shape the engine owns
-- (engine.Agreement, engine.Milestone, ...), beside the few columns that
-- queries filter, join or sort on. Rating runs and their results are
-- append-only, like the decision log: a run is evidence, re-rating writes a
-- new run.

-- +goose Up

CREATE TABLE agreements (
	project_id INTEGER PRIMARY KEY REFERENCES projects (id),
	park       TEXT NOT NULL,
	signed_on  TEXT NOT NULL,
	body       TEXT NOT NULL CHECK (json_valid(body))
) STRICT;
CREATE INDEX agreements_park ON agreements (park, signed_on);

CREATE TABLE milestones (
	project_id INTEGER NOT NULL REFERENCES projects (id),
	kind       TEXT NOT NULL,
	body       TEXT NOT NULL CHECK (json_valid(body)),
	PRIMARY KEY (project_id, kind)
) STRICT, WITHOUT ROWID;

CREATE TABLE annual_figures (
	project_id INTEGER NOT NULL REFERENCES projects (id),
	year       INTEGER NOT NULL,
	park       TEXT NOT NULL,
	body       TEXT NOT NULL CHECK (json_valid(body)),
	PRIMARY KEY (project_id, year)
) STRICT;
CREATE INDEX annual_figures_park_year ON annual_figures (park, year);

CREATE TABLE rating_runs (
	id               INTEGER PRIMARY KEY,
	park             TEXT NOT NULL REFERENCES parks (id),
	year             INTEGER NOT NULL,
	rule_set_version TEXT NOT NULL,
	inputs           TEXT NOT NULL CHECK (json_valid(inputs)),
	inputs_sha256    TEXT NOT NULL,
	results_sha256   TEXT NOT NULL,
	missing          TEXT NOT NULL DEFAULT '[]',
	bands            TEXT NOT NULL DEFAULT '{}',
	run_by           TEXT NOT NULL,
	run_at           TEXT NOT NULL,
	audit_seq        INTEGER NOT NULL
) STRICT;
CREATE INDEX rating_runs_park_year ON rating_runs (park, year, id);

CREATE TABLE rating_results (
	run_id     INTEGER NOT NULL REFERENCES rating_runs (id),
	project_id INTEGER NOT NULL,
	body       TEXT NOT NULL,
	PRIMARY KEY (run_id, project_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX rating_results_project ON rating_results (project_id, run_id);

-- +goose StatementBegin
CREATE TRIGGER rating_runs_append_only_u BEFORE UPDATE ON rating_runs
BEGIN SELECT RAISE(ABORT, 'rating runs are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER rating_runs_append_only_d BEFORE DELETE ON rating_runs
BEGIN SELECT RAISE(ABORT, 'rating runs are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER rating_results_append_only_u BEFORE UPDATE ON rating_results
BEGIN SELECT RAISE(ABORT, 'rating results are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER rating_results_append_only_d BEFORE DELETE ON rating_results
BEGIN SELECT RAISE(ABORT, 'rating results are append-only'); END;
-- +goose StatementEnd

CREATE TABLE rectifications (
	id         INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id),
	park       TEXT NOT NULL,
	outcome    TEXT NOT NULL DEFAULT '',
	body       TEXT NOT NULL CHECK (json_valid(body))
) STRICT;
CREATE INDEX rectifications_project ON rectifications (project_id, id);
CREATE INDEX rectifications_open ON rectifications (park, outcome);

CREATE TABLE exits (
	project_id INTEGER PRIMARY KEY REFERENCES projects (id),
	park       TEXT NOT NULL,
	body       TEXT NOT NULL CHECK (json_valid(body))
) STRICT;

-- +goose Down

DROP TABLE exits;
DROP TABLE rectifications;
DROP TRIGGER rating_results_append_only_d;
DROP TRIGGER rating_results_append_only_u;
DROP TRIGGER rating_runs_append_only_d;
DROP TRIGGER rating_runs_append_only_u;
DROP TABLE rating_results;
DROP TABLE rating_runs;
DROP TABLE annual_figures;
DROP TABLE milestones;
DROP TABLE agreements;
