package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"zonevet/engine"
	"zonevet/store"
)

// openOutside opens a connection pool of its own on db's PostgreSQL
// database: another client, beside the store's writer.
func openOutside(t *testing.T, db *store.DB) *sql.DB {
	t.Helper()
	out, err := sql.Open("pgx", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	return out
}

// mustExec runs statements on db's writer, bypassing the store (a test's
// injected triggers).
func mustExec(t *testing.T, db *store.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Writer().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline (not a timing assertion: only a hang fails).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// wantCountsKept checks project_counts against the projects themselves.
func wantCountsKept(t *testing.T, db *store.DB) {
	t.Helper()
	var diff int
	err := db.Writer().QueryRow(`SELECT count(*) FROM (
		SELECT park, state, n FROM project_counts WHERE n > 0
		EXCEPT SELECT park, state, count(*) FROM projects GROUP BY park, state) d`).Scan(&diff)
	if err != nil || diff != 0 {
		t.Errorf("project_counts disagrees with projects on %d rows (%v)", diff, err)
	}
}

// TestPostgresDecisionWritesProjectBeforeChainHead: a decision's
// version-checked UPDATE runs before its transaction waits for the chain
// head's lock (groupcommit_pg.go), so while another client holds the head,
// the project's row is already locked by the waiting decision, and no entry
// is written. Once the head is free the decision lands, chained after the
// log's head, and the counts follow at commit.
func TestPostgresDecisionWritesProjectBeforeChainHead(t *testing.T) {
	ctx := context.Background()
	db := mustOpenPostgres(t)
	p := mustCreate(t, db, sampleProject("qingyuan", "先写项目后锁链头"))
	before := lastAuditEntry(t, db).Seq
	out := openOutside(t, db)
	head, err := out.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer head.Rollback()
	if _, err := head.Exec(`SELECT id FROM chain_head WHERE id = 1 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	c := transition(p, p.Version, engine.EventSubmit, engine.StateScreening)
	go func() { done <- db.Apply(ctx, c) }()

	rowLocked := func() bool {
		tx, err := out.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		_, err = tx.Exec(`SELECT id FROM projects WHERE id = $1 FOR UPDATE NOWAIT`, p.ID)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
			return true
		}
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	waitFor(t, "the decision locks its project's row while the chain head is held", rowLocked)
	select {
	case err := <-done:
		t.Fatalf("the decision returned (%v) while another client held the chain head", err)
	default:
	}
	if err := head.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.Entry.Seq != before+1 || c.Project.Version != p.Version+1 {
		t.Errorf("entry %d, version %d; want %d, %d", c.Entry.Seq, c.Project.Version, before+1, p.Version+1)
	}
	verifyChain(t, db)
	wantCountsKept(t, db)
}

// TestPostgresLateBatchFailureRerunsEachAlone: a batch of decisions whose
// pipelined entries fail (here one entry the database refuses) loses its
// transaction whole; the store runs the batch again the ordinary way, so
// the refused decision fails alone, project write undone, and the others
// land in one commit with a chain that verifies.
func TestPostgresLateBatchFailureRerunsEachAlone(t *testing.T) {
	ctx := context.Background()
	db := mustOpenPostgres(t)
	var ps []*engine.Project
	for i := range 4 {
		ps = append(ps, mustCreate(t, db, sampleProject("qingyuan", fmt.Sprintf("批量项目%d", i))))
	}
	mustExec(t, db,
		`CREATE FUNCTION refuse_reason() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.reason = convert_to('refuse', 'UTF8') THEN
				RAISE EXCEPTION 'injected refusal';
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER refuse_reason BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_reason()`)
	before := auditCount(t, db)
	hold, err := db.Writer().Conn(ctx) // the leader waits for the one write connection
	if err != nil {
		t.Fatal(err)
	}
	changes := make([]*engine.Change, len(ps))
	errs := make([]chan error, len(ps))
	for i, p := range ps {
		changes[i] = transition(p, p.Version, engine.EventSubmit, engine.StateScreening)
		if i == 2 {
			changes[i].Entry.Reason = "refuse"
		}
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- db.Apply(ctx, changes[i]) }()
		waitFor(t, "the call queues", func() bool { busy, w := db.ApplyQueue(); return busy && w == i })
	}
	commits0, _ := db.CommitStats()
	hold.Close()
	for i := range ps {
		err := <-errs[i]
		if i == 2 {
			if err == nil {
				t.Error("the refused decision landed")
			}
			continue
		}
		if err != nil {
			t.Errorf("decision %d: %v", i, err)
		}
	}
	if commits, _ := db.CommitStats(); commits-commits0 != 1 {
		t.Errorf("%d commits, want 1 (the batch, run again)", commits-commits0)
	}
	if got := auditCount(t, db); got != before+3 {
		t.Errorf("%d entries written, want 3", got-before)
	}
	stored, err := db.Project(ctx, ps[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Version != ps[2].Version || stored.State != ps[2].State {
		t.Errorf("the refused decision's project is at v%d %s, want v%d %s", stored.Version, stored.State, ps[2].Version, ps[2].State)
	}
	verifyChain(t, db)
	wantCountsKept(t, db)
}
