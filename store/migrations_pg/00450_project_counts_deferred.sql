-- project_counts is kept at commit time, not at each UPDATE of a project
-- (issue 17, durable transitions). A decision's version-checked UPDATE runs
-- before its transaction takes the chain head's lock (groupcommit_pg.go);
-- had the counts' (park, state) rows been updated there, every batch of
-- every process would lock the same few hot rows in varying order before
-- the chain head: batches would wait on each other's commits anyway, and
-- deadlock. Deferred, the counts are updated when COMMIT runs, under the
-- chain head's lock, like everything else that every decision touches.
-- PostgreSQL only: SQLite's BEGIN IMMEDIATE serialises whole transactions.

-- +goose Up
DROP TRIGGER project_counts_insert ON projects;
DROP TRIGGER project_counts_delete ON projects;
DROP TRIGGER project_counts_update ON projects;
CREATE CONSTRAINT TRIGGER project_counts_insert AFTER INSERT ON projects
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION project_counts_keep();
CREATE CONSTRAINT TRIGGER project_counts_delete AFTER DELETE ON projects
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION project_counts_keep();
CREATE CONSTRAINT TRIGGER project_counts_update AFTER UPDATE OF park, state ON projects
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (OLD.park IS DISTINCT FROM NEW.park OR OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION project_counts_keep();

-- +goose Down
DROP TRIGGER project_counts_insert ON projects;
DROP TRIGGER project_counts_delete ON projects;
DROP TRIGGER project_counts_update ON projects;
CREATE TRIGGER project_counts_insert AFTER INSERT ON projects FOR EACH ROW EXECUTE FUNCTION project_counts_keep();
CREATE TRIGGER project_counts_delete AFTER DELETE ON projects FOR EACH ROW EXECUTE FUNCTION project_counts_keep();
CREATE TRIGGER project_counts_update AFTER UPDATE OF park, state ON projects FOR EACH ROW
	WHEN (OLD.park IS DISTINCT FROM NEW.park OR OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION project_counts_keep();
