package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"zonevet/engine"
)

// TestPostgresRetriedBatchKeepsItsKey: PostgreSQL refuses the first two
// write transactions as serialization failures (40001) at the moment the
// idempotency key is stored, after applyTx has written the Change back.
// The store runs the batch again from the Changes as given: every decision
// lands once, with its key stored once and the answer of the run that
// committed, and no caller sees the refusal.
func TestPostgresRetriedBatchKeepsItsKey(t *testing.T) {
	db := mustOpenPostgres(t)
	uid := mustUser(t, db, "alice")
	const n = 4
	var ps []*engine.Project
	for i := range n {
		ps = append(ps, mustCreate(t, db, sampleProject("qingyuan", fmt.Sprintf("重试项目%d", i))))
	}
	mustExec(t, db,
		`CREATE SEQUENCE refusals`, // not rolled back with the refused transaction
		`CREATE FUNCTION refuse_twice() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('refusals') <= 2 THEN
				RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001';
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER refuse_twice BEFORE INSERT ON idempotency FOR EACH ROW EXECUTE FUNCTION refuse_twice()`)
	before := auditCount(t, db)
	claims := make([]*engine.IdempotencyClaim, n)
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			ctx, claim := claimCtx(uid, fmt.Sprintf("retry-%d", i))
			claims[i] = claim
			if err := db.Apply(ctx, answered(p, 1)); err != nil {
				t.Errorf("project %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := auditCount(t, db); got != before+n {
		t.Errorf("%d entries written, want %d", got-before, n)
	}
	var keys int
	if err := db.Writer().QueryRow(`SELECT count(*) FROM idempotency WHERE key LIKE 'retry-%'`).Scan(&keys); err != nil || keys != n {
		t.Errorf("%d keys stored (%v), want %d", keys, err, n)
	}
	for i, p := range ps {
		got, err := db.IdempotentResult(context.Background(), uid, fmt.Sprintf("retry-%d", i))
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		var body engine.Project
		json.Unmarshal(got.Body, &body)
		stored, err := db.Project(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if body.Version != 2 || stored.Version != 2 || claims[i].Recorded == nil {
			t.Errorf("project %d: answer v%d, stored v%d, recorded %v; want v2 once", i, body.Version, stored.Version, claims[i].Recorded != nil)
		}
	}
	var refused int
	db.Writer().QueryRow(`SELECT last_value FROM refusals`).Scan(&refused)
	if refused < 3 {
		t.Fatalf("the trigger refused %d times; the test did not exercise a retry", refused)
	}
}
