package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// calendarForm is the calendar proposal form: the file and a change note.
func calendarForm(t testing.TB, data []byte) *multipartBody {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "calendar.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.WriteField("note", "国务院办公厅通知")
	mw.Close()
	return &multipartBody{data: buf.Bytes(), ctype: mw.FormDataContentType()}
}

// calendarFile is the built-in calendar with a comment that makes it a new version.
func calendarFile(tag string) []byte {
	return append([]byte("# "+tag+"\n"), engine.DefaultCalendarSource()...)
}

// proposeCalendar proposes a new calendar version as the own park's admin.
func (w *world) proposeCalendar(src []byte) *engine.CalendarChange {
	w.t.Helper()
	ch, err := w.svc.ProposeCalendar(w.ctx, w.users["admin"], src, "国务院办公厅通知")
	if err != nil {
		w.t.Fatal(err)
	}
	return ch
}

func (w *world) calendarRoutes() []route {
	// The calendar is the zone's: an admin or committee member of either park
	// acts on it alike.
	const readers = "anon=303 own=403 admin=200 committee=200 auditor=200 other=403 admin@other=200 committee@other=200 auditor@other=200"
	change := func(suffix string) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, _ string) (string, any) {
			ch := w.proposeCalendar(calendarFile("matrix " + randomToken()))
			return fmt.Sprintf("/admin/calendar/changes/%d%s", ch.ID, suffix), url.Values{"reason": {"理由"}}
		}
	}
	return []route{
		{"GET", "/admin/calendar", "", get("/admin/calendar"), readers},
		{"POST", "/admin/calendar", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/admin/calendar", calendarForm(w.t, calendarFile("matrix "+randomToken()))
		}, "anon=401 own=403 admin=303 other=403 admin@other=303"},
		{"GET", "/admin/calendar/changes/:id", "", func(w *world, p *engine.Project, who string) (string, any) {
			path, _ := change("")(w, p, who)
			return path, nil
		}, readers},
		// The own park's admin proposed every change here: the other park's
		// admin may withdraw it (the role is the zone's), no committee may.
		{"POST", "/admin/calendar/changes/:id/approve", "", change("/approve"), "anon=401 own=403 committee=303 other=403 committee@other=303"},
		{"POST", "/admin/calendar/changes/:id/refuse", "", change("/refuse"), "anon=401 own=403 committee=303 other=403 committee@other=303"},
		{"POST", "/admin/calendar/changes/:id/withdraw", "", change("/withdraw"), "anon=401 own=403 admin=303 other=403 admin@other=303"},
	}
}

// TestCalendarNoticeOnWorkbench: from 1 December an administrator's
// workbench and the calendar page say next year's calendar is missing or
// only statutory; before that, and for other roles, nothing is said.
func TestCalendarNoticeOnWorkbench(t *testing.T) {
	w := mustWorld(t)
	notice := func(who, path string) string {
		rec := w.login(who).do("GET", path, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s: %d", who, path, rec.Code)
		}
		for _, n := range findAll(parseHTML(t, rec.Body.String()), func(n *html.Node) bool { return attr(n, "id") == "calendar-notice" }) {
			return text(n)
		}
		return ""
	}
	for _, tc := range []struct {
		now, who, path, want string
	}{
		{"2026-11-30T10:00:00+08:00", "admin", "/", ""},
		{"2026-12-01T10:00:00+08:00", "admin", "/", "2027 年的国务院节假日安排尚未载入"},
		{"2026-12-01T10:00:00+08:00", "admin@other", "/admin/calendar", "2027 年的国务院节假日安排尚未载入"},
		{"2026-12-01T10:00:00+08:00", "promoter", "/", ""},
		{"2027-12-01T10:00:00+08:00", "admin", "/", "工作日历缺少 2028 年"},
		{"2027-11-30T10:00:00+08:00", "admin", "/admin/calendar", ""},
	} {
		at, _ := time.Parse(time.RFC3339, tc.now)
		w.clock.mu.Lock()
		w.clock.t = at
		w.clock.mu.Unlock()
		if got := notice(tc.who, tc.path); tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s, %s on %s: notice %q, want %q", tc.now, tc.who, tc.path, got, tc.want)
		}
	}
}

// TestCalendarProposalPage: an admin proposes a calendar through the page
// and nothing changes; the committee opens the proposal, sees the day it
// adds and the deadline it moves, and approves it: the new version is in
// force for deadlines at once (a project screened on 2026-12-31 with one
// working day is due at the end of 2027-01-04, marked 暂定 while 2027 is
// unpublished, and no longer once the 2027 notice is in force). Both steps
// are logged; the proposer sees no approval form.
func TestCalendarProposalPage(t *testing.T) {
	w := mustWorld(t)
	w.clock.mu.Lock()
	w.clock.t = time.Date(2026, 12, 31, 2, 0, 0, 0, time.UTC) // Thursday 10:00 in Shanghai
	w.clock.mu.Unlock()
	p := w.project(engine.StateScreening)
	if p.DueAt == nil || !p.DueAt.Equal(time.Date(2027, 1, 4, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("due %v, want the end of 2027-01-04 in Shanghai", p.DueAt)
	}
	marks := func() int {
		rec := w.login("reviewer").do("GET", "/projects/"+itoa(p.ID), nil)
		return len(findAll(parseHTML(t, rec.Body.String()), func(n *html.Node) bool { return hasAttr(n, "data-provisional") }))
	}
	if marks() != 1 {
		t.Fatalf("a deadline in unpublished 2027 is not marked provisional")
	}
	// The 2027 notice: 2027 published, and 2027-01-04 a day off.
	published := bytes.Replace(engine.DefaultCalendarSource(), []byte("  - year: 2027\n    published: false"), []byte("  - year: 2027\n    published: true"), 1)
	published = bytes.Replace(published, []byte("      - 2027-01-01 # 元旦\n"), []byte("      - 2027-01-01 # 元旦\n      - 2027-01-04\n"), 1)
	rec := w.login("admin").do("POST", "/admin/calendar", calendarForm(t, []byte("years:\n  - year: 2027\n    holidays: [2027-02-30]\n")))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "2027-02-30") || !strings.Contains(rec.Body.String(), "国务院办公厅通知") {
		t.Fatalf("a broken file: %d, or the note was lost", rec.Code)
	}
	rec = w.login("admin").do("POST", "/admin/calendar", calendarForm(t, published))
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/admin/calendar/changes/") {
		t.Fatalf("admin proposing a calendar: %d %s", rec.Code, rec.Body.String())
	}
	changePage := rec.Header().Get("Location")
	if marks() != 1 {
		t.Fatal("a proposal changed the calendar in force")
	}
	doc := parseHTML(t, w.login("admin").do("GET", changePage, nil).Body.String())
	has := func(doc *html.Node, id string) bool { return byID(doc, id).Parent != nil }
	if has(doc, "approve") || has(doc, "refuse") || !has(doc, "withdraw") {
		t.Error("the proposer's page: no approval or refusal, a withdrawal")
	}
	doc = parseHTML(t, w.login("committee").do("GET", changePage, nil).Body.String())
	moved := findAll(doc, func(n *html.Node) bool { return attr(n, "data-project") != "" })
	if len(moved) != 1 || attr(moved[0], "data-project") != itoa(p.ID) || !strings.Contains(text(moved[0]), "2027-01-04") || !strings.Contains(text(moved[0]), "2027-01-05") {
		t.Errorf("the committee's preview of moved deadlines: %d rows", len(moved))
	}
	if days := byID(doc, "calendar-days"); !strings.Contains(text(days), "+ 2027-01-04") {
		t.Error("the preview does not show the added day off")
	}
	form := byID(doc, "approve")
	if !has(doc, "approve") {
		t.Fatal("the committee sees no approval form")
	}
	base := findAll(form, func(n *html.Node) bool { return attr(n, "name") == "base" })
	if len(base) != 1 || attr(base[0], "value") == "" {
		t.Fatal("the approval form does not carry the version its preview counted against")
	}
	rec = w.login("committee").do("POST", changePage+"/approve", url.Values{"base": {attr(base[0], "value")}, "opinion": {"同意施行"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("committee approving: %d %s", rec.Code, rec.Body.String())
	}
	if marks() != 0 {
		t.Errorf("the deadline is still marked provisional after the 2027 notice went in force")
	}
	if now, _ := w.db.Project(w.ctx, p.ID); now.DueAt == nil || !now.DueAt.Equal(time.Date(2027, 1, 5, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("due %v after the approval, want the end of 2027-01-05", now.DueAt)
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventCalendarPropose, engine.EventCalendarApprove}})
	if err != nil || len(es) != 2 || es[0].Actor != "admin" || es[1].Actor != "committee" || es[1].Reason != "同意施行" {
		t.Fatalf("calendar log entries %+v, %v", es, err)
	}
}

// TestWorkbenchAwaitingChanges: a calendar proposal and a rule-set proposal
// wait on the committee's workbench, not on the proposer's, and leave it
// once decided.
func TestWorkbenchAwaitingChanges(t *testing.T) {
	w := mustWorld(t)
	ch := w.proposeCalendar(calendarFile("awaiting"))
	rc := w.propose(ownPark, ruleSetFile(t, "awaiting"))
	links := func(who string) []string {
		var out []string
		doc := parseHTML(t, w.login(who).do("GET", "/", nil).Body.String())
		for _, a := range findAll(byID(doc, "awaiting-changes"), func(n *html.Node) bool { return n.Data == "a" }) {
			out = append(out, attr(a, "href"))
		}
		return out
	}
	want := []string{fmt.Sprintf("/admin/rules/changes/%d", rc.ID), fmt.Sprintf("/admin/calendar/changes/%d", ch.ID)}
	if got := links("committee"); !slices.Equal(got, want) {
		t.Errorf("committee's workbench links %v, want %v", got, want)
	}
	if got := links("admin"); len(got) != 0 {
		t.Errorf("the proposer's workbench lists %v", got)
	}
	if _, err := w.svc.RefuseCalendar(w.ctx, w.users["committee"], ch.ID, "待国务院通知"); err != nil {
		t.Fatal(err)
	}
	if got := links("committee"); !slices.Equal(got, want[:1]) {
		t.Errorf("after the refusal: %v", got)
	}
}

// apiCalendarRoutes are the permission-matrix rows of the calendar over the
// API: the 工作日历 page's roles, the zone's calendar alike from either park.
func (w *world) apiCalendarRoutes() []route {
	const readers = "anon=401 own=403 admin=200 committee=200 auditor=200 other=403 admin@other=200 committee@other=200 auditor@other=200"
	change := func(suffix string, body any) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, _ string) (string, any) {
			ch := w.proposeCalendar(calendarFile("api " + randomToken()))
			return fmt.Sprintf("/api/v1/calendar/changes/%d%s", ch.ID, suffix), body
		}
	}
	return []route{
		{"GET", "/api/v1/calendar", "", get("/api/v1/calendar"), readers},
		{"GET", "/api/v1/calendar/changes", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			w.proposeCalendar(calendarFile("api " + randomToken()))
			return "/api/v1/calendar/changes", nil
		}, readers},
		{"POST", "/api/v1/calendar/changes", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/api/v1/calendar/changes", calendarProposeInput{File: string(calendarFile("api " + randomToken())), Note: "国务院办公厅通知"}
		}, "anon=401 own=403 admin=201 other=403 admin@other=201"},
		{"GET", "/api/v1/calendar/changes/:change", "", change("", nil), readers},
		{"POST", "/api/v1/calendar/changes/:change/approve", "", change("/approve", calendarApproveInput{Opinion: "同意"}),
			"anon=401 own=403 committee=200 other=403 committee@other=200"},
		{"POST", "/api/v1/calendar/changes/:change/refuse", "", change("/refuse", reasonInput{Reason: "待国务院通知"}),
			"anon=401 own=403 committee=200 other=403 committee@other=200"},
		{"POST", "/api/v1/calendar/changes/:change/withdraw", "", change("/withdraw", reasonInput{Reason: "重新起草"}),
			"anon=401 own=403 admin=200 other=403 admin@other=200"},
	}
}

// TestAPICalendarTokens: a token limited to some parks may read the
// calendar but not change it — the calendar is every park's, beyond its
// reach — and a read-only token may not either; a token for all the
// owner's parks with rules:govern proposes.
func TestAPICalendarTokens(t *testing.T) {
	w := mustWorld(t)
	body := calendarProposeInput{File: string(calendarFile("token")), Note: "国务院办公厅通知"}
	limited := w.bearerFor("admin", engine.APIToken{Parks: []string{ownPark}, Scopes: []string{engine.ScopeRulesRead, engine.ScopeRulesGovern}})
	if rec := limited.do("GET", "/api/v1/calendar", nil); rec.Code != http.StatusOK {
		t.Errorf("a park-limited token reading the calendar: %d", rec.Code)
	}
	if rec := limited.do("POST", "/api/v1/calendar/changes", body); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "全区") {
		t.Errorf("a park-limited token proposing: %d %s", rec.Code, rec.Body.String())
	}
	readOnly := w.bearerFor("admin", engine.APIToken{Scopes: []string{engine.ScopeRulesRead}})
	if rec := readOnly.do("POST", "/api/v1/calendar/changes", body); rec.Code != http.StatusForbidden {
		t.Errorf("a read-only token proposing: %d", rec.Code)
	}
	full := w.bearerFor("admin", engine.APIToken{Scopes: []string{engine.ScopeRulesRead, engine.ScopeRulesGovern}})
	if rec := full.do("POST", "/api/v1/calendar/changes", body); rec.Code != http.StatusCreated {
		t.Errorf("a governing token proposing: %d %s", rec.Code, rec.Body.String())
	}
}
