package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"zonevet/engine"
	"zonevet/store/storetest"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (w *world) entries(events ...string) []engine.AuditEntry {
	w.t.Helper()
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{Events: events})
	if err != nil {
		w.t.Fatal(err)
	}
	return es
}

// TestAnonymousRefusalsStayOutOfDecisionLog: 30 anonymous POSTs without a
// CSRF token and with 100 KB paths add nothing to the append-only log; they
// are access-log lines, paced (a burst of 10, then one a second).
func TestAnonymousRefusalsStayOutOfDecisionLog(t *testing.T) {
	var sink lockedBuffer
	// Paced at one line an hour after the burst of 10: however slow the
	// machine, the 30 refusals leave exactly the burst.
	w := mustWorldConfig(t, Config{Logger: slog.New(slog.NewTextHandler(&sink, nil)), AnonLogEvery: time.Hour})
	before := len(w.entries())
	long := "/projects/" + strings.Repeat("a", 100_000)
	for i := 0; i < 30; i++ {
		r := httptest.NewRequest("POST", long, strings.NewReader("event=submit"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i))
		if rec := serve(w, r); rec.Code != http.StatusForbidden {
			t.Fatalf("anonymous POST without CSRF: %d, want 403", rec.Code)
		}
	}
	if after := len(w.entries()); after != before {
		t.Errorf("anonymous refusals added %d decision-log entries, want 0", after-before)
	}
	lines := 0
	for _, l := range strings.Split(sink.String(), "\n") {
		if strings.Contains(l, "refused anonymous request") {
			lines++
			if len(l) > 1000 {
				t.Errorf("access-log line of %d bytes: the path is not cut", len(l))
			}
		}
	}
	if lines != 10 {
		t.Errorf("%d access-log lines for 30 refusals, want the burst of 10 (paced)", lines)
	}
}

// TestSignedInRefusalLoggedWithPathCut: a signed-in user's refused request is
// in the decision log, with the path cut to 256 bytes on a character boundary.
func TestSignedInRefusalLoggedWithPathCut(t *testing.T) {
	w := mustWorld(t)
	c := w.login("promoter")
	path := "/projects/" + strings.Repeat("路", 40_000)
	r := httptest.NewRequest("POST", (&url.URL{Path: path}).EscapedPath(), strings.NewReader("event=submit"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(c.cookie)
	if rec := serve(w, r); rec.Code != http.StatusForbidden {
		t.Fatalf("POST without CSRF: %d, want 403", rec.Code)
	}
	es := w.entries(engine.EventRefused)
	if len(es) != 1 {
		t.Fatalf("%d refusal entries, want 1", len(es))
	}
	e := es[0]
	var body struct{ Path string }
	if err := json.Unmarshal([]byte(e.Payload), &body); err != nil {
		t.Fatal(err)
	}
	if e.Actor != "promoter" || len(body.Path) > 256 || !utf8.ValidString(body.Path) || !strings.HasPrefix(body.Path, "/projects/路") {
		t.Errorf("refusal by %q with a path of %d bytes (valid UTF-8 %v)", e.Actor, len(body.Path), utf8.ValidString(body.Path))
	}
	if len(e.Payload)+len(e.Reason) > 1024 {
		t.Errorf("refusal entry holds %d bytes", len(e.Payload)+len(e.Reason))
	}
}

// documentUploadForm is a browser's upload form: the CSRF token as a form field
// (not a header), the kind, then the file.
func documentUploadForm(t *testing.T, csrf string, size int) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf)
	mw.WriteField("kind", "feasibility")
	fw, err := mw.CreateFormFile("file", "可研.pdf")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(pdfBytes())
	fw.Write(make([]byte, size-len(pdfBytes())))
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// TestOversizedUploadIs413NotCSRFRefusal: a signed-in promoter's upload over
// the 20 MB limit is 413 "文件超过 20 MB", whether the body is announced as
// too large, streams past the limit, or fits the body limit with a file
// over it; never the CSRF message, never a refusal in the log.
func TestOversizedUploadIs413NotCSRFRefusal(t *testing.T) {
	// The cases that read the body through (streamed, file over the limit in
	// a body within it) run against a 2 MB limit: the same paths as at the
	// default 20 MB, with a tenth of the bytes through the race detector. An
	// announced length is refused unread, so those cases keep the default.
	worlds := map[bool]*world{false: mustWorld(t), true: mustWorldConfig(t, Config{MaxUpload: 2 << 20})}
	projects := map[bool]*engine.Project{}
	for small, w := range worlds {
		projects[small] = w.project(engine.StateDraft)
	}
	cases := []struct {
		name     string
		small    bool
		size     int
		streamed bool
		lang     string
		want     string
	}{
		{"AnnouncedOverLimit", false, 25 << 20, false, "", "文件超过 20 MB"},
		{"StreamedOverLimit", true, 7 << 20, true, "", "文件超过 2 MB"},
		{"FileOverLimitBodyWithin", true, 2<<20 + 100<<10, false, "", "文件超过 2 MB"},
		{"English", false, 25 << 20, false, "en", "file larger than 20 MB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, p := worlds[tc.small], projects[tc.small]
			c := w.login("promoter")
			body, ctype := documentUploadForm(t, c.csrf, tc.size)
			var rd io.Reader = body
			if tc.streamed {
				rd = io.MultiReader(body) // no length known in advance
			}
			r := httptest.NewRequest("POST", fmt.Sprintf("/projects/%d/documents", p.ID), rd)
			r.Header.Set("Content-Type", ctype)
			r.AddCookie(c.cookie)
			if tc.lang != "" {
				r.AddCookie(&http.Cookie{Name: "lang", Value: tc.lang})
			}
			rec := serve(w, r)
			if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("status %d, want 413 saying %q", rec.Code, tc.want)
			}
			if strings.Contains(rec.Body.String(), "表单已过期") || strings.Contains(rec.Body.String(), "form has expired") {
				t.Error("an oversized upload answered with the CSRF message")
			}
		})
	}
	for small, w := range worlds {
		if es := w.entries(engine.EventRefused); len(es) != 0 {
			t.Errorf("oversized uploads logged as %d refusals", len(es))
		}
		if docs, _ := w.svc.Documents(w.ctx, w.users["promoter"], projects[small].ID); len(docs) != 0 {
			t.Errorf("%d documents stored", len(docs))
		}
	}
}

// apiToken gives the named user a bearer token, made in the store.
func (w *world) apiToken(name string) string {
	w.t.Helper()
	secret := "zv_" + randomToken()
	if err := w.db.CreateAPIToken(w.ctx, &engine.APIToken{UserID: w.users[name].ID, Name: "test", Hash: hashToken(secret), CreatedAt: w.clock.now()}); err != nil {
		w.t.Fatal(err)
	}
	return secret
}

// TestAPIBodyLimit: the bearer-token API has the forms' body limit: a JSON
// body over it is 413, with or without an Idempotency-Key, announced or
// streamed; nothing is created and the key is not left claimed.
func TestAPIBodyLimit(t *testing.T) {
	// A 2 MB limit instead of the default 20 MB: the same paths with a tenth
	// of the bytes through the race detector (TestOversizedUploadIs413NotCSRFRefusal
	// checks the default's figure).
	w := mustWorldConfig(t, Config{MaxUpload: 2 << 20})
	secret := w.apiToken("promoter")
	in := goodInput(ownPark)
	in.Name = strings.Repeat("名", 1<<20) // 3 MB of UTF-8
	huge, _ := json.Marshal(in)
	for _, key := range []string{"", "big-1"} {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprintf("key=%q,streamed=%v", key, streamed), func(t *testing.T) {
				var rd io.Reader = bytes.NewReader(huge)
				if streamed {
					rd = io.MultiReader(rd)
				}
				r := httptest.NewRequest("POST", "/api/v1/projects", rd)
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+secret)
				if key != "" {
					r.Header.Set("Idempotency-Key", key)
				}
				rec := serve(w, r)
				got := decode[apiError](t, rec.Body.Bytes())
				if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(got.Message, "2 MB") {
					t.Errorf("status %d %+v, want 413 naming 2 MB", rec.Code, got)
				}
			})
		}
	}
	if _, total, _ := w.svc.Projects(w.ctx, w.users["promoter"], engine.ProjectFilter{}); total != 0 {
		t.Errorf("%d projects created", total)
	}
	// The key was never claimed: a retry with a sensible body goes through.
	small, _ := json.Marshal(goodInput(ownPark))
	r := newJSONRequest("POST", "/api/v1/projects", small)
	r.Header.Set("Authorization", "Bearer "+secret)
	r.Header.Set("Idempotency-Key", "big-1")
	if rec := serve(w, r); rec.Code != http.StatusCreated {
		t.Errorf("retry with the key: %d %s", rec.Code, rec.Body)
	}
}

// TestAPIRefusesTrailingDataAfterJSON: a body with anything after its JSON
// value is 400 naming the body; trailing whitespace is fine.
func TestAPIRefusesTrailingDataAfterJSON(t *testing.T) {
	w := mustWorld(t)
	secret := w.apiToken("promoter")
	one, _ := json.Marshal(goodInput(ownPark))
	cases := []struct {
		name string
		body string
		want int
	}{
		{"Garbage", string(one) + "garbage", http.StatusBadRequest},
		{"TwoObjects", string(one) + string(one), http.StatusBadRequest},
		{"TwoObjectsSpaced", string(one) + "\n" + string(one), http.StatusBadRequest},
		{"ClosingBrace", string(one) + "}", http.StatusBadRequest},
		{"TrailingNewline", string(one) + "\r\n", http.StatusCreated},
	}
	created := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newJSONRequest("POST", "/api/v1/projects", []byte(tc.body))
			r.Header.Set("Authorization", "Bearer "+secret)
			rec := serve(w, r)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.want == http.StatusBadRequest {
				if got := decode[apiError](t, rec.Body.Bytes()); got.Field != "body" {
					t.Errorf("field %q, want body", got.Field)
				}
			} else {
				created++
			}
		})
	}
	if _, total, _ := w.svc.Projects(w.ctx, w.users["promoter"], engine.ProjectFilter{}); total != created {
		t.Errorf("%d projects, want %d", total, created)
	}
}

// TestPlantedCSRFCookieDoesNotSpeakForSession: a zv_csrf cookie planted by a
// sibling host, with a matching field or header, does not authorise a
// signed-in user's request; only the session's token does.
func TestPlantedCSRFCookieDoesNotSpeakForSession(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateDraft)
	c := w.login("promoter")
	planted := "planted-by-a-sibling-host-0123456789abcdef"
	act := func(token string, inHeader bool) int {
		form := url.Values{"event": {"submit"}, "version": {fmt.Sprint(p.Version)}}
		if !inHeader {
			form.Set("csrf", token)
		}
		r := httptest.NewRequest("POST", fmt.Sprintf("/projects/%d/act", p.ID), strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if inHeader {
			r.Header.Set(csrfHeader, token)
		}
		r.AddCookie(c.cookie)
		r.AddCookie(&http.Cookie{Name: cookiePreCSRF, Value: planted})
		return serve(w, r).Code
	}
	if got := act(planted, false); got != http.StatusForbidden {
		t.Errorf("planted cookie + matching field: %d, want 403", got)
	}
	if got := act(planted, true); got != http.StatusForbidden {
		t.Errorf("planted cookie + matching header: %d, want 403", got)
	}
	if got, _ := w.svc.Project(w.ctx, w.users["promoter"], p.ID); got.State != engine.StateDraft {
		t.Fatalf("the forged request acted: %s", got.State)
	}
	if got := act(c.csrf, false); got != http.StatusSeeOther {
		t.Errorf("the session's own token: %d, want 303", got)
	}
}

// TestPreLoginCSRFCookieHostPrefixedUnderTLS: served over TLS, the sign-in
// form's cookie is __Host-zv_csrf (Secure, Path=/, no Domain), which no
// sibling host can plant; a planted plain zv_csrf is not accepted.
func TestPreLoginCSRFCookieHostPrefixedUnderTLS(t *testing.T) {
	w := mustWorldConfig(t, Config{SecureCookies: true})
	rec := serve(w, httptest.NewRequest("GET", "/login", nil))
	var pre *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if strings.HasSuffix(ck.Name, cookiePreCSRF) {
			pre = ck
		}
	}
	if pre == nil || pre.Name != "__Host-zv_csrf" || !pre.Secure || pre.Path != "/" || pre.Domain != "" {
		t.Fatalf("pre-session cookie %+v: want __Host-zv_csrf, Secure, Path=/, no Domain", pre)
	}
	post := func(ck *http.Cookie, token string) int {
		form := url.Values{"csrf": {token}, "username": {"promoter"}, "password": {"password-promoter"}, "next": {"/"}}
		r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(ck)
		return serve(w, r).Code
	}
	planted := "planted-by-a-sibling-host-0123456789abcdef"
	if got := post(&http.Cookie{Name: cookiePreCSRF, Value: planted}, planted); got != http.StatusForbidden {
		t.Errorf("planted zv_csrf under TLS: %d, want 403", got)
	}
	if got := post(pre, pre.Value); got != http.StatusSeeOther {
		t.Errorf("the page's own __Host- cookie: %d, want 303", got)
	}
}

// TestSafeNextAcceptsOnlySameOriginPaths: a redirect target must be a path on
// this site; browsers drop tabs and newlines and read "\" as "/", so those
// are refused too.
func TestSafeNextAcceptsOnlySameOriginPaths(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/projects/7?tab=scores#scores", "/projects/7?tab=scores#scores"},
		{"/", "/"},
		{"/%09/evil.example/x", "/%09/evil.example/x"}, // a literal %09 stays a path segment
		{"", "/"},
		{"projects", "/"},
		{"//evil.example/x", "/"},
		{"/\t/evil.example/x", "/"},
		{"/\n/evil.example/x", "/"},
		{"/\r\n/evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"/\u0085/evil.example", "/"},
		{"/\u2028/evil.example", "/"},
		{"/%2F/evil.example", "/"},
	}
	for _, tc := range cases {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	w := mustWorld(t)
	for _, target := range []string{"/lang/en?next=/%09/evil.example/x", "/lang/en?next=%2F%5Cevil.example", "/lang/zh?next=//evil.example"} {
		rec := w.login("anon").do("GET", target, nil)
		if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/" {
			t.Errorf("GET %s: %d to %q, want 303 to /", target, rec.Code, loc)
		}
	}
	if loc := w.login("promoter").do("GET", "/login?next=/%09/evil.example/x", nil).Header().Get("Location"); loc != "/" {
		t.Errorf("signed-in GET /login?next=: to %q, want /", loc)
	}
	rec := w.login("anon").do("POST", "/login", url.Values{"username": {"promoter"}, "password": {"password-promoter"}, "next": {"/\t/evil.example/x"}})
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/" {
		t.Errorf("POST /login with next: %d to %q, want 303 to /", rec.Code, loc)
	}
}

// loginFrom signs in through the form from a given socket address, with an
// optional X-Forwarded-For header.
func loginFrom(w *world, user, password, remote, xff string) *httptest.ResponseRecorder {
	anon := "pre-session-token-0123456789abcdef-0123456789"
	form := url.Values{"csrf": {anon}, "username": {user}, "password": {password}, "next": {"/"}}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: cookiePreCSRF, Value: anon})
	r.RemoteAddr = remote
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	return serve(w, r)
}

func codes(recs ...*httptest.ResponseRecorder) []int {
	var out []int
	for _, r := range recs {
		out = append(out, r.Code)
	}
	return out
}

// failedLoginRemotes lists the client address of each failed sign-in entry.
func (w *world) failedLoginRemotes() []string {
	var out []string
	for _, e := range w.entries(engine.EventLoginFailed) {
		var body struct{ Remote string }
		if err := json.Unmarshal([]byte(e.Payload), &body); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, body.Remote)
	}
	return out
}

// TestLoginLimitUsesSocketAddressNotForwardedFor: without trusted proxies,
// rotating X-Forwarded-For headers are one client, the socket's peer: after
// LoginLimit failures it waits, and the log records the peer's address.
func TestLoginLimitUsesSocketAddressNotForwardedFor(t *testing.T) {
	w := mustWorldConfig(t, Config{LoginLimit: 3})
	var got []int
	for i := 0; i < 8; i++ {
		got = append(got, loginFrom(w, "promoter", "wrong-password", "192.0.2.1:1234", fmt.Sprintf("10.9.0.%d", i+1)).Code)
	}
	want := []int{401, 401, 401, 429, 429, 429, 429, 429}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	for _, r := range w.failedLoginRemotes() {
		if r != "192.0.2.1" {
			t.Errorf("failed sign-in logged from %q, want the socket address 192.0.2.1", r)
		}
	}
}

// TestLoginLimitHonoursForwardedForFromTrustedProxy: with --trusted-proxies,
// the header from a trusted proxy names the client (each its own limit); a
// peer outside the list is still taken for itself, whatever it writes.
func TestLoginLimitHonoursForwardedForFromTrustedProxy(t *testing.T) {
	proxies, err := ParseTrustedProxies("192.0.2.0/24, 2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	w := mustWorldConfig(t, Config{LoginLimit: 3, TrustedProxies: proxies})
	var got []int
	for i := 0; i < 6; i++ {
		got = append(got, loginFrom(w, "promoter", "wrong-password", "192.0.2.1:1234", fmt.Sprintf("203.0.113.%d", i+1)).Code)
	}
	if fmt.Sprint(got) != fmt.Sprint([]int{401, 401, 401, 401, 401, 401}) {
		t.Errorf("through the trusted proxy: %v, want six 401s (six clients)", got)
	}
	remotes := w.failedLoginRemotes()
	if len(remotes) != 6 || remotes[0] != "203.0.113.1" || remotes[5] != "203.0.113.6" {
		t.Errorf("logged addresses %v, want the forwarded clients", remotes)
	}
	got = got[:0]
	for i := 0; i < 5; i++ {
		got = append(got, loginFrom(w, "promoter", "wrong-password", "198.51.100.9:999", fmt.Sprintf("203.0.113.%d", 100+i)).Code)
	}
	if fmt.Sprint(got) != fmt.Sprint([]int{401, 401, 401, 429, 429}) {
		t.Errorf("from an untrusted peer: %v, want 3×401 then 429", got)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad CIDR was accepted")
	}
}

// TestLoginFloodDoesNotLockOutOwner: a flood of wrong passwords for an
// account from one address throttles that address; the account's owner
// signs in from theirs at once.
func TestLoginFloodDoesNotLockOutOwner(t *testing.T) {
	w := mustWorldConfig(t, Config{LoginLimit: 5})
	var recs []*httptest.ResponseRecorder
	for i := 0; i < 20; i++ {
		recs = append(recs, loginFrom(w, "promoter", fmt.Sprintf("guess-%d", i), "203.0.113.66:4000", ""))
	}
	got := codes(recs...)
	if fmt.Sprint(got[:6]) != fmt.Sprint([]int{401, 401, 401, 401, 401, 429}) || got[19] != 429 {
		t.Errorf("attacker statuses %v: want 5×401, then 429", got)
	}
	if rec := loginFrom(w, "promoter", "password-promoter", "198.51.100.7:5000", ""); rec.Code != http.StatusSeeOther {
		t.Errorf("the owner from their own address: %d, want 303", rec.Code)
	}
	if rec := loginFrom(w, "promoter", "password-promoter", "203.0.113.66:4000", ""); rec.Code != http.StatusTooManyRequests {
		t.Errorf("the flooding address, even with the right password: %d, want 429", rec.Code)
	}
}

// TestLoginRefusalNeedsNoWriter: once the throttle refuses, further
// attempts are answered from a read of the counts: they get their 429
// while another process holds the database's write lock, so a flood the
// throttle is refusing never queues for the writer that decisions need.
func TestLoginRefusalNeedsNoWriter(t *testing.T) {
	w := mustWorldConfig(t, Config{LoginLimit: 2})
	const addr = "203.0.113.9:1000"
	for i := range 2 {
		if got := loginFrom(w, "reviewer", "wrong", addr, "").Code; got != http.StatusUnauthorized {
			t.Fatalf("free attempt %d: %d", i+1, got)
		}
	}
	release := storetest.HoldWriter(t, w.db)
	defer release()
	for i := range 3 {
		if rec := loginFrom(w, "reviewer", "wrong", addr, ""); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("refused attempt %d with the writer held elsewhere: %d %s", i+1, rec.Code, rec.Body)
		}
	}
}

// TestLoginBackoffGrowsPerAccountAndAddress: after LoginLimit (3) failures
// an (account, address) pair waits 30 s, then 60 s, then 120 s (doubling
// from loginBackoffBase); Retry-After says so; a success clears the pair.
func TestLoginBackoffGrowsPerAccountAndAddress(t *testing.T) {
	w := mustWorldConfig(t, Config{LoginLimit: 3, LoginWindow: 15 * time.Minute})
	const addr = "203.0.113.5:1000"
	try := func(password string) *httptest.ResponseRecorder {
		return loginFrom(w, "reviewer", password, addr, "")
	}
	for i := 0; i < 3; i++ {
		if got := try("wrong").Code; got != http.StatusUnauthorized {
			t.Fatalf("free attempt %d: %d", i+1, got)
		}
	}
	for _, delay := range []time.Duration{30 * time.Second, 60 * time.Second, 120 * time.Second} {
		rec := try("wrong")
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != fmt.Sprint(int(delay.Seconds())) {
			t.Fatalf("at once: %d, Retry-After %q; want 429 after %v", rec.Code, rec.Header().Get("Retry-After"), delay)
		}
		w.clock.advance(delay - time.Second)
		if got := try("wrong").Code; got != http.StatusTooManyRequests {
			t.Fatalf("a second before %v: %d, want 429", delay, got)
		}
		w.clock.advance(time.Second)
		if delay < 120*time.Second {
			if got := try("wrong").Code; got != http.StatusUnauthorized {
				t.Fatalf("after %v: %d, want 401", delay, got)
			}
		}
	}
	if got := try("password-reviewer").Code; got != http.StatusSeeOther {
		t.Fatalf("right password after the wait: %d, want 303", got)
	}
	if got := try("wrong").Code; got != http.StatusUnauthorized {
		t.Errorf("after a success the pair starts afresh: %d, want 401", got)
	}
}

// TestDisablingAccountRevokesAPITokens: disabling an account revokes its API
// tokens in the same transaction; re-enabling does not revive them.
func TestDisablingAccountRevokesAPITokens(t *testing.T) {
	w := mustWorld(t)
	secret := w.apiToken("promoter")
	api := &client{w: w, bearer: secret}
	if got := api.do("GET", "/api/v1/projects", nil).Code; got != http.StatusOK {
		t.Fatalf("token before: %d", got)
	}
	admin := w.login("admin")
	status := fmt.Sprintf("/admin/users/%d/status", w.users["promoter"].ID)
	for _, v := range []string{"1", "0"} {
		if rec := admin.do("POST", status, url.Values{"disabled": {v}}); rec.Code != http.StatusSeeOther && rec.Code != http.StatusOK {
			t.Fatalf("set disabled=%s: %d %.300s", v, rec.Code, rec.Body)
		}
	}
	if got := api.do("GET", "/api/v1/projects", nil).Code; got != http.StatusUnauthorized {
		t.Errorf("token after disable and re-enable: %d, want 401", got)
	}
	toks, err := w.db.APITokens(w.ctx, w.users["promoter"].ID)
	if err != nil || len(toks) != 1 || !toks[0].Revoked {
		t.Errorf("tokens %+v %v: want the one token revoked", toks, err)
	}
	// The engine's switch, called without the admin page, does the same.
	secret = w.apiToken("reviewer")
	id := w.users["reviewer"].ID
	if err := w.svc.SetDisabled(w.ctx, w.users["admin"], id, true); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.SetDisabled(w.ctx, w.users["admin"], id, false); err != nil {
		t.Fatal(err)
	}
	if got := (&client{w: w, bearer: secret}).do("GET", "/api/v1/projects", nil).Code; got != http.StatusUnauthorized {
		t.Errorf("token after SetDisabled off and on: %d, want 401", got)
	}
}

// TestFreeTextLengthLimited: a score comment and a conflict reason over 2,000
// characters are refused naming the field, and nothing is stored; 2,000 is
// accepted.
func TestFreeTextLengthLimited(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateExpertReview)
	over, limit := strings.Repeat("评", 2001), strings.Repeat("评", 2000)
	scoreForm := func(comment string) url.Values {
		f := url.Values{"round": {fmt.Sprint(p.Round)}, "comment": {comment}}
		for id, v := range w.fullMarks(p, 0.8) {
			f.Set("item."+id, fmt.Sprint(v))
		}
		return f
	}
	alert := func(rec *httptest.ResponseRecorder) string {
		doc := parseHTML(t, rec.Body.String())
		if a := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "action-error" }); len(a) == 1 {
			return text(a[0])
		}
		return ""
	}
	rec := w.login("reviewer").do("POST", fmt.Sprintf("/projects/%d/score", p.ID), scoreForm(over))
	if rec.Code != http.StatusBadRequest || !strings.Contains(alert(rec), "评审意见不超过 2000 字") {
		t.Errorf("score comment of 2001: %d %q", rec.Code, alert(rec))
	}
	api := &client{w: w, bearer: w.apiToken("reviewer")}
	rec = api.do("POST", fmt.Sprintf("/api/v1/projects/%d/scores", p.ID), engine.ScoreInput{Round: p.Round, Items: w.fullMarks(p, 0.8), Comment: over})
	if got := decode[apiError](t, rec.Body.Bytes()); rec.Code != http.StatusBadRequest || got.Field != "comment" {
		t.Errorf("API score comment of 2001: %d %+v", rec.Code, got)
	}
	rec = w.login("reviewer2").do("POST", fmt.Sprintf("/projects/%d/conflict", p.ID), url.Values{"reason": {over}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(alert(rec), "回避理由不超过 2000 字") {
		t.Errorf("conflict reason of 2001: %d %q", rec.Code, alert(rec))
	}
	if scores, _, _ := w.svc.Scores(w.ctx, w.users["auditor"], p.ID); len(scores) != 0 {
		t.Errorf("%d scores stored", len(scores))
	}
	if rec := w.login("reviewer").do("POST", fmt.Sprintf("/projects/%d/score", p.ID), scoreForm(limit)); rec.Code != http.StatusSeeOther {
		t.Errorf("score comment of 2000: %d %q", rec.Code, alert(rec))
	}
	if rec := w.login("reviewer2").do("POST", fmt.Sprintf("/projects/%d/conflict", p.ID), url.Values{"reason": {limit}}); rec.Code != http.StatusSeeOther {
		t.Errorf("conflict reason of 2000: %d %q", rec.Code, alert(rec))
	}
}

// TestHashGateBoundsChecksAndQueue: with one slot, one check runs, sixteen
// wait, the seventeenth is refused at once; a waiter gives up at its
// deadline; released, the waiters run one at a time.
func TestHashGateBoundsChecksAndQueue(t *testing.T) {
	g := newHashGate(1)
	release, ok := g.enter(t.Context())
	if !ok {
		t.Fatal("the first check was refused")
	}
	var running, done sync.WaitGroup
	var mu sync.Mutex
	inside, most := 0, 0
	running.Add(16)
	done.Add(16)
	for i := 0; i < 16; i++ {
		go func() {
			defer done.Done()
			running.Done()
			rel, ok := g.enter(t.Context())
			if !ok {
				t.Error("a queued check was refused")
				return
			}
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			rel()
		}()
	}
	running.Wait()
	for g.waiting.Load() < 16 {
		time.Sleep(time.Millisecond)
	}
	if _, ok := g.enter(t.Context()); ok {
		t.Fatal("a seventeenth waiter was queued")
	}
	release()
	done.Wait()
	if most != 1 {
		t.Errorf("%d checks ran at once, want 1", most)
	}
	short := newHashGate(1)
	short.maxWait = 10 * time.Millisecond
	hold, _ := short.enter(t.Context())
	if _, ok := short.enter(t.Context()); ok {
		t.Error("a waiter got a slot that was never released")
	}
	hold()
}
