-- Existing industrial land users (存量工业用地企业, issue 10): firms of a
-- park that are not projects of this system but are rated with them, matched
-- by their unified social credit code, and their annual figures. Each row's
-- content is the engine's JSON (engine.LandUser, engine.AnnualFigures with
-- project_id the negated land-user id, the id a rating line carries).

-- +goose Up

CREATE TABLE land_users (
	id    INTEGER PRIMARY KEY,
	park  TEXT NOT NULL REFERENCES parks (id),
	uscc  TEXT NOT NULL,
	body  TEXT NOT NULL CHECK (json_valid(body)),
	UNIQUE (park, uscc)
) STRICT;

CREATE TABLE land_user_figures (
	land_user_id INTEGER NOT NULL REFERENCES land_users (id),
	year         INTEGER NOT NULL,
	park         TEXT NOT NULL,
	body         TEXT NOT NULL CHECK (json_valid(body)),
	PRIMARY KEY (land_user_id, year)
) STRICT;
CREATE INDEX land_user_figures_park_year ON land_user_figures (park, year);

-- +goose Down

DROP TABLE land_user_figures;
DROP TABLE land_users;
