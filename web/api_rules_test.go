package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"zonevet/engine"
)

// apiGovernRoutes are the permission-matrix rows of rule-set governance,
// meetings and the password reset over the API: the same roles as the
// 规则集, 会议 and account pages.
func (w *world) apiGovernRoutes() []route {
	proposal := func(prepare func(w *world, c *engine.RuleSetChange), target func(c *engine.RuleSetChange) string, body any) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, _ string) (string, any) {
			c := w.propose(ownPark, ruleSetFile(w.t, "api-"+randomToken()[:8]))
			if prepare != nil {
				prepare(w, c)
			}
			return target(c), body
		}
	}
	changePath := func(suffix string) func(c *engine.RuleSetChange) string {
		return func(c *engine.RuleSetChange) string {
			return fmt.Sprintf("/api/v1/rulesets/changes/%d%s", c.ID, suffix)
		}
	}
	whatIf := func(w *world, c *engine.RuleSetChange) {
		if _, _, err := w.svc.GenerateWhatIf(w.ctx, w.users["committee"], c.ID); err != nil {
			w.t.Fatal(err)
		}
	}
	report := func(suffix string) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, _ string) (string, any) {
			c := w.propose(ownPark, ruleSetFile(w.t, "api-"+randomToken()[:8]))
			_, rec, err := w.svc.GenerateWhatIf(w.ctx, w.users["committee"], c.ID)
			if err != nil {
				w.t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/rulesets/whatif/%d%s", rec.ID, suffix), nil
		}
	}
	opened := func(votes bool, suffix string, body func(p *engine.Project) any) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, p *engine.Project, _ string) (string, any) {
			m := w.meeting(p)
			if votes {
				w.vote(m, p, engine.VoteAgree)
			}
			target := fmt.Sprintf("/api/v1/meetings/%d%s", m.ID, suffix)
			if body == nil {
				return target, nil
			}
			return target, body(p)
		}
	}
	const readers = "anon=401 own=403 admin=200 committee=200 auditor=200 other=403"
	return []route{
		{"GET", "/api/v1/rulesets/changes", "", proposal(nil, func(*engine.RuleSetChange) string { return "/api/v1/rulesets/changes?park=" + ownPark }, nil),
			"anon=401 own=403 admin=200 committee=200 auditor=200 other=404"},
		{"POST", "/api/v1/rulesets/changes", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/api/v1/rulesets/changes", proposeInput{Park: ownPark, FileName: "q.yaml", File: string(ruleSetFile(w.t, "api-"+randomToken()[:8])), Note: "提高投资强度门槛"}
		}, "anon=401 own=403 admin=201 other=403"},
		{"GET", "/api/v1/rulesets/changes/:change", "", proposal(nil, changePath(""), nil), readers},
		{"POST", "/api/v1/rulesets/changes/:change/whatif", "", proposal(nil, changePath("/whatif"), map[string]any{}),
			"anon=401 own=403 admin=201 committee=201 other=403"},
		{"POST", "/api/v1/rulesets/changes/:change/approve", "", proposal(whatIf, changePath("/approve"), approveInput{Opinion: "同意"}),
			"anon=401 own=403 committee=200 other=403"},
		{"POST", "/api/v1/rulesets/changes/:change/refuse", "", proposal(nil, changePath("/refuse"), reasonInput{Reason: "依据不足"}),
			"anon=401 own=403 committee=200 other=403"},
		{"POST", "/api/v1/rulesets/changes/:change/withdraw", "", proposal(nil, changePath("/withdraw"), reasonInput{Reason: "重新起草"}),
			"anon=401 own=403 admin=200 other=403"},
		{"GET", "/api/v1/rulesets/diff", "", proposal(nil, func(c *engine.RuleSetChange) string {
			return "/api/v1/rulesets/diff?from=" + c.BaseVersion + "&to=" + c.Version
		}, nil), readers},
		{"POST", "/api/v1/rulesets/whatif", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/api/v1/rulesets/whatif", draftWhatIfInput{Park: ownPark, File: string(ruleSetFile(w.t, "draft-"+randomToken()[:8]))}
		}, "anon=401 own=403 admin=200 committee=200 other=403"},
		{"GET", "/api/v1/rulesets/whatif/:whatif", "", report(""), readers},
		{"GET", "/api/v1/rulesets/whatif/:whatif/report.xlsx", "", report("/report.xlsx"), readers},

		{"GET", "/api/v1/meetings", "", get("/api/v1/meetings"), "anon=401 own=403 committee=200 other=403 committee@other=200"},
		{"GET", "/api/v1/meetings/agenda", "", get("/api/v1/meetings/agenda?park=" + ownPark), "anon=401 own=403 committee=200 other=404"},
		{"POST", "/api/v1/meetings", engine.StateCommitteeReview, func(w *world, p *engine.Project, _ string) (string, any) {
			members, err := w.svc.CommitteeMembers(w.ctx, w.users["committee"], p.Park)
			if err != nil {
				w.t.Fatal(err)
			}
			return "/api/v1/meetings", engine.MeetingInput{Park: ownPark, HeldOn: "2026-12-01", Number: "清高管纪〔2026〕3号", Present: members}
		}, "anon=401 own=403 committee=201 other=403"},
		{"GET", "/api/v1/meetings/:mid", engine.StateCommitteeReview, opened(false, "", nil), "anon=401 own=404 committee=200 other=404"},
		{"POST", "/api/v1/meetings/:mid/votes", engine.StateCommitteeReview, opened(false, "/votes", func(p *engine.Project) any {
			return voteInput{ProjectID: p.ID, Choice: engine.VoteAgree}
		}), "anon=401 own=404 committee=201 other=404"},
		{"POST", "/api/v1/meetings/:mid/decisions", engine.StateCommitteeReview, opened(true, "/decisions", func(p *engine.Project) any {
			return decisionInput{ProjectID: p.ID, Event: "approve", Version: p.Version}
		}), "anon=401 own=404 committee=200 other=404"},

		{"POST", "/api/v1/users/:id/password", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			u := w.staff("s")
			return "/api/v1/users/" + strconv.FormatInt(u.ID, 10) + "/password", passwordInput{Password: "a-new-long-password"}
		}, "anon=401 own=403 admin=200 other=403 admin@other=404"},
	}
}

// TestAPIRuleChangeEndToEnd walks a rule-set change over the API with
// tokens, as another system would: an account that is both admin and
// committee proposes a file; a read-only token cannot generate the
// what-if; the approval is refused without a what-if, then to the
// proposer (four eyes); a second account generates the what-if (retried
// with its Idempotency-Key: one report), downloads it, and approves; the
// version is in force, the approval's entry names the report's SHA-256.
func TestAPIRuleChangeEndToEnd(t *testing.T) {
	w := mustWorld(t)
	w.user("both", engine.RoleAssignment{Role: engine.RoleAdmin, Park: ownPark}, engine.RoleAssignment{Role: engine.RoleCommittee, Park: ownPark})
	acting := append(append([]string{}, engine.ReadScopes...), engine.ActScopes...)
	proposer := w.bearerFor("both", engine.APIToken{Scopes: acting})
	approver := w.bearerFor("committee", engine.APIToken{Scopes: acting})
	readOnly := w.bearerFor("committee", engine.APIToken{Scopes: engine.ReadScopes})
	src := string(ruleSetFile(t, "e2e"))

	// A file with a mistake is refused whole, naming the field and the line.
	rec := proposer.do("POST", "/api/v1/rulesets/changes", proposeInput{Park: ownPark, File: strings.Replace(src, "precision: 2", "precision: two", 1), Note: "x"})
	if e := decode[apiError](t, rec.Body.Bytes()); rec.Code != http.StatusBadRequest || e.Field != "file" || !strings.Contains(e.Message, "行") {
		t.Fatalf("a bad file: %d %s", rec.Code, rec.Body)
	}
	rec = proposer.do("POST", "/api/v1/rulesets/changes", proposeInput{Park: ownPark, FileName: "q.yaml", File: src, Note: "提高门槛"})
	if rec.Code != http.StatusCreated {
		t.Fatalf("propose: %d %s", rec.Code, rec.Body)
	}
	ch := decode[engine.RuleSetChange](t, rec.Body.Bytes())
	if ch.Shown != engine.RuleSetProposed || ch.ProposedBy != "both" || ch.BaseVersion == ch.Version {
		t.Fatalf("proposed: %+v", ch)
	}
	base := fmt.Sprintf("/api/v1/rulesets/changes/%d", ch.ID)
	if rec := readOnly.do("POST", base+"/whatif", map[string]any{}); rec.Code != http.StatusForbidden {
		t.Fatalf("what-if with a read-only token: %d", rec.Code)
	}
	if rec := approver.do("POST", base+"/approve", approveInput{}); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "影响评估") {
		t.Fatalf("approve without a what-if: %d %s", rec.Code, rec.Body)
	}
	whatif := func() (int, string) {
		r := newJSONRequest("POST", base+"/whatif", []byte("{}"))
		r.Header.Set("Authorization", "Bearer "+approver.bearer)
		r.Header.Set("Idempotency-Key", "whatif-1")
		rec := serve(w, r)
		return rec.Code, rec.Body.String()
	}
	s1, b1 := whatif()
	s2, b2 := whatif()
	if s1 != http.StatusCreated || s2 != s1 || b1 != b2 {
		t.Fatalf("what-if and its retry: %d %d\n%s", s1, s2, b1)
	}
	wi := decode[whatIfAnswer](t, []byte(b1))
	if wi.ID == 0 || len(wi.SHA256) != 64 || wi.Report.Version != ch.Version {
		t.Fatalf("what-if: %+v", wi)
	}
	if got := len(entriesOf(t, w, engine.EventRulesWhatIf)); got != 1 {
		t.Fatalf("%d what-if entries after a retry, want 1", got)
	}
	if rec := approver.do("GET", fmt.Sprintf("/api/v1/rulesets/whatif/%d/report.xlsx", wi.ID), nil); rec.Code != http.StatusOK ||
		!bytes.HasPrefix(rec.Body.Bytes(), []byte("PK")) {
		t.Fatalf("xlsx: %d", rec.Code)
	}
	if rec := proposer.do("POST", base+"/approve", approveInput{WhatIfID: wi.ID}); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "四眼原则") {
		t.Fatalf("the proposer approves: %d %s", rec.Code, rec.Body)
	}
	rec = approver.do("POST", base+"/approve", approveInput{WhatIfID: wi.ID, Opinion: "同意"})
	if rec.Code != http.StatusOK {
		t.Fatalf("approve: %d %s", rec.Code, rec.Body)
	}
	if got := decode[engine.RuleSetChange](t, rec.Body.Bytes()); got.Shown != engine.RuleSetInForce || got.DecidedBy != "committee" {
		t.Fatalf("approved: %+v", got)
	}
	rs, err := w.svc.ActiveRuleSet(w.ctx, ownPark)
	if err != nil || rs.Version() != ch.Version {
		t.Fatalf("in force: %v %v", rs, err)
	}
	es := entriesOf(t, w, engine.EventRulesApprove)
	if len(es) != 1 || !strings.Contains(es[0].Payload, wi.SHA256) {
		t.Fatalf("approval entry: %+v", es)
	}
	// The diff between the two versions, and the pipeline, read back.
	rec = readOnly.do("GET", "/api/v1/rulesets/diff?from="+ch.BaseVersion+"&to="+ch.Version, nil)
	if d := decode[ruleDiff](t, rec.Body.Bytes()); rec.Code != http.StatusOK || len(d.Items) == 0 {
		t.Fatalf("diff: %d %s", rec.Code, rec.Body)
	}
	rec = readOnly.do("GET", "/api/v1/rulesets/changes?park="+ownPark, nil)
	if cs := decode[[]engine.RuleSetChange](t, rec.Body.Bytes()); len(cs) != 2 || cs[0].Shown != engine.RuleSetInForce || cs[1].Shown != engine.RuleSetSuperseded {
		t.Fatalf("pipeline: %s", rec.Body)
	}
}

// TestAPIDraftWhatIf: a draft's what-if answers the report without a
// proposal or a stored report, and the look is logged with the report's
// SHA-256, as `rules whatif FILE --as` is.
func TestAPIDraftWhatIf(t *testing.T) {
	w := mustWorld(t)
	c := w.bearerFor("admin", engine.APIToken{Scopes: []string{engine.ScopeRulesGovern}})
	rec := c.do("POST", "/api/v1/rulesets/whatif", draftWhatIfInput{Park: ownPark, File: string(ruleSetFile(t, "draft"))})
	if rec.Code != http.StatusOK {
		t.Fatalf("draft what-if: %d %s", rec.Code, rec.Body)
	}
	wi := decode[whatIfAnswer](t, rec.Body.Bytes())
	if wi.ID != 0 || len(wi.SHA256) != 64 || len(wi.Report.Diff) == 0 {
		t.Fatalf("answer: %+v", wi)
	}
	cs, err := w.db.RuleSetChanges(w.ctx, ownPark)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.State == engine.RuleSetProposed || c.Version == wi.Report.Version {
			t.Fatalf("a draft's what-if proposed something: %+v", c)
		}
	}
	es := entriesOf(t, w, engine.EventRulesWhatIf)
	if len(es) != 1 || es[0].Actor != "admin" || !strings.Contains(es[0].Payload, wi.SHA256) || !strings.Contains(es[0].Payload, `"draft":true`) {
		t.Fatalf("logged as %+v", es)
	}
	if rec := c.do("POST", "/api/v1/rulesets/whatif", draftWhatIfInput{Park: otherPark, File: string(ruleSetFile(t, "draft"))}); rec.Code != http.StatusForbidden {
		t.Fatalf("another park's draft: %d", rec.Code)
	}
}

// TestAPIMeetingToDecision: a meeting over the API from its agenda to the
// decision: opened with both members present, each votes (a second vote
// is a conflict), the project is approved by the meeting's decision with
// its minutes filed, and approving it as a plain action is refused.
func TestAPIMeetingToDecision(t *testing.T) {
	w := mustWorld(t)
	w.user("committee2", engine.RoleAssignment{Role: engine.RoleCommittee, Park: ownPark})
	p := w.project(engine.StateCommitteeReview)
	acting := []string{engine.ScopeProjectsRead, engine.ScopeProjectsAct}
	c1 := w.bearerFor("committee", engine.APIToken{Scopes: acting})
	c2 := w.bearerFor("committee2", engine.APIToken{Scopes: acting})
	if rec := c1.do("POST", fmt.Sprintf("/api/v1/projects/%d/actions", p.ID), engine.Action{Event: engine.EventApprove, Version: p.Version}); rec.Code < 400 {
		t.Fatalf("approval outside a meeting: %d", rec.Code)
	}
	ag := decode[meetingAgenda](t, c1.do("GET", "/api/v1/meetings/agenda?park="+ownPark, nil).Body.Bytes())
	if len(ag.Agenda) != 1 || ag.Agenda[0].ID != p.ID || len(ag.Members) != 2 {
		t.Fatalf("agenda: %+v", ag)
	}
	rec := c1.do("POST", "/api/v1/meetings", engine.MeetingInput{Park: ownPark, HeldOn: "2026-12-01", Number: "清高管纪〔2026〕9号", Present: ag.Members})
	if rec.Code != http.StatusCreated {
		t.Fatalf("open: %d %s", rec.Code, rec.Body)
	}
	m := decode[engine.Meeting](t, rec.Body.Bytes())
	base := fmt.Sprintf("/api/v1/meetings/%d", m.ID)
	if rec := c1.do("POST", base+"/decisions", decisionInput{ProjectID: p.ID, Event: engine.EventApprove, Version: p.Version}); rec.Code < 400 {
		t.Fatalf("decided before the votes: %d", rec.Code)
	}
	for _, c := range []*client{c1, c2} {
		if rec := c.do("POST", base+"/votes", voteInput{ProjectID: p.ID, Choice: engine.VoteAgree}); rec.Code != http.StatusCreated {
			t.Fatalf("vote: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := c2.do("POST", base+"/votes", voteInput{ProjectID: p.ID, Choice: engine.VoteAgree}); rec.Code != http.StatusConflict {
		t.Fatalf("a second vote: %d", rec.Code)
	}
	d := decode[meetingAnswer](t, c1.do("GET", base, nil).Body.Bytes())
	if len(d.Items) != 1 || !d.Items[0].Tally.Complete || d.Items[0].Tally.Agree != 2 || d.Items[0].Tally.Outcome != engine.EventApprove {
		t.Fatalf("tally: %+v", d.Items)
	}
	rec = c1.do("POST", base+"/decisions", decisionInput{ProjectID: p.ID, Event: engine.EventApprove, Version: p.Version})
	if rec.Code != http.StatusOK {
		t.Fatalf("decide: %d %s", rec.Code, rec.Body)
	}
	if got := decode[engine.Project](t, rec.Body.Bytes()); got.State != engine.StateApproved {
		t.Fatalf("state %s", got.State)
	}
	d = decode[meetingAnswer](t, c1.do("GET", base, nil).Body.Bytes())
	if d.Items[0].Outcome != engine.EventApprove || len(d.Items[0].MinutesSHA256) != 64 || d.Items[0].DocumentID == 0 {
		t.Fatalf("decided item: %+v", d.Items[0].AgendaItem)
	}
}

// TestAPIPasswordResetRevokesTokens: an admin's reset over the API ends the
// user's sessions and revokes their API tokens at once, is logged without
// the password, and follows the page's rules (a short password is refused,
// naming the field).
func TestAPIPasswordResetRevokesTokens(t *testing.T) {
	w := mustWorld(t)
	u := w.staff("pw")
	theirs := w.bearerFor(u.Username, engine.APIToken{Scopes: []string{engine.ScopeProjectsRead}})
	session := w.login(u.Username)
	if rec := theirs.do("GET", "/api/v1/projects", nil); rec.Code != http.StatusOK {
		t.Fatalf("before: %d", rec.Code)
	}
	admin := w.bearerFor("admin", engine.APIToken{Scopes: []string{engine.ScopeUsersManage}})
	target := fmt.Sprintf("/api/v1/users/%d/password", u.ID)
	if rec := admin.do("POST", target, passwordInput{Password: "short"}); rec.Code != http.StatusBadRequest ||
		decode[apiError](t, rec.Body.Bytes()).Field != "password" {
		t.Fatalf("a short password: %d %s", rec.Code, rec.Body)
	}
	if rec := admin.do("POST", target, passwordInput{Password: "a-new-long-password"}); rec.Code != http.StatusOK {
		t.Fatalf("reset: %d %s", rec.Code, rec.Body)
	}
	if rec := theirs.do("GET", "/api/v1/projects", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("their token after the reset: %d", rec.Code)
	}
	if rec := session.do("GET", "/api/v1/projects", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("their session after the reset: %d", rec.Code)
	}
	es := entriesOf(t, w, engine.EventUserPassword)
	if len(es) != 1 || strings.Contains(es[0].Payload, "a-new-long-password") {
		t.Fatalf("logged as %+v", es)
	}
}

// entriesOf lists the log's entries of one event.
func entriesOf(t *testing.T, w *world, event string) []engine.AuditEntry {
	t.Helper()
	es, _, err := w.db.AuditPage(w.ctx, engine.AuditQuery{AuditFilter: engine.AuditFilter{Events: []string{event}, Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return es
}
