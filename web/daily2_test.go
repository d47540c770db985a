package web

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestDashboardYearsAgree: the dashboard's heading claims no year of its
// own that the cards contradict; the figures' year and the signing cards'
// year are each named where they are counted (zh and en).
func TestDashboardYearsAgree(t *testing.T) {
	w := mustWorld(t)
	c := w.login("committee")
	this, last := w.svc.Today().Year(), w.svc.Today().Year()-1
	for _, lang := range []string{langZH, langEN} {
		c.do("GET", "/lang/"+lang+"?next=/", nil)
		doc := parseHTML(t, c.do("GET", fmt.Sprintf("/dashboard?year=%d", last), nil).Body.String())
		h1 := text(findAll(doc, func(n *html.Node) bool { return n.Data == "h1" })[0])
		if regexp.MustCompile(`\d{4}`).MatchString(h1) {
			t.Errorf("%s: the heading %q names a year the signing cards (%d) may not share", lang, h1, this)
		}
		note := text(byID(doc, "dashboard-years"))
		if !strings.Contains(note, fmt.Sprint(last)) || !strings.Contains(note, fmt.Sprint(this)) {
			t.Errorf("%s: the note %q does not name both years", lang, note)
		}
		for _, k := range findAll(doc, func(n *html.Node) bool { return n.Data == "div" && strings.Contains(attr(n, "class"), "kpi") }) {
			if s := text(k); regexp.MustCompile(`\d{4}`).MatchString(s) && !strings.Contains(s, fmt.Sprint(this)) {
				t.Errorf("%s: a card %q names another year than the note", lang, s)
			}
		}
	}
}
