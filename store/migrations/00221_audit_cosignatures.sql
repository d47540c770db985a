-- Cosignatures of the decision log's checkpoints by independent witnesses
-- (C2SP tlog-cosignature, issue 13), as serve --witness collects them: the
-- witness's URL and name, the checkpoint's size, and the note with the
-- witness's signature line. Append-only.

-- +goose Up

CREATE TABLE audit_cosignatures (
	id          INTEGER PRIMARY KEY,
	witness_url TEXT NOT NULL,
	name        TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	time        TEXT NOT NULL,
	note        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_cosignatures_witness ON audit_cosignatures (witness_url, seq);

-- +goose StatementBegin
CREATE TRIGGER audit_cosignatures_no_update BEFORE UPDATE ON audit_cosignatures BEGIN
	SELECT RAISE(ABORT, 'audit_cosignatures is append-only: UPDATE refused');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_cosignatures_no_delete BEFORE DELETE ON audit_cosignatures BEGIN
	SELECT RAISE(ABORT, 'audit_cosignatures is append-only: DELETE refused');
END;
-- +goose StatementEnd

-- +goose Down

DROP TABLE audit_cosignatures;
