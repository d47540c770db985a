package engine_test

import (
	"errors"
	"strings"
	"testing"

	"zonevet/engine"
	"zonevet/rules"
)

// TestRuleSetAdministration: an admin raises qingyuan's investment-intensity
// threshold by proposing a new version, which the committee approves (issue
// 12: an upload no longer puts rules in force alone); the next screening
// uses it while an earlier report keeps its version, a broken file is
// refused with every mistake listed, and putting the old version back is a
// proposal approved like any other.
func TestRuleSetAdministration(t *testing.T) {
	w := mustWorld(t)
	admin := w.users["admin-qingyuan"]
	old, err := rules.Default("qingyuan")
	if err != nil {
		t.Fatal(err)
	}
	before, err := w.svc.Evaluate(w.ctx, "qingyuan", goodFigures())
	if err != nil {
		t.Fatal(err)
	}
	raised := strings.Replace(string(old.Source()), "value: 300 #", "value: 450 #", 1)
	if raised == string(old.Source()) {
		t.Fatal("fixture: threshold line not found")
	}

	t.Run("ErrNotAdmin", func(t *testing.T) {
		for _, u := range []*engine.User{w.users["committee-qingyuan"], w.users["admin-yingde"]} {
			if _, err := w.svc.ProposeRuleSet(w.ctx, u, "qingyuan", "q.yaml", []byte(raised), "提高门槛"); engine.ErrorCode(err) != engine.EFORBIDDEN {
				t.Errorf("%s: got %v, want forbidden", u.Username, err)
			}
		}
	})
	t.Run("ErrInvalidFile", func(t *testing.T) {
		broken := strings.Replace(raised, "metric: investment_intensity", "metric: investment_intensty", 1)
		_, err := w.svc.ProposeRuleSet(w.ctx, admin, "qingyuan", "q.yaml", []byte(broken), "提高门槛")
		var ve *rules.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) == 0 || ve.Problems[0].Line == 0 {
			t.Fatalf("got %v, want a validation error with a line", err)
		}
		if _, err := w.svc.ProposeRuleSet(w.ctx, admin, "yingde", "q.yaml", []byte(raised), "提高门槛"); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("qingyuan's admin uploaded for yingde: %v", err)
		}
		other, _ := rules.Default("yingde")
		w.users["admin-both"] = w.user("admin-both", engine.RoleAssignment{Role: engine.RoleAdmin, Park: "qingyuan"}, engine.RoleAssignment{Role: engine.RoleAdmin, Park: "yingde"})
		if _, err := w.svc.ProposeRuleSet(w.ctx, w.users["admin-both"], "qingyuan", "y.yaml", other.Source(), "提高门槛"); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("yingde's file accepted for qingyuan: %v", err)
		}
		if rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan"); rs.Version() != old.Version() {
			t.Error("a refused upload changed the rules in force")
		}
	})
	t.Run("ApprovedProposalPutsInForce", func(t *testing.T) {
		w.putInForce([]byte(raised), "提高固定资产投资强度门槛")
		rs, err := w.svc.ActiveRuleSet(w.ctx, "qingyuan")
		if err != nil {
			t.Fatal(err)
		}
		after, err := w.svc.Evaluate(w.ctx, "qingyuan", goodFigures())
		if err != nil {
			t.Fatal(err)
		}
		if after.RuleSetVersion != rs.Version() || after.HardFailures != before.HardFailures+1 {
			t.Errorf("after upload: version %s, %d hard failures (before %d)", after.RuleSetVersion, after.HardFailures, before.HardFailures)
		}
		if got, err := w.svc.RuleSetVersion(w.ctx, before.RuleSetVersion); err != nil || got.Version() != old.Version() {
			t.Errorf("the earlier version is gone: %v", err)
		}
		e := w.lastEntry()
		if e.Event != engine.EventRulesApprove || e.RuleSetVersion != rs.Version() || !strings.Contains(e.Payload, old.Version()) {
			t.Errorf("log entry %+v", e)
		}
		vs, err := w.svc.RuleSetVersions(w.ctx, admin, "qingyuan")
		if err != nil || len(vs) != 2 || !vs[0].Active || vs[0].Version != rs.Version() || vs[1].Active {
			t.Errorf("versions %+v (%v)", vs, err)
		}
		if _, err := w.svc.ProposeRuleSet(w.ctx, admin, "qingyuan", "q.yaml", []byte(raised), "再来一次"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("same version twice: %v", err)
		}
	})
	t.Run("Rollback", func(t *testing.T) {
		if _, err := w.svc.ProposeRestore(w.ctx, w.users["admin-yingde"], old.Version(), "恢复"); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("yingde's admin proposed a qingyuan version: %v", err)
		}
		w.putInForce(old.Source(), "恢复原门槛")
		if rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan"); rs.Version() != old.Version() {
			t.Errorf("active %s after rollback", rs.Version())
		}
	})
}
