package web

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// TestObserverSeesOnlyWhatIsShared: a 知会单位 (observer) reads exactly
// what is shared with them, so their workbench counts none of the park's
// projects, and their menu leaves out the pages they cannot use (the
// project list, ratings, delegations, the dashboard); a reviewer's keeps
// them, with the counts.
func TestObserverSeesOnlyWhatIsShared(t *testing.T) {
	w := mustWorld(t)
	w.bureau("natres", ownPark, "自然资源局")
	w.project(engine.StateScreening)
	staffOnly := []string{"/projects", "/tracking", "/delegations", "/dashboard"}
	for _, c := range []struct {
		who    string
		staff  bool
		counts bool
	}{{"natres", false, false}, {"reviewer", true, true}} {
		doc := parseHTML(t, w.login(c.who).do("GET", "/", nil).Body.String())
		menu := map[string]bool{}
		for _, a := range findAll(doc, func(n *html.Node) bool {
			return n.Data == "a" && n.Parent != nil && attr(n.Parent, "class") == "mainnav"
		}) {
			menu[attr(a, "href")] = true
		}
		for _, href := range staffOnly {
			if menu[href] != c.staff {
				t.Errorf("%s: menu has %s = %v, want %v (menu %v)", c.who, href, menu[href], c.staff, menu)
			}
		}
		if !menu["/shared"] {
			t.Errorf("%s: no 抄送给我 in the menu %v", c.who, menu)
		}
		counts := findAll(doc, func(n *html.Node) bool { return n.Data == "a" && attr(n, "class") == "count" })
		if (len(counts) > 0) != c.counts {
			t.Errorf("%s: %d state counts on the workbench, want counts %v", c.who, len(counts), c.counts)
		}
		sharedOnly := findAll(doc, func(n *html.Node) bool { return hasAttr(n, "data-shared-only") })
		if (len(sharedOnly) == 1) == c.staff || c.staff == false && !strings.Contains(text(sharedOnly[0]), "知会单位") {
			t.Errorf("%s: the shared-only line shown %d times", c.who, len(sharedOnly))
		}
	}
}
