package engine_test

import (
	"errors"
	"strings"
	"testing"

	"zonevet/engine"
	"zonevet/rules"
)

// TestRuleSetAdministration: an admin raises qingyuan's investment-intensity
// threshold by uploading a new version, the next screening uses it while an
// earlier report keeps its version, a broken file is refused with every
// mistake listed, and the old version can be put back in force.
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
			if _, err := w.svc.UploadRuleSet(w.ctx, u, "qingyuan", "q.yaml", []byte(raised)); engine.ErrorCode(err) != engine.EFORBIDDEN {
				t.Errorf("%s: got %v, want forbidden", u.Username, err)
			}
		}
	})
	t.Run("ErrInvalidFile", func(t *testing.T) {
		broken := strings.Replace(raised, "metric: investment_intensity", "metric: investment_intensty", 1)
		_, err := w.svc.UploadRuleSet(w.ctx, admin, "qingyuan", "q.yaml", []byte(broken))
		var ve *rules.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) == 0 || ve.Problems[0].Line == 0 {
			t.Fatalf("got %v, want a validation error with a line", err)
		}
		if _, err := w.svc.UploadRuleSet(w.ctx, admin, "yingde", "q.yaml", []byte(raised)); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("qingyuan's admin uploaded for yingde: %v", err)
		}
		other, _ := rules.Default("yingde")
		w.users["admin-both"] = w.user("admin-both", engine.RoleAssignment{Role: engine.RoleAdmin, Park: "qingyuan"}, engine.RoleAssignment{Role: engine.RoleAdmin, Park: "yingde"})
		if _, err := w.svc.UploadRuleSet(w.ctx, w.users["admin-both"], "qingyuan", "y.yaml", other.Source()); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("yingde's file accepted for qingyuan: %v", err)
		}
		if rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan"); rs.Version() != old.Version() {
			t.Error("a refused upload changed the rules in force")
		}
	})
	t.Run("UploadPutsInForce", func(t *testing.T) {
		rs, err := w.svc.UploadRuleSet(w.ctx, admin, "qingyuan", "q.yaml", []byte(raised))
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
		if e.Event != engine.EventRulesInstall || e.RuleSetVersion != rs.Version() || !strings.Contains(e.Payload, old.Version()) {
			t.Errorf("log entry %+v", e)
		}
		vs, err := w.svc.RuleSetVersions(w.ctx, admin, "qingyuan")
		if err != nil || len(vs) != 2 || !vs[0].Active || vs[0].Version != rs.Version() || vs[1].Active {
			t.Errorf("versions %+v (%v)", vs, err)
		}
		if _, err := w.svc.UploadRuleSet(w.ctx, admin, "qingyuan", "q.yaml", []byte(raised)); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("same version twice: %v", err)
		}
	})
	t.Run("Rollback", func(t *testing.T) {
		if _, err := w.svc.ActivateRuleSet(w.ctx, admin, old.Version()); err != nil {
			t.Fatal(err)
		}
		if rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan"); rs.Version() != old.Version() {
			t.Errorf("active %s after rollback", rs.Version())
		}
		if _, err := w.svc.ActivateRuleSet(w.ctx, w.users["admin-yingde"], old.Version()); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("yingde's admin activated a qingyuan version: %v", err)
		}
	})
}
