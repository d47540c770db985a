-- Committee meetings (集体决策, issue 14): a meeting (its members, those
-- present, date and number as the engine's JSON), its agenda of projects
-- with each item's decision and the SHA-256 of its minutes (filed as the
-- project's minutes document of that digest), and one vote per present
-- member per item.

-- +goose Up

CREATE TABLE meetings (
	id   INTEGER PRIMARY KEY,
	park TEXT NOT NULL REFERENCES parks (id),
	body TEXT NOT NULL CHECK (json_valid(body))
) STRICT;
CREATE INDEX meetings_park ON meetings (park, id);

CREATE TABLE meeting_agenda (
	meeting_id     INTEGER NOT NULL REFERENCES meetings (id),
	project_id     INTEGER NOT NULL REFERENCES projects (id),
	project_name   TEXT NOT NULL,
	outcome        TEXT NOT NULL DEFAULT '',
	minutes_sha256 TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (meeting_id, project_id)
) STRICT;

CREATE TABLE meeting_votes (
	meeting_id INTEGER NOT NULL REFERENCES meetings (id),
	project_id INTEGER NOT NULL,
	voter      TEXT NOT NULL,
	body       TEXT NOT NULL CHECK (json_valid(body)),
	PRIMARY KEY (meeting_id, project_id, voter),
	FOREIGN KEY (meeting_id, project_id) REFERENCES meeting_agenda (meeting_id, project_id)
) STRICT;

-- +goose Down

DROP TABLE meeting_votes;
DROP TABLE meeting_agenda;
DROP TABLE meetings;
