-- The list by deadline without a state filter (?sort=due) merged the
-- thirteen states' ranges of (park, state, due_at), which SQLite does by
-- sorting every row with a deadline: 150 ms for a page in the middle of a
-- park of 50,000, read by offset. One index in the list's order (due_at,
-- id) reads any page by walking its entries, the state tested in the entry
-- as in projects_park_updated (00240). The cost is one more index entry
-- rewritten by a transition (it sets due_at and state); measured in
-- BENCHMARKS.md (issue 16). (park, state, due_at) stays: the work lists of
-- one or a few states by deadline and the per-state reads (expert load,
-- tracking) are ranges of it.

-- +goose Up
CREATE INDEX projects_park_due ON projects (park, due_at, id, state);

-- +goose Down
DROP INDEX projects_park_due;
