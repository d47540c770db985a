-- Working-day calendars (issue 10): their own versioned data, apart from the
-- parks' rule sets. Append-only, like the rule sets: the newest row is in
-- force, and loading an earlier file again appends it again, so the order
-- in which calendars were in force stays on file. version is the SHA-256 of
-- source.

-- +goose Up

CREATE TABLE calendars (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	version   TEXT NOT NULL CHECK (length(version) = 64),
	source    TEXT NOT NULL,
	loaded_by TEXT NOT NULL,
	loaded_at TEXT NOT NULL
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER calendars_no_update BEFORE UPDATE ON calendars
BEGIN SELECT RAISE(ABORT, 'calendars are append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER calendars_no_delete BEFORE DELETE ON calendars
BEGIN SELECT RAISE(ABORT, 'calendars are append-only'); END;
-- +goose StatementEnd

-- +goose Down

DROP TABLE calendars;
