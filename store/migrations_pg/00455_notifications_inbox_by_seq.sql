-- PostgreSQL twin of migrations/00455_notifications_inbox_by_seq.sql: the
-- inbox reads the UNIQUE (user_id, seq) index backwards.

-- +goose Up
DROP INDEX notifications_inbox;

-- +goose Down
CREATE INDEX notifications_inbox ON notifications (user_id, id DESC);
