package web

import (
	"fmt"
	"strconv"

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
		return func(c *engine.RuleSetChange) string { return fmt.Sprintf("/api/v1/rulesets/changes/%d%s", c.ID, suffix) }
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
