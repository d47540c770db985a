package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/store"
	"zonevet/store/storetest"
)

// clock is a settable test clock shared by the engine and the web layer.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// world is the real product on a temp SQLite file (a PostgreSQL database
// under ZONEVET_TEST_STORE=postgres, storetest.Path): both default parks, and
// for each role a user in qingyuan ("<role>") and one in yingde
// ("<role>@other"), plus reviewer2 and reviewer3 in qingyuan for a quorum.
type world struct {
	t     testing.TB
	ctx   context.Context
	db    *store.DB
	path  string // the database file, for a second handle (another process's view)
	svc   *engine.Service
	srv   *Server
	clock *clock
	users map[string]*engine.User
	// revokeDay spreads the permission matrix's delegations over days of their own.
	revokeDay int
}

const (
	ownPark   = "qingyuan"
	otherPark = "yingde"
)

func mustWorld(t testing.TB) *world {
	t.Helper()
	return mustWorldConfig(t, Config{})
}

func mustWorldConfig(t testing.TB, cfg Config) *world {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := storetest.Path(t)
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{t: time.Date(2025, 3, 3, 2, 0, 0, 0, time.UTC)} // a Monday, 10:00 in Shanghai
	svc, err := engine.NewService(ctx, engine.Config{Store: db, Now: clk.now, PasswordHashing: storetest.PasswordHashing})
	if err != nil {
		t.Fatal(err)
	}
	for _, park := range rules.DefaultParks() {
		rs, err := rules.Default(park)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.PutPark(ctx, engine.Park{ID: park, NameZH: rs.ParkNameZH(), NameEN: rs.ParkNameEN(), Level: rs.Level()}); err != nil {
			t.Fatal(err)
		}
		if err := svc.InstallRuleSet(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	w := &world{t: t, ctx: ctx, db: db, path: path, svc: svc, clock: clk, users: map[string]*engine.User{}}
	for _, r := range engine.Roles {
		w.user(string(r), engine.RoleAssignment{Role: r, Park: ownPark})
		w.user(string(r)+"@other", engine.RoleAssignment{Role: r, Park: otherPark})
	}
	w.user("reviewer2", engine.RoleAssignment{Role: engine.RoleReviewer, Park: ownPark})
	w.user("reviewer3", engine.RoleAssignment{Role: engine.RoleReviewer, Park: ownPark})
	cfg.Service, cfg.Accounts = svc, db
	if cfg.DocsDir == "" {
		cfg.DocsDir = filepath.Join(dir, "docs")
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	if w.srv, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) user(name string, roles ...engine.RoleAssignment) *engine.User {
	w.t.Helper()
	username := strings.ReplaceAll(name, "@", "-")
	u := &engine.User{Username: username, DisplayName: name, PasswordHash: testHash(w.t, "password-"+username), CreatedAt: w.clock.now()}
	storetest.Account(w.t, w.ctx, w.db, u, roles...)
	if err := w.svc.ReloadRoles(w.ctx); err != nil { // the authorizer reads roles when told, as after CreateUser
		w.t.Fatal(err)
	}
	w.users[name] = u
	return u
}

// testHashes holds one argon2id hash per test password for the whole run:
// every world makes the same dozen accounts, and these tests are not about
// hashing (the sign-in tests still check each password against its hash).
var testHashes sync.Map // password → hash

func testHash(t testing.TB, password string) string {
	if h, ok := testHashes.Load(password); ok {
		return h.(string)
	}
	h := storetest.Hash(password) // the worlds' cost (storetest.PasswordHashing)
	testHashes.Store(password, h)
	return h
}

// goodFigures pass every hard rule of both default parks.
func goodFigures() rules.Figures {
	return rules.Figures{IndustryCode: "C3985", TotalInvestment: fp(30000), FixedAssetInvestment: fp(20000), LandArea: fp(50),
		FloorArea: fp(50 * 666.67 * 1.5), BuildingCoverage: fp(48), OfficeShare: fp(5), ExpectedOutput: fp(60000), Revenue: fp(58000),
		Tax: fp(2200), RDExpense: fp(2900), EnergyUse: fp(700), Employees: ip(300),
		GreenRatio: fp(8), LandGrade: ip(9), LandPrice: fp(18), Electricity: fp(300),
		NegativeList: bp(false), EcoRedLine: bp(false), BadCredit: bp(false)}
}

const goodUSCC = "91440300708461136T"

func goodInput(park string) engine.ProjectInput {
	return engine.ProjectInput{Park: park, Name: "电子铜箔项目", InvestorName: "清远华科新材料股份有限公司", USCC: goodUSCC, Figures: goodFigures()}
}

// project makes a qingyuan project by "promoter" and moves it to state st.
func (w *world) project(st engine.State) *engine.Project {
	w.t.Helper()
	p, err := w.svc.CreateProject(w.ctx, w.users["promoter"], goodInput(ownPark))
	if err != nil {
		w.t.Fatal(err)
	}
	steps := map[engine.State][]struct{ who, ev string }{
		engine.StateScreening:       {{"promoter", engine.EventSubmit}},
		engine.StateExpertReview:    {{"promoter", engine.EventSubmit}, {"reviewer", engine.EventPass}},
		engine.StateCommitteeReview: {{"promoter", engine.EventSubmit}, {"reviewer", engine.EventPass}},
	}
	for _, s := range steps[st] {
		if p, err = w.svc.Act(w.ctx, w.users[s.who], p.ID, engine.Action{Event: s.ev, Version: p.Version}); err != nil {
			w.t.Fatalf("%s: %v", s.ev, err)
		}
	}
	if st == engine.StateCommitteeReview {
		p = w.scoreAll(p, 0.9, "reviewer", "reviewer2", "reviewer3")
	}
	if p.State != st && st != engine.StateDraft {
		w.t.Fatalf("project in %s, want %s", p.State, st)
	}
	return p
}

func (w *world) fullMarks(p *engine.Project, fraction float64) map[string]float64 {
	rs, err := w.svc.ProjectRuleSet(w.ctx, p)
	if err != nil {
		w.t.Fatal(err)
	}
	items := map[string]float64{}
	for _, c := range rs.Scoring().Criteria {
		items[c.ID] = c.Max * fraction
	}
	return items
}

func (w *world) scoreAll(p *engine.Project, fraction float64, who ...string) *engine.Project {
	w.t.Helper()
	for _, r := range who {
		out, err := w.svc.Score(w.ctx, w.users[r], p.ID, engine.ScoreInput{Round: p.Round, Items: w.fullMarks(p, fraction)})
		if err != nil {
			w.t.Fatalf("score by %s: %v", r, err)
		}
		p = out.Project
	}
	return p
}

// client is a signed-in (or anonymous) browser or script.
type client struct {
	w      *world
	cookie *http.Cookie // session
	csrf   string
	bearer string
	lang   string // the "lang" cookie, if set
}

// login gives a client with a session for the named user, made directly in
// the store (no argon2id per test request); the sign-in form has its own tests.
func (w *world) login(name string) *client {
	w.t.Helper()
	if name == "anon" {
		return &client{w: w, csrf: "anon-csrf-token-anon-csrf-token-0123456789"}
	}
	u := w.users[name]
	if u == nil {
		w.t.Fatalf("no user %q", name)
	}
	secret := randomToken()
	now := w.clock.now()
	s := &engine.Session{ID: hashToken(secret), UserID: u.ID, CSRFToken: randomToken(), CreatedAt: now, LastSeenAt: now}
	if err := w.db.CreateSession(w.ctx, s); err != nil {
		w.t.Fatal(err)
	}
	return &client{w: w, cookie: &http.Cookie{Name: cookieSession, Value: secret}, csrf: s.CSRFToken}
}

// do sends a request; form bodies get the CSRF field, JSON bodies the header.
func (c *client) do(method, target string, body any) *httptest.ResponseRecorder {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		b = cloneValues(b)
		if b.Get("csrf") == "" {
			b.Set("csrf", c.csrf)
		}
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case *multipartBody:
		rd, ctype = bytes.NewReader(b.data), b.ctype
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.w.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(data), "application/json"
	}
	req := httptest.NewRequest(method, target, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	if c.lang != "" {
		req.AddCookie(&http.Cookie{Name: "lang", Value: c.lang})
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	} else if method != http.MethodGet {
		req.Header.Set(csrfHeader, c.csrf)
		if c.cookie == nil {
			req.AddCookie(&http.Cookie{Name: cookiePreCSRF, Value: c.csrf})
		}
	}
	rec := httptest.NewRecorder()
	c.w.srv.ServeHTTP(rec, req)
	return rec
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, xs := range v {
		out[k] = append([]string(nil), xs...)
	}
	return out
}

type multipartBody struct {
	data  []byte
	ctype string
}

// parseHTML parses a response body, failing the test on broken HTML.
func parseHTML(t testing.TB, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// findAll returns the elements matching pred in document order.
func findAll(n *html.Node, pred func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && pred(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// actionButtons lists the events of the project page's action buttons and forms.
func actionButtons(doc *html.Node) []string {
	var out []string
	for _, b := range findAll(doc, func(n *html.Node) bool { return n.Data == "button" && attr(n, "data-event") != "" }) {
		out = append(out, attr(b, "data-event"))
	}
	return out
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// multipart builds an upload form with the file and kind fields.
func (w *world) multipart(kind, filename string, data []byte) *multipartBody {
	w.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("kind", kind); err != nil {
		w.t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		w.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return &multipartBody{data: buf.Bytes(), ctype: mw.FormDataContentType()}
}

// hasAttr reports whether the HTML node carries the attribute key.
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// fp, ip and bp make a declared figure; nil is a blank (rules.Figures).
func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }
func bp(v bool) *bool       { return &v }

// overrideAction is a complete 一事一议 on p waiving the given rules, with
// the meeting minutes uploaded to the project by the committee first.
func (w *world) overrideAction(p *engine.Project, waive ...string) engine.Action {
	w.t.Helper()
	doc := &engine.Document{Kind: engine.DocumentMinutes, FileName: "管委会会议纪要.pdf", StoredName: "minutes-" + strconv.FormatInt(p.ID, 10),
		MediaType: "application/pdf", Size: 1024, SHA256: strings.Repeat("cd", 32)}
	if err := w.svc.AddDocument(w.ctx, w.users["committee"], p.ID, doc); err != nil {
		w.t.Fatal(err)
	}
	return engine.Action{Event: engine.EventOverride, Version: p.Version, Waive: waive,
		Reason:          "补链项目,经管委会研究同意“一事一议”进入专家评审,达产后复核亩均税收。",
		MinutesDocument: doc.ID, MinutesNumber: "清高管纪〔2026〕9号", MinutesDate: w.svc.Now().In(w.svc.Location()).Format(time.DateOnly)}
}

// dropTrigger is the statement that drops table's trigger name: PostgreSQL
// names the table, SQLite must not.
func dropTrigger(pg bool, name, table string) string {
	if pg {
		return "DROP TRIGGER " + name + " ON " + table
	}
	return "DROP TRIGGER " + name
}
