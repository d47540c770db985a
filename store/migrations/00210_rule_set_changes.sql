-- Rule-set changes under four eyes (issue 12). rule_sets stays the content
-- store (one row per content hash); a change is one proposal to put a
-- version in force for its park: proposed by an admin with a note, approved
-- by someone else (with the what-if report they saw and an effective time)
-- or refused, or withdrawn. The version in force at a time t is the newest
-- approved change with effective_at <= t, so a screening at the boundary
-- sees exactly one version, decided by its own time, and no job has to flip
-- a flag at midnight. The old active flag is replaced by that rule.

-- +goose Up

CREATE TABLE rule_set_whatifs (
	id           INTEGER PRIMARY KEY,
	park         TEXT NOT NULL REFERENCES parks (id),
	version      TEXT NOT NULL,               -- the content hash the report is for
	base_version TEXT NOT NULL,               -- the version in force it was compared with
	sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
	report       BLOB NOT NULL,               -- the report as generated (JSON)
	created_by   TEXT NOT NULL,
	created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX rule_set_whatifs_version ON rule_set_whatifs (version, id);

CREATE TABLE rule_set_changes (
	id           INTEGER PRIMARY KEY,
	park         TEXT NOT NULL REFERENCES parks (id),
	version      TEXT NOT NULL REFERENCES rule_sets (version),
	base_version TEXT NOT NULL DEFAULT '',    -- in force when proposed; the diff is against it
	state        TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'withdrawn', 'refused')),
	note         TEXT NOT NULL DEFAULT '',
	diff         TEXT NOT NULL DEFAULT '[]',  -- rules.Diff against base_version, JSON
	proposed_by  TEXT NOT NULL,
	proposed_at  TEXT NOT NULL,
	decided_by   TEXT NOT NULL DEFAULT '',
	decided_at   TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT '',
	effective_at TEXT NOT NULL DEFAULT '',
	whatif_id    INTEGER REFERENCES rule_set_whatifs (id),
	row_version  INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX rule_set_changes_in_force ON rule_set_changes (park, effective_at, id) WHERE state = 'approved';
CREATE INDEX rule_set_changes_park ON rule_set_changes (park, id);
-- One open proposal per text and park: two admins proposing the same file at
-- once get one proposal and a conflict, not two.
CREATE UNIQUE INDEX rule_set_changes_open ON rule_set_changes (park, version) WHERE state = 'proposed';

-- Every stored version becomes an approved change: the inactive ones at the
-- time they were stored, the active one after all of them (it may have been
-- re-activated after newer ones were stored). A park's first version is in
-- force from the beginning of time: a park always has rules.
INSERT INTO rule_set_changes (park, version, state, note, proposed_by, proposed_at, decided_by, decided_at, effective_at)
SELECT park, version, 'approved', '迁移前已启用的版本', 'system', created_at, 'system', created_at, created_at
FROM rule_sets WHERE active = 0 ORDER BY created_at, id;
INSERT INTO rule_set_changes (park, version, state, note, proposed_by, proposed_at, decided_by, decided_at, effective_at)
SELECT r.park, r.version, 'approved', '迁移前已启用的版本', 'system', r.created_at, 'system', r.created_at,
	max(r.created_at, coalesce((SELECT max(o.created_at) FROM rule_sets o WHERE o.park = r.park), r.created_at))
FROM rule_sets r WHERE r.active = 1;
UPDATE rule_set_changes SET effective_at = '0001-01-01T00:00:00.000000000Z'
WHERE id IN (SELECT min(id) FROM rule_set_changes GROUP BY park);

DROP INDEX rule_sets_active;
ALTER TABLE rule_sets DROP COLUMN active;

-- +goose Down

ALTER TABLE rule_sets ADD COLUMN active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1));
DROP TABLE rule_set_changes;
DROP TABLE rule_set_whatifs;
