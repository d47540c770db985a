package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"zonevet/engine"
)

func (w *world) inboxRoutes() []route {
	return []route{
		{"GET", "/inbox", "", get("/inbox"), "anon=303 own=200 other=200 committee=200 committee@other=200"},
		{"POST", "/inbox/read", "", post("/inbox/read", url.Values{}), "anon=401 own=303 other=303 committee=303 committee@other=303"},
	}
}

// TestInboxMarkReadOwnOnly: marking someone else's notification read by its
// id changes nothing of theirs.
func TestInboxMarkReadOwnOnly(t *testing.T) {
	w := mustWorld(t)
	w.project(engine.StateScreening) // tells the park's reviewers
	ns, err := w.svc.Inbox(w.ctx, w.users["reviewer"], 10)
	if err != nil || len(ns) == 0 {
		t.Fatalf("reviewer inbox = %v, %v", ns, err)
	}
	rec := w.login("committee").do(http.MethodPost, "/inbox/read", url.Values{"id": {strconv.FormatInt(ns[0].ID, 10)}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d", rec.Code)
	}
	if n, _ := w.svc.Unread(w.ctx, w.users["reviewer"]); n != len(ns) {
		t.Fatalf("another user's mark-read changed the reviewer's unread count to %d", n)
	}
	if rec := w.login("reviewer").do(http.MethodPost, "/inbox/read", url.Values{"id": {"x"}}); rec.Code != http.StatusBadRequest {
		t.Fatalf("bad id: status %d", rec.Code)
	}
}

// TestBrowserInbox: the promoter's 催办 button on the project page reaches
// the reviewer, whose header badge counts the unread; the inbox lists the
// reminder, and opening it marks it read and leads to the project.
func TestBrowserInbox(t *testing.T) {
	ctx := browser(t)
	w := mustWorld(t)
	srv := httptest.NewServer(w.srv)
	defer srv.Close()
	ts := srv.URL
	p := w.project(engine.StateScreening)
	browserLogin(t, ctx, ts, "promoter")
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts+"/projects/"+strconv.FormatInt(p.ID, 10)),
		chromedp.Click(chromedp.CSS(`button[data-event="remind"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if err != nil {
		t.Fatalf("remind: %v", err)
	}
	browserLogin(t, ctx, ts, "reviewer")
	if got := jsText(t, ctx, "#unread-badge"); got != "2" {
		t.Fatalf("unread badge = %q, want 2 (the submit, the reminder)", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts+"/inbox"), chromedp.WaitVisible(chromedp.CSS(`table.inbox`))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "inbox")
	if row := jsText(t, ctx, "table.inbox tbody tr"); !strings.Contains(row, "催办") || !strings.Contains(row, p.Name) {
		t.Fatalf("first inbox row = %q", row)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`table.inbox tbody tr:first-child button`)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-event="pass"]`)),
	)
	if err != nil {
		t.Fatalf("open from inbox: %v", err)
	}
	if got := jsText(t, ctx, "#unread-badge"); got != "1" {
		t.Fatalf("unread badge after opening one = %q, want 1", got)
	}
}

func TestInboxPageRenders(t *testing.T) {
	w := mustWorld(t)
	w.project(engine.StateScreening)
	for _, who := range []string{"reviewer", "admin"} {
		if rec := w.login(who).do(http.MethodGet, "/inbox", nil); rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", who, rec.Code, rec.Body.String())
		}
	}
}
