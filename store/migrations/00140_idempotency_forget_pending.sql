-- +goose Up
-- Keys were once claimed in a transaction of their own before the action
-- ran; a crash in between left them pending (status 0) forever, answering
-- "still running" to every retry whether or not the action had landed.
-- Answers are now stored with the action itself, so no key is ever pending:
-- the old pending claims are forgotten, and their retries run again (a
-- decision's version check refuses a second transition).
DELETE FROM idempotency WHERE status = 0;

-- +goose Down
SELECT 1;
