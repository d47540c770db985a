-- PostgreSQL only: projects_park_state_due again with the id included, so
-- that a search's many hits filtered by state ("装备" among the drafts:
-- count(*) … WHERE park = ? AND state = ? AND id = ANY(hits)) is one
-- index-only range of the state's entries, not the whole park's range of
-- projects_park_due (park, due_at, id, state) filtered by state: 24 ms to
-- 9 ms in EXPLAIN ANALYZE at 100,000 projects. SQLite's index carries the
-- rowid already.

-- +goose Up
DROP INDEX projects_park_state_due;
CREATE INDEX projects_park_state_due ON projects (park, state, due_at) INCLUDE (id);

-- +goose Down
DROP INDEX projects_park_state_due;
CREATE INDEX projects_park_state_due ON projects (park, state, due_at);
