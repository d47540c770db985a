-- industry_code becomes a plain column that the store writes beside the
-- figures. As a STORED generated column SQLite recomputed it, parsing the
-- figures JSON, on every UPDATE of the row, i.e. on every transition, even
-- though a transition never touches the figures.

-- +goose Up

DROP INDEX projects_park_industry;
ALTER TABLE projects DROP COLUMN industry_code;
ALTER TABLE projects ADD COLUMN industry_code TEXT NOT NULL DEFAULT '';
UPDATE projects SET industry_code = coalesce(json_extract(figures, '$.industry_code'), '');
CREATE INDEX projects_park_industry ON projects (park, industry_code);

-- +goose Down

DROP INDEX projects_park_industry;
ALTER TABLE projects DROP COLUMN industry_code;
ALTER TABLE projects ADD COLUMN industry_code TEXT GENERATED ALWAYS AS (coalesce(json_extract(figures, '$.industry_code'), '')) VIRTUAL;
CREATE INDEX projects_park_industry ON projects (park, industry_code);
