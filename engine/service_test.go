package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/store"
	"zonevet/store/storetest"
)

// world is a real service on a temp SQLite file (a PostgreSQL database under
// ZONEVET_TEST_STORE=postgres, storetest.Path) with both default parks and
// one user per role and park.
type world struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	svc   *engine.Service
	users map[string]*engine.User
}

func mustWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := engine.NewService(ctx, engine.Config{Store: db, PasswordHashing: storetest.PasswordHashing})
	if err != nil {
		t.Fatal(err)
	}
	for _, park := range rules.DefaultParks() {
		rs, err := rules.Default(park)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.PutPark(ctx, engine.Park{ID: park, NameZH: rs.ParkNameZH(), NameEN: rs.ParkNameEN(), Level: rs.Level()}); err != nil {
			t.Fatal(err)
		}
		if err := svc.InstallRuleSet(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	w := &world{t: t, ctx: ctx, db: db, svc: svc, users: map[string]*engine.User{}}
	for _, park := range []string{"qingyuan", "yingde"} {
		for _, r := range engine.Roles {
			w.user(string(r)+"-"+park, engine.RoleAssignment{Role: r, Park: park})
		}
		for i := 2; i <= 4; i++ {
			w.user("reviewer"+string(rune('0'+i))+"-"+park, engine.RoleAssignment{Role: engine.RoleReviewer, Park: park})
		}
	}
	return w
}

// testHash is one argon2id hash shared by every test user: hashing is
// deliberately slow, and these tests are about the workflow, not passwords.
var testHash = sync.OnceValue(func() string { return storetest.Hash("password") })

// user makes an account the way the operator's CreateUser does, by
// one Change with a user_create entry and a user_roles entry per further
// park, but with the shared testHash instead of hashing a password each time.
func (w *world) user(name string, roles ...engine.RoleAssignment) *engine.User {
	w.t.Helper()
	u := &engine.User{Username: name, DisplayName: name, PasswordHash: testHash(), CreatedAt: time.Now()}
	storetest.Account(w.t, w.ctx, w.db, u, roles...)
	if err := w.svc.ReloadRoles(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	w.users[name] = u
	return u
}

// goodFigures pass every hard rule of both default parks.
func goodFigures() rules.Figures {
	return rules.Figures{IndustryCode: "C3985", TotalInvestment: fp(30000), FixedAssetInvestment: fp(20000), LandArea: fp(50),
		FloorArea: fp(50 * 666.67 * 1.5), BuildingCoverage: fp(48), OfficeShare: fp(5), ExpectedOutput: fp(60000), Revenue: fp(58000),
		Tax: fp(2200), RDExpense: fp(2900), EnergyUse: fp(700), Employees: ip(300),
		GreenRatio: fp(8), LandGrade: ip(9), LandPrice: fp(18), Electricity: fp(300),
		NegativeList: bp(false), EcoRedLine: bp(false), BadCredit: bp(false)}
}

func input(park string, f rules.Figures) engine.ProjectInput {
	return engine.ProjectInput{Park: park, Name: "电子铜箔项目", InvestorName: "清远华科新材料股份有限公司", USCC: "91440300708461136T", Figures: f}
}

func (w *world) create(park string, f rules.Figures) *engine.Project {
	w.t.Helper()
	p, err := w.svc.CreateProject(w.ctx, w.users["promoter-"+park], input(park, f))
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) act(who string, p *engine.Project, event, reason string) *engine.Project {
	w.t.Helper()
	got, err := w.svc.Act(w.ctx, w.users[who], p.ID, engine.Action{Event: event, Version: p.Version, Reason: reason})
	if err != nil {
		w.t.Fatalf("%s by %s: %v", event, who, err)
	}
	return got
}

func (w *world) scoreAll(p *engine.Project, fraction float64, who ...string) *engine.Project {
	w.t.Helper()
	rs, err := w.svc.ActiveRuleSet(w.ctx, p.Park)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range who {
		items := map[string]float64{}
		for _, c := range rs.Scoring().Criteria {
			items[c.ID] = c.Max * fraction
		}
		out, err := w.svc.Score(w.ctx, w.users[r], p.ID, engine.ScoreInput{Round: p.Round, Items: items})
		if err != nil {
			w.t.Fatalf("score by %s: %v", r, err)
		}
		p = out.Project
	}
	return p
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := engine.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// TestLifecycleHappyPath walks a project from draft to exit, each step by the
// role that owns it, and checks the decision log records every step.
func TestLifecycleHappyPath(t *testing.T) {
	w := mustWorld(t)
	p := w.create("qingyuan", goodFigures())
	p = w.act("promoter-qingyuan", p, engine.EventSubmit, "")
	if p.State != engine.StateScreening || p.Report == nil || !p.Report.Passed() || p.Round != 1 {
		t.Fatalf("after submit: state %s, report %+v, round %d", p.State, p.Report, p.Round)
	}
	if p.DueAt == nil {
		t.Fatal("screening has no due date")
	}
	p = w.act("reviewer-qingyuan", p, engine.EventPass, "")
	p = w.scoreAll(p, 0.8, "reviewer-qingyuan", "reviewer2-qingyuan")
	if p.State != engine.StateExpertReview {
		t.Fatalf("before quorum: state %s", p.State)
	}
	p = w.scoreAll(p, 0.8, "reviewer3-qingyuan")
	if p.State != engine.StateCommitteeReview {
		t.Fatalf("after quorum at 80: state %s, want committee_review", p.State)
	}
	p = w.decide(p, engine.EventApprove)
	p = w.act("promoter-qingyuan", p, engine.EventSign, "")
	p = w.act("promoter-qingyuan", p, engine.EventStartConstruction, "")
	p = w.act("promoter-qingyuan", p, engine.EventStartProduction, "")
	p = w.act("committee-qingyuan", p, engine.EventRectify, "评价为 D")
	// Rectified needs the firm's plan and evidence: here the committee's finding (≥ 20 characters).
	if err := w.svc.SubmitPlan(w.ctx, w.users["promoter-qingyuan"], p.ID, "扩大高附加值产品产能,年内新增税收 300 万元。"); err != nil {
		t.Fatal(err)
	}
	p = w.act("committee-qingyuan", p, engine.EventRectified, "经管委会现场核查,企业已完成技改并新增产能,整改达标。")
	p = w.act("committee-qingyuan", p, engine.EventRectify, "再次评价为 D")
	p = w.act("committee-qingyuan", p, engine.EventExit, "整改失败,土地回购")
	if p.State != engine.StateExited || !p.State.Terminal() {
		t.Fatalf("final state %s", p.State)
	}
	log, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, e := range log {
		events = append(events, e.Event)
	}
	want := []string{"create", "submit", "pass", "score", "score", "score", "recommend", "vote", "upload", "approve", "sign",
		"start_construction", "start_production", "rectify", "rectification_plan", "rectified", "rectify", "exit"}
	if len(events) != len(want) {
		t.Fatalf("log events = %v, want %v", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Fatalf("log events = %v, want %v", events, want)
		}
	}
	v, err := engine.VerifyLog(w.ctx, w.db)
	if err != nil || v.Bad != nil {
		t.Fatalf("verify: %v %v", err, v.Bad)
	}
}

func TestReviewBelowPassMarkReturns(t *testing.T) {
	w := mustWorld(t)
	p := w.create("qingyuan", goodFigures())
	p = w.act("promoter-qingyuan", p, engine.EventSubmit, "")
	p = w.act("reviewer-qingyuan", p, engine.EventPass, "")
	p = w.scoreAll(p, 0.6, "reviewer-qingyuan", "reviewer2-qingyuan", "reviewer3-qingyuan")
	if p.State != engine.StateReturned {
		t.Fatalf("mean 60 < 70: state %s, want returned", p.State)
	}
	// A resubmission opens a new round: the old scores do not count.
	p = w.act("promoter-qingyuan", p, engine.EventResubmit, "")
	if p.Round != 2 {
		t.Fatalf("round = %d, want 2", p.Round)
	}
	scores, err := w.db.Scores(w.ctx, p.ID, p.Round)
	if err != nil || len(scores) != 0 {
		t.Fatalf("round 2 scores = %v, %v", scores, err)
	}
}

// TestForbidden covers the refusals of issue 2: wrong role, wrong park, own
// project, missing reason, hard-rule failure without override, stale version.
func TestForbidden(t *testing.T) {
	w := mustWorld(t)
	screening := func() *engine.Project {
		return w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	}
	bad := goodFigures()
	bad.FixedAssetInvestment = fp(50 * 200) // 200 万元/亩 < 300: hard failure in qingyuan

	for _, tc := range []struct {
		name   string
		setup  func() *engine.Project
		who    string
		event  string
		reason string
		code   string
	}{
		{"ErrWrongRolePromoterPasses", screening, "promoter-qingyuan", engine.EventPass, "", engine.EFORBIDDEN},
		{"ErrWrongRoleAuditorPasses", screening, "auditor-qingyuan", engine.EventPass, "", engine.EFORBIDDEN},
		{"ErrWrongRoleReviewerApproves", screening, "reviewer-qingyuan", engine.EventOverride, "理由", engine.EFORBIDDEN},
		{"ErrOtherParkReviewer", screening, "reviewer-yingde", engine.EventPass, "", engine.EFORBIDDEN},
		{"ErrOtherParkCommittee", screening, "committee-yingde", engine.EventReject, "理由", engine.EFORBIDDEN},
		{"ErrReturnWithoutReason", screening, "reviewer-qingyuan", engine.EventReturn, "  ", engine.EINVALID},
		{"ErrRejectWithoutReason", screening, "committee-qingyuan", engine.EventReject, "", engine.EINVALID},
		{"ErrWrongStateApprove", screening, "committee-qingyuan", engine.EventApprove, "", engine.ECONFLICT},
		{"ErrUnknownEvent", screening, "reviewer-qingyuan", "teleport", "", engine.EFORBIDDEN},
		{"ErrHardFailPass", func() *engine.Project {
			return w.act("promoter-qingyuan", w.create("qingyuan", bad), engine.EventSubmit, "")
		}, "reviewer-qingyuan", engine.EventPass, "", engine.EFORBIDDEN},
		{"ErrOverrideWithoutReason", func() *engine.Project {
			return w.act("promoter-qingyuan", w.create("qingyuan", bad), engine.EventSubmit, "")
		}, "committee-qingyuan", engine.EventOverride, "", engine.EINVALID},
		{"ErrOverrideNothingFailed", screening, "committee-qingyuan", engine.EventOverride, "理由", engine.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.setup()
			_, err := w.svc.Act(w.ctx, w.users[tc.who], p.ID, engine.Action{Event: tc.event, Version: p.Version, Reason: tc.reason})
			wantCode(t, err, tc.code)
			after, _ := w.db.Project(w.ctx, p.ID)
			if after.Version != p.Version || after.State != p.State {
				t.Errorf("refused command changed the project: %s v%d → %s v%d", p.State, p.Version, after.State, after.Version)
			}
		})
	}

	// Until 2026-12 one click with a short reason ("省重点项目,一事一议")
	// overrode; an override now names the waived rules, cites the minutes and
	// gives a reason of substance (TestOverrideRequirements has the refusals).
	t.Run("OverrideWithMinutes", func(t *testing.T) {
		p := w.act("promoter-qingyuan", w.create("qingyuan", bad), engine.EventSubmit, "")
		act := w.overrideAction(p, "investment_intensity")
		p, err := w.svc.Act(w.ctx, w.users["committee-qingyuan"], p.ID, act)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != engine.StateExpertReview || !p.Override {
			t.Fatalf("after override: %s override=%v", p.State, p.Override)
		}
		log, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventOverride}})
		if len(log) != 1 || log[0].Reason != act.Reason || log[0].Role != engine.RoleCommittee || log[0].RuleSetVersion == "" {
			t.Fatalf("override entry = %+v", log)
		}
	})

	t.Run("ErrStaleVersion", func(t *testing.T) {
		p := screening()
		_, err := w.svc.Act(w.ctx, w.users["reviewer-qingyuan"], p.ID, engine.Action{Event: engine.EventPass, Version: p.Version - 1})
		wantCode(t, err, engine.ECONFLICT)
	})

	t.Run("ErrOwnProject", func(t *testing.T) {
		// One person is promoter and reviewer: they may not review what they registered.
		both := w.user("both", engine.RoleAssignment{Role: engine.RolePromoter, Park: "qingyuan"}, engine.RoleAssignment{Role: engine.RoleReviewer, Park: "qingyuan"})
		p, err := w.svc.CreateProject(w.ctx, both, input("qingyuan", goodFigures()))
		if err != nil {
			t.Fatal(err)
		}
		p = w.act("both", p, engine.EventSubmit, "")
		_, err = w.svc.Act(w.ctx, both, p.ID, engine.Action{Event: engine.EventPass, Version: p.Version})
		wantCode(t, err, engine.EFORBIDDEN)
		for _, a := range w.svc.Actions(w.ctx, both, p) {
			if a == engine.EventPass || a == engine.EventReturn {
				t.Errorf("Actions offers %q on own project", a)
			}
		}
	})

	t.Run("ScoreGuards", func(t *testing.T) {
		p := w.act("reviewer-qingyuan", screening(), engine.EventPass, "")
		rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan")
		full := map[string]float64{}
		for _, c := range rs.Scoring().Criteria {
			full[c.ID] = c.Max
		}
		if err := w.svc.DeclareConflict(w.ctx, w.users["reviewer2-qingyuan"], p.ID, "曾任投资方顾问"); err != nil {
			t.Fatal(err)
		}
		_, err := w.svc.Score(w.ctx, w.users["reviewer2-qingyuan"], p.ID, engine.ScoreInput{Round: p.Round, Items: full})
		wantCode(t, err, engine.EFORBIDDEN)
		if _, err := w.svc.Score(w.ctx, w.users["reviewer-qingyuan"], p.ID, engine.ScoreInput{Round: p.Round, Items: full}); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.Score(w.ctx, w.users["reviewer-qingyuan"], p.ID, engine.ScoreInput{Round: p.Round, Items: full})
		wantCode(t, err, engine.ECONFLICT)
		over := map[string]float64{}
		for k, v := range full {
			over[k] = v
		}
		for _, c := range rs.Scoring().Criteria[:1] {
			over[c.ID] = c.Max + 1
		}
		_, err = w.svc.Score(w.ctx, w.users["reviewer3-qingyuan"], p.ID, engine.ScoreInput{Round: p.Round, Items: over})
		wantCode(t, err, engine.EINVALID)
		_, err = w.svc.Score(w.ctx, w.users["reviewer-yingde"], p.ID, engine.ScoreInput{Round: p.Round, Items: full})
		wantCode(t, err, engine.EFORBIDDEN)
	})
}

func TestProjectInputValidation(t *testing.T) {
	w := mustWorld(t)
	for _, tc := range []struct {
		name  string
		edit  func(*engine.ProjectInput)
		field string
	}{
		{"ErrNoName", func(in *engine.ProjectInput) { in.Name = " " }, "name"},
		{"ErrBadUSCC", func(in *engine.ProjectInput) { in.USCC = "91440300708461136X" }, "uscc"},
		{"ErrNegativeTax", func(in *engine.ProjectInput) { in.Figures.Tax = fp(-1) }, "tax"},
		{"ErrFixedAboveTotal", func(in *engine.ProjectInput) { in.Figures.FixedAssetInvestment = fp(*in.Figures.TotalInvestment + 1) }, "fixed_asset_investment"},
		{"ErrCoverageOver100", func(in *engine.ProjectInput) { in.Figures.BuildingCoverage = fp(101) }, "building_coverage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := input("qingyuan", goodFigures())
			tc.edit(&in)
			_, err := w.svc.CreateProject(w.ctx, w.users["promoter-qingyuan"], in)
			var e *engine.Error
			if engine.ErrorCode(err) != engine.EINVALID || !asError(err, &e) || e.Field != tc.field || e.Text("zh") == "" {
				t.Fatalf("err = %v, want invalid on %s", err, tc.field)
			}
		})
	}
	t.Run("ErrZeroLandOnSubmit", func(t *testing.T) {
		f := goodFigures()
		f.LandArea = fp(0)
		p := w.create("qingyuan", f)
		_, err := w.svc.Act(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version})
		var e *engine.Error
		if !asError(err, &e) || e.Code != engine.EINVALID || e.Field != "land_area" {
			t.Fatalf("err = %v, want invalid land_area", err)
		}
	})
}

func asError(err error, target **engine.Error) bool {
	e, ok := err.(*engine.Error)
	if ok {
		*target = e
	}
	return ok
}

// TestConcurrentAct fires the same transition from 50 goroutines: exactly one
// wins and is logged once; the rest get a conflict.
func TestConcurrentAct(t *testing.T) {
	w := mustWorld(t)
	p := w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	before, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.svc.Act(w.ctx, w.users["reviewer-qingyuan"], p.ID, engine.Action{Event: engine.EventPass, Version: p.Version})
			mu.Lock()
			codes[engine.ErrorCode(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[""] != 1 || codes[engine.ECONFLICT] != 49 {
		t.Fatalf("outcomes = %v, want 1 success and 49 conflicts", codes)
	}
	after, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{})
	if len(after) != len(before)+1 {
		t.Fatalf("log grew by %d, want 1", len(after)-len(before))
	}
}

// TestConcurrentScoresAllCount: reviewers scoring at the same moment all get
// their sheet in and the quorum transition happens exactly once.
func TestConcurrentScoresAllCount(t *testing.T) {
	w := mustWorld(t)
	p := w.act("reviewer-qingyuan", w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, ""), engine.EventPass, "")
	rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan")
	items := map[string]float64{}
	for _, c := range rs.Scoring().Criteria {
		items[c.ID] = c.Max * 0.9
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, r := range []string{"reviewer-qingyuan", "reviewer2-qingyuan", "reviewer3-qingyuan"} {
		wg.Add(1)
		go func(u *engine.User) {
			defer wg.Done()
			_, err := w.svc.Score(w.ctx, u, p.ID, engine.ScoreInput{Round: p.Round, Items: items})
			errs <- err
		}(w.users[r])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := w.db.Project(w.ctx, p.ID)
	if got.State != engine.StateCommitteeReview {
		t.Fatalf("state %s, want committee_review", got.State)
	}
	rec, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventRecommend}})
	if len(rec) != 1 {
		t.Fatalf("%d recommend entries, want 1", len(rec))
	}
}

func TestScoresHiddenUntilQuorum(t *testing.T) {
	w := mustWorld(t)
	p := w.act("reviewer-qingyuan", w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, ""), engine.EventPass, "")
	p = w.scoreAll(p, 0.9, "reviewer-qingyuan")
	got, visible, err := w.svc.Scores(w.ctx, w.users["reviewer2-qingyuan"], p.ID)
	if err != nil || visible || len(got) != 0 {
		t.Fatalf("reviewer2 sees %d scores (visible=%v) before scoring", len(got), visible)
	}
	got, visible, _ = w.svc.Scores(w.ctx, w.users["committee-qingyuan"], p.ID)
	if !visible || len(got) != 1 {
		t.Fatalf("committee sees %d scores (visible=%v)", len(got), visible)
	}
}

func TestReadOtherParkIsNotFound(t *testing.T) {
	w := mustWorld(t)
	p := w.create("qingyuan", goodFigures())
	_, err := w.svc.Project(w.ctx, w.users["auditor-yingde"], p.ID)
	wantCode(t, err, engine.ENOTFOUND)
	ps, total, err := w.svc.Projects(w.ctx, w.users["promoter-yingde"], engine.ProjectFilter{Limit: 10})
	if err != nil || total != 0 || len(ps) != 0 {
		t.Fatalf("yingde promoter lists %d qingyuan projects", total)
	}
}

func TestWorkbench(t *testing.T) {
	w := mustWorld(t)
	p := w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	wb, err := w.svc.Workbench(w.ctx, w.users["reviewer-qingyuan"], 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(wb) != 1 || len(wb[0].Items) != 1 || wb[0].Items[0].Project.ID != p.ID {
		t.Fatalf("reviewer workbench = %+v", wb)
	}
	if wb[0].Counts[engine.StateScreening] != 1 {
		t.Fatalf("counts = %v", wb[0].Counts)
	}
	later, err := engine.NewService(w.ctx, engine.Config{Store: w.db, Now: func() time.Time { return time.Now().Add(10 * 24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	wb, _ = later.Workbench(w.ctx, w.users["reviewer-qingyuan"], 20)
	if !wb[0].Items[0].Overdue {
		t.Fatal("10 days later the screening step is not overdue")
	}
}

// pathTo lists the (actor role, event) steps that take a fresh project from
// draft to each state; scores are handled by drive.
var pathTo = map[engine.State][]string{
	engine.StateDraft:             {},
	engine.StateScreening:         {"promoter:submit"},
	engine.StateReturned:          {"promoter:submit", "reviewer:return"},
	engine.StateExpertReview:      {"promoter:submit", "reviewer:pass"},
	engine.StateCommitteeReview:   {"promoter:submit", "reviewer:pass", "scores"},
	engine.StateApproved:          {"promoter:submit", "reviewer:pass", "scores", "meeting:approve"},
	engine.StateSigned:            {"promoter:submit", "reviewer:pass", "scores", "meeting:approve", "promoter:sign"},
	engine.StateUnderConstruction: {"promoter:submit", "reviewer:pass", "scores", "meeting:approve", "promoter:sign", "promoter:start_construction"},
	engine.StateInProduction:      {"promoter:submit", "reviewer:pass", "scores", "meeting:approve", "promoter:sign", "promoter:start_construction", "promoter:start_production"},
	engine.StateRectification:     {"promoter:submit", "reviewer:pass", "scores", "meeting:approve", "promoter:sign", "promoter:start_construction", "promoter:start_production", "committee:rectify"},
}

func (w *world) drive(park string, f rules.Figures, to engine.State) *engine.Project {
	w.t.Helper()
	p := w.create(park, f)
	for _, st := range pathTo[to] {
		if st == "scores" {
			p = w.scoreAll(p, 0.8, "reviewer-"+park, "reviewer2-"+park, "reviewer3-"+park)
			continue
		}
		role, ev, _ := strings.Cut(st, ":")
		if role == "meeting" {
			p = w.decide(p, ev)
			continue
		}
		p = w.act(role+"-"+park, p, ev, "理由")
	}
	if p.State != to {
		w.t.Fatalf("drive to %s ended in %s", to, p.State)
	}
	return p
}

// matrixEvents are the lifecycle events a person takes from a state
// (recommend and fail_review follow from scores; rate is the rating run's).
var matrixEvents = []string{engine.EventSubmit, engine.EventPass, engine.EventOverride, engine.EventReturn,
	engine.EventResubmit, engine.EventWithdraw, engine.EventApprove, engine.EventReject, engine.EventSign,
	engine.EventStartConstruction, engine.EventStartProduction, engine.EventRectify, engine.EventRectified, engine.EventExit,
	engine.EventIdleLand, engine.EventRecoverLand, engine.EventResumeConstruction, engine.EventRecall, engine.EventRemind}

// transitionTable reads testdata/authz/transitions.tsv, the hand-written
// answer of who may take which event from which state: "allowed" or
// "guarded" by role/state/event; anything missing is refused.
func transitionTable(t *testing.T) map[string]string {
	t.Helper()
	roles := map[string]bool{}
	for _, r := range engine.Roles {
		roles[string(r)] = true
	}
	out := map[string]string{}
	for _, row := range readTable(t, "testdata/authz/transitions.tsv", 4) {
		role, state, ev, outcome := row[0], row[1], row[2], row[3]
		if strings.HasPrefix(state, "ruleset:") || strings.HasPrefix(state, "calendar:") || state == "delegation" || state == "project" {
			continue // rule-set and calendar changes: TestRuleSetTransitionMatrix; delegations: TestDelegationMatrix; shares: TestShareMatrix
		}
		if !roles[role] || !slices.Contains(engine.States, engine.State(state)) || !slices.Contains(matrixEvents, ev) ||
			(outcome != "allowed" && outcome != "guarded") {
			t.Fatalf("transitions.tsv: unknown role, state, event or outcome in %v", row)
		}
		out[role+"/"+state+"/"+ev] = outcome
	}
	return out
}

// TestTransitionMatrix checks every lifecycle event from every state as every
// role of the project's park against testdata/authz/transitions.tsv: casbin's
// policy grants exactly the listed cells, and the engine carries out exactly
// the "allowed" ones; every refusal leaves the project as it was. Because a
// refusal changes nothing (which is checked), the refused cases of a state
// share one driven project; each permitted case gets a fresh one.
func TestTransitionMatrix(t *testing.T) {
	w := mustWorld(t)
	table := transitionTable(t)
	a := w.svc.Authorizer()
	t.Run("policy", func(t *testing.T) {
		for _, state := range engine.States {
			for _, ev := range matrixEvents {
				for _, role := range engine.Roles {
					_, listed := table[fmt.Sprintf("%s/%s/%s", role, state, ev)]
					if got := a.Allowed(string(role)+"-qingyuan", "qingyuan", string(state), ev); got != listed {
						t.Errorf("policy lets %s %s from %s: %v, transitions.tsv says %v", role, ev, state, got, listed)
					}
				}
			}
		}
	})
	hardFail := goodFigures()
	hardFail.Tax = fp(50 * 10) // 10 万元/亩 < 30
	for state := range pathTo {
		shared := map[bool]*engine.Project{} // by whether the figures fail a hard rule
		for _, ev := range matrixEvents {
			for _, role := range engine.Roles {
				t.Run(fmt.Sprintf("%s/%s/%s", state, ev, role), func(t *testing.T) {
					f, failing := goodFigures(), ev == engine.EventOverride && state == engine.StateScreening
					if failing {
						f = hardFail // an override needs a failed hard rule to override
					}
					who := string(role) + "-qingyuan"
					want := table[fmt.Sprintf("%s/%s/%s", role, state, ev)] == "allowed"
					// Events whose guard is prepared below change the project
					// first, so they never share one.
					prepared := ev == engine.EventRectified || ev == engine.EventIdleLand || ev == engine.EventRecoverLand || ev == engine.EventOverride
					p := shared[failing]
					if p == nil || want || prepared {
						p = w.drive("qingyuan", f, state)
					}
					if !want && !prepared {
						shared[failing] = p
					}
					act := engine.Action{Event: ev, Version: p.Version, Reason: "理由"}
					switch ev {
					case engine.EventRectified:
						// Guard: the plan on file and the committee's finding of substance.
						if state == engine.StateRectification {
							if err := w.svc.SubmitPlan(w.ctx, w.users["promoter-qingyuan"], p.ID, "整改方案"); err != nil {
								t.Fatal(err)
							}
						}
						act.Reason = "经管委会现场核查,企业已完成整改,各项指标达标。"
					case engine.EventIdleLand, engine.EventRecoverLand:
						// Guard: land idle two years and more (agreed start long past, or
						// construction stalled under a quarter of the investment).
						w.backdateAgreement(p, 3)
						act.Idle = &engine.IdleFacts{StalledSince: w.svc.Today().AddDate(-3, 0, 0), InvestedShare: 10, DevelopedShare: 10}
					case engine.EventOverride:
						if state == engine.StateScreening {
							act = w.overrideAction(p, "tax_per_mu") // a complete 一事一议, so only the role decides
						}
					}
					_, err := w.svc.Act(w.ctx, w.users[who], p.ID, act)
					if got := err == nil; got != want {
						t.Fatalf("%s by %s in %s: err = %v, want success %v", ev, role, state, err, want)
					}
					if err != nil {
						after, _ := w.db.Project(w.ctx, p.ID)
						if after.Version != p.Version || after.State != p.State {
							t.Fatalf("refused %s changed the project", ev)
						}
					}
				})
			}
		}
	}
}

// TestActionsForwardFirst: the first action offered is the one that moves the
// project on, so the UI's primary button is the right one.
func TestActionsForwardFirst(t *testing.T) {
	w := mustWorld(t)
	for _, tc := range []struct {
		state engine.State
		who   string
		want  string
	}{
		{engine.StateDraft, "promoter-qingyuan", engine.EventSubmit},
		{engine.StateScreening, "reviewer-qingyuan", engine.EventPass},
		{engine.StateExpertReview, "reviewer-qingyuan", engine.EventScore},
		{engine.StateCommitteeReview, "committee-qingyuan", engine.EventApprove},
		{engine.StateReturned, "promoter-qingyuan", engine.EventResubmit},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			p := w.drive("qingyuan", goodFigures(), tc.state)
			got := w.svc.Actions(w.ctx, w.users[tc.who], p)
			if len(got) == 0 || got[0] != tc.want {
				t.Fatalf("Actions = %v, want %q first", got, tc.want)
			}
		})
	}
}

// fp, ip and bp make a declared figure; nil is a blank (rules.Figures).
func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }
func bp(v bool) *bool       { return &v }

// overrideAction is a complete 一事一议 on p waiving the given rules: the
// committee uploads the meeting minutes to the project first.
func (w *world) overrideAction(p *engine.Project, waive ...string) engine.Action {
	w.t.Helper()
	doc := &engine.Document{Kind: engine.DocumentMinutes, FileName: "管委会会议纪要.pdf", StoredName: "minutes-" + fmt.Sprint(p.ID),
		MediaType: "application/pdf", Size: 1024, SHA256: strings.Repeat("ab", 32)}
	if err := w.svc.AddDocument(w.ctx, w.users["committee-"+p.Park], p.ID, doc); err != nil {
		w.t.Fatal(err)
	}
	after, err := w.db.Project(w.ctx, p.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return engine.Action{Event: engine.EventOverride, Version: after.Version, Waive: waive,
		Reason:          "新能源材料链主项目,分两期投资,二期达产后各项指标达标,经管委会研究同意进入专家评审。",
		MinutesDocument: doc.ID, MinutesNumber: "清高管纪〔2026〕9号", MinutesDate: "2026-11-30"}
}
