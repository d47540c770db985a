package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"zonevet/engine"
	"zonevet/store/storetest"
)

// bureau adds an observer (知会单位) of park who works for department.
func (w *world) bureau(name, park, department string) *engine.User {
	w.t.Helper()
	u := &engine.User{Username: name, DisplayName: department + "王科长", PasswordHash: testHash(w.t, "password-"+name),
		CreatedAt: w.clock.now(), Department: department}
	storetest.Account(w.t, w.ctx, w.db, u, engine.RoleAssignment{Role: engine.RoleObserver, Park: park})
	if err := w.svc.ReloadRoles(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	w.users[name] = u
	return u
}

// shareRoutes: whoever works on a project shares it (its promoter,
// reviewers, the committee), never auditors or admins; everyone signed in
// has a 抄送给我 page.
func (w *world) shareRoutes() []route {
	return []route{
		{"POST", "/projects/:id/share", engine.StateDraft, post("/projects/{id}/share", url.Values{"user": {"reviewer2"}, "note": {"请阅"}}),
			"anon=401 own=403 promoter=303 reviewer=303 committee=303 other=404"},
		{"GET", "/shared", "", get("/shared"), "anon=303 own=200 other=200"},
	}
}

// apiVerbRoutes: the verbs' API answers as their pages do.
func (w *world) apiVerbRoutes() []route {
	const deciders = "anon=401 own=403 promoter=%d reviewer=%d committee=%d other=403 promoter@other=%d reviewer@other=%d committee@other=%d"
	return []route{
		{"GET", "/api/v1/delegations", "", get("/api/v1/delegations?park=" + ownPark), "anon=401 own=200 other=404"},
		{"POST", "/api/v1/delegations", "", func(w *world, _ *engine.Project, who string) (string, any) {
			in, _ := w.delegationForm(who, 50, 51)
			return "/api/v1/delegations", in
		}, fmt.Sprintf(deciders, 201, 201, 201, 201, 201, 201)},
		{"POST", "/api/v1/delegations/:did/revoke", "", func(w *world, _ *engine.Project, who string) (string, any) {
			in, park := w.delegationForm(who, 60, 61)
			maker := who
			if !w.svc.Authorizer().Allowed(w.userName(who), park, "delegation", engine.EventDelegate) {
				maker, w.revokeDay = "reviewer2", w.revokeDay+1 // someone else's: not theirs to revoke
				in, park = w.delegationForm("reviewer", 200+w.revokeDay, 200+w.revokeDay)
			}
			d, err := w.svc.Delegate(w.ctx, w.users[maker], in)
			if err != nil {
				w.t.Fatalf("delegation by %s: %v", maker, err)
			}
			return fmt.Sprintf("/api/v1/delegations/%d/revoke", d.ID), delegationRevoke{Park: park}
		}, fmt.Sprintf(deciders, 200, 200, 200, 200, 200, 200)},
		{"GET", "/api/v1/projects/:id/shares", engine.StateDraft, get("/api/v1/projects/{id}/shares"), "anon=401 own=200 other=404"},
		{"POST", "/api/v1/projects/:id/shares", engine.StateDraft, post("/api/v1/projects/{id}/shares", engine.ShareInput{Users: []string{"reviewer2"}, Note: "请阅"}),
			"anon=401 own=403 promoter=201 reviewer=201 committee=201 other=404"},
		{"GET", "/api/v1/shared", "", get("/api/v1/shared"), "anon=401 own=200 other=200"},
		{"GET", "/api/v1/inbox", "", get("/api/v1/inbox?limit=20"), "anon=401 own=200 other=200"},
		{"POST", "/api/v1/inbox/read", "", post("/api/v1/inbox/read", inboxRead{}), "anon=401 own=200 other=200"},
	}
}

// TestSharePage: a reviewer shares a project with 自然资源局 on its page; the
// bureau's observer sees it new under 抄送给我 (badge in the nav), reads the
// page without a single action form, and the read is a share_view entry
// that clears the marker. A refused share comes back in Chinese naming the
// problem.
func TestSharePage(t *testing.T) {
	w := mustWorld(t)
	natres := w.bureau("natres", ownPark, "自然资源局")
	p := w.project(engine.StateScreening)
	rv := w.login("reviewer")
	page := rv.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil)
	if page.Code != 200 || !strings.Contains(page.Body.String(), `id="share-form"`) || !strings.Contains(page.Body.String(), `value="自然资源局"`) {
		t.Fatalf("project page has no share form: %d", page.Code)
	}
	if rec := rv.do("POST", fmt.Sprintf("/projects/%d/share", p.ID), url.Values{"department": {"生态环境局"}}); rec.Code != 400 ||
		!strings.Contains(rec.Body.String(), "没有属于「生态环境局」的用户") {
		t.Fatalf("unknown department: %d %.300s", rec.Code, rec.Body.String())
	}
	if rec := rv.do("POST", fmt.Sprintf("/projects/%d/share", p.ID), url.Values{"department": {"自然资源局"}, "note": {"请核用地"}}); rec.Code != 303 {
		t.Fatalf("share: %d %.300s", rec.Code, rec.Body.String())
	}
	if rec := w.login("auditor").do("GET", fmt.Sprintf("/projects/%d", p.ID), nil); strings.Contains(rec.Body.String(), `id="share-form"`) {
		t.Fatal("an auditor is offered the share form")
	}
	nr := w.login("natres")
	list := nr.do("GET", "/shared", nil)
	if list.Code != 200 || !strings.Contains(list.Body.String(), `id="shared-badge"`) || !strings.Contains(list.Body.String(), "请核用地") ||
		!strings.Contains(list.Body.String(), "badge-attention") {
		t.Fatalf("抄送给我: %d %.2000s", list.Code, list.Body.String())
	}
	view := nr.do("GET", fmt.Sprintf("/projects/%d", p.ID), nil)
	if view.Code != 200 {
		t.Fatalf("observer reads: %d", view.Code)
	}
	for _, form := range []string{`action="/projects/%d/act"`, `action="/projects/%d/share"`, `action="/projects/%d/documents"`} {
		if strings.Contains(view.Body.String(), fmt.Sprintf(form, p.ID)) {
			t.Errorf("observer's page has %s", form)
		}
	}
	if rec := nr.do("POST", fmt.Sprintf("/projects/%d/act", p.ID), url.Values{"event": {"pass"}, "version": {fmt.Sprint(p.Version)}}); rec.Code != 403 {
		t.Errorf("observer passes: %d", rec.Code)
	}
	if again := nr.do("GET", "/shared", nil); strings.Contains(again.Body.String(), `id="shared-badge"`) {
		t.Error("the marker stays after reading")
	}
	doc := w.document(p)
	if rec := nr.do("GET", fmt.Sprintf("/projects/%d/documents/%d", p.ID, doc.ID), nil); rec.Code != 200 {
		t.Fatalf("observer downloads: %d", rec.Code)
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventShare, engine.EventShareView}})
	// The page read, the page the refused pass showed again, the download: three reads.
	if err != nil || len(es) != 4 || es[1].Actor != natres.Username || es[2].Event != engine.EventShareView ||
		!strings.Contains(es[3].Payload, fmt.Sprintf(`"document":%d`, doc.ID)) {
		t.Fatalf("entries = %+v, %v", es, err)
	}
	if rec := nr.do("GET", "/projects", nil); strings.Contains(rec.Body.String(), fmt.Sprintf("/projects/%d\"", p.ID)) {
		t.Error("the project list shows the observer a project (sharing reads one project, not the park)")
	}
}

// TestAPIVerbs: recall, remind and a return with its fix list through
// POST /projects/{id}/actions; a delegation made, listed and revoked, a
// share made (replayed by its Idempotency-Key: one share), listed and seen
// by the bureau's token, whose read of the project is logged; the inbox
// listed and marked read.
func TestAPIVerbs(t *testing.T) {
	w := mustWorld(t)
	w.bureau("natres", ownPark, "自然资源局")
	promoter, reviewer := w.login("promoter"), w.login("reviewer")
	p := w.project(engine.StateScreening)
	act := func(c *client, a engine.Action) engine.Project {
		t.Helper()
		rec := c.do("POST", fmt.Sprintf("/api/v1/projects/%d/actions", p.ID), a)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", a.Event, rec.Code, rec.Body)
		}
		return decode[engine.Project](t, rec.Body.Bytes())
	}
	got := act(promoter, engine.Action{Event: engine.EventRecall, Version: p.Version})
	if got.State != engine.StateDraft {
		t.Fatalf("recall: %s", got.State)
	}
	got = act(promoter, engine.Action{Event: engine.EventSubmit, Version: got.Version})
	got = act(promoter, engine.Action{Event: engine.EventRemind, Version: got.Version, Reason: "请尽快初审"})
	got = act(reviewer, engine.Action{Event: engine.EventReturn, Version: got.Version, Reason: "请补充能评材料", Fix: []string{"document:energy", "figure:energy_use"}})
	if got.State != engine.StateReturned {
		t.Fatalf("return: %s", got.State)
	}
	if note, err := w.svc.LatestReturn(w.ctx, &got); err != nil || note == nil || len(note.Fix) != 2 {
		t.Fatalf("return's fix list = %+v, %v", note, err)
	}

	in, _ := w.delegationForm("reviewer", 1, 2)
	rec := reviewer.do("POST", "/api/v1/delegations", in)
	if rec.Code != 201 {
		t.Fatalf("delegate: %d %s", rec.Code, rec.Body)
	}
	d := decode[engine.Delegation](t, rec.Body.Bytes())
	if rec = reviewer.do("GET", "/api/v1/delegations?park="+ownPark, nil); rec.Code != 200 || len(decode[[]engine.Delegation](t, rec.Body.Bytes())) != 1 {
		t.Fatalf("delegations: %d %s", rec.Code, rec.Body)
	}
	if rec = reviewer.do("POST", fmt.Sprintf("/api/v1/delegations/%d/revoke", d.ID), delegationRevoke{Park: ownPark}); rec.Code != 200 ||
		decode[engine.Delegation](t, rec.Body.Bytes()).RevokedAt == nil {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}

	share := func(key string) (int, string) {
		body, _ := json.Marshal(engine.ShareInput{Departments: []string{"自然资源局"}, Note: "请核用地"})
		r := newJSONRequest("POST", fmt.Sprintf("/api/v1/projects/%d/shares", p.ID), body)
		r.Header.Set("Idempotency-Key", key)
		r.AddCookie(reviewer.cookie)
		r.Header.Set(csrfHeader, reviewer.csrf)
		rec := serve(w, r)
		return rec.Code, rec.Body.String()
	}
	s1, b1 := share("share-1")
	s2, b2 := share("share-1")
	if s1 != 201 || s2 != 201 || b1 != b2 {
		t.Fatalf("share %d, retry %d, same answer %v: %s", s1, s2, b1 == b2, b1)
	}
	if s3, b3 := share("share-2"); s3 != 400 || !strings.Contains(b3, "已抄送") {
		t.Fatalf("shared twice: %d %s", s3, b3)
	}
	if rec = promoter.do("GET", fmt.Sprintf("/api/v1/projects/%d/shares", p.ID), nil); len(decode[[]engine.Share](t, rec.Body.Bytes())) != 1 {
		t.Fatalf("shares: %s", rec.Body)
	}
	bureau := w.bearerFor("natres", engine.APIToken{Scopes: engine.ReadScopes})
	mine := decode[[]engine.Share](t, bureau.do("GET", "/api/v1/shared", nil).Body.Bytes())
	if len(mine) != 1 || !mine[0].New || mine[0].Department != "自然资源局" {
		t.Fatalf("shared with me: %+v", mine)
	}
	if rec = bureau.do("GET", fmt.Sprintf("/api/v1/projects/%d", p.ID), nil); rec.Code != 200 {
		t.Fatalf("bureau reads: %d %s", rec.Code, rec.Body)
	}
	if rec = bureau.do("POST", fmt.Sprintf("/api/v1/projects/%d/shares", p.ID), engine.ShareInput{Users: []string{"reviewer2"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("a read-only token shares: %d", rec.Code)
	}
	if es, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventShareView}}); len(es) != 1 || es[0].Actor != "natres" {
		t.Fatalf("share_view entries = %+v", es)
	}

	box := decode[inboxAnswer](t, bureau.do("GET", "/api/v1/inbox", nil).Body.Bytes())
	if box.Unread != 1 || len(box.Items) != 1 || box.Items[0].Kind != engine.NoticeShare {
		t.Fatalf("inbox = %+v", box)
	}
	if rec = bureau.do("POST", "/api/v1/inbox/read", inboxRead{IDs: []int64{box.Items[0].ID}}); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"unread":0`) {
		t.Fatalf("mark read: %d %s", rec.Code, rec.Body)
	}
}
