-- PostgreSQL twin of migrations/00440_project_search_grams.sql: the pairs of
-- adjacent characters beyond ASCII of each project's name and investor, so
-- that a two-character search (no trigram answers one) is a range of this
-- table instead of a scan of the park's projects_search entries. Kept by a
-- trigger, like project_counts.

-- +goose Up
CREATE TABLE project_grams (
	gram text NOT NULL,
	park text NOT NULL,
	id   bigint NOT NULL,
	PRIMARY KEY (gram, park, id)
);

-- +goose StatementBegin
CREATE FUNCTION project_grams_of(s text) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS $$
	SELECT substr(s, n, 2) FROM generate_series(1, length(s) - 1) n
	WHERE ascii(substr(s, n, 1)) >= 128 AND ascii(substr(s, n + 1, 1)) >= 128
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION project_grams_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		DELETE FROM project_grams WHERE park = OLD.park AND id = OLD.id AND gram IN (
			SELECT project_grams_of(OLD.name) UNION SELECT project_grams_of(OLD.investor_name));
	END IF;
	IF TG_OP IN ('UPDATE', 'INSERT') THEN
		INSERT INTO project_grams (gram, park, id)
		SELECT g, NEW.park, NEW.id FROM (SELECT project_grams_of(NEW.name) UNION SELECT project_grams_of(NEW.investor_name)) t (g);
	END IF;
	RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER project_grams_insert AFTER INSERT ON projects FOR EACH ROW EXECUTE FUNCTION project_grams_keep();
CREATE TRIGGER project_grams_delete AFTER DELETE ON projects FOR EACH ROW EXECUTE FUNCTION project_grams_keep();
CREATE TRIGGER project_grams_update AFTER UPDATE OF park, name, investor_name ON projects FOR EACH ROW
	WHEN (OLD.park IS DISTINCT FROM NEW.park OR OLD.name IS DISTINCT FROM NEW.name OR OLD.investor_name IS DISTINCT FROM NEW.investor_name)
	EXECUTE FUNCTION project_grams_keep();

INSERT INTO project_grams (gram, park, id)
SELECT DISTINCT g, park, id FROM projects, LATERAL (SELECT project_grams_of(name) UNION SELECT project_grams_of(investor_name)) t (g);

-- +goose Down
DROP TRIGGER project_grams_update ON projects;
DROP TRIGGER project_grams_delete ON projects;
DROP TRIGGER project_grams_insert ON projects;
DROP FUNCTION project_grams_keep();
DROP FUNCTION project_grams_of(text);
DROP TABLE project_grams;
