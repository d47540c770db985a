package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
)

// crashCycles is how many kill -9 cycles TestCrashLeavesNothingHalfDone
// runs: a few in the normal run (two under -short), as many as wanted for a
// soak, e.g.
//
//	go test ./cmd/zonevet -run TestCrash -crash-cycles=150 -timeout 30m
var crashCycles = flag.Int("crash-cycles", 5, "kill -9 cycles of TestCrashLeavesNothingHalfDone")

// TestCrashLeavesNothingHalfDone starts the real binary, drives writers over
// HTTP (transitions with Idempotency-Keys, document uploads), kills it with
// SIGKILL at a random moment, restarts it and checks the database: no
// acknowledged decision lost, every project's state and version agree with
// its last log entry, every document has its entry and its file and every
// file its document, `audit verify` passes, no idempotency key is stuck and
// every request cut off by the crash, retried with its key, gets a 2xx
// (replayed or run once), never "still being processed".
func TestCrashLeavesNothingHalfDone(t *testing.T) {
	cycles := *crashCycles
	if testing.Short() {
		cycles = min(cycles, 2) // still a crash and a retry, in a few seconds
	}
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	cr := newCrashRig(t, c)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for cycle := range cycles {
		s := cr.start()
		cr.retryPending(s.base)
		var wg sync.WaitGroup
		for _, w := range cr.writers {
			wg.Go(func() { w.run(s.base, nil) })
		}
		time.Sleep(time.Duration(50+rng.IntN(450)) * time.Millisecond)
		s.kill()
		wg.Wait()
		cr.check(fmt.Sprintf("after kill %d", cycle+1), false)
	}
	s := cr.start()
	cr.retryPending(s.base)
	s.stop()
	if out := s.output(); strings.Contains(out, "REFUSED") {
		t.Errorf("the signer refused after a crash:\n%s", out)
	}
	cr.check("after the last restart", true)
	t.Logf("%d cycles: %d acknowledged decisions, %d acknowledged uploads, %d requests retried after a crash",
		cycles, len(cr.acks), len(cr.uploads), cr.retried)
}

// crashRig holds the writers and what the server acknowledged to them.
type crashRig struct {
	t       *testing.T
	c       *cli
	writers []*crashWriter

	mu      sync.Mutex
	acks    []ack             // decisions answered 2xx
	uploads map[string]bool   // SHA-256 of uploads answered 303
	pending []*pendingRequest // cut off by a crash, to retry with their key
	retried int
}

// ack is an acknowledged decision: after it, project pid had version v in state.
type ack struct {
	pid     int64
	version int64
	state   string
}

type pendingRequest struct {
	w          *crashWriter
	path, key  string
	body       []byte
	wantStatus int
}

// crashWriter owns one project: it creates it, then moves it submit →
// return → resubmit → return … and, for the uploader, attaches documents.
type crashWriter struct {
	r        *crashRig
	n        int
	promoter string // bearer tokens
	reviewer string
	session  *http.Cookie
	csrf     string
	uploads  bool
	pid      int64
	version  int64
	state    string
	seq      int // keys and upload contents
	client   *http.Client
}

func newCrashRig(t *testing.T, c *cli) *crashRig {
	r := &crashRig{t: t, c: c, uploads: map[string]bool{}}
	db, err := store.Open(c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	token := func(user string) (string, int64) {
		u, err := db.UserByName(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		secret := fmt.Sprintf("zv_crash_%s_%d", user, time.Now().UnixNano())
		sum := sha256.Sum256([]byte(secret))
		if err := db.CreateAPIToken(ctx, &engine.APIToken{UserID: u.ID, Name: "crash test", Hash: hex.EncodeToString(sum[:])}); err != nil {
			t.Fatal(err)
		}
		return secret, u.ID
	}
	promoter, promoterID := token("promoter1")
	reviewer, _ := token("reviewer1")
	// The uploader signs in as a browser does: a session and its CSRF token.
	secret := fmt.Sprintf("crash-session-%d", time.Now().UnixNano())
	sum := sha256.Sum256([]byte(secret))
	csrf := strings.Repeat("c", 43)
	if err := db.CreateSession(ctx, &engine.Session{ID: hex.EncodeToString(sum[:]), UserID: promoterID, CSRFToken: csrf}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		r.writers = append(r.writers, &crashWriter{r: r, n: i, promoter: promoter, reviewer: reviewer,
			session: &http.Cookie{Name: "zv_session", Value: secret}, csrf: csrf, uploads: i == 0,
			client: &http.Client{Timeout: 20 * time.Second}})
	}
	return r
}

// start starts the server on the rig's database, signing checkpoints often
// so that the signer's verification runs across crashes too.
func (r *crashRig) start() *server {
	r.t.Helper()
	s := startServe(r.t, r.c.bin, r.c.db, "--checkpoint-interval", "200ms")
	if s.base == "" {
		r.t.Fatalf("serve did not start after a crash:\n%s", s.output())
	}
	return s
}

// retryPending resends every request the crash cut off, with its key: the
// answer must be the success it would have had, replayed or run now.
func (r *crashRig) retryPending(base string) {
	r.t.Helper()
	pending := r.pending
	r.pending = nil
	for _, p := range pending {
		r.retried++
		status, body, err := p.w.post(base, p.path, p.key, p.body, p.w.tokenFor(p.path, p.body))
		if err != nil {
			r.t.Fatalf("retry of %s after restart: %v", p.key, err)
		}
		if status != p.wantStatus {
			r.t.Fatalf("retry of %s %s after a crash: %d %s; want %d (a key left stuck, or the action lost)", p.path, p.key, status, body, p.wantStatus)
		}
		p.w.accept(body)
	}
}

func (w *crashWriter) tokenFor(path string, body []byte) string {
	if strings.HasSuffix(path, "/actions") && bytes.Contains(body, []byte(`"return"`)) {
		return w.reviewer
	}
	return w.promoter
}

// run writes until the server goes away or done is closed (nil: never).
func (w *crashWriter) run(base string, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		default:
		}
		var err error
		if w.uploads && w.pid != 0 && w.seq%3 == 2 {
			err = w.upload(base)
		} else {
			err = w.decide(base)
		}
		if err != nil {
			return
		}
	}
}

// decide sends the writer's next decision; a transport error leaves it
// pending for the retry after restart.
func (w *crashWriter) decide(base string) error {
	w.seq++
	key := fmt.Sprintf("crash-w%d-%d", w.n, w.seq)
	var path string
	var body []byte
	want := http.StatusOK
	switch w.state {
	case "":
		path, want = "/api/v1/projects", http.StatusCreated
		body, _ = json.Marshal(map[string]any{"park": "qingyuan", "name": fmt.Sprintf("断电测试项目 %d", w.n), "investor_name": "清远测试科技有限公司",
			"uscc": "91440300708461136T", "figures": map[string]any{"industry_code": "C3985", "total_investment": 30000,
				"fixed_asset_investment": 20000, "land_area": 50, "floor_area": 50000, "building_coverage": 48, "office_share": 5,
				"expected_output": 60000, "revenue": 58000, "tax": 2200, "rd_expense": 2900, "energy_use": 700, "employees": 300,
				"green_ratio": 8, "land_grade": 9, "land_price": 18, "electricity": 300, "negative_list": false, "eco_red_line": false, "bad_credit": false}})
	default:
		next := map[string]struct{ event, reason string }{
			"draft": {"submit", ""}, "screening": {"return", "材料不全,请补充"}, "returned": {"resubmit", ""},
		}[w.state]
		path = fmt.Sprintf("/api/v1/projects/%d/actions", w.pid)
		body, _ = json.Marshal(map[string]any{"event": next.event, "version": w.version, "reason": next.reason})
	}
	status, resp, err := w.post(base, path, key, body, w.tokenFor(path, body))
	if err != nil {
		w.r.mu.Lock()
		w.r.pending = append(w.r.pending, &pendingRequest{w: w, path: path, key: key, body: body, wantStatus: want})
		w.r.mu.Unlock()
		return err
	}
	if status != want {
		w.r.t.Errorf("writer %d: %s: %d %s", w.n, path, status, resp)
		return errors.New("refused")
	}
	w.accept(resp)
	return nil
}

// accept records an acknowledged decision's answer.
func (w *crashWriter) accept(resp []byte) {
	var p struct {
		ID      int64  `json:"id"`
		Version int64  `json:"version"`
		State   string `json:"state"`
	}
	if err := json.Unmarshal(resp, &p); err != nil || p.ID == 0 {
		w.r.t.Fatalf("answer %s: %v", resp, err)
	}
	w.pid, w.version, w.state = p.ID, p.Version, p.State
	w.r.mu.Lock()
	w.r.acks = append(w.r.acks, ack{p.ID, p.Version, p.State})
	w.r.mu.Unlock()
}

func (w *crashWriter) post(base, path, key string, body []byte, bearer string) (int, []byte, error) {
	req, err := http.NewRequest("POST", base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Idempotency-Key", key)
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// upload attaches a small PDF with unique content; an upload cut off by the
// crash has no known outcome and is not counted, but must not be half there.
func (w *crashWriter) upload(base string) error {
	w.seq++
	content := fmt.Appendf(nil, "%%PDF-1.4\n%% crash test upload %d-%d\n%%%%EOF\n", w.n, w.seq)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("kind", "other")
	mw.WriteField("csrf", w.csrf)
	fw, _ := mw.CreateFormFile("file", fmt.Sprintf("附件%d.pdf", w.seq))
	fw.Write(content)
	mw.Close()
	req, err := http.NewRequest("POST", fmt.Sprintf("%s/projects/%d/documents", base, w.pid), &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", w.csrf)
	req.AddCookie(w.session)
	client := *w.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		w.r.t.Errorf("upload: %d", resp.StatusCode)
		return errors.New("refused")
	}
	sum := sha256.Sum256(content)
	w.r.mu.Lock()
	w.r.uploads[hex.EncodeToString(sum[:])] = true
	w.r.mu.Unlock()
	return nil
}

// check reads the database as the crash left it. files also checks the
// documents folder, which only a start has swept.
func (r *crashRig) check(when string, files bool) {
	t := r.t
	t.Helper()
	db, err := sql.Open("sqlite", r.c.db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkAcks(t, when, db, r.acks)
	var unlogged, stuck int
	db.QueryRow(`SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM audit_log a
		WHERE a.event = 'upload' AND a.project_id = d.project_id AND json_extract(a.payload, '$.id') = d.id)`).Scan(&unlogged)
	db.QueryRow(`SELECT count(*) FROM idempotency WHERE status = 0`).Scan(&stuck)
	if unlogged != 0 || stuck != 0 {
		t.Errorf("%s: %d document(s) without their log entry, %d idempotency key(s) stuck", when, unlogged, stuck)
	}
	stored := map[string]string{} // stored name → sha256
	rows, err := db.Query(`SELECT stored_name, sha256 FROM documents`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, sum string
		rows.Scan(&name, &sum)
		stored[name] = sum
	}
	rows.Close()
	have := map[string]bool{}
	for _, sum := range stored {
		have[sum] = true
	}
	for sum := range r.uploads {
		if !have[sum] {
			t.Errorf("%s: acknowledged upload %s lost", when, sum[:12])
		}
	}
	docs := r.c.db + ".docs"
	for name, sum := range stored {
		b, err := os.ReadFile(filepath.Join(docs, name))
		got := sha256.Sum256(b)
		if err != nil || hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: document file %s missing or not what was uploaded (%v)", when, name, err)
		}
	}
	if files {
		es, _ := os.ReadDir(docs)
		for _, e := range es {
			if e.Type().IsRegular() && stored[e.Name()] == "" {
				t.Errorf("%s: file %s in the documents folder has no document", when, e.Name())
			}
		}
	}
	if out := r.c.ok("audit", "verify"); !strings.Contains(out, "intact") {
		t.Errorf("%s: audit verify: %s", when, out)
	}
}

// checkAcks checks the database (SQLite's or, through the store's
// placeholder rewriting, PostgreSQL's) against the acknowledged decisions:
// each is in its project's log, and each project's state and version agree
// with its last log entry.
func checkAcks(t *testing.T, when string, db *sql.DB, acks []ack) {
	t.Helper()
	type entry struct {
		event, to string
	}
	pids := map[int64]bool{}
	for _, a := range acks {
		pids[a.pid] = true
	}
	// Whole tables, no placeholders: the same SQL reads either engine.
	history := map[int64][]entry{}
	rows, err := db.Query(`SELECT project_id, event, to_state FROM audit_log WHERE project_id IS NOT NULL AND event <> 'upload' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pid int64
		var e entry
		rows.Scan(&pid, &e.event, &e.to)
		history[pid] = append(history[pid], e)
	}
	rows.Close()
	rows, err = db.Query(`SELECT id, state, version FROM projects`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid, version int64
		var state string
		rows.Scan(&pid, &state, &version)
		h := history[pid]
		if pids[pid] && (int64(len(h)) != version || len(h) == 0 || h[len(h)-1].to != state) {
			t.Errorf("%s: project %d is v%d %s, its log has %d changes: %v", when, pid, version, state, len(h), h)
		}
	}
	for _, a := range acks {
		h := history[a.pid]
		if int64(len(h)) < a.version || h[a.version-1].to != a.state {
			t.Errorf("%s: acknowledged decision lost: project %d v%d %s", when, a.pid, a.version, a.state)
		}
	}
}
