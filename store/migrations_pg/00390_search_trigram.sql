-- PostgreSQL only (SQLite's search index is FTS5's trigram table,
-- migrations/00040 and 00240): the project search's substring index. pg_trgm
-- is a trusted contrib extension (PostgreSQL 13+), so the database's owner may
-- create it; its GIN indexes answer name/investor LIKE and ILIKE '%…%' for
-- queries of three or more characters. Chinese characters make trigrams only
-- where the database's LC_CTYPE counts them as letters: a UTF-8 locale such as
-- C.UTF-8 (glibc 2.35+) or zh_CN.UTF-8; under LC_CTYPE=C the searches stay
-- correct but scan (checked by hand: show_trgm('锂电池') under C.UTF-8).

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX projects_name_trgm ON projects USING gin (name gin_trgm_ops);
CREATE INDEX projects_investor_trgm ON projects USING gin (investor_name gin_trgm_ops);

-- +goose Down
DROP INDEX projects_investor_trgm;
DROP INDEX projects_name_trgm;
