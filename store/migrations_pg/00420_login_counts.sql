-- PostgreSQL twin of migrations/00420_login_counts.sql: the sign-in
-- throttle's counts, shared by every process on the database.

-- +goose Up

CREATE TABLE login_counts (
	key        text PRIMARY KEY,
	failures   integer NOT NULL,
	last_at    text NOT NULL,
	attempts   text NOT NULL,
	expires_at text NOT NULL
);
CREATE INDEX login_counts_expires ON login_counts (expires_at);

-- +goose Down

DROP TABLE login_counts;
