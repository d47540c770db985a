package engine_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/rules"
)

// qingyuanWith is the default qingyuan file with literal replacements, each
// of which must hit exactly once.
func qingyuanWith(t *testing.T, pairs ...string) []byte {
	t.Helper()
	rs, err := rules.Default("qingyuan")
	if err != nil {
		t.Fatal(err)
	}
	src := string(rs.Source())
	for i := 0; i < len(pairs); i += 2 {
		if strings.Count(src, pairs[i]) != 1 {
			t.Fatalf("fixture: %q occurs %d times", pairs[i], strings.Count(src, pairs[i]))
		}
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	return []byte(src)
}

// Threshold edits of qingyuan's file (policy: investment intensity ≥ 300
// 万元/亩, tax per mu ≥ 30 万元/亩, both hard).
const (
	intensityLine = "value: 300 # 国家级园区取 300"
	taxLine       = "value: 30 # 参照广清园 33"
)

// putInForce walks a file through the whole path: admin proposes, the
// committee generates the what-if and approves, effective now.
func (w *world) putInForce(src []byte, note string) *engine.RuleSetChange {
	w.t.Helper()
	c, err := w.svc.ProposeRuleSet(w.ctx, w.users["admin-qingyuan"], "qingyuan", "q.yaml", src, note)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, _, err := w.svc.GenerateWhatIf(w.ctx, w.users["committee-qingyuan"], c.ID); err != nil {
		w.t.Fatal(err)
	}
	c, err = w.svc.ApproveRuleSet(w.ctx, w.users["committee-qingyuan"], c.ID, engine.ApproveInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// TestRuleSetFourEyes: a rule change needs two people and a what-if of
// exactly the proposed text (issue 12).
func TestRuleSetFourEyes(t *testing.T) {
	w := mustWorld(t)
	admin, committee := w.users["admin-qingyuan"], w.users["committee-qingyuan"]
	both := w.user("both-qingyuan", engine.RoleAssignment{Role: engine.RoleAdmin, Park: "qingyuan"}, engine.RoleAssignment{Role: engine.RoleCommittee, Park: "qingyuan"})
	old, _ := rules.Default("qingyuan")
	raised := qingyuanWith(t, intensityLine, "value: 320 #")
	lowered := qingyuanWith(t, taxLine, "value: 25 #")

	t.Run("ErrNoteRequired", func(t *testing.T) {
		if _, err := w.svc.ProposeRuleSet(w.ctx, admin, "qingyuan", "q.yaml", raised, "  "); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("got %v", err)
		}
	})
	t.Run("ErrNotAdmin", func(t *testing.T) {
		for _, u := range []*engine.User{committee, w.users["admin-yingde"], w.users["reviewer-qingyuan"]} {
			if _, err := w.svc.ProposeRuleSet(w.ctx, u, "qingyuan", "q.yaml", raised, "提高投资强度"); engine.ErrorCode(err) != engine.EFORBIDDEN {
				t.Errorf("%s proposed: %v", u.Username, err)
			}
		}
	})
	a, err := w.svc.ProposeRuleSet(w.ctx, admin, "qingyuan", "q.yaml", raised, "提高固定资产投资强度门槛至 320 万元/亩")
	if err != nil {
		t.Fatal(err)
	}
	e := w.lastEntry()
	if e.Event != engine.EventRulesPropose || e.Actor != "admin-qingyuan" || e.Reason != "提高固定资产投资强度门槛至 320 万元/亩" ||
		!strings.Contains(e.Payload, "固定资产投资强度 门槛:≥ 300 万元/亩 → ≥ 320 万元/亩") {
		t.Errorf("proposal entry %+v", e)
	}
	if rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan"); rs.Version() != old.Version() {
		t.Fatal("a proposal changed the rules in force")
	}
	t.Run("ErrSameProposalTwice", func(t *testing.T) {
		if _, err := w.svc.ProposeRuleSet(w.ctx, admin, "qingyuan", "q.yaml", raised, "再次提交"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("got %v", err)
		}
	})
	t.Run("ErrNoWhatIf", func(t *testing.T) {
		_, err := w.svc.ApproveRuleSet(w.ctx, committee, a.ID, engine.ApproveInput{})
		if engine.ErrorCode(err) != engine.EFORBIDDEN || !strings.Contains(engine.ErrorMessage(err, "zh"), "影响评估") {
			t.Errorf("got %v", err)
		}
	})
	b, err := w.svc.ProposeRuleSet(w.ctx, both, "qingyuan", "q.yaml", lowered, "降低亩均税收门槛")
	if err != nil {
		t.Fatal(err)
	}
	_, wiB, err := w.svc.GenerateWhatIf(w.ctx, committee, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ErrWhatIfForAnotherVersion", func(t *testing.T) {
		_, err := w.svc.ApproveRuleSet(w.ctx, committee, a.ID, engine.ApproveInput{WhatIfID: wiB.ID})
		if engine.ErrorCode(err) != engine.EFORBIDDEN || !strings.Contains(engine.ErrorMessage(err, "zh"), "另一版本") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("ErrProposerApproves", func(t *testing.T) {
		_, err := w.svc.ApproveRuleSet(w.ctx, both, b.ID, engine.ApproveInput{})
		if engine.ErrorCode(err) != engine.EFORBIDDEN || !strings.Contains(engine.ErrorMessage(err, "zh"), "四眼") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("ErrAdminApproves", func(t *testing.T) {
		if _, err := w.svc.ApproveRuleSet(w.ctx, admin, b.ID, engine.ApproveInput{}); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("got %v", err)
		}
	})
	t.Run("ErrRefuseWithoutReason", func(t *testing.T) {
		if _, err := w.svc.RefuseRuleSet(w.ctx, committee, b.ID, ""); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("got %v", err)
		}
	})
	if _, err := w.svc.RefuseRuleSet(w.ctx, committee, b.ID, "税收门槛不宜降低"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ApproveRuleSet(w.ctx, committee, b.ID, engine.ApproveInput{}); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("approving a refused proposal: %v", err)
	}
	_, wiA, err := w.svc.GenerateWhatIf(w.ctx, committee, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	approved, err := w.svc.ApproveRuleSet(w.ctx, committee, a.ID, engine.ApproveInput{Opinion: "同意"})
	if err != nil {
		t.Fatal(err)
	}
	e = w.lastEntry()
	var basis map[string]any
	json.Unmarshal([]byte(e.Payload), &basis)
	if e.Event != engine.EventRulesApprove || basis["whatif_sha256"] != wiA.SHA256 || basis["proposed_by"] != "admin-qingyuan" || approved.Shown != engine.RuleSetInForce {
		t.Errorf("approval entry %+v (%s)", e, approved.Shown)
	}
	rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan")
	if rs.Version() != a.Version {
		t.Fatalf("in force %s, want the approved %s", rs.Version(), a.Version)
	}
	t.Run("RestoreIsAProposal", func(t *testing.T) {
		r, err := w.svc.ProposeRestore(w.ctx, admin, old.Version(), "恢复原投资强度门槛")
		if err != nil {
			t.Fatal(err)
		}
		if rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan"); rs.Version() != a.Version {
			t.Error("a restore took effect without approval")
		}
		if len(r.Diff) != 1 || r.Diff[0].TextZH != "固定资产投资强度 门槛:≥ 320 万元/亩 → ≥ 300 万元/亩" {
			t.Errorf("restore diff %+v", r.Diff)
		}
		if _, err := w.svc.WithdrawRuleSet(w.ctx, admin, r.ID, "暂不恢复"); err != nil {
			t.Fatal(err)
		}
	})
	cs, err := w.svc.RuleSetChanges(w.ctx, committee, "qingyuan")
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, c := range cs {
		shown = append(shown, string(c.Shown))
	}
	// newest first: the withdrawn restore, refused b, a in force, the default superseded
	if got := strings.Join(shown, " "); got != "withdrawn refused in_force superseded" {
		t.Errorf("pipeline %s", got)
	}
}

// TestRuleSetEffectiveBoundary: an approval effective at T. Submits racing
// at the boundary, from services whose clocks read just before and exactly
// T, each get exactly one version: the one in force at their entry's time.
func TestRuleSetEffectiveBoundary(t *testing.T) {
	w := mustWorld(t)
	old, _ := rules.Default("qingyuan")
	T := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	approver, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return T.Add(-30 * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := approver.ProposeRuleSet(w.ctx, w.users["admin-qingyuan"], "qingyuan", "q.yaml", qingyuanWith(t, intensityLine, "value: 320 #"), "提高门槛")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := approver.GenerateWhatIf(w.ctx, w.users["committee-qingyuan"], c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := approver.ApproveRuleSet(w.ctx, w.users["committee-qingyuan"], c.ID, engine.ApproveInput{Effective: T}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan"); rs.Version() != old.Version() {
		t.Fatal("a change effective in an hour is in force now")
	}
	before, _ := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return T.Add(-time.Nanosecond) }})
	at, _ := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return T }})
	const n = 12
	projects := make([]*engine.Project, 2*n)
	for i := range projects {
		projects[i] = w.create("qingyuan", goodFigures())
	}
	var wg sync.WaitGroup
	got := make([]*engine.Project, len(projects))
	errs := make([]error, len(projects))
	for i, p := range projects {
		svc := before
		if i%2 == 1 {
			svc = at
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = svc.Act(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version})
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		want := old.Version()
		if i%2 == 1 {
			want = c.Version
		}
		if got[i].Report.RuleSetVersion != want {
			t.Errorf("submit %d (clock %s): version %.12s, want %.12s", i, []string{"T-1ns", "T"}[i%2], got[i].Report.RuleSetVersion, want)
		}
		es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: got[i].ID, Events: []string{engine.EventSubmit}})
		if len(es) != 1 || es[0].RuleSetVersion != want {
			t.Errorf("submit entry of %d: %+v", got[i].ID, es)
		}
	}
}

// TestWhatIfScreeningReplay: a seeded portfolio re-screened under a draft
// that raises investment intensity 300 → 320 and lowers tax per mu 30 → 25
// (both hard). The reference below is plain Go on the two thresholds alone:
// every other figure is goodFigures', which passes every other check.
func TestWhatIfScreeningReplay(t *testing.T) {
	w := mustWorld(t)
	rng := rand.New(rand.NewPCG(12, 2026))
	type ref struct {
		state       engine.State
		intensity   int // 万元/亩, whole numbers: no rounding question
		taxPerMu    int
		id          int64
		beforeOK    bool
		afterOK     bool
		newlyFailed string
		newlyPassed string
	}
	var portfolio []*ref
	for range 30 {
		r := &ref{intensity: 280 + rng.IntN(60), taxPerMu: 20 + rng.IntN(16)}
		f := goodFigures()
		f.FixedAssetInvestment, f.Tax = fp(float64(50*r.intensity)), fp(float64(50*r.taxPerMu))
		r.beforeOK = r.intensity >= 300 && r.taxPerMu >= 30
		r.afterOK = r.intensity >= 320 && r.taxPerMu >= 25
		if r.intensity >= 300 && r.intensity < 320 {
			r.newlyFailed = "investment_intensity"
		}
		if r.taxPerMu >= 25 && r.taxPerMu < 30 {
			r.newlyPassed = "tax_per_mu"
		}
		to := engine.StateScreening
		switch rng.IntN(3) {
		case 1:
			to = engine.StateReturned
		case 2:
			if r.beforeOK {
				to = engine.StateApproved
			}
		}
		r.state = to
		r.id = w.drive("qingyuan", f, to).ID
		portfolio = append(portfolio, r)
	}
	w.create("qingyuan", goodFigures()) // never screened: not in the replay
	draft, err := rules.Parse("q.yaml", qingyuanWith(t, intensityLine, "value: 320 #", taxLine, "value: 25 #"))
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := w.svc.WhatIf(w.ctx, w.users["committee-qingyuan"], draft)
	if err != nil {
		t.Fatal(err)
	}
	sr := rep.Screening
	wantChanged, wantP2F, wantF2P := 0, 0, 0
	byID := map[int64]engine.ProjectReplay{}
	for _, p := range sr.Projects {
		byID[p.ID] = p
	}
	perState := map[engine.State][2]int{}
	for _, r := range portfolio {
		changed := r.newlyFailed != "" || r.newlyPassed != ""
		c := perState[r.state]
		c[0]++
		if changed {
			c[1]++
			wantChanged++
		}
		perState[r.state] = c
		if r.beforeOK && !r.afterOK {
			wantP2F++
		}
		if !r.beforeOK && r.afterOK {
			wantF2P++
		}
		got, ok := byID[r.id]
		if ok != changed {
			t.Errorf("project %d (%d, %d): listed %v, want %v", r.id, r.intensity, r.taxPerMu, ok, changed)
			continue
		}
		if ok && (got.Before != r.beforeOK || got.After != r.afterOK || strings.Join(got.NewlyFailed, ",") != r.newlyFailed || strings.Join(got.NewlyPassed, ",") != r.newlyPassed) {
			t.Errorf("project %d (%d, %d): %+v", r.id, r.intensity, r.taxPerMu, got)
		}
	}
	if sr.Total != len(portfolio) || sr.Changed != wantChanged || sr.PassToFail != wantP2F || sr.FailToPass != wantF2P {
		t.Errorf("totals %d %d %d %d, want %d %d %d %d", sr.Total, sr.Changed, sr.PassToFail, sr.FailToPass, len(portfolio), wantChanged, wantP2F, wantF2P)
	}
	for _, s := range sr.ByState {
		if want := perState[s.State]; s.Total != want[0] || s.Changed != want[1] {
			t.Errorf("%s: %d/%d, want %d/%d", s.State, s.Changed, s.Total, want[1], want[0])
		}
	}
	for i := 1; i < len(sr.Projects); i++ {
		if !sr.Projects[i-1].Open && sr.Projects[i].Open {
			t.Errorf("a closed project listed before an open one: %+v", sr.Projects)
			break
		}
	}
	if wantChanged == 0 || wantP2F == 0 || wantF2P == 0 {
		t.Fatalf("fixture: the seed gives no change of some kind (%d %d %d)", wantChanged, wantP2F, wantF2P)
	}
}

// TestProposalWithFailingExampleRefused: a rule set's own examples must
// hold; the what-if lists the examples of the version in force that a
// draft breaks. Example figures: 15000 万元 on 50 亩 = 300 万元/亩, exactly
// at qingyuan's floor.
func TestProposalWithFailingExampleRefused(t *testing.T) {
	w := mustWorld(t)
	example := `
examples:
  - id: at_floor
    name_zh: 投资强度恰好 300 万元/亩
    given: {industry_code: C3985, total_investment: 30000, fixed_asset_investment: 15000, land_area: 50,
      floor_area: 50025, building_coverage: 48, office_share: 5, green_ratio: 8, land_grade: 9, land_price: 18,
      expected_output: 60000, revenue: 58000, tax: 2200, rd_expense: 2900, energy_use: 700, electricity: 300,
      employees: 300, negative_list: false, eco_red_line: false, bad_credit: false}
    expect: {passed: true, checks: {investment_intensity: pass}}
`
	withExample := qingyuanWith(t, "\ndeadlines:", example+"\ndeadlines:")
	w.putInForce(withExample, "加入测试用例")
	raisedWithExample := qingyuanWith(t, "\ndeadlines:", example+"\ndeadlines:", intensityLine, "value: 320 #")
	_, err := w.svc.ProposeRuleSet(w.ctx, w.users["admin-qingyuan"], "qingyuan", "q.yaml", raisedWithExample, "提高门槛")
	if engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(engine.ErrorMessage(err, "zh"), "投资强度恰好 300 万元/亩") {
		t.Fatalf("got %v", err)
	}
	es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventRulesPropose}})
	if len(es) != 1 {
		t.Errorf("a refused proposal was stored: %d proposals", len(es))
	}
	draft, _ := rules.Parse("q.yaml", qingyuanWith(t, intensityLine, "value: 320 #"))
	rep, _, err := w.svc.WhatIf(w.ctx, w.users["admin-qingyuan"], draft)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.BaseExamples) != 1 || rep.BaseExamples[0].OK || rep.BaseExamples[0].ID != "at_floor" {
		t.Errorf("broken examples %+v", rep.BaseExamples)
	}
}

// TestReplayScreeningReproduces: a project's stored screening re-evaluated
// from its submit entry under its pinned version is the same bytes, also
// after the rules in force changed.
func TestReplayScreeningReproduces(t *testing.T) {
	w := mustWorld(t)
	p := w.create("qingyuan", goodFigures())
	p = w.act("promoter-qingyuan", p, engine.EventSubmit, "")
	w.putInForce(qingyuanWith(t, intensityLine, "value: 420 #"), "提高门槛")
	got, err := w.svc.ReplayScreening(w.ctx, w.users["auditor-qingyuan"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := rules.Default("qingyuan")
	if !got.Same || got.RuleSetVersion != old.Version() || got.StoredSHA256 != got.ReplaySHA256 || got.FirstDiff != -1 {
		t.Errorf("replay %+v", got)
	}
	if _, err := w.svc.ReplayScreening(w.ctx, w.users["auditor-yingde"], p.ID); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Errorf("another park's auditor: %v", err)
	}
}

// TestRuleSetTransitionMatrix: casbin grants exactly the ruleset:<state>
// rows of testdata/authz/transitions.tsv, for every role, state and event.
func TestRuleSetTransitionMatrix(t *testing.T) {
	w := mustWorld(t)
	want := map[string]bool{}
	for _, row := range readTable(t, "testdata/authz/transitions.tsv", 4) {
		if strings.HasPrefix(row[1], "ruleset:") {
			want[row[0]+"/"+row[1]+"/"+row[2]] = row[3] == "allowed"
		}
	}
	if len(want) == 0 {
		t.Fatal("no ruleset rows in transitions.tsv")
	}
	states := []engine.RuleSetState{engine.RuleSetDraft, engine.RuleSetProposed, engine.RuleSetApproved, engine.RuleSetInForce,
		engine.RuleSetSuperseded, engine.RuleSetWithdrawn, engine.RuleSetRefused}
	events := []string{engine.EventRulesPropose, engine.EventRulesWithdraw, engine.EventRulesRefuse, engine.EventRulesApprove,
		engine.EventRulesTakeEffect, engine.EventRulesSupersede}
	for _, r := range engine.Roles {
		for _, st := range states {
			for _, ev := range events {
				key := fmt.Sprintf("%s/ruleset:%s/%s", r, st, ev)
				if got := w.svc.Authorizer().Allowed(string(r)+"-qingyuan", "qingyuan", "ruleset:"+string(st), ev); got != want[key] {
					t.Errorf("%s: policy says %v, transitions.tsv %v", key, got, want[key])
				}
			}
		}
	}
}

// TestReadmeRuleSetLifecycle keeps README's rule-change diagram the fsm table's.
func TestReadmeRuleSetLifecycle(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := engine.RuleSetLifecycleDiagram()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```mermaid\n"+strings.TrimSpace(d)+"\n```") {
		t.Errorf("README.md's rule-change diagram is not the fsm table's; paste:\n%s", d)
	}
}

// TestConcurrentProposalsOfOneText: two admins proposing the same file at
// the same moment get one proposal and one conflict.
func TestConcurrentProposalsOfOneText(t *testing.T) {
	w := mustWorld(t)
	other := w.user("admin2-qingyuan", engine.RoleAssignment{Role: engine.RoleAdmin, Park: "qingyuan"})
	src := qingyuanWith(t, intensityLine, "value: 320 #")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, u := range []*engine.User{w.users["admin-qingyuan"], other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.svc.ProposeRuleSet(w.ctx, u, "qingyuan", "q.yaml", src, "提高门槛")
		}()
	}
	wg.Wait()
	ok, conflicts := 0, 0
	for _, err := range errs {
		switch engine.ErrorCode(err) {
		case "":
			ok++
		case engine.ECONFLICT:
			conflicts++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	cs, _ := w.svc.RuleSetChanges(w.ctx, w.users["committee-qingyuan"], "qingyuan")
	if ok != 1 || conflicts != 1 || len(cs) != 2 { // the proposal and the default
		t.Errorf("%d proposals, %d conflicts, %d changes", ok, conflicts, len(cs))
	}
}

// TestConcurrentApprovalsOneBase: two proposals whose what-ifs were both
// run against the same version in force, approved at the same moment: one
// is approved, the other refused as a conflict (its what-if no longer
// shows what it would change).
func TestConcurrentApprovalsOneBase(t *testing.T) {
	w := mustWorld(t)
	committee := w.users["committee-qingyuan"]
	var ids []int64
	for _, src := range [][]byte{qingyuanWith(t, intensityLine, "value: 320 #"), qingyuanWith(t, taxLine, "value: 25 #")} {
		c, err := w.svc.ProposeRuleSet(w.ctx, w.users["admin-qingyuan"], "qingyuan", "q.yaml", src, "变更")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.GenerateWhatIf(w.ctx, committee, c.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.svc.ApproveRuleSet(w.ctx, committee, id, engine.ApproveInput{})
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || engine.ErrorCode(errs[0])+engine.ErrorCode(errs[1]) != engine.ECONFLICT {
		t.Errorf("approvals: %v, %v", errs[0], errs[1])
	}
}
