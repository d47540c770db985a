-- PostgreSQL twin of migrations/00435_limit_counts.sql: the sign-in
-- throttle's table becomes every shared limit's.

-- +goose Up

ALTER TABLE login_counts RENAME TO limit_counts;
ALTER INDEX login_counts_expires RENAME TO limit_counts_expires;

-- +goose Down

ALTER TABLE limit_counts RENAME TO login_counts;
ALTER INDEX limit_counts_expires RENAME TO login_counts_expires;
