-- The role assignments' generation (issue 16): a count that every change
-- to role_assignments raises, by trigger, whoever makes it (the server, the
-- zonevet CLI, a second node). The server's casbin policy is built from the
-- assignments in memory; each request's token or session read carries this
-- count, so a server whose policy is older than the count reloads it before
-- it authorizes anything, and a role withdrawn by another process is never
-- served. One row: read in the same statement as the token, it costs one
-- index look-up, where reading the assignments would cost a scan.

-- +goose Up
CREATE TABLE role_generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL
) STRICT;
INSERT INTO role_generation (id, n) VALUES (1, 1);

-- +goose StatementBegin
CREATE TRIGGER role_generation_insert AFTER INSERT ON role_assignments BEGIN
	UPDATE role_generation SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_generation_delete AFTER DELETE ON role_assignments BEGIN
	UPDATE role_generation SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_generation_update AFTER UPDATE ON role_assignments BEGIN
	UPDATE role_generation SET n = n + 1;
END;
-- +goose StatementEnd
-- A user's name is the policy's subject.
-- +goose StatementBegin
CREATE TRIGGER role_generation_rename AFTER UPDATE OF username ON users BEGIN
	UPDATE role_generation SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER role_generation_rename;
DROP TRIGGER role_generation_update;
DROP TRIGGER role_generation_delete;
DROP TRIGGER role_generation_insert;
DROP TABLE role_generation;
