package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// formLogin signs in through the real form, carrying a pre-session CSRF
// cookie and any session cookie the browser already had.
func formLogin(w *world, user, password string, old *http.Cookie) *httptest.ResponseRecorder {
	get := httptest.NewRequest("GET", "/login", nil)
	rec := serve(w, get)
	var pre *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookiePreCSRF {
			pre = c
		}
	}
	if pre == nil {
		w.t.Fatal("the sign-in page set no CSRF cookie")
	}
	form := url.Values{"csrf": {pre.Value}, "username": {user}, "password": {password}, "next": {"/projects"}}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(pre)
	if old != nil {
		r.AddCookie(old)
	}
	return serve(w, r)
}

func sessionCookie(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookieSession && c.Value != "" {
			return c
		}
	}
	return nil
}

func TestLoginSession(t *testing.T) {
	w := mustWorld(t)
	rec := formLogin(w, "promoter", "password-promoter", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/projects" {
		t.Fatalf("login: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	first := sessionCookie(rec)
	if first == nil || !first.HttpOnly || first.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v: want HttpOnly and SameSite", first)
	}
	c := &client{w: w, cookie: first}
	if got := c.do("GET", "/", nil).Code; got != 200 {
		t.Fatalf("workbench with the new session: %d", got)
	}

	t.Run("RotatedAtLogin", func(t *testing.T) {
		again := sessionCookie(formLogin(w, "promoter", "password-promoter", first))
		if again == nil || again.Value == first.Value {
			t.Fatal("a second sign-in kept the session id")
		}
		if got := (&client{w: w, cookie: first}).do("GET", "/", nil).Code; got != http.StatusSeeOther {
			t.Errorf("the replaced session still works: %d", got)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		rec := formLogin(w, "reviewer", "nope-nope", nil)
		if rec.Code != http.StatusUnauthorized || sessionCookie(rec) != nil {
			t.Errorf("%d, cookie %v", rec.Code, sessionCookie(rec))
		}
	})
	t.Run("CSRFRequired", func(t *testing.T) {
		c := w.login("promoter")
		p := w.project(engine.StateDraft)
		r := httptest.NewRequest("POST", fmt.Sprintf("/projects/%d/act", p.ID), strings.NewReader("event=submit&version=1"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(c.cookie)
		if got := serve(w, r).Code; got != http.StatusForbidden {
			t.Errorf("POST without CSRF token: %d, want 403", got)
		}
		if got, _ := w.svc.Project(w.ctx, w.users["promoter"], p.ID); got.State != engine.StateDraft {
			t.Errorf("the forged request acted: %s", got.State)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		c := w.login("auditor")
		if got := c.do("POST", "/logout", url.Values{}).Code; got != http.StatusSeeOther {
			t.Fatal(got)
		}
		if got := c.do("GET", "/", nil).Code; got != http.StatusSeeOther {
			t.Errorf("session alive after logout: %d", got)
		}
	})
}

func TestSessionTimeoutsAndDisabled(t *testing.T) {
	w := mustWorldConfig(t, Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 2 * time.Hour})
	alive := func(c *client) bool { return c.do("GET", "/", nil).Code == http.StatusOK }

	t.Run("Idle", func(t *testing.T) {
		c := w.login("reviewer")
		w.clock.advance(29 * time.Minute)
		if !alive(c) {
			t.Fatal("ended before the idle timeout")
		}
		w.clock.advance(29 * time.Minute) // activity above reset the idle clock
		if !alive(c) {
			t.Fatal("activity did not extend the session")
		}
		w.clock.advance(31 * time.Minute)
		if alive(c) {
			t.Error("alive after 31 idle minutes")
		}
	})
	t.Run("Absolute", func(t *testing.T) {
		c := w.login("committee")
		for i := 0; i < 5; i++ {
			w.clock.advance(20 * time.Minute)
			if !alive(c) {
				t.Fatalf("ended after %d minutes of activity", (i+1)*20)
			}
		}
		w.clock.advance(25 * time.Minute) // 2 h 5 min since sign-in, 25 min idle
		if alive(c) {
			t.Error("alive past the absolute timeout")
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		c := w.login("auditor")
		if !alive(c) {
			t.Fatal("not alive")
		}
		if err := w.svc.SetDisabled(w.ctx, w.users["admin"], w.users["auditor"].ID, true); err != nil {
			t.Fatal(err)
		}
		if alive(c) {
			t.Error("a disabled account kept its session")
		}
		if err := w.svc.SetDisabled(w.ctx, w.users["admin"], w.users["auditor"].ID, false); err != nil {
			t.Fatal(err)
		}
		if alive(c) {
			t.Error("re-enabling the account revived the old session")
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	w := mustWorldConfig(t, Config{LoginLimit: 3, LoginWindow: 15 * time.Minute})
	for i := 0; i < 3; i++ {
		if got := formLogin(w, "promoter", "wrong-password", nil).Code; got != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, got)
		}
	}
	if got := formLogin(w, "promoter", "password-promoter", nil).Code; got != http.StatusTooManyRequests {
		t.Errorf("4th attempt with the right password: %d, want 429", got)
	}
	if got := formLogin(w, "reviewer", "password-reviewer", nil).Code; got != http.StatusSeeOther {
		t.Errorf("another account from the same address: %d, want 303", got)
	}
	w.clock.advance(16 * time.Minute)
	if got := formLogin(w, "promoter", "password-promoter", nil).Code; got != http.StatusSeeOther {
		t.Errorf("after the window: %d, want 303", got)
	}
}

// TestProjectFormErrors: a refused form comes back with the message next to
// the field, naming it, in the user's language, and keeps what was typed.
func TestProjectFormErrors(t *testing.T) {
	w := mustWorld(t)
	c := w.login("promoter")
	form := formOf(goodInput(ownPark))
	form.Set("uscc", "91440300708461136X")
	form.Set("land_area", "五十")
	rec := c.do("POST", "/projects", form)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	errs := map[string]string{}
	for _, f := range findAll(doc, func(n *html.Node) bool { return strings.Contains(attr(n, "class"), "has-error") }) {
		in := findAll(f, func(n *html.Node) bool { return n.Data == "input" })
		msg := findAll(f, func(n *html.Node) bool { return attr(n, "class") == "fielderr" })
		if len(in) == 1 && len(msg) == 1 {
			errs[attr(in[0], "name")] = text(msg[0])
			if attr(in[0], "name") == "land_area" && attr(in[0], "value") != "五十" {
				t.Errorf("typed value lost: %q", attr(in[0], "value"))
			}
		}
	}
	if errs["land_area"] != "请输入数字" {
		t.Errorf("land_area error %q", errs["land_area"])
	}
	summary := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "form-errors" })
	if len(summary) != 1 || !strings.Contains(text(summary[0]), "用地面积") {
		t.Errorf("summary does not name the field")
	}
	form.Set("land_area", "50")
	rec = c.do("POST", "/projects", form)
	doc = parseHTML(t, rec.Body.String())
	msgs := findAll(doc, func(n *html.Node) bool { return attr(n, "class") == "fielderr" })
	if rec.Code != http.StatusBadRequest || len(msgs) != 1 || !strings.Contains(text(msgs[0]), "GB 32100") {
		t.Errorf("bad USCC: %d, messages %d", rec.Code, len(msgs))
	}
}

// TestDocumentUpload: the type is sniffed from the bytes, the file is kept
// under a server-chosen name with its SHA-256, and only readers download it.
func TestDocumentUpload(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateDraft)
	c := w.login("promoter")
	target := fmt.Sprintf("/projects/%d/documents", p.ID)
	if rec := c.do("POST", target, w.multipart("feasibility", "report.pdf", []byte("MZ\x90\x00 not a pdf at all"))); rec.Code != http.StatusBadRequest {
		t.Errorf("an executable named .pdf: %d, want 400", rec.Code)
	}
	if rec := c.do("POST", target, w.multipart("feasibility", "../../可研.pdf", pdfBytes())); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d %.300s", rec.Code, rec.Body)
	}
	docs, err := w.svc.Documents(w.ctx, w.users["promoter"], p.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("%v %v", docs, err)
	}
	d := docs[0]
	if d.FileName != "可研.pdf" || d.MediaType != "application/pdf" || len(d.SHA256) != 64 || strings.Contains(d.StoredName, "可研") {
		t.Errorf("document %+v", d)
	}
	get := fmt.Sprintf("/projects/%d/documents/%d", p.ID, d.ID)
	rec := w.login("auditor").do("GET", get, nil)
	if rec.Code != 200 || rec.Body.String() != string(pdfBytes()) || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q", rec.Code, rec.Header().Get("Content-Disposition"))
	}
	if rec := w.login("auditor@other").do("GET", get, nil); rec.Code != http.StatusNotFound {
		t.Errorf("other park's auditor: %d, want 404", rec.Code)
	}
	big := mustWorldConfig(t, Config{MaxUpload: 1024})
	bp := big.project(engine.StateDraft)
	rec = big.login("promoter").do("POST", fmt.Sprintf("/projects/%d/documents", bp.ID), big.multipart("other", "big.pdf", append(pdfBytes(), make([]byte, 4096)...)))
	if rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized upload: %d", rec.Code)
	}
}

// TestTranslationsComplete: every message id in zh-CN exists in English and
// the reverse (file by file, every locale file), and pages render without a
// raw id.
func TestTranslationsComplete(t *testing.T) {
	checkLocalePairs(t)
	w := mustWorld(t)
	for _, id := range []string{"workbench.title", "list.title", "tokens.title"} {
		if w.srv.i18n.T(langEN, id, nil) == id || w.srv.i18n.T(langZH, id, nil) == id {
			t.Errorf("%s missing", id)
		}
	}
	p := w.project(engine.StateScreening)
	for _, lang := range []string{langZH, langEN} {
		for _, target := range []string{"/", "/projects", fmt.Sprintf("/projects/%d", p.ID), "/projects/new", "/settings/tokens"} {
			r := httptest.NewRequest("GET", target, nil)
			r.AddCookie(w.login("promoter").cookie)
			r.AddCookie(&http.Cookie{Name: "lang", Value: lang})
			body := serve(w, r).Body.String()
			for _, prefix := range []string{"field.", "list.", "project.", "report.", "doc.", "tokens.", "form.", "nav.", "hint."} {
				if i := strings.Index(body, ">"+prefix); i >= 0 {
					t.Errorf("%s %s shows a raw message id: %.60s", lang, target, body[i:])
				}
			}
			if lang != langEN {
				continue
			}
			// Units, the leading-industry chip and the report's thresholds
			// come from data (the form's fields, the rule set), not from the
			// message files.
			shown := 0
			for _, n := range findAll(parseHTML(t, body), func(n *html.Node) bool {
				return attr(n, "class") == "unit" || attr(n, "class") == "chip" || attr(n, "class") == "threshold"
			}) {
				if attr(n, "class") == "threshold" && strings.Contains(text(n), "⇒") {
					shown++
				}
				if s := text(n); strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0 {
					t.Errorf("%s %s shows Chinese in English: %q", lang, target, s)
				}
			}
			if target == fmt.Sprintf("/projects/%d", p.ID) && shown == 0 {
				t.Errorf("the project page shows no requires check's threshold (… ⇒ …): nothing checked")
			}
		}
	}
}

func TestFormatFileSize(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {45, "45 B"}, {1023, "1023 B"}, {1024, "1 KB"}, {1229, "1.2 KB"}, {3565158, "3.4 MB"}, {5 << 30, "5 GB"}} {
		if got := formatFileSize(tt.n); got != tt.want {
			t.Errorf("formatFileSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{{0, "0"}, {12345.5, "12,345.5"}, {1234567.891, "1,234,567.89"}, {-1500, "-1,500"}, {999, "999"}, {1000, "1,000"}}
	for _, tt := range tests {
		if got := formatAmount(tt.v, 2); got != tt.want {
			t.Errorf("formatAmount(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	if got := formatTime(time.Date(2025, 3, 3, 17, 30, 0, 0, time.UTC), loc, true); got != "2025-03-04 01:30" {
		t.Errorf("Shanghai time %q", got)
	}
}
