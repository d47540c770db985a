-- The sign-in throttle's table (00420) now holds the audit-pull limiter's
-- buckets too (issue 17: every limit that guards the shared database is
-- counted in it, so N processes allow what one does): one table of
-- bounded, expiring rows keyed by a hash whose prefix names the limit. The
-- rows are kept; the index takes the table's new name.

-- +goose Up

ALTER TABLE login_counts RENAME TO limit_counts;
DROP INDEX login_counts_expires;
CREATE INDEX limit_counts_expires ON limit_counts (expires_at);

-- +goose Down

DROP INDEX limit_counts_expires;
ALTER TABLE limit_counts RENAME TO login_counts;
CREATE INDEX login_counts_expires ON login_counts (expires_at);
