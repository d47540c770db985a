-- PostgreSQL twin of migrations/00460_role_generation.sql: the role
-- assignments' generation, raised by every change to role_assignments.

-- +goose Up
CREATE TABLE role_generation (
	id integer PRIMARY KEY CHECK (id = 1),
	n  bigint NOT NULL
);
INSERT INTO role_generation (id, n) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION role_generation_raise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE role_generation SET n = n + 1;
	RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER role_generation_change AFTER INSERT OR UPDATE OR DELETE ON role_assignments
	FOR EACH STATEMENT EXECUTE FUNCTION role_generation_raise();
CREATE TRIGGER role_generation_rename AFTER UPDATE OF username ON users
	FOR EACH STATEMENT EXECUTE FUNCTION role_generation_raise();

-- +goose Down
DROP TRIGGER role_generation_rename ON users;
DROP TRIGGER role_generation_change ON role_assignments;
DROP FUNCTION role_generation_raise();
DROP TABLE role_generation;
