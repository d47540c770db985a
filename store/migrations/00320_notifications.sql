-- Notifications (issue 14): the in-app inbox, the outbox of messages to
-- send by e-mail and robot webhooks, and the reminders' once-a-day keys.
-- All three are written in the transaction of the entry that caused them
-- (engine.NotifyPart); the texts are rendered when shown or sent, from the
-- entry's event and the project, so they follow the reader's language.

-- +goose Up

CREATE TABLE notifications (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	seq        INTEGER NOT NULL,            -- the log entry that caused it
	park       TEXT NOT NULL,
	project_id INTEGER NOT NULL,
	event      TEXT NOT NULL,
	kind       TEXT NOT NULL,               -- waiting | decision | remind | escalate
	actor      TEXT NOT NULL,
	created_at TEXT NOT NULL,
	read_at    TEXT,
	UNIQUE (user_id, seq)
) STRICT;
CREATE INDEX notifications_inbox ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY,
	channel    TEXT NOT NULL,               -- email | wecom | dingtalk
	seq        INTEGER NOT NULL,
	park       TEXT NOT NULL,
	project_id INTEGER NOT NULL,
	event      TEXT NOT NULL,
	kind       TEXT NOT NULL,
	actor      TEXT NOT NULL,
	created_at TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    TEXT NOT NULL,
	sent_at    TEXT,
	dead       INTEGER NOT NULL DEFAULT 0 CHECK (dead IN (0, 1)),  -- gave up: shown to admins
	last_error TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_due ON outbox (next_at) WHERE sent_at IS NULL AND dead = 0;

-- One reminder per project, sender and day: two clicks at once cannot both
-- land. An escalation's day is the deadline it escalates, so each missed
-- deadline escalates once.
CREATE TABLE reminders (
	project_id INTEGER NOT NULL,
	sender     TEXT NOT NULL,
	day        TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	PRIMARY KEY (project_id, sender, day)
) STRICT, WITHOUT ROWID;

-- +goose Down

DROP TABLE reminders;
DROP TABLE outbox;
DROP TABLE notifications;
