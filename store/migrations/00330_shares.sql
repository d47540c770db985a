-- 抄送/知会 (shares, issue 14): a project shared read-only with a named user
-- of its park or with a department (every user of the park whose account
-- carries it), written with the share entry (seq). share_reads holds, per
-- project and reader, the seq of their last logged read: a share newer than
-- it is "new" in the reader's 抄送给我 list. Accounts gain a department
-- (自然资源局, 生态环境局 …), empty for the park's own staff.

-- +goose Up

ALTER TABLE users ADD COLUMN department TEXT NOT NULL DEFAULT '';

CREATE TABLE shares (
	id         INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id),
	park       TEXT NOT NULL REFERENCES parks (id),
	username   TEXT NOT NULL DEFAULT '',
	department TEXT NOT NULL DEFAULT '',
	shared_by  TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT '',
	seq        INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	CHECK ((username = '') <> (department = ''))
) STRICT;
CREATE UNIQUE INDEX shares_target ON shares (project_id, username, department);
CREATE INDEX shares_username ON shares (username) WHERE username <> '';
CREATE INDEX shares_department ON shares (department) WHERE department <> '';

CREATE TABLE share_reads (
	project_id INTEGER NOT NULL REFERENCES projects (id),
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	PRIMARY KEY (project_id, user_id)
) STRICT;

-- +goose Down

DROP TABLE share_reads;
DROP TABLE shares;
ALTER TABLE users DROP COLUMN department;
