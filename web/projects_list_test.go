package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// listPages follows the project list from target through its "next" links
// and returns the ids shown, in order, and the "page / pages" of the first page.
func listPages(t *testing.T, c *client, target string) (ids []int64, pager string) {
	t.Helper()
	for page := 1; target != ""; page++ {
		if page > 20 {
			t.Fatal("pager does not end")
		}
		rec := c.do("GET", target, nil)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d", target, rec.Code)
		}
		doc := parseHTML(t, rec.Body.String())
		for _, tr := range findAll(doc, func(n *html.Node) bool { return n.Data == "tr" && n.Parent != nil && n.Parent.Data == "tbody" }) {
			td := findAll(tr, func(n *html.Node) bool { return n.Data == "td" })
			id, err := strconv.ParseInt(strings.TrimSpace(text(td[0])), 10, 64)
			if err != nil {
				t.Fatalf("row id %q: %v", text(td[0]), err)
			}
			ids = append(ids, id)
		}
		if nav := findAll(doc, func(n *html.Node) bool { return n.Data == "nav" && attr(n, "class") == "pager" }); page == 1 && len(nav) == 1 {
			for _, span := range findAll(nav[0], func(n *html.Node) bool { return n.Data == "span" && attr(n, "class") == "" }) {
				pager = strings.TrimSpace(text(span))
			}
		}
		target = ""
		for _, a := range findAll(doc, func(n *html.Node) bool { return n.Data == "a" && strings.Contains(text(n), "→") }) {
			target = attr(a, "href")
		}
	}
	return ids, pager
}

// TestProjectListScopedAndPaged walks the list page as users of one park and
// of both, through search (short, CJK, USCC), filters and sorts, across all
// pages: a user sees exactly the projects of their parks, in order, and the
// pager counts them.
func TestProjectListScopedAndPaged(t *testing.T) {
	w := mustWorld(t)
	w.user("both", engine.RoleAssignment{Role: engine.RoleReviewer, Park: ownPark}, engine.RoleAssignment{Role: engine.RoleReviewer, Park: otherPark})
	type row struct {
		id         int64
		park, name string
		state      engine.State
	}
	var rows []row
	for i := range 75 {
		in, who := goodInput(ownPark), "promoter"
		in.Name = fmt.Sprintf("电子铜箔项目-%d", i)
		if i%5 == 0 {
			in.Park, who, in.Name = otherPark, "promoter@other", fmt.Sprintf("英德光伏项目-%d", i)
		}
		p, err := w.svc.CreateProject(w.ctx, w.users[who], in)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if p, err = w.svc.Act(w.ctx, w.users[who], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version}); err != nil {
				t.Fatal(err)
			}
		}
		rows = append(rows, row{p.ID, p.Park, p.Name, p.State})
	}
	// want lists the ids of the rows in parks that keep, newest id first (all
	// rows were touched at the same instant, so "-updated" is id order).
	want := func(parks []string, keep func(row) bool) []int64 {
		var ids []int64
		for _, r := range slices.Backward(rows) {
			if slices.Contains(parks, r.park) && keep(r) {
				ids = append(ids, r.id)
			}
		}
		return ids
	}
	all := func(row) bool { return true }
	named := func(s string) func(row) bool { return func(r row) bool { return strings.Contains(r.name, s) } }
	own, other, both := []string{ownPark}, []string{otherPark}, []string{ownPark, otherPark}
	for _, tc := range []struct {
		name, user, url string
		want            []int64
	}{
		{"OwnPark", "promoter", "/projects", want(own, all)},
		{"OtherPark", "promoter@other", "/projects", want(other, all)},
		{"BothParks", "both", "/projects", want(both, all)},
		{"ParkFilterOutsideOwnParks", "promoter", "/projects?park=" + otherPark, nil},
		{"ParkFilterOfTwo", "both", "/projects?park=" + otherPark, want(other, all)},
		{"SearchOtherParksProject", "promoter", "/projects?q=英德光伏项目-1", nil},
		{"SearchOneChar", "promoter@other", "/projects?q=伏", want(other, all)},
		{"SearchTwoChars", "both", "/projects?q=铜箔", want(both, named("铜箔"))},
		{"SearchCJK", "both", "/projects?q=项目-1", want(both, named("项目-1"))},
		{"SearchCJKOneHit", "promoter@other", "/projects?q=英德光伏项目-35", want(other, named("项目-35"))},
		{"SearchInvestor", "promoter", "/projects?q=华科新材料", want(own, all)},
		{"SearchUSCC", "promoter@other", "/projects?q=" + goodUSCC, want(other, all)},
		{"SearchNothing", "both", "/projects?q=不存在的项目", nil},
		{"StateAndSearch", "both", "/projects?state=screening&q=项目-2", want(both, func(r row) bool {
			return r.state == engine.StateScreening && strings.Contains(r.name, "项目-2")
		})},
		{"SortID", "promoter", "/projects?sort=id", reversed(want(own, all))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, pager := listPages(t, w.login(tc.user), tc.url)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("ids %v,\nwant %v", got, tc.want)
			}
			if len(tc.want) > 0 {
				if wantPager := fmt.Sprintf("1 / %d", (len(tc.want)+listPageSize-1)/listPageSize); pager != wantPager {
					t.Errorf("pager %q, want %q", pager, wantPager)
				}
			}
		})
	}
}

func reversed(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

// TestProjectListKeysetLinks: the pager's next and previous links carry
// keyset cursors, and the page they lead to is the one the page number
// gives (read by offset).
func TestProjectListKeysetLinks(t *testing.T) {
	w := mustWorld(t)
	for i := range 120 {
		in := goodInput(ownPark)
		in.Name = fmt.Sprintf("翻页项目-%d", i)
		if _, err := w.svc.CreateProject(w.ctx, w.users["promoter"], in); err != nil {
			t.Fatal(err)
		}
	}
	c := w.login("promoter")
	page := func(target string) (ids []int64, prev, next string) {
		t.Helper()
		rec := c.do("GET", target, nil)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d", target, rec.Code)
		}
		doc := parseHTML(t, rec.Body.String())
		for _, tr := range findAll(doc, func(n *html.Node) bool { return n.Data == "tr" && n.Parent != nil && n.Parent.Data == "tbody" }) {
			td := findAll(tr, func(n *html.Node) bool { return n.Data == "td" })
			id, err := strconv.ParseInt(strings.TrimSpace(text(td[0])), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		for _, a := range findAll(doc, func(n *html.Node) bool { return n.Data == "a" && attr(n, "class") == "btn btn-small" }) {
			switch {
			case strings.Contains(text(a), "→"):
				next = attr(a, "href")
			case strings.Contains(text(a), "←"):
				prev = attr(a, "href")
			}
		}
		return ids, prev, next
	}
	for _, sort := range []string{"", "due", "name", "id"} {
		base := "/projects?sort=" + sort
		p1, _, next := page(base)
		if !strings.Contains(next, "after=") {
			t.Fatalf("sort %q: next link %q carries no cursor", sort, next)
		}
		p2, prev, next2 := page(next)
		byNumber, _, _ := page(base + "&page=2")
		if !slices.Equal(p2, byNumber) || len(p2) != listPageSize {
			t.Fatalf("sort %q: page 2 by cursor %v,\nby number %v", sort, p2, byNumber)
		}
		p3, prev3, _ := page(next2)
		if p3byNumber, _, _ := page(base + "&page=3"); !slices.Equal(p3, p3byNumber) || len(p3) != 20 {
			t.Fatalf("sort %q: page 3 by cursor %v,\nby number %v", sort, p3, p3byNumber)
		}
		if back, _, _ := page(prev3); !slices.Equal(back, p2) || !strings.Contains(prev3, "before=") {
			t.Fatalf("sort %q: back from page 3 by %q: %v, want %v", sort, prev3, back, p2)
		}
		if back, _, _ := page(prev); !slices.Equal(back, p1) {
			t.Fatalf("sort %q: back from page 2: %v, want %v", sort, back, p1)
		}
	}
}
