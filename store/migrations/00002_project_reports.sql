-- The latest rule report moves out of the projects row. A report is ~6 KB of
-- JSON, larger than a page, so in the row it made every transition rewrite
-- the row's overflow pages although only state, version and deadline
-- changed. Now it is written only when it changes (on submit and resubmit),
-- which projects.report_sha256 tells without reading it.

-- +goose Up

CREATE TABLE project_reports (
	project_id INTEGER PRIMARY KEY REFERENCES projects (id),
	report     TEXT NOT NULL CHECK (json_valid(report))
) STRICT;

INSERT INTO project_reports (project_id, report)
SELECT id, report FROM projects WHERE report IS NOT NULL;

-- SHA-256 (hex) of the stored report's JSON; NULL when there is none. Rows
-- moved here get '' (SQLite has no SHA-256), which matches no digest, so
-- their report is rewritten once on their next change.
ALTER TABLE projects ADD COLUMN report_sha256 TEXT;
UPDATE projects SET report_sha256 = '' WHERE report IS NOT NULL;
ALTER TABLE projects DROP COLUMN report;

-- +goose Down

ALTER TABLE projects ADD COLUMN report TEXT CHECK (report IS NULL OR json_valid(report));
UPDATE projects SET report = (SELECT r.report FROM project_reports r WHERE r.project_id = projects.id);
ALTER TABLE projects DROP COLUMN report_sha256;
DROP TABLE project_reports;
