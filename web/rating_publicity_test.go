package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// TestRatingPublicityPage: the run's page carries the publicity steps — the
// committee publishes, the promoter objects with a document as evidence, the
// committee decides — each shown on the page as its state changes; the final
// is not offered while the period runs.
func TestRatingPublicityPage(t *testing.T) {
	w := mustWorld(t)
	run := w.ratingRun()
	page := fmt.Sprintf("/tracking/runs/%d", run)
	committee, promoter := w.login("committee"), w.login("promoter")
	section := func(c *client) *html.Node {
		t.Helper()
		rec := c.do("GET", page, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("run page %d", rec.Code)
		}
		s := findAll(parseHTML(t, rec.Body.String()), func(n *html.Node) bool { return attr(n, "id") == "publicity" })
		if len(s) != 1 {
			t.Fatal("no publicity section")
		}
		return s[0]
	}
	has := func(n *html.Node, key string) bool {
		return len(findAll(n, func(n *html.Node) bool { return hasAttr(n, key) })) > 0
	}
	if s := section(committee); attr(s, "data-status") != "unpublished" || !has(s, "data-publish") {
		t.Fatalf("before publishing: status %q", attr(s, "data-status"))
	}
	if s := section(promoter); has(s, "data-publish") {
		t.Error("the promoter is offered to publish")
	}
	if rec := committee.do("POST", page+"/publish", url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish: %d", rec.Code)
	}
	s := section(promoter)
	if attr(s, "data-status") != "published" || !strings.Contains(text(s), "公示中") {
		t.Fatalf("after publishing: %q %s", attr(s, "data-status"), text(s))
	}
	var firm, doc string
	for _, o := range findAll(s, func(n *html.Node) bool { return n.Data == "option" }) {
		firm = attr(o, "value")
	}
	for _, in := range findAll(s, func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == "evidence" }) {
		doc = attr(in, "value")
	}
	if firm == "" {
		t.Fatal("no objection form for the promoter")
	}
	// Without evidence chosen the refusal names the field. The only document
	// offered yet is the committee's minutes of the project's approval
	// (issue 14: every approval is a meeting's decision with its minutes).
	rec := promoter.do("POST", page+"/objections", url.Values{"project_id": {firm}, "text": {"税收数据漏报第四季度入库税款,请予更正。"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("objection without evidence: %d", rec.Code)
	}
	firmID, _ := strconv.ParseInt(firm, 10, 64)
	docs, err := w.svc.Documents(w.ctx, w.users["promoter"], firmID)
	if err != nil {
		t.Fatal(err)
	}
	if rows := findAll(section(promoter), func(n *html.Node) bool { return n.Data == "tr" && hasAttr(n, "data-objection") }); len(rows) != 0 ||
		len(docs) != 1 || docs[0].Kind != engine.DocumentMinutes || doc != strconv.FormatInt(docs[0].ID, 10) {
		t.Errorf("objection without evidence: %d rows recorded, evidence offered %q, documents %+v (want only the minutes)", len(rows), doc, docs)
	}

	_, _, docID := w.publishedRun() // adds a document to the run's firm
	if rec := promoter.do("POST", page+"/objections", url.Values{"project_id": {firm}, "text": {"税收数据漏报第四季度入库税款,请予更正。"},
		"evidence": {strconv.FormatInt(docID, 10)}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("objection: %d", rec.Code)
	}
	s = section(committee)
	rows := findAll(s, func(n *html.Node) bool { return n.Data == "tr" && hasAttr(n, "data-objection") })
	if len(rows) != 1 || !strings.Contains(text(rows[0]), "完税证明.pdf") || !strings.Contains(text(rows[0]), "待处理") {
		t.Fatalf("objections on the page: %d rows", len(rows))
	}
	if has(s, "data-finalize") {
		t.Error("final offered while the period runs")
	}
	oid := attr(rows[0], "data-objection")
	if rec := committee.do("POST", "/tracking/objections/"+oid+"/decision", url.Values{"outcome": {"dismissed"}, "reason": {"经税务部门核实,税款已计入年度数据。"}}); rec.Code != http.StatusSeeOther ||
		!strings.HasPrefix(rec.Header().Get("Location"), page) {
		t.Fatalf("decision: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	rows = findAll(section(committee), func(n *html.Node) bool { return n.Data == "tr" && hasAttr(n, "data-objection") })
	if len(rows) != 1 || !strings.Contains(text(rows[0]), "异议不成立") {
		t.Errorf("decided objection: %s", text(rows[0]))
	}
}
