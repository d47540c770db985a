-- Publicity (公示) and objections (异议) of rating runs (issue 10). A run
-- stays append-only; its publicity is a row of its own whose status moves
-- published → final under a version check, and each objection a row whose
-- outcome is written once by the committee's decision. Every change is
-- written in the transaction of its decision-log entry.

-- +goose Up

CREATE TABLE rating_publicity (
	run_id  INTEGER PRIMARY KEY REFERENCES rating_runs (id),
	park    TEXT NOT NULL,
	year    INTEGER NOT NULL,
	status  TEXT NOT NULL CHECK (status IN ('published', 'final')),
	version INTEGER NOT NULL,
	body    TEXT NOT NULL CHECK (json_valid(body))
) STRICT;
CREATE INDEX rating_publicity_park ON rating_publicity (park, year);

CREATE TABLE rating_objections (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER NOT NULL REFERENCES rating_runs (id),
	project_id INTEGER NOT NULL,
	outcome    TEXT NOT NULL DEFAULT '',
	body       TEXT NOT NULL CHECK (json_valid(body))
) STRICT;
CREATE INDEX rating_objections_run ON rating_objections (run_id, id);

-- +goose Down

DROP TABLE rating_objections;
DROP TABLE rating_publicity;
