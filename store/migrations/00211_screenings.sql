-- The figures each project was last screened with, and the version that
-- screened them (issue 12's what-if replay). The submit entry in the log is
-- the record; this table is an index of it kept by a trigger on the log, so
-- no write path has to remember it, and the replay of 100,000 projects reads
-- half a kilobyte of figures per project instead of a 6 KB basis.

-- +goose Up

CREATE TABLE screenings (
	project_id       INTEGER PRIMARY KEY, -- no foreign key: an index of the log, which has none
	seq              INTEGER NOT NULL,
	rule_set_version TEXT NOT NULL,
	figures          TEXT NOT NULL
) STRICT;

INSERT INTO screenings (project_id, seq, rule_set_version, figures)
SELECT l.project_id, l.seq, l.rule_set_version, coalesce(json_extract(l.payload, '$.figures'), '{}')
FROM audit_log l
WHERE l.event IN ('submit', 'resubmit') AND l.project_id > 0
	AND l.seq = (SELECT max(a.seq) FROM audit_log a WHERE a.project_id = l.project_id AND a.event IN ('submit', 'resubmit'));

-- +goose StatementBegin
CREATE TRIGGER screenings_from_log AFTER INSERT ON audit_log
WHEN NEW.event IN ('submit', 'resubmit') AND NEW.project_id > 0
BEGIN
	INSERT INTO screenings (project_id, seq, rule_set_version, figures)
	VALUES (NEW.project_id, NEW.seq, NEW.rule_set_version, coalesce(json_extract(NEW.payload, '$.figures'), '{}'))
	ON CONFLICT (project_id) DO UPDATE SET seq = excluded.seq, rule_set_version = excluded.rule_set_version, figures = excluded.figures;
END;
-- +goose StatementEnd

-- +goose Down

DROP TRIGGER screenings_from_log;
DROP TABLE screenings;
