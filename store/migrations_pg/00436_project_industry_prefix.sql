-- PostgreSQL only, found by the PostgreSQL plan test (TestProjectsUseIndexes
-- on a seeded, vacuumed and analysed table): an industry's list counted its
-- projects by walking the whole of projects_park_industry (park,
-- industry_code). A LIKE prefix (industry_code LIKE 'C39%') uses a btree
-- only in the "C" collation or through text_pattern_ops, so in a UTF-8
-- database that index gave the prefix no range. An index led by the code in
-- text_pattern_ops, with the park, makes the count one index-only range;
-- it replaces projects_park_industry, whose uses (the park, the code's
-- prefix) it serves. SQLite compares bytes and ranges the code already.

-- +goose Up
DROP INDEX projects_park_industry;
CREATE INDEX projects_industry ON projects (industry_code text_pattern_ops, park);

-- +goose Down
DROP INDEX projects_industry;
CREATE INDEX projects_park_industry ON projects (park, industry_code);
