package web

import (
	"strings"
	"testing"

	"zonevet/engine"
)

// TestLoginDemoAccounts: the demo database's sign-in page lists its
// accounts and password; a deployment without Config.Demo lists nothing.
func TestLoginDemoAccounts(t *testing.T) {
	demo := &DemoLogins{Password: "zonevet-demo", Accounts: []DemoAccount{
		{Username: "reviewer2", DisplayName: "赵评审", Roles: []engine.RoleAssignment{{Role: engine.RoleReviewer, Park: ownPark}, {Role: engine.RoleReviewer, Park: otherPark}}}}}
	w := mustWorldConfig(t, Config{Demo: demo})
	doc := parseHTML(t, w.login("anon").do("GET", "/login", nil).Body.String())
	got := text(byID(doc, "demo-accounts"))
	for _, want := range []string{"zonevet-demo", "reviewer2", "赵评审", "评审专家", "清远", "英德"} {
		if !strings.Contains(got, want) {
			t.Errorf("demo card lacks %q: %q", want, got)
		}
	}
	plain := mustWorld(t)
	if body := plain.login("anon").do("GET", "/login", nil).Body.String(); strings.Contains(body, "demo-accounts") {
		t.Error("a deployment without demo data lists demo accounts")
	}
}
