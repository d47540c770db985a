-- 撤销抄送 (share revoke, issue 14): a share is revoked by its sharer or an
-- admin of the park with a log entry (revoked_seq); the row stays, so the
-- dossier shows what was shared and revoked, and a former sharee's read is
-- refused as such. Only a live share is unique per target: a project may
-- be shared again with whom it was revoked from.

-- +goose Up

ALTER TABLE shares ADD COLUMN revoked_seq INTEGER;
ALTER TABLE shares ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '';
ALTER TABLE shares ADD COLUMN revoked_at TEXT;
DROP INDEX shares_target;
CREATE UNIQUE INDEX shares_target ON shares (project_id, username, department) WHERE revoked_seq IS NULL;

-- +goose Down

DROP INDEX shares_target;
DELETE FROM shares WHERE revoked_seq IS NOT NULL;
CREATE UNIQUE INDEX shares_target ON shares (project_id, username, department);
ALTER TABLE shares DROP COLUMN revoked_at;
ALTER TABLE shares DROP COLUMN revoked_by;
ALTER TABLE shares DROP COLUMN revoked_seq;
