package engine_test

import (
	"testing"

	"zonevet/engine"
)

// TestWorkbenchAwaited: a workbench lists what waits on its user, not
// everything they could do. The committee may reject in screening or order
// rectification of any firm in production, but is not waited on there; it
// is waited on for a decision, an override of a failed hard rule and a
// rectification's outcome. The first action is the one awaited.
func TestWorkbenchAwaited(t *testing.T) {
	w := mustWorld(t)
	hardFail := goodFigures()
	hardFail.Tax = fp(50 * 10) // 10 万元/亩 < 30
	screened := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	failed := w.drive("qingyuan", hardFail, engine.StateScreening)
	deciding := w.drive("qingyuan", goodFigures(), engine.StateCommitteeReview)
	producing := w.drive("qingyuan", goodFigures(), engine.StateInProduction)
	rectifying := w.drive("qingyuan", goodFigures(), engine.StateRectification)

	items := func(user string) map[int64]string {
		t.Helper()
		wb, err := w.svc.Workbench(w.ctx, w.users[user], 50)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]string{}
		for _, pw := range wb {
			for _, it := range pw.Items {
				out[it.Project.ID] = it.Actions[0]
			}
		}
		return out
	}
	for _, tt := range []struct {
		user string
		want map[int64]string
	}{
		{"committee-qingyuan", map[int64]string{failed.ID: "", deciding.ID: engine.EventApprove, rectifying.ID: engine.EventRectified}},
		{"reviewer-qingyuan", map[int64]string{screened.ID: engine.EventPass, failed.ID: engine.EventReturn}},
		{"promoter-qingyuan", map[int64]string{}},
	} {
		t.Run(tt.user, func(t *testing.T) {
			got := items(tt.user)
			for id, first := range tt.want {
				if got[id] != first {
					t.Errorf("project %d: first action %q, want %q", id, got[id], first)
				}
			}
			for id := range got {
				if _, ok := tt.want[id]; !ok {
					t.Errorf("project %d (%s) is on the workbench and waits on someone else", id, map[int64]string{producing.ID: "in production", screened.ID: "screening"}[id])
				}
			}
		})
	}
}
