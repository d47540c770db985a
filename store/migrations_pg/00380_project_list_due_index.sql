-- PostgreSQL twin of migrations/00380_project_list_due_index.sql: the list
-- by deadline without a state filter reads one index in its order.

-- +goose Up
CREATE INDEX projects_park_due ON projects (park, due_at, id, state);

-- +goose Down
DROP INDEX projects_park_due;
