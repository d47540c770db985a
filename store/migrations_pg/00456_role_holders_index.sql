-- PostgreSQL twin of migrations/00456_role_holders_index.sql: a role's
-- holders in a park by index, not by a scan of every assignment.

-- +goose Up
CREATE INDEX role_assignments_holders ON role_assignments (park, role, user_id);

-- +goose Down
DROP INDEX role_assignments_holders;
