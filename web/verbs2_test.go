package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// sharedBy makes sure p has a live share by sharer with target and returns it.
func (w *world) sharedBy(p *engine.Project, sharer, target string) engine.Share {
	w.t.Helper()
	ss, err := w.svc.ShareProject(w.ctx, w.users[sharer], p.ID, engine.ShareInput{Users: []string{target}})
	if err == nil {
		return ss[0]
	}
	all, _ := w.db.Shares(w.ctx, p.ID)
	for _, x := range all {
		if x.Live() && x.Username == target && x.SharedBy == w.userName(sharer) {
			return x
		}
	}
	w.t.Fatalf("share by %s with %s: %v", sharer, target, err)
	return engine.Share{}
}

// revokeTarget is a matrix cell's share to revoke: made by who when who may
// share (a share is its sharer's to revoke), else by the reviewer, whom
// only an admin of the park may overrule.
func revokeTarget(api bool) func(*world, *engine.Project, string) (string, any) {
	return func(w *world, p *engine.Project, who string) (string, any) {
		sharer := who
		if who == "anon" || !w.svc.CanShare(w.users[who], p) {
			sharer = "reviewer"
		}
		target := "reviewer3"
		if sharer == "reviewer" {
			target = "reviewer2"
		}
		x := w.sharedBy(p, sharer, target)
		if api {
			return fmt.Sprintf("/api/v1/projects/%d/shares/%d/revoke", p.ID, x.ID), nil
		}
		return fmt.Sprintf("/projects/%d/shares/%d/revoke", p.ID, x.ID), url.Values{}
	}
}

// poolExpert is the other park's expert (reviewer@other), added once, as it stands now.
func (w *world) poolExpert() engine.Expert {
	w.t.Helper()
	admin := w.users["admin@other"]
	xs, err := w.svc.PoolExperts(w.ctx, admin, otherPark)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, x := range xs {
		if x.Username == w.userName("reviewer@other") {
			return x
		}
	}
	x, err := w.svc.SaveExpert(w.ctx, admin, engine.ExpertInput{Park: otherPark, Username: w.userName("reviewer@other"), Name: "林晓峰",
		Fields: []string{"C39"}, Active: true})
	if err != nil {
		w.t.Fatal(err)
	}
	return *x
}

// verbs2Routes are the permission-matrix rows of share revocation, the
// department move and the expert pool's API. A share is revoked by its
// sharer or an admin of the park; an account's department is moved by an
// admin of every park its holder works in; the pool's API answers as
// /admin/experts (changes tried on the other park, as expertRoutes do).
func (w *world) verbs2Routes() []route {
	onStaff := func(path string, body any) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, who string) (string, any) {
			u := w.staff("d")
			return strings.ReplaceAll(path, "{uid}", strconv.FormatInt(u.ID, 10)), body
		}
	}
	return append([]route{
		{"POST", "/projects/:id/shares/:sid/revoke", engine.StateScreening, revokeTarget(false),
			"anon=401 own=403 promoter=303 reviewer=303 committee=303 admin=303 other=404"},
		{"POST", "/admin/users/:id/department", "", onStaff("/admin/users/{uid}/department", url.Values{"department": {"自然资源局"}, "before": {""}}),
			"anon=401 own=403 admin=303 other=403 admin@other=404"},
	}, w.apiVerbs2Routes()...)
}

// apiVerbs2Routes are verbs2Routes' API rows (also checked against openapi.json).
func (w *world) apiVerbs2Routes() []route {
	onStaff := func(body departmentInput) func(*world, *engine.Project, string) (string, any) {
		return func(w *world, _ *engine.Project, who string) (string, any) {
			u := w.staff("d")
			return fmt.Sprintf("/api/v1/users/%d/department", u.ID), body
		}
	}
	const manage = "anon=401 own=403 other=403 admin@other=%d"
	return []route{
		{"POST", "/api/v1/projects/:id/shares/:sid/revoke", engine.StateScreening, revokeTarget(true),
			"anon=401 own=403 promoter=200 reviewer=200 committee=200 admin=200 other=404"},
		{"POST", "/api/v1/users/:id/department", "", onStaff(departmentInput{Department: "自然资源局"}),
			"anon=401 own=403 admin=200 other=403 admin@other=404"},
		{"GET", "/api/v1/experts", "", get("/api/v1/experts?park=" + ownPark),
			"anon=401 own=403 admin=200 committee=200 auditor=200 other=404"},
		{"POST", "/api/v1/experts", "", func(w *world, _ *engine.Project, who string) (string, any) {
			u := w.user("x-"+randomToken()[:8], engine.RoleAssignment{Role: engine.RoleReviewer, Park: otherPark})
			return "/api/v1/experts", expertInput{Park: otherPark, Username: u.Username, Name: "周海涛", Fields: []string{"C39"}}
		}, fmt.Sprintf(manage, 201)},
		{"POST", "/api/v1/experts/:xid", "", func(w *world, _ *engine.Project, who string) (string, any) {
			x := w.poolExpert()
			return fmt.Sprintf("/api/v1/experts/%d", x.ID), expertInput{Park: otherPark, Version: x.Version, Username: x.Username,
				Name: x.Name, Fields: []string{"C39", "C38"}, LoadLimit: 3}
		}, fmt.Sprintf(manage, 200)},
		{"POST", "/api/v1/experts/:xid/deactivate", "", func(w *world, _ *engine.Project, who string) (string, any) {
			x := w.poolExpert()
			return fmt.Sprintf("/api/v1/experts/%d/deactivate", x.ID), expertDeactivate{Park: otherPark, Version: x.Version}
		}, fmt.Sprintf(manage, 200)},
	}
}

// withKey sends a JSON request as c with an Idempotency-Key.
func (c *client) withKey(method, target, key string, body any) *http.Response {
	data, err := json.Marshal(body)
	if err != nil {
		c.w.t.Fatal(err)
	}
	r := newJSONRequest(method, target, data)
	r.Header.Set("Idempotency-Key", key)
	r.AddCookie(c.cookie)
	r.Header.Set(csrfHeader, c.csrf)
	return serve(c.w, r).Result()
}

func bodyOf(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestShareRevokePage: on the dossier the sharer sees 撤销抄送 on their own
// share only; a colleague's share has no button. After the sharer revokes,
// the share is listed as revoked, and the bureau's reader is refused the
// project in Chinese (403, logged as a refused request). The park's admin
// revokes the department share by the API: a retry with the same
// Idempotency-Key gets the same answer, a new key is told it is revoked.
func TestShareRevokePage(t *testing.T) {
	w := mustWorld(t)
	natres := w.bureau("natres", ownPark, "自然资源局")
	w.bureau("envb", ownPark, "生态环境局")
	p := w.project(engine.StateScreening)
	mine := w.sharedBy(p, "reviewer", natres.Username)
	dep, err := w.svc.ShareProject(w.ctx, w.users["committee"], p.ID, engine.ShareInput{Departments: []string{"生态环境局"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec := w.login("natres").do("GET", fmt.Sprintf("/projects/%d", p.ID), nil); rec.Code != 200 {
		t.Fatalf("sharee reads: %d", rec.Code)
	}
	rv := w.login("reviewer")
	revokeForms := func(c *client) []string {
		doc := parseHTML(t, c.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil).Body.String())
		var out []string
		for _, f := range findAll(doc, func(n *html.Node) bool { return n.Data == "form" && strings.Contains(attr(n, "class"), "revoke-share") }) {
			out = append(out, attr(f, "action"))
		}
		return out
	}
	revokeURL := fmt.Sprintf("/projects/%d/shares/%d/revoke", p.ID, mine.ID)
	if got := revokeForms(rv); len(got) != 1 || got[0] != revokeURL {
		t.Fatalf("the sharer's revoke buttons = %v, want only %s", got, revokeURL)
	}
	if got := revokeForms(w.login("admin")); len(got) != 2 {
		t.Fatalf("the admin's revoke buttons = %v, want both", got)
	}
	if rec := w.login("committee").do("POST", revokeURL, url.Values{}); rec.Code != 403 || !strings.Contains(rec.Body.String(), "只能撤销本人发出的抄送") {
		t.Fatalf("a colleague revokes: %d %.300s", rec.Code, rec.Body.String())
	}
	if rec := rv.do("POST", revokeURL, url.Values{}); rec.Code != 303 {
		t.Fatalf("revoke: %d %.300s", rec.Code, rec.Body.String())
	}
	page := rv.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil).Body.String()
	doc := parseHTML(t, page)
	li := findAll(doc, func(n *html.Node) bool { return attr(n, "data-share") == strconv.FormatInt(mine.ID, 10) })
	if len(li) != 1 || attr(li[0], "class") != "revoked" || !strings.Contains(text(li[0]), "已撤销") {
		t.Fatalf("the revoked share is not marked: %.2000s", page)
	}
	// The former sharee's inbox says so, naming the project without a link
	// they could no longer follow.
	box := parseHTML(t, w.login("natres").do("GET", "/inbox", nil).Body.String())
	var told bool
	for _, row := range findAll(box, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-notification") != "" }) {
		if strings.Contains(text(row), "抄送已撤销") {
			told = true
			if links := findAll(row, func(n *html.Node) bool { return n.Data == "a" }); len(links) != 0 || !strings.Contains(text(row), p.Name) {
				t.Errorf("revocation notice %q links %d times", text(row), len(links))
			}
		}
	}
	if !told {
		t.Error("the former sharee's inbox does not tell of the revocation")
	}
	before := len(w.entries(engine.EventRefused))
	rec := w.login("natres").do("GET", fmt.Sprintf("/projects/%d", p.ID), nil)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "抄送已被撤销") {
		t.Fatalf("former sharee reads: %d %.300s", rec.Code, rec.Body.String())
	}
	if es := w.entries(engine.EventRefused); len(es) != before+1 || es[len(es)-1].Actor != natres.Username {
		t.Fatalf("the refused read is not logged: %+v", es)
	}
	if rec := w.bearerFor("natres", engine.APIToken{Scopes: engine.ReadScopes}).do("GET", fmt.Sprintf("/api/v1/projects/%d", p.ID), nil); rec.Code != 403 {
		t.Fatalf("former sharee reads by the API: %d", rec.Code)
	}

	admin := w.login("admin")
	target := fmt.Sprintf("/api/v1/projects/%d/shares/%d/revoke", p.ID, dep[0].ID)
	r1, r2 := admin.withKey("POST", target, "revoke-1", nil), admin.withKey("POST", target, "revoke-1", nil)
	b1, b2 := bodyOf(t, r1), bodyOf(t, r2)
	if r1.StatusCode != 200 || r2.StatusCode != 200 || b1 != b2 || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("revoke %d, retry %d: %s / %s", r1.StatusCode, r2.StatusCode, b1, b2)
	}
	if x := decode[engine.Share](t, []byte(b1)); x.RevokedSeq == 0 || x.RevokedBy != w.userName("admin") {
		t.Fatalf("answer = %+v", x)
	}
	if r3 := admin.withKey("POST", target, "revoke-2", nil); r3.StatusCode != 409 || !strings.Contains(bodyOf(t, r3), "已被撤销") {
		t.Fatalf("revoked twice: %d", r3.StatusCode)
	}
	if es := w.entries(engine.EventShareRevoke); len(es) != 2 {
		t.Fatalf("share_revoke entries = %d, want 2", len(es))
	}
}

// TestDepartmentForm: an admin moves a bureau's reader to another
// department on the account page; a second form opened before the move
// (showing the old department) is a 409 that keeps what was typed; the
// API does the same under the same guard. Shares follow the department.
func TestDepartmentForm(t *testing.T) {
	w := mustWorld(t)
	u := w.bureau("mover", ownPark, "自然资源局")
	p := w.project(engine.StateScreening)
	if _, err := w.svc.ShareProject(w.ctx, w.users["reviewer"], p.ID, engine.ShareInput{Departments: []string{"自然资源局"}}); err != nil {
		t.Fatal(err)
	}
	admin := w.login("admin")
	page := admin.do("GET", fmt.Sprintf("/admin/users/%d", u.ID), nil)
	doc := parseHTML(t, page.Body.String())
	form := byID(doc, "department")
	if form == nil || len(findAll(form, func(n *html.Node) bool { return attr(n, "name") == "before" && attr(n, "value") == "自然资源局" })) != 1 {
		t.Fatalf("no department form showing 自然资源局: %.3000s", page.Body.String())
	}
	target := fmt.Sprintf("/admin/users/%d/department", u.ID)
	if rec := admin.do("POST", target, url.Values{"before": {"自然资源局"}, "department": {"发展和改革局"}}); rec.Code != 303 {
		t.Fatalf("move: %d %.300s", rec.Code, rec.Body.String())
	}
	if rec := w.login("mover").do("GET", fmt.Sprintf("/projects/%d", p.ID), nil); rec.Code != 404 {
		t.Fatalf("moved out, still reads the old department's share: %d", rec.Code)
	}
	rec := admin.do("POST", target, url.Values{"before": {"自然资源局"}, "department": {"生态环境局"}})
	if rec.Code != 409 {
		t.Fatalf("stale form: %d", rec.Code)
	}
	doc = parseHTML(t, rec.Body.String())
	if e := byID(doc, "department-error"); e == nil || !strings.Contains(text(e), "已被他人修改") {
		t.Fatalf("stale form's message: %.3000s", rec.Body.String())
	}
	kept := findAll(byID(doc, "department"), func(n *html.Node) bool { return attr(n, "name") == "department" })
	if len(kept) != 1 || attr(kept[0], "value") != "生态环境局" {
		t.Fatal("the stale form lost what was typed")
	}
	if rec := admin.do("POST", target, url.Values{"before": {"发展和改革局"}, "department": {strings.Repeat("局", 65)}}); rec.Code != 400 ||
		!strings.Contains(rec.Body.String(), "所属部门:部门名称最多 64 个字") {
		t.Fatalf("too long: %d %.300s", rec.Code, rec.Body.String())
	}

	api := fmt.Sprintf("/api/v1/users/%d/department", u.ID)
	if rec := admin.do("POST", api, departmentInput{Before: "自然资源局", Department: "生态环境局"}); rec.Code != 409 {
		t.Fatalf("stale API move: %d %s", rec.Code, rec.Body)
	}
	rec = admin.do("POST", api, departmentInput{Before: "发展和改革局", Department: "自然资源局"})
	if rec.Code != 200 || decode[apiAccount](t, rec.Body.Bytes()).Department != "自然资源局" {
		t.Fatalf("API move: %d %s", rec.Code, rec.Body)
	}
	if rec := w.login("mover").do("GET", fmt.Sprintf("/projects/%d", p.ID), nil); rec.Code != 200 {
		t.Fatalf("moved back in, cannot read the department's share: %d", rec.Code)
	}
	if es := w.entries(engine.EventUserDepartment); len(es) != 2 {
		t.Fatalf("user_department entries = %d, want 2", len(es))
	}
}

// TestExpertsAPI: an admin adds an expert (a retry with the same key adds
// it once), lists the pool, edits under the version read (a stale version
// is a 409), deactivates; a bad USCC is refused naming the field; a token
// holding users:read lists but cannot add.
func TestExpertsAPI(t *testing.T) {
	w := mustWorld(t)
	admin := w.login("admin")
	in := expertInput{Park: ownPark, Username: w.userName("reviewer2"), Name: "赵丽华", Fields: []string{"c39", "C38"}, EmployerName: "华南理工大学", LoadLimit: 4}
	r1, r2 := admin.withKey("POST", "/api/v1/experts", "x-1", in), admin.withKey("POST", "/api/v1/experts", "x-1", in)
	b1, b2 := bodyOf(t, r1), bodyOf(t, r2)
	if r1.StatusCode != 201 || r2.StatusCode != 201 || b1 != b2 {
		t.Fatalf("add %d, retry %d: %s / %s", r1.StatusCode, r2.StatusCode, b1, b2)
	}
	x := decode[engine.Expert](t, []byte(b1))
	if x.ID == 0 || x.Version != 1 || !x.Active || len(x.Fields) != 2 || x.Fields[0] != "C39" {
		t.Fatalf("added = %+v", x)
	}
	bad := in
	bad.Username, bad.EmployerUSCC = w.userName("reviewer3"), "91441800MA4X00000X"
	if rec := admin.do("POST", "/api/v1/experts", bad); rec.Code != 400 || decode[apiError](t, rec.Body.Bytes()).Field != "employer_uscc" {
		t.Fatalf("bad USCC: %d %s", rec.Code, rec.Body)
	}
	pool := decode[[]engine.Expert](t, admin.do("GET", "/api/v1/experts?park="+ownPark, nil).Body.Bytes())
	if len(pool) != 1 || pool[0].ID != x.ID {
		t.Fatalf("pool = %+v", pool)
	}
	edit := in
	edit.Version, edit.LoadLimit = x.Version, 6
	rec := admin.do("POST", fmt.Sprintf("/api/v1/experts/%d", x.ID), edit)
	if rec.Code != 200 || decode[engine.Expert](t, rec.Body.Bytes()).LoadLimit != 6 {
		t.Fatalf("edit: %d %s", rec.Code, rec.Body)
	}
	if rec := admin.do("POST", fmt.Sprintf("/api/v1/experts/%d", x.ID), edit); rec.Code != 409 {
		t.Fatalf("stale edit: %d %s", rec.Code, rec.Body)
	}
	if rec := w.login("admin@other").do("POST", fmt.Sprintf("/api/v1/experts/%d/deactivate", x.ID), expertDeactivate{Park: otherPark, Version: 2}); rec.Code != 404 {
		t.Fatalf("another park's admin reaches this pool's expert: %d %s", rec.Code, rec.Body)
	}
	rec = admin.do("POST", fmt.Sprintf("/api/v1/experts/%d/deactivate", x.ID), expertDeactivate{Park: ownPark, Version: 2})
	if got := decode[engine.Expert](t, rec.Body.Bytes()); rec.Code != 200 || got.Active || got.LoadLimit != 6 || got.Version != 3 {
		t.Fatalf("deactivate: %d %s", rec.Code, rec.Body)
	}
	reader := w.bearerFor("admin", engine.APIToken{Scopes: []string{engine.ScopeUsersRead}})
	if rec := reader.do("GET", "/api/v1/experts?park="+ownPark, nil); rec.Code != 200 {
		t.Fatalf("users:read lists: %d", rec.Code)
	}
	in.Username = w.userName("reviewer3")
	if rec := reader.do("POST", "/api/v1/experts", in); rec.Code != 403 {
		t.Fatalf("users:read adds: %d %s", rec.Code, rec.Body)
	}
	if es := w.entries(engine.EventExpert); len(es) != 3 {
		t.Fatalf("expert entries = %d, want 3 (add, edit, deactivate)", len(es))
	}
}
