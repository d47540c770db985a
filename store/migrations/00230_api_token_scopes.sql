-- +goose Up
-- API tokens people can trust: what a token may do (scopes, space-separated;
-- empty for tokens made before scopes, which keep every scope), where
-- (parks, space-separated; empty: every park of the owner), until when, and
-- from where it was last used. api_token_addrs remembers every address a
-- token came from, so its first use from a new one is logged once.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN parks TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN last_used_addr TEXT NOT NULL DEFAULT '';
CREATE TABLE api_token_addrs (
	token_id INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
	addr     TEXT NOT NULL,
	first_at TEXT NOT NULL,
	PRIMARY KEY (token_id, addr)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE api_token_addrs;
ALTER TABLE api_tokens DROP COLUMN last_used_addr;
ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE api_tokens DROP COLUMN parks;
ALTER TABLE api_tokens DROP COLUMN scopes;
