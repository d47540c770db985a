-- A notice to a role (write_stmts.go sqlNotifyRole) finds who holds the
-- role in the park inside the decision's transaction, on the single
-- writer; the primary key leads with the user, so that was a scan of every
-- assignment of every park per notice (a zone's few hundred accounts:
-- BENCHMARKS.md, issue 16, the writer's serial section). Assignments change
-- rarely; the index costs their writes one more entry.

-- +goose Up
CREATE INDEX role_assignments_holders ON role_assignments (park, role);

-- +goose Down
DROP INDEX role_assignments_holders;
