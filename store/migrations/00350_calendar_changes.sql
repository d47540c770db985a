-- Calendar changes under four eyes (issue 12): an administrator proposes a
-- calendar file, the committee approves (it goes in force: a row in
-- calendars) or refuses it, the proposer may withdraw it. The row keeps the
-- file, so what was approved is exactly what was proposed; one open
-- proposal per version.

-- +goose Up

CREATE TABLE calendar_changes (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	version      TEXT NOT NULL CHECK (length(version) = 64),
	base_version TEXT NOT NULL,
	source       TEXT NOT NULL,
	state        TEXT NOT NULL CHECK (state IN ('proposed', 'in_force', 'refused', 'withdrawn')),
	note         TEXT NOT NULL,
	days         TEXT NOT NULL,
	proposed_by  TEXT NOT NULL,
	proposed_at  TEXT NOT NULL,
	decided_by   TEXT NOT NULL DEFAULT '',
	decided_at   TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT '',
	row_version  INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE UNIQUE INDEX calendar_changes_one_open ON calendar_changes (version) WHERE state = 'proposed';

-- +goose Down

DROP TABLE calendar_changes;
