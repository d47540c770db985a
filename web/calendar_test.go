package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"zonevet/engine"
)

func calendarForm(t testing.TB, data []byte) *multipartBody {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "calendar.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return &multipartBody{data: buf.Bytes(), ctype: mw.FormDataContentType()}
}

// calendarFile is the built-in calendar with a comment that makes it a new version.
func calendarFile(tag string) []byte {
	return append([]byte("# "+tag+"\n"), engine.DefaultCalendarSource()...)
}

func (w *world) calendarRoutes() []route {
	return []route{
		{"GET", "/admin/calendar", "", get("/admin/calendar"), "anon=303 own=403 admin=200 other=403 admin@other=200"},
		{"POST", "/admin/calendar", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/admin/calendar", calendarForm(w.t, calendarFile("matrix "+randomToken()))
		}, "anon=401 own=403 admin=303 other=403 admin@other=303"},
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

// TestCalendarLoadPage: an admin loads a calendar through the page; the new
// version is in force for deadlines at once (a project screened on
// 2026-12-31 with one working day is due at the end of 2027-01-04, marked
// 暂定 while 2027 is unpublished, and no longer once the 2027 notice is
// loaded), and the load is logged.
func TestCalendarLoadPage(t *testing.T) {
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
	// The 2027 notice is loaded: the same file, 2027 published.
	published := bytes.Replace(engine.DefaultCalendarSource(), []byte("  - year: 2027\n    published: false"), []byte("  - year: 2027\n    published: true"), 1)
	rec := w.login("promoter").do("POST", "/admin/calendar", calendarForm(t, published))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("promoter loading a calendar: %d", rec.Code)
	}
	rec = w.login("admin").do("POST", "/admin/calendar", calendarForm(t, []byte("years:\n  - year: 2027\n    holidays: [2027-02-30]\n")))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "2027-02-30") {
		t.Fatalf("a broken file: %d", rec.Code)
	}
	rec = w.login("admin").do("POST", "/admin/calendar", calendarForm(t, published))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("admin loading a calendar: %d %s", rec.Code, rec.Body.String())
	}
	if marks() != 0 {
		t.Errorf("the deadline is still marked provisional after the 2027 notice was loaded")
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: []string{engine.EventCalendarLoad}})
	if err != nil || len(es) != 1 || es[0].Actor != "admin" {
		t.Fatalf("calendar load log entries %+v, %v", es, err)
	}
}
