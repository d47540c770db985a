-- The decision log's entries byte for byte (issue 17). SQLite's TEXT holds
-- any bytes, NUL and invalid UTF-8 included, and the chain hash covers them
-- as written; PostgreSQL's text holds neither. So every text field the hash
-- covers is bytea here; time, prev_hash and hash, which the store itself
-- writes in fixed ASCII forms, stay text. PostgreSQL only: SQLite's columns
-- already hold what these do.

-- +goose Up
DROP TRIGGER screenings_from_log ON audit_log;
ALTER TABLE audit_log
	ALTER COLUMN actor TYPE bytea USING convert_to(actor, 'UTF8'),
	ALTER COLUMN role TYPE bytea USING convert_to(role, 'UTF8'),
	ALTER COLUMN park TYPE bytea USING convert_to(park, 'UTF8'),
	ALTER COLUMN event TYPE bytea USING convert_to(event, 'UTF8'),
	ALTER COLUMN from_state TYPE bytea USING convert_to(from_state, 'UTF8'),
	ALTER COLUMN to_state TYPE bytea USING convert_to(to_state, 'UTF8'),
	ALTER COLUMN reason TYPE bytea USING convert_to(reason, 'UTF8'),
	ALTER COLUMN rule_set_version TYPE bytea USING convert_to(rule_set_version, 'UTF8'),
	ALTER COLUMN payload TYPE bytea USING convert_to(payload, 'UTF8'),
	ALTER COLUMN on_behalf_of DROP DEFAULT,
	ALTER COLUMN on_behalf_of TYPE bytea USING convert_to(on_behalf_of, 'UTF8'),
	ALTER COLUMN on_behalf_of SET DEFAULT ''::bytea;

-- The screening index reads a submit's figures from its payload, which the
-- engine writes as JSON (UTF-8); a payload that is not fails the insert, as
-- SQLite's json_extract does.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION screenings_from_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- json (not jsonb) keeps the figures' text as written.
	INSERT INTO screenings (project_id, seq, rule_set_version, figures)
	VALUES (NEW.project_id, NEW.seq, convert_from(NEW.rule_set_version, 'UTF8'),
		coalesce((convert_from(NEW.payload, 'UTF8')::json -> 'figures')::text, '{}'))
	ON CONFLICT (project_id) DO UPDATE SET seq = excluded.seq, rule_set_version = excluded.rule_set_version, figures = excluded.figures;
	RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER screenings_from_log AFTER INSERT ON audit_log FOR EACH ROW
	WHEN (NEW.event IN ('submit'::bytea, 'resubmit'::bytea) AND NEW.project_id > 0) EXECUTE FUNCTION screenings_from_log();

-- +goose Down
DROP TRIGGER screenings_from_log ON audit_log;
ALTER TABLE audit_log
	ALTER COLUMN actor TYPE text USING convert_from(actor, 'UTF8'),
	ALTER COLUMN role TYPE text USING convert_from(role, 'UTF8'),
	ALTER COLUMN park TYPE text USING convert_from(park, 'UTF8'),
	ALTER COLUMN event TYPE text USING convert_from(event, 'UTF8'),
	ALTER COLUMN from_state TYPE text USING convert_from(from_state, 'UTF8'),
	ALTER COLUMN to_state TYPE text USING convert_from(to_state, 'UTF8'),
	ALTER COLUMN reason TYPE text USING convert_from(reason, 'UTF8'),
	ALTER COLUMN rule_set_version TYPE text USING convert_from(rule_set_version, 'UTF8'),
	ALTER COLUMN payload TYPE text USING convert_from(payload, 'UTF8'),
	ALTER COLUMN on_behalf_of DROP DEFAULT,
	ALTER COLUMN on_behalf_of TYPE text USING convert_from(on_behalf_of, 'UTF8'),
	ALTER COLUMN on_behalf_of SET DEFAULT '';
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION screenings_from_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO screenings (project_id, seq, rule_set_version, figures)
	VALUES (NEW.project_id, NEW.seq, NEW.rule_set_version, coalesce((NEW.payload::json -> 'figures')::text, '{}'))
	ON CONFLICT (project_id) DO UPDATE SET seq = excluded.seq, rule_set_version = excluded.rule_set_version, figures = excluded.figures;
	RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER screenings_from_log AFTER INSERT ON audit_log FOR EACH ROW
	WHEN (NEW.event IN ('submit', 'resubmit') AND NEW.project_id > 0) EXECUTE FUNCTION screenings_from_log();
