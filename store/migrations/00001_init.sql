-- zonevet schema, version 1.
--
-- Times are UTC text in one fixed-width layout (2006-01-02T15:04:05.000000000Z)
-- so that text order is time order: range filters and ORDER BY work on the
-- raw column, indexes apply, and an auditor reading the file with the sqlite3
-- shell sees real dates. The layout keeps every nanosecond, so an audit
-- entry's time reads back to the instant it was hashed with.
--
-- Migrations are append-only: never edit this file once released; add
-- 00002_....sql instead.

-- +goose Up

CREATE TABLE parks (
	id      TEXT PRIMARY KEY,
	name_zh TEXT NOT NULL,
	name_en TEXT NOT NULL DEFAULT '',
	level   TEXT NOT NULL DEFAULT ''
) STRICT;

-- version is the content hash of the source; an evaluation names it, so it
-- must identify exactly one stored text for as long as the database lives.
CREATE TABLE rule_sets (
	id         INTEGER PRIMARY KEY,
	park       TEXT NOT NULL REFERENCES parks (id),
	version    TEXT NOT NULL UNIQUE,
	source     BLOB NOT NULL,
	active     INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL
) STRICT;
-- At most one active rule set per park, enforced by the database rather than
-- by the order of two UPDATEs.
CREATE UNIQUE INDEX rule_sets_active ON rule_sets (park) WHERE active = 1;

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE role_assignments (
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role    TEXT NOT NULL,
	park    TEXT NOT NULL REFERENCES parks (id),
	PRIMARY KEY (user_id, role, park)
) STRICT, WITHOUT ROWID;

-- The investor's figures are one JSON document (rules.Figures): the rule
-- engine owns that shape and it will grow. The one figure lists filter on,
-- the industry code, is a generated column so it can be indexed without a
-- second copy that could drift; STORED, so that filtering rows on it does
-- not parse JSON.
CREATE TABLE projects (
	id            INTEGER PRIMARY KEY,
	park          TEXT NOT NULL REFERENCES parks (id),
	name          TEXT NOT NULL,
	investor_name TEXT NOT NULL DEFAULT '',
	uscc          TEXT NOT NULL DEFAULT '',
	figures       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(figures)),
	industry_code TEXT GENERATED ALWAYS AS (coalesce(json_extract(figures, '$.industry_code'), '')) STORED,
	state         TEXT NOT NULL,
	version       INTEGER NOT NULL CHECK (version >= 1),
	round         INTEGER NOT NULL DEFAULT 0,
	due_at        TEXT,
	report        TEXT CHECK (report IS NULL OR json_valid(report)),
	override      INTEGER NOT NULL DEFAULT 0 CHECK (override IN (0, 1)),
	created_by    INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL
) STRICT;
-- Indexes are chosen against the cost of a transition: every index whose
-- columns a transition changes is one more page written per decision (see
-- BenchmarkApplyTransition). A transition changes state, due_at and
-- updated_at, so it touches the first two below; the others only when a
-- project is registered or edited. Lists without a park filter ask for
-- "park IN (all parks)", and the overdue view for "state IN (all states)", so
-- that the (park, state, due_at) index serves them too.
CREATE INDEX projects_park_state_due ON projects (park, state, due_at);
CREATE INDEX projects_park_updated ON projects (park, updated_at);
CREATE INDEX projects_park_name ON projects (park, name);
CREATE INDEX projects_park_industry ON projects (park, industry_code);
CREATE INDEX projects_uscc ON projects (uscc);

-- Substring search over names: a trigram index answers "%query%" for queries
-- of three or more characters without scanning every project. External
-- content, so the text is stored once, kept in step by the triggers below.
-- The update trigger needs its WHEN: "UPDATE OF name" fires whenever name is
-- in the SET list, which is every transition, and re-indexing the trigrams
-- would dominate the cost of a transition.
CREATE VIRTUAL TABLE projects_fts USING fts5 (
	name, investor_name,
	content = 'projects', content_rowid = 'id', tokenize = 'trigram'
);

-- +goose StatementBegin
CREATE TRIGGER projects_fts_insert AFTER INSERT ON projects BEGIN
	INSERT INTO projects_fts (rowid, name, investor_name) VALUES (new.id, new.name, new.investor_name);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER projects_fts_delete AFTER DELETE ON projects BEGIN
	INSERT INTO projects_fts (projects_fts, rowid, name, investor_name) VALUES ('delete', old.id, old.name, old.investor_name);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER projects_fts_update AFTER UPDATE OF name, investor_name ON projects
WHEN old.name IS NOT new.name OR old.investor_name IS NOT new.investor_name BEGIN
	INSERT INTO projects_fts (projects_fts, rowid, name, investor_name) VALUES ('delete', old.id, old.name, old.investor_name);
	INSERT INTO projects_fts (rowid, name, investor_name) VALUES (new.id, new.name, new.investor_name);
END;
-- +goose StatementEnd

CREATE TABLE scores (
	project_id  INTEGER NOT NULL REFERENCES projects (id),
	round       INTEGER NOT NULL,
	reviewer_id INTEGER NOT NULL REFERENCES users (id),
	reviewer    TEXT NOT NULL,
	items       TEXT NOT NULL CHECK (json_valid(items)),
	total       REAL NOT NULL,
	comment     TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	PRIMARY KEY (project_id, round, reviewer_id)
) STRICT;

CREATE TABLE conflicts (
	project_id INTEGER NOT NULL REFERENCES projects (id),
	user_id    INTEGER NOT NULL REFERENCES users (id),
	username   TEXT NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	PRIMARY KEY (project_id, user_id)
) STRICT;

CREATE TABLE documents (
	id          INTEGER PRIMARY KEY,
	project_id  INTEGER NOT NULL REFERENCES projects (id),
	kind        TEXT NOT NULL,
	file_name   TEXT NOT NULL,
	stored_name TEXT NOT NULL,
	media_type  TEXT NOT NULL DEFAULT '',
	size        INTEGER NOT NULL DEFAULT 0,
	sha256      TEXT NOT NULL DEFAULT '',
	uploaded_by TEXT NOT NULL DEFAULT '',
	uploaded_at TEXT NOT NULL
) STRICT;
CREATE INDEX documents_project ON documents (project_id);

-- The decision log. seq is the rowid and is assigned by the store as last+1
-- inside the writing transaction; each row carries its predecessor's hash.
-- No foreign keys: the log must outlive and never block anything it mentions.
CREATE TABLE audit_log (
	seq              INTEGER PRIMARY KEY,
	time             TEXT NOT NULL,
	actor            TEXT NOT NULL,
	role             TEXT NOT NULL,
	park             TEXT NOT NULL,
	project_id       INTEGER NOT NULL,
	event            TEXT NOT NULL,
	from_state       TEXT NOT NULL,
	to_state         TEXT NOT NULL,
	reason           TEXT NOT NULL,
	rule_set_version TEXT NOT NULL,
	payload          TEXT NOT NULL,
	prev_hash        TEXT NOT NULL,
	hash             TEXT NOT NULL
) STRICT;
-- A project's history is the question asked of the log most; filters by
-- park, actor, role, event or time read it in seq order (which is also time
-- order) and stop at the page's limit. Each index here would be one more
-- page written per decision, for queries an auditor runs now and then.
CREATE INDEX audit_log_project ON audit_log (project_id, seq);

-- Append-only, enforced below the application: an UPDATE or DELETE through
-- any client fails. (Whoever can drop a trigger can also rewrite the file;
-- that is what the hash chain is for.)
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;
-- +goose StatementEnd

-- A new entry must extend the chain: next seq, predecessor's hash. The store
-- always does this; the trigger makes a raw INSERT that skips or forks the
-- chain fail too.
-- +goose StatementBegin
CREATE TRIGGER audit_log_extend BEFORE INSERT ON audit_log
WHEN new.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit_log)
  OR new.prev_hash IS NOT coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1),
                                   '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
	SELECT RAISE(ABORT, 'audit_log: entry does not extend the chain');
END;
-- +goose StatementEnd

-- Sessions are server-side so they can be revoked; id is the SHA-256 of the
-- cookie secret.
CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf_token   TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	last_seen_at TEXT NOT NULL,
	remote_addr  TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	hash         TEXT NOT NULL UNIQUE,
	created_at   TEXT NOT NULL,
	last_used_at TEXT,
	revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The primary key is what makes claiming a key atomic, even across processes.
CREATE TABLE idempotency (
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status       INTEGER NOT NULL DEFAULT 0,
	body         BLOB,
	created_at   TEXT NOT NULL,
	PRIMARY KEY (user_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_created ON idempotency (created_at);

-- +goose Down

DROP TABLE idempotency;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE audit_log;
DROP TABLE documents;
DROP TABLE conflicts;
DROP TABLE scores;
DROP TABLE projects_fts;
DROP TABLE projects;
DROP TABLE role_assignments;
DROP TABLE users;
DROP TABLE rule_sets;
DROP TABLE parks;
