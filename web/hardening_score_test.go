package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// TestScoreFormInvalidScoresComeBackAsForm: every invalid score sent through
// the web form comes back as the project page (never a 500), with the status
// the error maps to, a message naming what is wrong, and what the reviewer
// typed still in the form. The first criterion of the qingyuan sheet is
// industrial-chain fit, 20 points (DESIGN.md scoring sheet).
func TestScoreFormInvalidScoresComeBackAsForm(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateExpertReview)
	rs, err := w.svc.ProjectRuleSet(w.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	crit := rs.Scoring().Criteria
	first := crit[0]
	if first.Max != 20 {
		t.Fatalf("first criterion %s max %v, want 20 per the scoring sheet", first.ID, first.Max)
	}
	valid := func() url.Values {
		f := url.Values{"round": {fmt.Sprint(p.Round)}, "comment": {"产业链契合度高"}}
		for _, c := range crit {
			f.Set("item."+c.ID, fmt.Sprint(c.Max/2))
		}
		return f
	}
	cases := []struct {
		name   string
		edit   func(url.Values)
		status int
		typed  string // what the first criterion's input must still hold
		saysZH string // a piece of the message
	}{
		{"OutOfRange", func(f url.Values) { f.Set("item."+first.ID, "25") }, http.StatusBadRequest, "25", first.NameZH},
		{"Negative", func(f url.Values) { f.Set("item."+first.ID, "-1") }, http.StatusBadRequest, "-1", first.NameZH},
		{"Empty", func(f url.Values) { f.Set("item."+first.ID, "") }, http.StatusBadRequest, "", first.NameZH},
		{"NaN", func(f url.Values) { f.Set("item."+first.ID, "NaN") }, http.StatusBadRequest, "NaN", first.NameZH},
		{"Infinity", func(f url.Values) { f.Set("item."+first.ID, "+Inf") }, http.StatusBadRequest, "+Inf", first.NameZH},
		{"StaleRound", func(f url.Values) { f.Set("round", fmt.Sprint(p.Round+1)) }, http.StatusConflict, "10", ""},
	}
	c := w.login("reviewer")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := valid()
			tc.edit(f)
			rec := c.do("POST", fmt.Sprintf("/projects/%d/score", p.ID), f)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %.300s", rec.Code, tc.status, rec.Body)
			}
			doc := parseHTML(t, rec.Body.String())
			alert := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "action-error" })
			if len(alert) != 1 || !strings.Contains(text(alert[0]), tc.saysZH) {
				t.Fatalf("no error naming %q on the page", tc.saysZH)
			}
			in := findAll(doc, func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == "item."+first.ID })
			if len(in) != 1 {
				t.Fatalf("%d inputs for %s", len(in), first.ID)
			}
			if got := attr(in[0], "value"); got != tc.typed {
				t.Errorf("typed %q, form shows %q", tc.typed, got)
			}
			comment := findAll(doc, func(n *html.Node) bool { return n.Data == "textarea" && attr(n, "name") == "comment" })
			if len(comment) != 1 || text(comment[0]) != "产业链契合度高" {
				t.Errorf("the comment is not kept in the form")
			}
			scores, _, err := w.svc.Scores(w.ctx, w.users["auditor"], p.ID)
			if err != nil || len(scores) != 0 {
				t.Errorf("an invalid score was saved: %v %v", scores, err)
			}
		})
	}
}
