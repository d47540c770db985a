-- Expert pool (专家库, issue 14): a park's experts (the engine's JSON as the
-- body: fields, employer, relations, load limit, active) and who was drawn
-- for each project's round by which draw entry, and whether they recused.

-- +goose Up

CREATE TABLE experts (
	id      INTEGER PRIMARY KEY,
	park    TEXT NOT NULL REFERENCES parks (id),
	user_id INTEGER NOT NULL REFERENCES users (id),
	version INTEGER NOT NULL,
	body    TEXT NOT NULL CHECK (json_valid(body)),
	UNIQUE (park, user_id)
) STRICT;

CREATE TABLE expert_draws (
	project_id INTEGER NOT NULL REFERENCES projects (id),
	round      INTEGER NOT NULL,
	expert_id  INTEGER NOT NULL REFERENCES experts (id),
	draw_seq   INTEGER NOT NULL,
	recused    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (project_id, round, expert_id)
) STRICT;
CREATE INDEX expert_draws_expert ON expert_draws (expert_id) WHERE recused = 0;

-- +goose Down

DROP TABLE expert_draws;
DROP TABLE experts;
