-- The project list's total (issue 3). Every list page shows how many
-- projects match, and counting them was a scan of the park's index entries
-- on every request (66,000 entries for a park of a 100,000-project zone,
-- half the cost of the page). Most lists filter only by park and state, so
-- the number of projects per (park, state) is kept here, by triggers, in the
-- same transaction as the change: exact, and read from the list's own
-- snapshot. Lists with other filters (industry, search, overdue) still count
-- their rows.
--
-- Cost on the write path: a transition that changes the state updates one row
-- of this small table (one more page per such decision); one that keeps it
-- ("rate") only evaluates the WHEN. No new index on projects.
--
-- A later migration that rebuilds the projects table (CREATE new, INSERT
-- SELECT, DROP old) must rebuild these rows too: triggers do not survive it.

-- +goose Up

CREATE TABLE project_counts (
	park  TEXT NOT NULL,
	state TEXT NOT NULL,
	n     INTEGER NOT NULL CHECK (n >= 0),
	PRIMARY KEY (park, state)
) STRICT, WITHOUT ROWID;

INSERT INTO project_counts (park, state, n)
SELECT park, state, count(*) FROM projects GROUP BY park, state;

-- +goose StatementBegin
CREATE TRIGGER project_counts_insert AFTER INSERT ON projects BEGIN
	INSERT INTO project_counts (park, state, n) VALUES (new.park, new.state, 1)
	ON CONFLICT (park, state) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER project_counts_delete AFTER DELETE ON projects BEGIN
	UPDATE project_counts SET n = n - 1 WHERE park = old.park AND state = old.state;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER project_counts_update AFTER UPDATE OF park, state ON projects
WHEN old.park IS NOT new.park OR old.state IS NOT new.state BEGIN
	UPDATE project_counts SET n = n - 1 WHERE park = old.park AND state = old.state;
	INSERT INTO project_counts (park, state, n) VALUES (new.park, new.state, 1)
	ON CONFLICT (park, state) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down

DROP TRIGGER project_counts_update;
DROP TRIGGER project_counts_delete;
DROP TRIGGER project_counts_insert;
DROP TABLE project_counts;
