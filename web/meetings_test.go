package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// meeting opens a meeting of p's park chaired by "committee" with every
// committee member of the park present (other tests may have added some).
func (w *world) meeting(p *engine.Project) *engine.Meeting {
	w.t.Helper()
	members, err := w.svc.CommitteeMembers(w.ctx, w.users["committee"], p.Park)
	if err != nil {
		w.t.Fatal(err)
	}
	m, err := w.svc.OpenMeeting(w.ctx, w.users["committee"], engine.MeetingInput{Park: p.Park, HeldOn: "2026-12-01",
		Number: "清高管纪〔2026〕1号", Present: members})
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

// vote casts every present member's vote on p in m.
func (w *world) vote(m *engine.Meeting, p *engine.Project, choice string) {
	w.t.Helper()
	for _, name := range m.Present {
		u, err := w.db.UserByName(w.ctx, name)
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.svc.CastVote(w.ctx, u, m.ID, p.ID, engine.VoteInput{Choice: choice, Opinion: "意见"}); err != nil {
			w.t.Fatal(err)
		}
	}
}

// decide approves p, in committee review, by a meeting's unanimous vote.
func (w *world) decide(p *engine.Project) *engine.Project {
	w.t.Helper()
	m := w.meeting(p)
	w.vote(m, p, engine.VoteAgree)
	b, err := w.svc.Minutes(w.ctx, w.users["committee"], m.ID, p.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	got, err := w.svc.Act(w.ctx, w.users["committee"], p.ID, engine.Action{Event: engine.EventApprove, Version: p.Version, Meeting: m.ID,
		MinutesStored: "minutes-" + randomToken(), MinutesSHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

// meetingRoutes are the permission matrix rows of the meeting pages: only
// the park's committee sees and acts; everyone else of the park is refused
// the list and gets a 404 for a meeting, as for a project they cannot see.
func (w *world) meetingRoutes() []route {
	opened := func(votes bool, path string, body func(p *engine.Project) url.Values) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, p *engine.Project, _ string) (string, any) {
			m := w.meeting(p)
			if votes {
				w.vote(m, p, engine.VoteAgree)
			}
			target := strings.NewReplacer("{mid}", strconv.FormatInt(m.ID, 10), "{id}", strconv.FormatInt(p.ID, 10)).Replace(path)
			if body == nil {
				return target, nil
			}
			return target, body(p)
		}
	}
	return []route{
		{"GET", "/meetings", "", get("/meetings"), "anon=303 own=403 committee=200 other=403 committee@other=200"},
		{"POST", "/meetings", engine.StateCommitteeReview, func(w *world, p *engine.Project, _ string) (string, any) {
			members, err := w.svc.CommitteeMembers(w.ctx, w.users["committee"], p.Park)
			if err != nil {
				w.t.Fatal(err)
			}
			return "/meetings", url.Values{"park": {ownPark}, "held_on": {"2026-12-01"}, "number": {"清高管纪〔2026〕2号"}, "present": members}
		}, "anon=401 own=403 committee=303 other=403"},
		{"GET", "/meetings/:mid", engine.StateCommitteeReview, opened(false, "/meetings/{mid}", nil), "anon=303 own=404 committee=200 other=404"},
		{"POST", "/meetings/:mid/vote", engine.StateCommitteeReview, opened(false, "/meetings/{mid}/vote", func(p *engine.Project) url.Values {
			return url.Values{"project": {strconv.FormatInt(p.ID, 10)}, "choice": {"agree"}}
		}), "anon=401 own=404 committee=303 other=404"},
		{"POST", "/meetings/:mid/decide", engine.StateCommitteeReview, opened(true, "/meetings/{mid}/decide", func(p *engine.Project) url.Values {
			return url.Values{"project": {strconv.FormatInt(p.ID, 10)}, "version": {strconv.FormatInt(p.Version, 10)}, "event": {"approve"}}
		}), "anon=401 own=404 committee=303 other=404"},
		{"GET", "/meetings/:mid/minutes/:id", engine.StateCommitteeReview, opened(true, "/meetings/{mid}/minutes/{id}", nil), "anon=303 own=404 committee=200 other=404"},
	}
}

// TestMeetingPageAgendaToMinutes: the committee opens a meeting from the
// meetings page, votes on the agenda item, announces the decision, and the
// minutes are filed with the project: the download is the bytes whose
// SHA-256 the page and the decision's entry show. The project page offers
// the meeting instead of an approve button. Each item of the meeting's
// page shows its project (meetingItemShows): a ballot until the member has
// voted, then the decision at the project's version.
func TestMeetingPageAgendaToMinutes(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateCommitteeReview)
	q := w.project(engine.StateCommitteeReview)
	c := w.login("committee")
	page := c.do("GET", "/projects/"+strconv.FormatInt(p.ID, 10), nil)
	doc := parseHTML(t, page.Body.String())
	if len(findAll(doc, func(n *html.Node) bool { return n.Data == "button" && attr(n, "data-event") == "approve" })) != 0 ||
		len(findAll(doc, func(n *html.Node) bool { return n.Data == "a" && attr(n, "data-event") == "meeting" })) != 1 {
		t.Fatalf("project page in committee review: want the meeting link and no approve button")
	}
	rec := c.do("POST", "/meetings", url.Values{"park": {ownPark}, "held_on": {"2026-12-01"}, "number": {"清高管纪〔2026〕3号"}, "present": {"committee"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("open: %d %.300s", rec.Code, rec.Body.String())
	}
	at := rec.Header().Get("Location")
	rec = c.do("POST", at+"/vote", url.Values{"project": {strconv.FormatInt(p.ID, 10)}, "choice": {"disagree"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "投不同意票须写明意见") {
		t.Fatalf("dissent without opinion: %d, want 400 with the message", rec.Code)
	}
	if rec = c.do("POST", at+"/vote", url.Values{"project": {strconv.FormatInt(p.ID, 10)}, "choice": {"agree"}, "opinion": {"符合主导产业方向"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("vote: %d %.300s", rec.Code, rec.Body.String())
	}
	mp := parseHTML(t, c.do("GET", at, nil).Body.String())
	meetingItemShows(t, mp, p, "decide")
	meetingItemShows(t, mp, q, "vote")
	if rec = c.do("POST", at+"/decide", url.Values{"project": {strconv.FormatInt(p.ID, 10)}, "version": {strconv.FormatInt(p.Version, 10)}, "event": {"approve"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("decide: %d %.300s", rec.Code, rec.Body.String())
	}
	after, err := w.svc.Project(w.ctx, w.users["committee"], p.ID)
	if err != nil || after.State != engine.StateApproved {
		t.Fatalf("project after the decision: %v %v, want approved", after, err)
	}
	docs, err := w.svc.Documents(w.ctx, w.users["committee"], p.ID)
	if err != nil || len(docs) != 1 || docs[0].Kind != engine.DocumentMinutes {
		t.Fatalf("documents: %+v %v, want the minutes", docs, err)
	}
	dl := c.do("GET", "/projects/"+strconv.FormatInt(p.ID, 10)+"/documents/"+strconv.FormatInt(docs[0].ID, 10), nil)
	sum := sha256.Sum256(dl.Body.Bytes())
	if dl.Code != http.StatusOK || hex.EncodeToString(sum[:]) != docs[0].SHA256 || !strings.Contains(dl.Body.String(), "符合主导产业方向") {
		t.Fatalf("minutes download: %d, SHA-256 %x, want %s with the opinion", dl.Code, sum, docs[0].SHA256)
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventApprove}})
	if err != nil || len(es) != 1 || !strings.Contains(es[0].Payload, docs[0].SHA256) {
		t.Fatalf("approve entry %v %v: want the minutes' SHA-256 %s", es, err, docs[0].SHA256)
	}
	mp = parseHTML(t, c.do("GET", at, nil).Body.String())
	if items := findAll(mp, func(n *html.Node) bool { return attr(n, "data-outcome") == "approve" }); len(items) != 1 {
		t.Fatalf("meeting page: want the item decided approve")
	}
}

// meetingItemShows checks p's item on a meeting's page: the link to the
// project with its name and investor, and the one form it offers: a ballot
// ("vote") or the decision at p's version ("decide").
func meetingItemShows(t *testing.T, page *html.Node, p *engine.Project, form string) {
	t.Helper()
	id := strconv.FormatInt(p.ID, 10)
	items := findAll(page, func(n *html.Node) bool { return attr(n, "id") == "item-"+id })
	if len(items) != 1 {
		t.Fatalf("item of project %d: %d on the page, want 1", p.ID, len(items))
	}
	links := findAll(items[0], func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == "/projects/"+id })
	if heading := findAll(items[0], func(n *html.Node) bool { return n.Data == "h2" }); len(links) != 1 || text(links[0]) != p.Name ||
		len(heading) != 1 || !strings.Contains(text(heading[0]), p.InvestorName) {
		t.Fatalf("item of project %d: want the link to it named %q and its investor %q", p.ID, p.Name, p.InvestorName)
	}
	ballots := findAll(items[0], func(n *html.Node) bool { return attr(n, "data-vote") == id })
	decisions := findAll(items[0], func(n *html.Node) bool { return attr(n, "data-decide") == id })
	versions := findAll(items[0], func(n *html.Node) bool {
		return n.Data == "input" && attr(n, "name") == "version" && attr(n, "value") == strconv.FormatInt(p.Version, 10)
	})
	if got := map[string]bool{"vote": len(ballots) == 1 && len(decisions) == 0,
		"decide": len(ballots) == 0 && len(decisions) == 1 && len(versions) == 1}; !got[form] {
		t.Fatalf("item of project %d: %d ballots, %d decisions at version %d (%d); want the %s form alone",
			p.ID, len(ballots), len(decisions), p.Version, len(versions), form)
	}
}

// TestRecallButton: the promoter who just submitted sees 撤回 on the project
// page and takes the submission back; once a reviewer has acted (passed
// it), the promoter sees no 撤回 and a forged one is refused.
func TestRecallButton(t *testing.T) {
	w := mustWorld(t)
	recallButtons := func(c *client, p *engine.Project) int {
		rec := c.do("GET", "/projects/"+strconv.FormatInt(p.ID, 10), nil)
		return len(findAll(parseHTML(t, rec.Body.String()), func(n *html.Node) bool { return n.Data == "button" && attr(n, "data-event") == "recall" }))
	}
	promoter := w.login("promoter")
	p := w.project(engine.StateScreening)
	if n := recallButtons(promoter, p); n != 1 {
		t.Fatalf("recall buttons after the submit: %d, want 1", n)
	}
	if n := recallButtons(w.login("reviewer"), p); n != 0 {
		t.Fatalf("recall buttons for the reviewer: %d, want 0", n)
	}
	rec := promoter.do("POST", "/projects/"+strconv.FormatInt(p.ID, 10)+"/act", url.Values{"event": {"recall"}, "version": {strconv.FormatInt(p.Version, 10)}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("recall: %d %.300s", rec.Code, rec.Body.String())
	}
	if got, _ := w.svc.Project(w.ctx, w.users["promoter"], p.ID); got.State != engine.StateDraft {
		t.Fatalf("after the recall: %s, want draft", got.State)
	}
	q := w.project(engine.StateExpertReview) // submitted by promoter, passed by reviewer
	if n := recallButtons(promoter, q); n != 0 {
		t.Fatalf("recall buttons after the reviewer acted: %d, want 0", n)
	}
	rec = promoter.do("POST", "/projects/"+strconv.FormatInt(q.ID, 10)+"/act", url.Values{"event": {"recall"}, "version": {strconv.FormatInt(q.Version, 10)}})
	if rec.Code < 400 {
		t.Fatalf("forged recall after the reviewer acted: %d, want a refusal", rec.Code)
	}
}
