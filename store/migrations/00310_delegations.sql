-- Delegations (委托, issue 14): a user's role in a park handed to another
-- user for a date range, as the engine's JSON; revoked_at is set once. The
-- decision log gains on_behalf_of: the delegator a delegate acted for
-- (empty for everyone else, and then outside the chain hash).

-- +goose Up

CREATE TABLE delegations (
	id         INTEGER PRIMARY KEY,
	park       TEXT NOT NULL REFERENCES parks (id),
	revoked_at TEXT NOT NULL DEFAULT '',
	body       TEXT NOT NULL CHECK (json_valid(body))
) STRICT;
CREATE INDEX delegations_park ON delegations (park, id);

ALTER TABLE audit_log ADD COLUMN on_behalf_of TEXT NOT NULL DEFAULT '';

-- +goose Down

ALTER TABLE audit_log DROP COLUMN on_behalf_of;
DROP TABLE delegations;
