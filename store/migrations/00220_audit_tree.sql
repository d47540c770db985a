-- The decision log's Merkle tree (RFC 6962, issue 13). Row seq holds the
-- nodes that entry seq completes, level by level from its leaf upwards
-- (engine/tlog: NodeRow), so every node is written once, in the same
-- transaction as the entry that completes it, and any proof or root is a
-- handful of primary-key reads. Append-only like the log itself.
--
-- Checkpoints gain the tree's root and the whole signed note (C2SP
-- tlog-checkpoint); checkpoints signed before this have neither.

-- +goose Up

CREATE TABLE audit_tree (
	seq   INTEGER PRIMARY KEY,
	nodes BLOB NOT NULL
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree BEGIN
	SELECT RAISE(ABORT, 'audit_tree is append-only: UPDATE refused');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree BEGIN
	SELECT RAISE(ABORT, 'audit_tree is append-only: DELETE refused');
END;
-- +goose StatementEnd

ALTER TABLE audit_checkpoints ADD COLUMN root TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_checkpoints ADD COLUMN note TEXT NOT NULL DEFAULT '';

-- +goose Down

ALTER TABLE audit_checkpoints DROP COLUMN note;
ALTER TABLE audit_checkpoints DROP COLUMN root;
DROP TABLE audit_tree;
