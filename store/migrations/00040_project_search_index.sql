-- Searches of one or two characters (issue 3). The trigram index answers
-- three or more; "铜箔" or "华科" is shorter, and LIKE '%…%' then read every
-- row of the park, figures and all: 80–130 ms in a park of 66,000. This index
-- holds only what such a search reads, about a tenth of a row, so the scan
-- is of it alone. A transition never names these columns, so it costs
-- nothing there; a project's creation and a rename write it.

-- +goose Up
CREATE INDEX projects_search ON projects (park, name, investor_name);

-- +goose Down
DROP INDEX projects_search;
