-- PostgreSQL only, found by the PostgreSQL plan tests (TestProjectsUseIndexes
-- on a seeded, analysed table). Two lists read the whole table:
--
-- * one state in every park by deadline (state IN (…) AND park IN (SELECT id
--   FROM parks) ORDER BY due_at, id): PostgreSQL cannot merge the parks'
--   (park, state, due_at) ranges in order, so it sorted a sequential scan.
--   (state, due_at, id) is walked in the list's order, stopping at the page.
-- * an industry's count (industry_code LIKE 'C39%'): a LIKE prefix uses a
--   btree only in the "C" collation or through text_pattern_ops, so
--   (park, industry_code) served no prefix in a UTF-8 database. An index led
--   by the code in text_pattern_ops, with the park, makes it one index-only
--   range; it replaces projects_park_industry, whose prefix it covers.
--
-- SQLite compares bytes, and its plans for both search an index already
-- (the same test): no SQLite change.

-- +goose Up
CREATE INDEX projects_state_due ON projects (state, due_at, id);
DROP INDEX projects_park_industry;
CREATE INDEX projects_industry ON projects (industry_code text_pattern_ops, park);

-- +goose Down
DROP INDEX projects_industry;
CREATE INDEX projects_park_industry ON projects (park, industry_code);
DROP INDEX projects_state_due;
