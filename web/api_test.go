package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"zonevet/engine"
)

// TestOpenAPIMatchesRoutes keeps /api/v1/openapi.json and the echo routes in
// step: every documented operation is served and every served route is documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	w := mustWorld(t)
	rec := w.login("anon").do("GET", "/api/v1/openapi.json", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Servers []struct{ URL string }               `json:"servers"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Servers) != 1 {
		t.Fatalf("openapi %q servers %v", doc.OpenAPI, doc.Servers)
	}
	param := regexp.MustCompile(`\{(\w+)\}`)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+doc.Servers[0].URL+param.ReplaceAllString(path, ":$1")] = true
		}
	}
	served := map[string]bool{}
	for _, r := range w.srv.Echo().Routes() {
		if r.Method != echo.RouteNotFound && strings.HasPrefix(r.Path, "/api/v1/") {
			served[r.Method+" "+r.Path] = true
		}
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	var keys []string
	for k := range documented {
		keys = append(keys, k)
		if !served[k] {
			t.Errorf("openapi.json documents %s, which is not served", k)
		}
	}
	sort.Strings(keys)
	if len(keys) < 9 {
		t.Errorf("only %d operations documented: %v", len(keys), keys)
	}
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

// TestAPIErrors checks the JSON error shape and the status table.
func TestAPIErrors(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateDraft)
	promoter := w.login("promoter")
	bad := goodInput(ownPark)
	bad.USCC = "91440300708461136X"
	tests := []struct {
		name, method, target string
		body                 any
		status               int
		code, field          string
	}{
		{"BadUSCC", "POST", "/api/v1/projects", bad, 400, "invalid", "uscc"},
		{"UnknownField", "POST", "/api/v1/projects", map[string]any{"park": ownPark, "nmae": "x"}, 400, "invalid", "nmae"},
		{"WrongType", "POST", "/api/v1/projects", map[string]any{"park": 7}, 400, "invalid", "park"},
		{"NotFound", "GET", "/api/v1/projects/999999", nil, 404, "not_found", ""},
		{"NoRoute", "GET", "/api/v1/nothing", nil, 404, "not_found", ""},
		{"Stale", "POST", fmt.Sprintf("/api/v1/projects/%d/actions", p.ID), engine.Action{Event: "submit", Version: p.Version + 5}, 409, "conflict", ""},
		{"WrongState", "POST", fmt.Sprintf("/api/v1/projects/%d/actions", p.ID), engine.Action{Event: "sign", Version: p.Version}, 409, "conflict", ""},
		{"NoReport", "GET", fmt.Sprintf("/api/v1/projects/%d/report", p.ID), nil, 404, "not_found", ""},
		{"BadState", "GET", "/api/v1/projects?state=flying", nil, 400, "invalid", "state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := promoter.do(tt.method, tt.target, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			got := decode[apiError](t, rec.Body.Bytes())
			if got.Code != tt.code || got.Field != tt.field || got.Message == "" {
				t.Errorf("got %+v, want code %s field %q and a message", got, tt.code, tt.field)
			}
		})
	}
	t.Run("Unauthenticated", func(t *testing.T) {
		rec := w.login("anon").do("GET", "/api/v1/projects", nil)
		if got := decode[apiError](t, rec.Body.Bytes()); rec.Code != 401 || got.Code != "unauthorized" {
			t.Errorf("%d %+v", rec.Code, got)
		}
	})
	t.Run("Language", func(t *testing.T) {
		zh := decode[apiError](t, promoter.do("GET", "/api/v1/projects/999999", nil).Body.Bytes()).Message
		r := newJSONRequest("GET", "/api/v1/projects/999999", nil)
		r.AddCookie(promoter.cookie)
		r.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
		en := decode[apiError](t, serve(w, r).Body.Bytes()).Message
		if zh != "项目不存在" || !strings.EqualFold(en, "project not found") {
			t.Errorf("messages zh %q en %q", zh, en)
		}
	})
}

// TestAPITokens: a token created in the UI authenticates the API without
// CSRF; revoked, it no longer does; only its hash is stored.
func TestAPITokens(t *testing.T) {
	w := mustWorld(t)
	ui := w.login("promoter")
	rec := ui.do("POST", "/settings/tokens", url.Values{"name": {"etl"}, "scope": {"projects:read", "projects:act"}})
	if rec.Code != 200 {
		t.Fatalf("create token: %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	pre := findAll(doc, func(n *html.Node) bool { return attr(n, "data-token") != "" || n.Data == "pre" })
	if len(pre) != 1 {
		t.Fatalf("want the new token shown once, found %d", len(pre))
	}
	secret := text(pre[0])
	toks, err := w.db.APITokens(w.ctx, w.users["promoter"].ID)
	if err != nil || len(toks) != 1 {
		t.Fatalf("tokens %v %v", toks, err)
	}
	if toks[0].Hash == secret || toks[0].Hash != hashToken(secret) {
		t.Fatalf("stored %q: want the SHA-256 of the secret, not the secret", toks[0].Hash)
	}
	api := &client{w: w, bearer: secret}
	rec = api.do("POST", "/api/v1/projects", goodInput(ownPark))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create with token: %d %s", rec.Code, rec.Body)
	}
	created := decode[engine.Project](t, rec.Body.Bytes())
	if created.State != engine.StateDraft || created.ID == 0 {
		t.Errorf("created %+v", created)
	}
	if rec := ui.do("POST", fmt.Sprintf("/settings/tokens/%d/revoke", toks[0].ID), url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", rec.Code)
	}
	if rec := api.do("GET", "/api/v1/projects", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", rec.Code)
	}
	if rec := (&client{w: w, bearer: "zv_forged"}).do("GET", "/api/v1/projects", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("unknown token: %d, want 401", rec.Code)
	}
}

// TestIdempotencyKey: a retried POST with the same key has its effect once
// and gets the first response back; the key on another request is a conflict.
func TestIdempotencyKey(t *testing.T) {
	w := mustWorld(t)
	c := w.login("promoter")
	send := func(key string, in engine.ProjectInput) (int, string, http.Header) {
		body, _ := json.Marshal(in)
		r := newJSONRequest("POST", "/api/v1/projects", body)
		r.Header.Set("Idempotency-Key", key)
		r.AddCookie(c.cookie)
		r.Header.Set(csrfHeader, c.csrf)
		rec := serve(w, r)
		return rec.Code, rec.Body.String(), rec.Header()
	}
	in := goodInput(ownPark)
	s1, b1, _ := send("k-1", in)
	s2, b2, h2 := send("k-1", in)
	if s1 != 201 || s2 != 201 || b1 != b2 || h2.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("first %d, retry %d (replayed %q), bodies equal %v", s1, s2, h2.Get("Idempotent-Replayed"), b1 == b2)
	}
	_, total, err := w.svc.Projects(w.ctx, w.users["promoter"], engine.ProjectFilter{})
	if err != nil || total != 1 {
		t.Fatalf("%d projects after a retried create, want 1 (%v)", total, err)
	}
	other := in
	other.Name = "另一个项目"
	if s, b, _ := send("k-1", other); s != http.StatusConflict {
		t.Errorf("same key, other body: %d %s, want 409", s, b)
	}
	if s, _, _ := send("k-2", other); s != 201 {
		t.Errorf("new key: %d", s)
	}
}

// TestConcurrentActConflict: two people act on the same version at the same
// moment; exactly one transition happens, the other gets "this project
// changed, reload" (409). Every request is released at once from a barrier,
// so both of a pair read the same version before either writes: the store's
// version guard, not the engine's early check, is what has to hold. Several
// projects at a time and several rounds, since two goroutines do not always
// overlap; the answer must be right every time.
func TestConcurrentActConflict(t *testing.T) {
	w := mustWorld(t)
	reviewer, reviewer2 := w.login("reviewer"), w.login("reviewer2")
	const projects = 8
	for round := range 5 {
		type pair struct {
			p    *engine.Project
			recs [2]*httptest.ResponseRecorder
		}
		pairs := make([]*pair, projects)
		for i := range pairs {
			pairs[i] = &pair{p: w.project(engine.StateScreening)}
		}
		var ready, done sync.WaitGroup
		barrier := make(chan struct{})
		for _, pr := range pairs {
			target := fmt.Sprintf("/projects/%d/act", pr.p.ID)
			version := fmt.Sprint(pr.p.Version)
			for i, req := range []struct {
				c    *client
				form url.Values
			}{
				{reviewer, url.Values{"event": {"pass"}, "version": {version}}},
				{reviewer2, url.Values{"event": {"return"}, "version": {version}, "reason": {"材料不全"}}},
			} {
				ready.Add(1)
				done.Add(1)
				go func() {
					defer done.Done()
					ready.Done()
					<-barrier
					pr.recs[i] = req.c.do("POST", target, req.form)
				}()
			}
		}
		ready.Wait()
		close(barrier)
		done.Wait()

		for _, pr := range pairs {
			codes := []int{pr.recs[0].Code, pr.recs[1].Code}
			var won, lost int
			switch {
			case codes[0] == http.StatusSeeOther && codes[1] == http.StatusConflict:
				won, lost = 0, 1
			case codes[1] == http.StatusSeeOther && codes[0] == http.StatusConflict:
				won, lost = 1, 0
			default:
				t.Fatalf("round %d, project %d: answers %v, want one 303 and one 409", round, pr.p.ID, codes)
			}
			doc := parseHTML(t, pr.recs[lost].Body.String())
			alerts := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == "action-error" })
			if len(alerts) != 1 || !strings.Contains(text(alerts[0]), "刷新") {
				t.Fatalf("round %d: want one conflict alert asking to reload, got %d", round, len(alerts))
			}
			// pass leads to expert review, return to returned (lifecycle table).
			want := [2]engine.State{engine.StateExpertReview, engine.StateReturned}[won]
			got, err := w.svc.Project(w.ctx, w.users["reviewer"], pr.p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != want || got.Version != pr.p.Version+1 {
				t.Fatalf("round %d: state %v version %d, want %v at %d (one transition)", round, got.State, got.Version, want, pr.p.Version+1)
			}
		}
	}
}

func newJSONRequest(method, target string, body []byte) *http.Request {
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func serve(w *world, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	w.srv.ServeHTTP(rec, r)
	return rec
}
