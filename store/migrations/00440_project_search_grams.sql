-- Two-character searches ("装备", "有限"), the trigram index's blind spot,
-- scanned the park's whole projects_search index: 20–90 ms at 100,000
-- projects whenever thousands of projects match (issue 16). This table holds
-- every distinct pair of adjacent characters beyond ASCII in a project's
-- name and investor, so such a search is one range of it: its count is the
-- range's length, and the list probes it per row walked. Pairs with an ASCII
-- character ("A1", "号 ") are left out: they would double the table, and
-- their searches fold case (LIKE), so they keep the scan. Kept by triggers,
-- like project_counts; a transition never names these columns.

-- +goose Up
CREATE TABLE project_grams (
	gram TEXT NOT NULL,
	park TEXT NOT NULL,
	id   INTEGER NOT NULL,
	PRIMARY KEY (gram, park, id)
) STRICT, WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER project_grams_insert AFTER INSERT ON projects BEGIN
	INSERT OR IGNORE INTO project_grams (gram, park, id)
	SELECT substr(s, n, 2), new.park, new.id
	FROM (SELECT new.name AS s UNION ALL SELECT new.investor_name),
		(WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < max(length(new.name), length(new.investor_name)))
		SELECT n FROM i)
	WHERE n < length(s) AND unicode(substr(s, n, 1)) >= 128 AND unicode(substr(s, n + 1, 1)) >= 128;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER project_grams_delete AFTER DELETE ON projects BEGIN
	DELETE FROM project_grams WHERE park = old.park AND id = old.id AND gram IN (
		SELECT substr(s, n, 2)
		FROM (SELECT old.name AS s UNION ALL SELECT old.investor_name),
			(WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < max(length(old.name), length(old.investor_name)))
			SELECT n FROM i)
		WHERE n < length(s));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER project_grams_update AFTER UPDATE OF park, name, investor_name ON projects BEGIN
	DELETE FROM project_grams WHERE park = old.park AND id = old.id AND gram IN (
		SELECT substr(s, n, 2)
		FROM (SELECT old.name AS s UNION ALL SELECT old.investor_name),
			(WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < max(length(old.name), length(old.investor_name)))
			SELECT n FROM i)
		WHERE n < length(s));
	INSERT OR IGNORE INTO project_grams (gram, park, id)
	SELECT substr(s, n, 2), new.park, new.id
	FROM (SELECT new.name AS s UNION ALL SELECT new.investor_name),
		(WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < max(length(new.name), length(new.investor_name)))
		SELECT n FROM i)
	WHERE n < length(s) AND unicode(substr(s, n, 1)) >= 128 AND unicode(substr(s, n + 1, 1)) >= 128;
END;
-- +goose StatementEnd

INSERT OR IGNORE INTO project_grams (gram, park, id)
SELECT substr(s, n, 2), park, id
FROM (SELECT id, park, name AS s FROM projects UNION ALL SELECT id, park, investor_name FROM projects),
	(WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i
		WHERE n < (SELECT coalesce(max(max(length(name), length(investor_name))), 0) FROM projects))
	SELECT n FROM i)
WHERE n < length(s) AND unicode(substr(s, n, 1)) >= 128 AND unicode(substr(s, n + 1, 1)) >= 128;

-- +goose Down
DROP TRIGGER project_grams_update;
DROP TRIGGER project_grams_delete;
DROP TRIGGER project_grams_insert;
DROP TABLE project_grams;
