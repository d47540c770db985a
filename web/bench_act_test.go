package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// benchToken makes an API token for the named user of w.
func benchToken(b *testing.B, w *world, user string) string {
	secret := "zv_" + randomToken()
	if err := w.db.CreateAPIToken(w.ctx, &engine.APIToken{UserID: w.users[user].ID, Name: "bench", Hash: hashToken(secret), CreatedAt: w.clock.now()}); err != nil {
		b.Fatal(err)
	}
	return secret
}

// BenchmarkActPass is BenchmarkActSubmit for a reviewer's pass of distinct
// screened projects: the reviewer reads the rule report the submit stored,
// and the entry carries it.
func BenchmarkActPass(b *testing.B) {
	w := mustWorld(b)
	secret := benchToken(b, w, "reviewer")
	ps := make([]*engine.Project, b.N)
	for i := range ps {
		ps[i] = w.project(engine.StateScreening)
	}
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	defer writerShare(b, w.db)()
	hammer(b, 8, func(i int) (*http.Request, int) {
		body := fmt.Sprintf(`{"event":"pass","version":%d}`, ps[i].Version)
		r, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/projects/%d/actions", ts.URL, ps[i].ID), strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+secret)
		return r, 200
	})
}

// BenchmarkActScore scores distinct projects in expert review through the
// API: one full sheet each, not completing the quorum.
func BenchmarkActScore(b *testing.B) {
	w := mustWorld(b)
	secret := benchToken(b, w, "reviewer2")
	ps := make([]*engine.Project, b.N)
	for i := range ps {
		ps[i] = w.project(engine.StateExpertReview)
	}
	body, _ := json.Marshal(engine.ScoreInput{Round: ps[0].Round, Items: w.fullMarks(ps[0], 0.8)})
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	defer writerShare(b, w.db)()
	hammer(b, 8, func(i int) (*http.Request, int) {
		r, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/projects/%d/scores", ts.URL, ps[i].ID), bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+secret)
		return r, http.StatusCreated
	})
}

// BenchmarkActFormPass is what a reviewer clicks: pass through the
// project page's HTML form, with the session cookie and the CSRF field,
// answered by a redirect to the project page (not followed).
func BenchmarkActFormPass(b *testing.B) {
	w := mustWorld(b)
	c := w.login("reviewer")
	ps := make([]*engine.Project, b.N)
	for i := range ps {
		ps[i] = w.project(engine.StateScreening)
	}
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	defer writerShare(b, w.db)()
	hammer(b, 8, func(i int) (*http.Request, int) {
		form := url.Values{"event": {engine.EventPass}, "version": {fmt.Sprint(ps[i].Version)}, "csrf": {c.csrf}}
		r, _ := http.NewRequest("POST", fmt.Sprintf("%s/projects/%d/act", ts.URL, ps[i].ID), strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(c.cookie)
		return r, http.StatusSeeOther
	})
}

// BenchmarkMeetingVote is a committee member's vote through the meeting
// page's form on a meeting whose agenda holds 300 projects (a deadline
// day's backlog): what a vote costs should not grow with the agenda.
func BenchmarkMeetingVote(b *testing.B) {
	w := mustWorld(b)
	const items = 300
	if b.N > items {
		b.Fatalf("at most %d votes (one per item): -benchtime %dx", items, items)
	}
	var first *engine.Project
	for range items {
		p := w.project(engine.StateCommitteeReview)
		if first == nil {
			first = p
		}
	}
	m := w.meeting(first)
	if len(m.Agenda) < items {
		b.Fatalf("agenda of %d, want %d", len(m.Agenda), items)
	}
	c := w.login("committee")
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	hammer(b, 8, func(i int) (*http.Request, int) {
		form := url.Values{"project": {fmt.Sprint(m.Agenda[i].ProjectID)}, "choice": {engine.VoteAgree}, "csrf": {c.csrf}}
		r, _ := http.NewRequest("POST", fmt.Sprintf("%s/meetings/%d/vote", ts.URL, m.ID), strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(c.cookie)
		return r, http.StatusSeeOther
	})
}

// BenchmarkMeetingPage is a committee member opening the page of a meeting
// whose agenda holds 300 projects (benchAgenda): what the page costs should
// be its rendering, not a project and a conflicts read per item.
func BenchmarkMeetingPage(b *testing.B) {
	w, m := benchAgenda(b)
	c := w.login("committee")
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	hammer(b, 8, func(int) (*http.Request, int) {
		r, _ := http.NewRequest("GET", fmt.Sprintf("%s/meetings/%d", ts.URL, m.ID), nil)
		r.AddCookie(c.cookie)
		return r, http.StatusOK
	})
}

// BenchmarkMeetingDetail is the meeting page's view alone (the engine's
// reads and tallies, no HTTP, no rendering), one caller at a time.
func BenchmarkMeetingDetail(b *testing.B) {
	w, m := benchAgenda(b)
	b.ResetTimer()
	for range b.N {
		if _, err := w.svc.MeetingDetail(w.ctx, w.users["committee"], m.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// benchAgenda opens a meeting whose agenda holds 300 projects (a deadline
// day's backlog), three committee members present, a third of the items
// voted on by all three and a conflict declared on one.
func benchAgenda(b *testing.B) (*world, *engine.Meeting) {
	w := mustWorld(b)
	const items = 300
	for _, n := range []string{"committee2", "committee3"} {
		w.user(n, engine.RoleAssignment{Role: engine.RoleCommittee, Park: ownPark}, engine.RoleAssignment{Role: engine.RoleReviewer, Park: ownPark})
	}
	ps := make([]*engine.Project, items)
	for i := range ps {
		if i != 1 {
			ps[i] = w.project(engine.StateCommitteeReview)
			continue
		}
		p := w.project(engine.StateExpertReview) // a conflict is declared during review
		if err := w.svc.DeclareConflict(w.ctx, w.users["committee3"], p.ID, "亲属"); err != nil {
			b.Fatal(err)
		}
		ps[i] = w.scoreAll(p, 0.9, "reviewer", "reviewer2", "reviewer3")
	}
	m := w.meeting(ps[0])
	if len(m.Agenda) != items || len(m.Present) != 3 {
		b.Fatalf("agenda of %d, %d present; want %d, 3", len(m.Agenda), len(m.Present), items)
	}
	for i := 0; i < items; i += 3 {
		w.vote(m, ps[i], engine.VoteAgree)
	}
	return w, m
}

// BenchmarkActFloor is the least any act handler over this store can cost:
// BenchmarkActPass's requests answered by a bare echo route that decodes
// the body and writes the pass as the engine would (the project with its
// new state, the entry carrying the stored report, the notices to the
// park's reviewers and the promoter) through the same group commit, with
// no authentication, no read of the project, no guard and a small answer.
// Its req/s beside bare echo's is the ceiling of the act routes on this
// machine, whatever else they are made to skip.
func BenchmarkActFloor(b *testing.B) {
	w := mustWorld(b)
	ps := make([]*engine.Project, b.N)
	for i := range ps {
		p := w.project(engine.StateScreening)
		stored, err := w.db.Project(w.ctx, p.ID) // with the report's stored JSON
		if err != nil {
			b.Fatal(err)
		}
		ps[i] = stored
	}
	reviewer := w.users["reviewer"]
	e := echo.New()
	e.POST("/floor/:i", func(c echo.Context) error {
		var act engine.Action
		if err := c.Bind(&act); err != nil {
			return err
		}
		i, _ := strconv.Atoi(c.Param("i"))
		p := *ps[i]
		p.State = engine.StateExpertReview
		ch := &engine.Change{Project: &p, ExpectedVersion: act.Version,
			Entry: engine.AuditEntry{Actor: reviewer.Username, Role: engine.RoleReviewer, Event: engine.EventPass,
				FromState: engine.StateScreening, ToState: engine.StateExpertReview, RuleSetVersion: p.Report.RuleSetVersion, Payload: p.ReportJSON},
			Notify: &engine.NotifyPart{Notices: []engine.Notice{
				{Kind: engine.NoticeWaiting, Role: engine.RoleReviewer, Park: p.Park},
				{Kind: engine.NoticeDecision, UserID: p.CreatedBy},
			}}}
		if err := w.db.Apply(c.Request().Context(), ch); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"id": p.ID, "version": p.Version})
	})
	ts := httptest.NewServer(e)
	defer ts.Close()
	defer writerShare(b, w.db)()
	hammer(b, 8, func(i int) (*http.Request, int) {
		body := fmt.Sprintf(`{"event":"pass","version":%d}`, ps[i].Version)
		r, _ := http.NewRequest("POST", fmt.Sprintf("%s/floor/%d", ts.URL, i), strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r, 200
	})
}
