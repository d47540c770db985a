-- PostgreSQL only: two indexes the list needs on PostgreSQL and SQLite does
-- not. (1) projects_search again with the id included, so that the narrow
-- scan for a search with many hits (planList's searchScan, "装备", "有限公司")
-- is an index-only scan: without the id PostgreSQL fetched every one of the
-- park's rows from the table (230 ms at 50,000 rows, 48 ms index-only).
-- SQLite's index carries the rowid anyway. (2) (updated_at, id): the list of
-- every park by update, "park IN (SELECT id FROM parks)", which PostgreSQL
-- cannot answer in order from the (park, updated_at) index (it sorted all
-- 100,000 rows, 140–390 ms); walked backwards it stops after one page.

-- +goose Up
DROP INDEX projects_search;
CREATE INDEX projects_search ON projects (park, name, investor_name) INCLUDE (id);
CREATE INDEX projects_updated ON projects (updated_at, id);

-- +goose Down
DROP INDEX projects_updated;
DROP INDEX projects_search;
CREATE INDEX projects_search ON projects (park, name, investor_name);
