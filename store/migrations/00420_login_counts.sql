-- Sign-in throttle counts (issue 17): kept in the database so that every
-- process sharing it counts the same failures (N processes behind a load
-- balancer must not give N times the attempts). One row per key (a hash of
-- an account-and-address pair, or of an address), overwritten in place and
-- deleted once expired: a burst of failed sign-ins leaves bounded, expiring
-- rows, never a log.

-- +goose Up

CREATE TABLE login_counts (
	key        TEXT PRIMARY KEY,
	failures   INTEGER NOT NULL,
	last_at    TEXT NOT NULL,
	attempts   TEXT NOT NULL,
	expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX login_counts_expires ON login_counts (expires_at);

-- +goose Down

DROP TABLE login_counts;
