package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"zonevet/engine"
	"zonevet/store"
)

// claimCtx is ctx carrying a fresh claim on key, as the web layer builds it
// for a POST with that Idempotency-Key.
func claimCtx(uid int64, key string) (context.Context, *engine.IdempotencyClaim) {
	c := &engine.IdempotencyClaim{Key: key, UserID: uid, RequestHash: "hash-of-" + key, Status: 200,
		Encode: func(v any) ([]byte, error) { return json.Marshal(v) }}
	return engine.WithIdempotencyClaim(context.Background(), c), c
}

// answered transitions p under a claim, answering the project as written back.
func answered(p *engine.Project, expected int64) *engine.Change {
	c := transition(p, expected, engine.EventSubmit, engine.StateScreening)
	c.Answer = c.Project
	return c
}

// TestIdempotencyKeyCommitsWithTheAction: the key, the action and its answer
// are one transaction. An action that commits leaves its answer under the
// key (the replay shows the committed version); an action that fails leaves
// no key, so nothing can stay "still running" and the retry runs the action.
func TestIdempotencyKeyCommitsWithTheAction(t *testing.T) {
	db := mustOpen(t)
	uid := mustUser(t, db, "alice")
	p := mustCreate(t, db, sampleProject("qingyuan", "幂等项目"))

	t.Run("ActionFailsNoKey", func(t *testing.T) {
		ctx, claim := claimCtx(uid, "stale")
		wantCode(t, db.Apply(ctx, answered(p, 7)), engine.ECONFLICT)
		if claim.Recorded != nil {
			t.Fatalf("a failed action recorded %+v", claim.Recorded)
		}
		_, err := db.IdempotentResult(context.Background(), uid, "stale")
		wantCode(t, err, engine.ENOTFOUND)
	})
	t.Run("ActionCommitsWithAnswer", func(t *testing.T) {
		ctx, claim := claimCtx(uid, "k")
		c := answered(p, 1)
		if err := db.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := db.IdempotentResult(context.Background(), uid, "k")
		if err != nil {
			t.Fatal(err)
		}
		var body engine.Project
		if err := json.Unmarshal(got.Body, &body); err != nil {
			t.Fatal(err)
		}
		// The answer is the project as committed: version 1 + 1.
		if got.Status != 200 || body.Version != 2 || body.State != engine.StateScreening || claim.Recorded == nil {
			t.Fatalf("stored answer %d v%d %s, recorded %v", got.Status, body.Version, body.State, claim.Recorded)
		}
	})
	t.Run("RetryReplays", func(t *testing.T) {
		before := auditCount(t, db)
		ctx, _ := claimCtx(uid, "k")
		err := db.Apply(ctx, answered(p, 2))
		var replay *engine.IdempotentReplay
		if !errors.As(err, &replay) || replay.Result.Status != 200 {
			t.Fatalf("retry = %v, want a replay of the first answer", err)
		}
		if after := auditCount(t, db); after != before {
			t.Fatalf("the retry wrote %d entries", after-before)
		}
	})
}

// TestIdempotencyKeyConcurrentDecisions: 50 identical decisions with one key,
// through one handle and through five (as from five processes), give
// exactly one transition; every other caller gets the first answer back.
func TestIdempotencyKeyConcurrentDecisions(t *testing.T) {
	for _, handles := range []int{1, 5} {
		t.Run(fmt.Sprintf("Handles%d", handles), func(t *testing.T) {
			path := newDBPath(t)
			dbs := []*store.DB{mustOpenPath(t, path)}
			for len(dbs) < handles {
				dbs = append(dbs, mustOpenPath(t, path))
			}
			uid := mustUser(t, dbs[0], "alice")
			p := mustCreate(t, dbs[0], sampleProject("qingyuan", "并发幂等"))
			const n = 50
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					ctx, _ := claimCtx(uid, "same-decision")
					errs[i] = dbs[i%len(dbs)].Apply(ctx, answered(p, 1))
				})
			}
			close(start)
			wg.Wait()
			ok, replays := 0, 0
			for _, err := range errs {
				var replay *engine.IdempotentReplay
				switch {
				case err == nil:
					ok++
				case errors.As(err, &replay):
					replays++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if ok != 1 || replays != n-1 {
				t.Fatalf("successes = %d, replays = %d; want 1, %d", ok, replays, n-1)
			}
			es, err := dbs[0].AuditEntries(context.Background(), engine.AuditFilter{Events: []string{engine.EventSubmit}})
			if err != nil || len(es) != 1 {
				t.Fatalf("submit entries = %d (%v), want 1", len(es), err)
			}
		})
	}
}
