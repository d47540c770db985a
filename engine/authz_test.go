package engine

import "testing"

func TestAuthorizer(t *testing.T) {
	a, err := NewAuthorizer([]RoleAssignment{
		{Username: "p1", Role: RolePromoter, Park: "qingyuan"},
		{Username: "r1", Role: RoleReviewer, Park: "qingyuan"},
		{Username: "c1", Role: RoleCommittee, Park: "yingde"},
		{Username: "x", Role: RoleReviewer, Park: "qingyuan"},
		{Username: "x", Role: RoleCommittee, Park: "qingyuan"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                 string
		user, park, obj, act string
		want                 bool
	}{
		{"PromoterSubmitsDraft", "p1", "qingyuan", "draft", "submit", true},
		{"PromoterCannotPass", "p1", "qingyuan", "screening", "pass", false},
		{"ReviewerPasses", "r1", "qingyuan", "screening", "pass", true},
		{"ReviewerOtherPark", "r1", "yingde", "screening", "pass", false},
		{"ReviewerCannotApprove", "r1", "qingyuan", "committee_review", "approve", false},
		{"CommitteeApprovesOwnPark", "c1", "yingde", "committee_review", "approve", true},
		{"CommitteeOtherPark", "c1", "qingyuan", "committee_review", "approve", false},
		{"UnknownUser", "nobody", "qingyuan", "project", "read", false},
		{"EmptyPark", "r1", "", "project", "read", false},
		{"RoleNameIsNotAUser", "reviewer", "qingyuan", "screening", "pass", false},
		{"WrongState", "c1", "yingde", "screening", "approve", false},
		// Publicity of a rating run: the committee publishes, decides
		// objections and makes final; the promoter files a firm's objection.
		{"CommitteePublishesRun", "c1", "yingde", "tracking", "publish", true},
		{"CommitteeDecidesObjection", "c1", "yingde", "tracking", "decide_objection", true},
		{"CommitteeFinalizesRun", "c1", "yingde", "tracking", "finalize", true},
		{"CommitteeCannotObject", "c1", "yingde", "tracking", "object", false},
		{"PromoterObjects", "p1", "qingyuan", "tracking", "object", true},
		{"PromoterCannotPublish", "p1", "qingyuan", "tracking", "publish", false},
		{"PromoterCannotFinalize", "p1", "qingyuan", "tracking", "finalize", false},
		{"ReviewerCannotDecideObjection", "r1", "qingyuan", "tracking", "decide_objection", false},
		{"PromoterObjectsOwnParkOnly", "p1", "yingde", "tracking", "object", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.Allowed(tc.user, tc.park, tc.obj, tc.act); got != tc.want {
				t.Errorf("Allowed(%s,%s,%s,%s) = %v, want %v", tc.user, tc.park, tc.obj, tc.act, got, tc.want)
			}
		})
	}
	t.Run("RoleChosenForAction", func(t *testing.T) {
		if r, _ := a.Role("x", "qingyuan", "committee_review", "approve"); r != RoleCommittee {
			t.Errorf("Role = %q, want committee", r)
		}
		if r, _ := a.Role("x", "qingyuan", "expert_review", "score"); r != RoleReviewer {
			t.Errorf("Role = %q, want reviewer", r)
		}
	})
	t.Run("ReloadRevokes", func(t *testing.T) {
		b, _ := NewAuthorizer([]RoleAssignment{{Username: "r1", Role: RoleReviewer, Park: "qingyuan"}})
		if err := b.Load(nil); err != nil {
			t.Fatal(err)
		}
		if b.Allowed("r1", "qingyuan", "project", "read") {
			t.Error("revoked role still allowed")
		}
	})
	t.Run("UnsafeNameRefused", func(t *testing.T) {
		if _, err := NewAuthorizer([]RoleAssignment{{Username: "a,b", Role: RoleAdmin, Park: "qingyuan"}}); err == nil {
			t.Error("comma in user name accepted into policy")
		}
	})
}

// TestPolicyMatchesLifecycle keeps the policy and the fsm table in step: every
// (state, event) the policy grants must be a real transition.
func TestPolicyMatchesLifecycle(t *testing.T) {
	a, err := NewAuthorizer(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := a.loaded.Load().enforcer
	policy, err := e.GetPolicy()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, p := range policy {
		obj, act := p[2], p[3]
		var isState bool
		for _, s := range States {
			isState = isState || string(s) == obj
		}
		if !isState || act == EventUpdate || act == EventScore || act == EventConflict || act == EventFullProductionReview ||
			act == EventVote || act == EventRecall || act == EventRemind { // not fsm events: a vote and a reminder move nothing, a recall goes back where the recalled move came from
			continue
		}
		checked++
		if !newMachine(State(obj)).Can(act) {
			t.Errorf("policy grants %s on %s but the lifecycle has no such transition", act, obj)
		}
	}
	// None checked means the policy never loaded: the loop above proved nothing.
	if checked == 0 {
		t.Fatalf("no state-and-event line of the policy checked (%d lines read)", len(policy))
	}
	// The other way: every transition of the lifecycle is someone's to make,
	// but for those the engine makes itself: the outcome of a scoring round
	// (recommend, fail_review) and the annual rating run (rate).
	engineMade := map[string]bool{EventRecommend: true, EventFailReview: true, EventRate: true}
	granted := map[[2]string]bool{}
	for _, p := range policy {
		granted[[2]string{p[2], p[3]}] = true
	}
	for _, ev := range lifecycle {
		for _, src := range ev.Src {
			if !engineMade[ev.Name] && !granted[[2]string{src, ev.Name}] {
				t.Errorf("the lifecycle has %s on %s but no role may do it", ev.Name, src)
			}
		}
	}
}
