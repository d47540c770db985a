-- PostgreSQL twin of migrations/00370_share_revoke.sql (撤销抄送): the
-- revoked row stays, and only a live share is unique per target.

-- +goose Up

ALTER TABLE shares ADD COLUMN revoked_seq bigint;
ALTER TABLE shares ADD COLUMN revoked_by text NOT NULL DEFAULT '';
ALTER TABLE shares ADD COLUMN revoked_at text;
DROP INDEX shares_target;
CREATE UNIQUE INDEX shares_target ON shares (project_id, username, department) WHERE revoked_seq IS NULL;

-- +goose Down

DROP INDEX shares_target;
DELETE FROM shares WHERE revoked_seq IS NOT NULL;
CREATE UNIQUE INDEX shares_target ON shares (project_id, username, department);
ALTER TABLE shares DROP COLUMN revoked_at;
ALTER TABLE shares DROP COLUMN revoked_by;
ALTER TABLE shares DROP COLUMN revoked_seq;
