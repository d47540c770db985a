-- The screenings index (migration 00211) is written by the store beside a
-- submit's entry, from the figures it has already encoded (writeScreening in
-- store/projects.go), instead of by a trigger that had SQLite parse the ~8 KB
-- entry's JSON again inside the one writer (about 4 % of a resubmit's
-- writer time: BENCHMARKS.md, issue 16). The rows already there stay.

-- +goose Up
DROP TRIGGER screenings_from_log;

-- +goose Down
-- +goose StatementBegin
CREATE TRIGGER screenings_from_log AFTER INSERT ON audit_log
WHEN NEW.event IN ('submit', 'resubmit') AND NEW.project_id > 0
BEGIN
	INSERT INTO screenings (project_id, seq, rule_set_version, figures)
	VALUES (NEW.project_id, NEW.seq, NEW.rule_set_version, coalesce(json_extract(NEW.payload, '$.figures'), '{}'))
	ON CONFLICT (project_id) DO UPDATE SET seq = excluded.seq, rule_set_version = excluded.rule_set_version, figures = excluded.figures;
END;
-- +goose StatementEnd
