package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// staff makes a throwaway account with a role in the own park, so rows that
// change an account never touch the principals the matrix signs in as.
func (w *world) staff(prefix string) *engine.User {
	w.t.Helper()
	return w.user(prefix+"-"+randomToken()[:8], engine.RoleAssignment{Role: engine.RoleReviewer, Park: ownPark})
}

func (w *world) adminRoutes() []route {
	onStaff := func(path string, body url.Values) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, who string) (string, any) {
			u := w.staff("s")
			return strings.ReplaceAll(path, "{uid}", strconv.FormatInt(u.ID, 10)), cloneValues(body)
		}
	}
	return []route{
		{"GET", "/admin/users", "", get("/admin/users"), "anon=303 own=403 admin=200 other=403 admin@other=200"},
		{"POST", "/admin/users", "", func(w *world, _ *engine.Project, who string) (string, any) {
			return "/admin/users", url.Values{"username": {"new-" + randomToken()[:10]}, "display_name": {"新同事"},
				"password": {"initial-password"}, "park": {ownPark}, "role": {"reviewer"}}
		}, "anon=401 own=403 admin=303 other=403"},
		{"GET", "/admin/users/:id", "", func(w *world, _ *engine.Project, _ string) (string, any) {
			return "/admin/users/" + strconv.FormatInt(w.users["reviewer"].ID, 10), nil
		}, "anon=303 own=403 admin=200 other=403 admin@other=404"},
		{"POST", "/admin/users/:id/roles", "", onStaff("/admin/users/{uid}/roles", url.Values{"park": {ownPark}, "role": {"reviewer", "committee"}}),
			"anon=401 own=403 admin=303 other=403"},
		{"POST", "/admin/users/:id/status", "", onStaff("/admin/users/{uid}/status", url.Values{"disabled": {"1"}}),
			"anon=401 own=403 admin=303 other=403 admin@other=404"},
		{"POST", "/admin/users/:id/password", "", onStaff("/admin/users/{uid}/password", url.Values{"password": {"a-new-password"}, "password_again": {"a-new-password"}}),
			"anon=401 own=403 admin=303 other=403 admin@other=404"},
	}
}

// TestAdminAccounts is the admin's day: create a colleague, see the new
// account in the list, change their roles, reset the password, disable the
// account (which signs them out at once), and find each step in the log.
func TestAdminAccounts(t *testing.T) {
	w := mustWorld(t)
	admin := w.login("admin")

	// A bad form comes back with what was typed and the field named; nothing is stored.
	rec := admin.do("POST", "/admin/users", url.Values{"username": {"chen.li"}, "display_name": {"陈立"}, "password": {"short"}, "park": {ownPark}, "role": {"promoter"}})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("short password: status %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	if msg := text(byID(doc, "form-error")); !strings.Contains(msg, "密码") {
		t.Errorf("error %q does not name the password", msg)
	}
	if v := attr(findAll(doc, func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == "username" })[0], "value"); v != "chen.li" {
		t.Errorf("typed user name lost: %q", v)
	}
	if _, err := w.db.UserByName(w.ctx, "chen.li"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("refused account stored: %v", err)
	}

	rec = admin.do("POST", "/admin/users", url.Values{"username": {"chen.li"}, "display_name": {"陈立"}, "password": {"initial-password"}, "park": {ownPark}, "role": {"promoter"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: status %d\n%s", rec.Code, rec.Body.String())
	}
	u, err := w.db.UserByName(w.ctx, "chen.li")
	if err != nil {
		t.Fatal(err)
	}
	w.users["chen.li"] = u
	page := "/admin/users/" + strconv.FormatInt(u.ID, 10)
	if loc := rec.Header().Get("Location"); loc != page {
		t.Errorf("redirect to %q, want %q", loc, page)
	}
	if rec := admin.do("POST", "/admin/users", url.Values{"username": {"chen.li"}, "display_name": {"又一个"}, "password": {"initial-password"}, "park": {ownPark}}); rec.Code != http.StatusConflict {
		t.Errorf("taken name: status %d", rec.Code)
	}

	list := parseHTML(t, admin.do("GET", "/admin/users", nil).Body.String())
	var row *html.Node
	for _, tr := range findAll(list, func(n *html.Node) bool { return n.Data == "tr" }) {
		if strings.Contains(text(tr), "chen.li") {
			row = tr
		}
	}
	if row == nil || !strings.Contains(text(row), "招商专员") || !strings.Contains(text(row), "启用") {
		t.Fatalf("list row for chen.li: %q", text(row))
	}

	// Roles: tick committee as well; the page shows both boxes checked.
	if rec := admin.do("POST", page+"/roles", url.Values{"park": {ownPark}, "role": {"promoter", "committee"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("roles: %d", rec.Code)
	}
	doc = parseHTML(t, admin.do("GET", page, nil).Body.String())
	var checked []string
	for _, in := range findAll(byID(doc, "roles-"+ownPark), func(n *html.Node) bool { return n.Data == "input" && attr(n, "type") == "checkbox" }) {
		for _, a := range in.Attr {
			if a.Key == "checked" {
				checked = append(checked, attr(in, "value"))
			}
		}
	}
	if strings.Join(checked, ",") != "promoter,committee" {
		t.Errorf("checked roles %v", checked)
	}
	if !w.svc.Authorizer().Allowed("chen.li", ownPark, "committee_review", "approve") {
		t.Error("committee role not in force")
	}

	// Password mismatch is refused with the field named; then a real reset.
	rec = admin.do("POST", page+"/password", url.Values{"password": {"first-try-pass"}, "password_again": {"other-try-pass"}})
	if rec.Code != http.StatusSeeOther || !strings.Contains(flashOf(t, rec), "确认密码") {
		t.Errorf("mismatch: %d %q", rec.Code, flashOf(t, rec))
	}
	colleague := w.login("chen.li")
	if rec := admin.do("POST", page+"/password", url.Values{"password": {"second-pass-ok"}, "password_again": {"second-pass-ok"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("reset: %d", rec.Code)
	}
	if rec := colleague.do("GET", "/projects", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("session survived the password reset: %d", rec.Code)
	}

	// Disable: the colleague's fresh session ends at once.
	colleague = w.login("chen.li")
	if rec := admin.do("POST", page+"/status", url.Values{"disabled": {"1"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d", rec.Code)
	}
	if rec := colleague.do("GET", "/projects", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("disabled user still served: %d", rec.Code)
	}
	if rec := admin.do("POST", "/admin/users/"+strconv.FormatInt(w.users["admin"].ID, 10)+"/status", url.Values{"disabled": {"1"}}); rec.Code != http.StatusSeeOther || !strings.Contains(flashOf(t, rec), "自己") {
		t.Errorf("self-disable: %d %q", rec.Code, flashOf(t, rec))
	}

	var events []string
	if err := w.db.EachAuditEntry(w.ctx, func(e engine.AuditEntry) error {
		if strings.HasPrefix(e.Event, "user_") && e.Actor != engine.OperatorActor { // not the test world's own accounts
			events = append(events, e.Event)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(events, " "), "user_create user_roles user_password user_disable"; got != want {
		t.Errorf("logged %q, want %q", got, want)
	}
}

func byID(doc *html.Node, id string) *html.Node {
	if ns := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == id }); len(ns) > 0 {
		return ns[0]
	}
	return &html.Node{}
}

// flashOf decodes the one-time message a redirect leaves.
func flashOf(t *testing.T, rec interface{ Result() *http.Response }) string {
	t.Helper()
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "zv_flash" {
			f, err := decodeFlash(ck.Value)
			if err != nil {
				t.Fatal(err)
			}
			return f.msg
		}
	}
	return ""
}
