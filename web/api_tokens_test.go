package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"zonevet/engine"
)

// TestAPIRouteScopes: every API route names the scope a token needs (a new
// route without one fails here), and a read-only token — every read scope,
// no acting one — is refused on every acting route, for an owner whose
// roles would allow the act; the same owner's acting token is not refused
// by its scope.
func TestAPIRouteScopes(t *testing.T) {
	w := mustWorld(t)
	w.user("doer", engine.RoleAssignment{Role: engine.RolePromoter, Park: ownPark}, engine.RoleAssignment{Role: engine.RoleReviewer, Park: ownPark},
		engine.RoleAssignment{Role: engine.RoleCommittee, Park: ownPark}, engine.RoleAssignment{Role: engine.RoleAuditor, Park: ownPark})
	readOnly := w.bearerFor("doer", engine.APIToken{Scopes: engine.ReadScopes})
	acting := w.bearerFor("doer", engine.APIToken{Scopes: append(append([]string{}, engine.ReadScopes...), engine.ActScopes...)})
	p := w.project(engine.StateDraft)
	acts := 0
	for _, r := range w.srv.Echo().Routes() {
		if r.Method == echo.RouteNotFound || !strings.HasPrefix(r.Path, "/api/v1/") || r.Path == "/api/v1/openapi.json" {
			continue
		}
		key := r.Method + " " + r.Path
		scope, ok := apiScopes[key]
		if !ok {
			t.Errorf("route %s has no scope in apiScopes", key)
			continue
		}
		target := strings.ReplaceAll(r.Path, ":id", strconv.FormatInt(p.ID, 10))
		t.Run(key, func(t *testing.T) {
			rec := readOnly.do(r.Method, target, map[string]any{})
			refused := rec.Code == http.StatusForbidden && strings.Contains(decode[apiError](t, rec.Body.Bytes()).Message, scope)
			if engine.IsActingScope(scope) != refused {
				t.Fatalf("read-only token on %s (scope %s): %d %s", key, scope, rec.Code, rec.Body)
			}
			if !engine.IsActingScope(scope) {
				return
			}
			acts++
			rec = acting.do(r.Method, target, map[string]any{})
			if rec.Code == http.StatusForbidden && strings.Contains(rec.Body.String(), "scope") || strings.Contains(rec.Body.String(), "权限范围") {
				t.Fatalf("acting token refused by scope on %s: %d %s", key, rec.Code, rec.Body)
			}
		})
	}
	if acts < 4 {
		t.Fatalf("only %d acting routes tried", acts)
	}
}

// remoteDo sends a bearer request from a given client address.
func remoteDo(w *world, bearer, method, target, addr string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = addr + ":40000"
	req.Header.Set("Authorization", "Bearer "+bearer)
	rec := httptest.NewRecorder()
	w.srv.ServeHTTP(rec, req)
	return rec
}

func tokenEvents(t *testing.T, w *world) []engine.AuditEntry {
	t.Helper()
	es, _, err := w.db.AuditPage(w.ctx, engine.AuditQuery{AuditFilter: engine.AuditFilter{
		Events: []string{engine.EventTokenCreate, engine.EventTokenRevoke, engine.EventTokenNewAddress}, Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestTokenLifecycle is a token's life on the tokens page: made with scopes,
// a park and a life of 30 days (logged); used from one address (logged once)
// and another (logged again), the page showing when and from where; refused
// once expired; revoked (logged) and refused at once.
func TestTokenLifecycle(t *testing.T) {
	w := mustWorld(t)
	w.user("both", engine.RoleAssignment{Role: engine.RoleAuditor, Park: ownPark}, engine.RoleAssignment{Role: engine.RoleAuditor, Park: otherPark})
	page := w.login("both")
	rec := page.do("POST", "/settings/tokens", url.Values{"name": {"夜间审计拉取"}, "scope": {"audit:read"}, "park": {otherPark}, "days": {"30"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	doc := parseHTML(t, rec.Body.String())
	secrets := findAll(doc, func(n *html.Node) bool { return hasAttr(n, "data-token") })
	if len(secrets) != 1 {
		t.Fatal("the new token is not shown once")
	}
	secret := strings.TrimSpace(text(secrets[0]))
	toks, err := w.db.APITokens(w.ctx, w.users["both"].ID)
	if err != nil || len(toks) != 1 {
		t.Fatalf("%v %v", toks, err)
	}
	tok := toks[0]
	if strings.Join(tok.Scopes, ",") != "audit:read" || strings.Join(tok.Parks, ",") != otherPark || tok.ExpiresAt == nil ||
		!tok.ExpiresAt.Equal(w.clock.now().AddDate(0, 0, 30)) {
		t.Fatalf("stored %+v", tok)
	}
	if es := tokenEvents(t, w); len(es) != 1 || es[0].Event != engine.EventTokenCreate || es[0].Actor != "both" ||
		!strings.Contains(es[0].Payload, `"scopes":["audit:read"]`) || !strings.Contains(es[0].Payload, `"parks":["yingde"]`) {
		t.Fatalf("creation logged as %+v", es)
	}

	for i, addr := range []string{"198.51.100.7", "198.51.100.7", "203.0.113.9"} {
		if rec := remoteDo(w, secret, "GET", "/api/v1/audit/checkpoints", addr); rec.Code != http.StatusOK {
			t.Fatalf("use %d: %d %s", i, rec.Code, rec.Body)
		}
		w.clock.advance(2 * time.Minute)
	}
	es := tokenEvents(t, w)
	if len(es) != 3 || es[1].Event != engine.EventTokenNewAddress || !strings.Contains(es[1].Payload, "198.51.100.7") ||
		es[2].Event != engine.EventTokenNewAddress || !strings.Contains(es[2].Payload, "203.0.113.9") {
		t.Fatalf("uses logged as %+v", es)
	}
	rec = page.do("GET", "/settings/tokens", nil)
	if !strings.Contains(rec.Body.String(), "203.0.113.9") || !strings.Contains(rec.Body.String(), "audit:read") {
		t.Fatalf("the tokens page does not show the last address or the scope:\n%.2000s", rec.Body)
	}
	// A park-restricted token reads its park only.
	if rec := remoteDo(w, secret, "GET", "/api/v1/audit/entries?park="+ownPark, "203.0.113.9"); rec.Code != http.StatusForbidden {
		t.Fatalf("another park: %d", rec.Code)
	}
	// A read scope it lacks.
	if rec := remoteDo(w, secret, "GET", "/api/v1/projects", "203.0.113.9"); rec.Code != http.StatusForbidden {
		t.Fatalf("projects:read not held: %d", rec.Code)
	}

	rec = page.do("POST", "/settings/tokens/"+strconv.FormatInt(tok.ID, 10)+"/revoke", url.Values{})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", rec.Code)
	}
	if rec := remoteDo(w, secret, "GET", "/api/v1/audit/checkpoints", "203.0.113.9"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", rec.Code)
	}
	if es := tokenEvents(t, w); len(es) != 4 || es[3].Event != engine.EventTokenRevoke || es[3].Actor != "both" {
		t.Fatalf("revocation logged as %+v", es)
	}
}

// TestTokenExpiry: a token lives 90 days unless told otherwise, is refused
// from the moment its time is up, and cannot be made to live past the
// deployment's maximum.
func TestTokenExpiry(t *testing.T) {
	w := mustWorldConfig(t, Config{TokenMaxDays: 180})
	page := w.login("auditor")
	if rec := page.do("POST", "/settings/tokens", url.Values{"name": {"x"}, "scope": {"audit:read"}, "days": {"181"}}); rec.Code != http.StatusBadRequest ||
		!strings.Contains(rec.Body.String(), "180") {
		t.Fatalf("past the maximum: %d", rec.Code)
	}
	if rec := page.do("POST", "/settings/tokens", url.Values{"name": {"x"}, "scope": {"bogus:act"}}); rec.Code != http.StatusBadRequest {
		t.Fatalf("unknown scope: %d", rec.Code)
	}
	if rec := page.do("POST", "/settings/tokens", url.Values{"name": {"x"}, "scope": {"audit:read"}, "park": {otherPark}}); rec.Code != http.StatusBadRequest {
		t.Fatalf("a park the owner has no role in: %d", rec.Code)
	}
	rec := page.do("POST", "/settings/tokens", url.Values{"name": {"x"}, "scope": {"audit:read"}})
	doc := parseHTML(t, rec.Body.String())
	secret := strings.TrimSpace(text(findAll(doc, func(n *html.Node) bool { return hasAttr(n, "data-token") })[0]))
	toks, _ := w.db.APITokens(w.ctx, w.users["auditor"].ID)
	if len(toks) != 1 || toks[0].ExpiresAt == nil || !toks[0].ExpiresAt.Equal(w.clock.now().AddDate(0, 0, 90)) {
		t.Fatalf("default life: %+v", toks)
	}
	w.clock.advance(90*24*time.Hour - time.Second)
	if rec := remoteDo(w, secret, "GET", "/api/v1/audit/checkpoints", "198.51.100.1"); rec.Code != http.StatusOK {
		t.Fatalf("a second before expiry: %d %s", rec.Code, rec.Body)
	}
	w.clock.advance(time.Second)
	rec = remoteDo(w, secret, "GET", "/api/v1/audit/checkpoints", "198.51.100.1")
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "过期") {
		t.Fatalf("expired: %d %s", rec.Code, rec.Body)
	}
}

// TestTokenParkRestrictsProjects: a token narrowed to one park neither
// lists nor opens the owner's projects in another.
func TestTokenParkRestrictsProjects(t *testing.T) {
	w := mustWorld(t)
	w.user("twoparks", engine.RoleAssignment{Role: engine.RoleReviewer, Park: ownPark}, engine.RoleAssignment{Role: engine.RoleReviewer, Park: otherPark})
	p := w.project(engine.StateScreening)
	c := w.bearerFor("twoparks", engine.APIToken{Scopes: []string{engine.ScopeProjectsRead}, Parks: []string{otherPark}})
	if rec := c.do("GET", "/api/v1/projects/"+strconv.FormatInt(p.ID, 10), nil); rec.Code != http.StatusNotFound {
		t.Fatalf("a project of another park: %d", rec.Code)
	}
	list := decode[projectList](t, c.do("GET", "/api/v1/projects", nil).Body.Bytes())
	for _, x := range list.Items {
		if x.Park != otherPark {
			t.Errorf("project #%d of %s listed", x.ID, x.Park)
		}
	}
	all := w.bearerFor("twoparks", engine.APIToken{Scopes: []string{engine.ScopeProjectsRead}})
	if rec := all.do("GET", "/api/v1/projects/"+strconv.FormatInt(p.ID, 10), nil); rec.Code != http.StatusOK {
		t.Fatalf("unrestricted token: %d", rec.Code)
	}
}
