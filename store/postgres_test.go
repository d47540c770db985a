package store_test

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// mustOpenPostgres opens a fresh PostgreSQL database whatever
// ZONEVET_TEST_STORE says: the tests of what only PostgreSQL has.
func mustOpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	return mustOpenPath(t, storetest.PostgresURL(t))
}

// TestPostgresSchemaMatchesSQLite: the two migration sets build the same
// tables with the same columns, so one set of SQL serves both. A SQLite
// migration without its PostgreSQL twin fails here.
func TestPostgresSchemaMatchesSQLite(t *testing.T) {
	lite := mustOpenPath(t, storetest.SQLitePath(t))
	pg := mustOpenPostgres(t)
	got := schema(t, pg.Writer(), `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`)
	want := schema(t, lite.Writer(), `SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table'`)
	// What only one engine has: SQLite's own tables and the search index
	// (PostgreSQL's search is issue 17's next step), PostgreSQL's chain-head
	// lock row, and the rowid columns SQLite has implicitly.
	for _, name := range slices.Collect(maps.Keys(want)) {
		if strings.HasPrefix(name, "sqlite_") || strings.HasPrefix(name, "projects_fts") {
			delete(want, name)
		}
	}
	delete(got, "chain_head")
	for name, cols := range got {
		got[name] = slices.DeleteFunc(cols, func(c string) bool { return c == "rowid" })
	}
	for name, cols := range want {
		if !slices.Equal(got[name], cols) {
			t.Errorf("table %s: PostgreSQL columns %v, SQLite %v", name, got[name], cols)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("table %s only on PostgreSQL", name)
		}
	}
}

// schema lists each table's columns, sorted.
func schema(t *testing.T, db *sql.DB, q string) map[string][]string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], col)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, cols := range out {
		slices.Sort(cols)
	}
	return out
}

// TestPostgresOneTransitionOfFifty: three store handles on one database
// (three processes' pools, group-commit queues and tree caches) and fifty
// callers sending the same transition at once: exactly one lands, the
// other 49 are clean conflicts, the log holds one entry for it, and the
// chain verifies.
func TestPostgresOneTransitionOfFifty(t *testing.T) {
	ctx := context.Background()
	first := mustOpenPostgres(t)
	stores := []*store.DB{first, mustOpenPath(t, first.Path()), mustOpenPath(t, first.Path())}
	p := mustCreate(t, first, sampleProject("qingyuan", "高端电子信息制造项目"))

	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = stores[i%len(stores)].Apply(ctx, transition(p, 1, engine.EventSubmit, engine.StateScreening))
		}()
	}
	wg.Wait()
	landed := 0
	for _, err := range errs {
		var e *engine.Error
		switch {
		case err == nil:
			landed++
		case errors.As(err, &e) && e.Code == engine.ECONFLICT:
		default:
			t.Errorf("want nil or a conflict, got %v", err)
		}
	}
	if landed != 1 {
		t.Fatalf("%d transitions landed, want 1", landed)
	}
	es, err := first.AuditEntries(ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventSubmit}})
	if err != nil || len(es) != 1 {
		t.Fatalf("submit entries %d, %v; want 1", len(es), err)
	}
	verifyChain(t, first)
}

// TestPostgresChainLinearAcrossProcesses: distinct decisions from three
// handles at once form one chain, seq 1 … n without a gap or a fork.
func TestPostgresChainLinearAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	first := mustOpenPostgres(t)
	stores := []*store.DB{first, mustOpenPath(t, first.Path()), mustOpenPath(t, first.Path())}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Sign-ins: entries that lock no row of their own (a project
			// or a count would serialise the writers by itself), so only
			// the chain head keeps the chain linear.
			e := engine.AuditEntry{Time: t0, Actor: "user", Event: engine.EventLogin}
			if err := stores[i%len(stores)].Apply(ctx, &engine.Change{Entry: e}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if v := verifyChain(t, first); v.Count != 60 {
		t.Fatalf("chain of %d entries, want 60", v.Count)
	}
}

// verifyChain walks the whole log and fails on a break.
func verifyChain(t *testing.T, db *store.DB) *engine.ChainVerifier {
	t.Helper()
	v, err := engine.VerifyLog(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if v.Bad != nil {
		t.Fatalf("chain breaks: %+v", v.Bad)
	}
	return v
}

// TestPostgresLogAppendOnly: the database itself refuses to change or
// remove an entry, or to append one that does not extend the chain,
// whoever asks.
func TestPostgresLogAppendOnly(t *testing.T) {
	db := mustOpenPostgres(t)
	mustUser(t, db, "reviewer1")
	for name, q := range map[string]string{
		"Update":   `UPDATE audit_log SET actor = 'mallory'`,
		"Delete":   `DELETE FROM audit_log`,
		"Truncate": `TRUNCATE audit_log`,
		"Fork":     `INSERT INTO audit_log SELECT * FROM audit_log WHERE seq = 1`,
		"Tree":     `DELETE FROM audit_tree`,
		"Head":     `DELETE FROM chain_head`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := db.Writer().Exec(q); err == nil {
				t.Fatalf("%s: accepted", q)
			}
		})
	}
	verifyChain(t, db)
}
