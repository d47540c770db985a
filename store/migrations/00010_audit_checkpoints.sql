-- Signed checkpoints of the decision log's head (issue 4). A checkpoint says
-- "at time, the log ended at seq with hash", signed with an Ed25519 key kept
-- outside this database. Append-only like the log itself.
--
-- No new index on audit_log: every index is one more page written per
-- decision, and the auditor's filters read the log newest first by seq and
-- stop at a page (the total is counted up to a cap), which the rowid order
-- serves.

-- +goose Up

CREATE TABLE audit_checkpoints (
	id         INTEGER PRIMARY KEY,
	seq        INTEGER NOT NULL,
	hash       TEXT NOT NULL,
	time       TEXT NOT NULL,
	public_key TEXT NOT NULL,
	signature  TEXT NOT NULL
) STRICT;
CREATE INDEX audit_checkpoints_seq ON audit_checkpoints (seq, time);

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused');
END;
-- +goose StatementEnd


-- +goose Down

DROP TABLE audit_checkpoints;
