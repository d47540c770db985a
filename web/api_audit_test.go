package web

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store/storetest"
)

// bearerFor makes an API token for the named user with the given fields
// and returns a client that sends it.
func (w *world) bearerFor(name string, tok engine.APIToken) *client {
	w.t.Helper()
	u := w.users[name]
	if u == nil {
		w.t.Fatalf("no user %q", name)
	}
	secret := "zv_" + randomToken()
	tok.UserID, tok.Hash, tok.CreatedAt = u.ID, hashToken(secret), w.clock.now()
	if tok.Name == "" {
		tok.Name = "test"
	}
	if err := w.db.CreateAPIToken(w.ctx, &tok); err != nil {
		w.t.Fatal(err)
	}
	return &client{w: w, bearer: secret}
}

func pullWorld(t *testing.T, cfg Config) *world {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg.CheckpointKey = key
	w := mustWorldConfig(t, cfg)
	w.user("auditor-all", engine.RoleAssignment{Role: engine.RoleAuditor, Park: ownPark}, engine.RoleAssignment{Role: engine.RoleAuditor, Park: otherPark})
	w.project(engine.StateScreening)
	w.project(engine.StateDraft)
	if _, err := w.svc.CreateProject(w.ctx, w.users["promoter@other"], goodInput(otherPark)); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestAPIAuditPullPages pulls the whole log in small pages as an auditor of
// every park: the pages link entry to entry, each pull is itself logged with
// its range, the last page ends on a checkpoint of the head, and the head it
// reports is the last entry.
func TestAPIAuditPullPages(t *testing.T) {
	w := pullWorld(t, Config{AuditPullRate: 1000, AuditPullBurst: 1000})
	c := w.bearerFor("auditor-all", engine.APIToken{})
	v := &engine.ChainVerifier{Head: engine.GenesisHash}
	after, pages := int64(0), 0
	var last auditPullPageJSON
	for {
		rec := c.do("GET", fmt.Sprintf("/api/v1/audit/entries?after=%d&limit=4", after), nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("page after %d: %d %s", after, rec.Code, rec.Body)
		}
		pg := decode[auditPullPageJSON](t, rec.Body.Bytes())
		pages++
		if !pg.Complete || pg.Head == nil {
			t.Fatalf("an auditor of every park gets a complete log: %+v", pg)
		}
		for i := range pg.Entries {
			if err := v.Check(&pg.Entries[i]); err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
		}
		for _, cp := range pg.Checkpoints {
			if cp.Seq <= after || cp.Seq > pg.Next {
				t.Errorf("checkpoint #%d outside the page (%d, %d]", cp.Seq, after, pg.Next)
			}
		}
		last = pg
		after = pg.Next
		if !pg.More {
			break
		}
		if pages > 100 {
			t.Fatal("the pull does not end")
		}
	}
	if pages < 3 {
		t.Fatalf("only %d pages", pages)
	}
	if last.Checkpoint == nil || last.Checkpoint.Seq != v.HeadSeq || last.Checkpoint.Hash != v.Head {
		t.Fatalf("the last page's checkpoint %+v, want the head #%d %s", last.Checkpoint, v.HeadSeq, v.Head)
	}
	if err := last.Checkpoint.Verify(w.srv.cfg.CheckpointKey.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	pulls, _, err := w.db.AuditPage(w.ctx, engine.AuditQuery{AuditFilter: engine.AuditFilter{Events: []string{engine.EventAuditPull}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pulls) != pages {
		t.Fatalf("%d pull entries for %d pages", len(pulls), pages)
	}
	if pulls[0].Actor != "auditor-all" || !strings.Contains(pulls[0].Payload, `"after":0,"limit":4`) {
		t.Errorf("first pull logged as %+v", pulls[0])
	}
}

// auditPullPageJSON is the page as a client decodes it.
type auditPullPageJSON struct {
	Entries     []engine.AuditEntry `json:"entries"`
	Complete    bool                `json:"complete"`
	Head        *engine.LogHead     `json:"head"`
	Checkpoint  *engine.Checkpoint  `json:"checkpoint"`
	Checkpoints []engine.Checkpoint `json:"checkpoints"`
	Next        int64               `json:"next"`
	More        bool                `json:"more"`
}

// TestAPIAuditPullScope: an auditor of one park reads that park's entries
// and the zone-wide ones, marked partial and without the head; a park he
// does not audit, or a token restricted to another park, is refused; people
// who may not read the log are refused; filters are those of the page.
func TestAPIAuditPullScope(t *testing.T) {
	w := pullWorld(t, Config{AuditPullRate: 1000, AuditPullBurst: 1000})
	pg := decode[auditPullPageJSON](t, w.login("auditor").do("GET", "/api/v1/audit/entries?limit=1000", nil).Body.Bytes())
	if pg.Complete || pg.Head != nil || len(pg.Entries) == 0 {
		t.Fatalf("one park's auditor: complete %v head %v, %d entries", pg.Complete, pg.Head, len(pg.Entries))
	}
	for _, e := range pg.Entries {
		if e.Park != ownPark && e.Park != "" {
			t.Errorf("entry #%d of park %q given to the auditor of %s", e.Seq, e.Park, ownPark)
		}
	}
	tests := []struct {
		name   string
		c      *client
		target string
		status int
	}{
		{"OtherPark", w.login("auditor"), "/api/v1/audit/entries?park=" + otherPark, 403},
		{"Admin", w.login("admin"), "/api/v1/audit/entries", 403},
		{"Promoter", w.login("promoter"), "/api/v1/audit/checkpoints", 403},
		{"Anon", w.login("anon"), "/api/v1/audit/entries", 401},
		{"BadAfter", w.login("auditor"), "/api/v1/audit/entries?after=-1", 400},
		{"BadLimit", w.login("auditor"), "/api/v1/audit/entries?limit=1001", 400},
		{"TokenOtherPark", w.bearerFor("auditor-all", engine.APIToken{Parks: []string{otherPark}}), "/api/v1/audit/entries?park=" + ownPark, 403},
		{"Pubkey", w.login("auditor"), "/api/v1/audit/pubkey", 200},
		{"PubkeyPromoter", w.login("promoter"), "/api/v1/audit/pubkey", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := tt.c.do("GET", tt.target, nil); rec.Code != tt.status {
				t.Fatalf("%d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
		})
	}
	t.Run("Filtered", func(t *testing.T) {
		pg := decode[auditPullPageJSON](t, w.login("auditor-all").do("GET", "/api/v1/audit/entries?event=create&park="+otherPark, nil).Body.Bytes())
		if pg.Complete || len(pg.Entries) != 1 || pg.Entries[0].Event != engine.EventCreate || pg.Entries[0].Park != otherPark {
			t.Fatalf("filtered: %+v", pg)
		}
	})
}

// TestAPIAuditPullStream: as JSON Lines the entries stream in the export's
// own format, checkpoints on their lines, so the concatenated stream of a
// whole-log pull is an export file that verifies.
func TestAPIAuditPullStream(t *testing.T) {
	w := pullWorld(t, Config{AuditPullRate: 1000, AuditPullBurst: 1000})
	c := w.login("auditor-all")
	rec := c.do("GET", "/api/v1/audit/entries?format=jsonl&limit=1000000", nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Header().Get("Zonevet-Complete") != "true" || rec.Header().Get("Zonevet-Head") == "" {
		t.Fatalf("headers %v", rec.Header())
	}
	pub := w.srv.cfg.CheckpointKey.Public().(ed25519.PublicKey)
	// A later page, after the head was signed: its lines carry no
	// checkpoint, the header carries the latest.
	later := c.do("GET", "/api/v1/audit/entries?format=jsonl&after=3&limit=2", nil)
	var cp engine.Checkpoint
	if err := json.Unmarshal([]byte(later.Header().Get("Zonevet-Checkpoint")), &cp); err != nil || cp.Verify(pub) != nil || cp.Seq < 4 {
		t.Fatalf("Zonevet-Checkpoint %q: %v", later.Header().Get("Zonevet-Checkpoint"), err)
	}
	if n := strings.Count(later.Body.String(), "\n"); n != 2 {
		t.Fatalf("limit=2 streamed %d lines", n)
	}
	res, err := engine.VerifyExport(bytes.NewReader(rec.Body.Bytes()), pub, false, nil)
	if err != nil || !res.OK || res.Checkpoints == 0 {
		t.Fatalf("the stream as an export: %+v %v", res, err)
	}
}

// TestAPIAuditPullRateLimit: each token has its own budget; past it the
// answer is 429 with Retry-After, and after waiting the pull goes on.
func TestAPIAuditPullRateLimit(t *testing.T) {
	w := pullWorld(t, Config{AuditPullRate: 1, AuditPullBurst: 2})
	a := w.bearerFor("auditor-all", engine.APIToken{})
	b := w.bearerFor("auditor-all", engine.APIToken{})
	for i := range 2 {
		if rec := a.do("GET", "/api/v1/audit/checkpoints", nil); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	rec := a.do("GET", "/api/v1/audit/entries", nil)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the rate: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got := decode[apiError](t, rec.Body.Bytes()); got.Message == "" {
		t.Fatalf("429 without a message: %s", rec.Body)
	}
	if rec := b.do("GET", "/api/v1/audit/entries", nil); rec.Code != 200 {
		t.Fatalf("another token of the same owner: %d", rec.Code)
	}
	w.clock.advance(time.Second)
	if rec := a.do("GET", "/api/v1/audit/entries", nil); rec.Code != 200 {
		t.Fatalf("after waiting: %d", rec.Code)
	}
}

// TestAPIAuditPullRefusalNeedsNoWriter: a pull over the rate is refused
// from a read of its bucket, even while another process holds the write
// lock; the pulls let through wrote theirs.
func TestAPIAuditPullRefusalNeedsNoWriter(t *testing.T) {
	w := pullWorld(t, Config{AuditPullRate: 1, AuditPullBurst: 1})
	a := w.bearerFor("auditor-all", engine.APIToken{})
	if rec := a.do("GET", "/api/v1/audit/checkpoints", nil); rec.Code != 200 {
		t.Fatalf("first pull: %d", rec.Code)
	}
	release := storetest.HoldWriter(t, w.db)
	defer release()
	if rec := a.do("GET", "/api/v1/audit/checkpoints", nil); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("over the rate with the writer held elsewhere: %d %s", rec.Code, rec.Body)
	}
}

// apiAuditRoutes are the permission matrix's rows for pulling the log
// (engine/authz/policy.csv: auditor may read and export the log in its
// parks, admin may verify; issue 19). The matrix world has no signing key,
// so the public key is 404 to those who may see it.
func (w *world) apiAuditRoutes() []route {
	return []route{
		{"GET", "/api/v1/audit/entries", "", get("/api/v1/audit/entries?park=qingyuan&limit=5"), "anon=401 own=403 auditor=200 other=403"},
		{"GET", "/api/v1/audit/checkpoints", "", get("/api/v1/audit/checkpoints"), "anon=401 own=403 auditor=200 admin=200 other=403 auditor@other=200 admin@other=200"},
		{"GET", "/api/v1/audit/pubkey", "", get("/api/v1/audit/pubkey"), "anon=401 own=403 auditor=404 admin=404 other=403 auditor@other=404 admin@other=404"},
	}
}
