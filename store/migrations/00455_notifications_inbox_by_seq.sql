-- The inbox is read newest first by the log entry that caused each notice
-- (notifications.go), from the UNIQUE (user_id, seq) index that every
-- notice's insert already keeps for its ON CONFLICT; a notice is written in
-- the transaction of its entry, so seq order is id order. The index in id
-- order was one more page per notified user rewritten by every commit of
-- the single writer (BENCHMARKS.md, issue 16, the writer's serial section).

-- +goose Up
DROP INDEX notifications_inbox;

-- +goose Down
CREATE INDEX notifications_inbox ON notifications (user_id, id DESC);
