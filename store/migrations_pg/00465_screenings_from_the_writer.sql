-- PostgreSQL's twin of migrations/00465: the store writes the screenings
-- index beside a submit's entry; the trigger that parsed the entry's payload
-- for it goes.

-- +goose Up
DROP TRIGGER screenings_from_log ON audit_log;
DROP FUNCTION screenings_from_log();

-- +goose Down
-- +goose StatementBegin
CREATE FUNCTION screenings_from_log() RETURNS trigger LANGUAGE plpgsql AS $$
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
