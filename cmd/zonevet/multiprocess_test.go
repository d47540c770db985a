package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// pgCluster is the demo database copied onto a fresh PostgreSQL database and
// three `zonevet serve` processes on it, as behind a load balancer: one
// documents folder, one signing key and checkpoint file (shared storage),
// each process signing every 200 ms so their signers contend for the lock.
type pgCluster struct {
	c       *cli
	db      *store.DB // the test's own look at the database
	sql     *sql.DB   // and its raw SQL
	servers []*server
	rig     *crashRig // API tokens and a session of the demo's promoter1 and reviewer1
}

func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	pg := storetest.PostgresURL(t)
	c.ok("migrate", "--from", c.db, "--to", pg)
	docs := docsDir("", c.db)
	c.db = pg // the CLI's later commands ($ZONEVET_DB) run on PostgreSQL
	db, err := store.Open(pg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	pc := &pgCluster{c: c, db: db, sql: raw}
	for range 3 {
		s := startServe(t, c.bin, pg, "--docs", docs, "--signing-key", filepath.Join(dir, "zonevet.signing-key.pem"),
			"--checkpoint-interval", "200ms")
		if s.base == "" {
			t.Fatalf("serve on PostgreSQL did not start:\n%s", s.output())
		}
		pc.servers = append(pc.servers, s)
	}
	pc.rig = newCrashRig(t, c)
	return pc
}

// newProject creates a draft project through the first process and returns
// a writer that owns it (outside the rig's writers, which the kill test drives).
func (pc *pgCluster) newProject(t *testing.T, n int) *crashWriter {
	t.Helper()
	w0 := pc.rig.writers[0]
	w := &crashWriter{r: pc.rig, n: n, promoter: w0.promoter, reviewer: w0.reviewer, client: w0.client}
	if err := w.decide(pc.servers[0].base); err != nil || w.state != "draft" {
		t.Fatalf("create: %v (state %q)", err, w.state)
	}
	return w
}

// logCount counts project pid's log entries of event.
func (pc *pgCluster) logCount(t *testing.T, pid int64, event string) int {
	t.Helper()
	var n int
	if err := pc.sql.QueryRow(`SELECT count(*) FROM audit_log WHERE project_id = $1 AND event = $2`, pid, event).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// token makes an API token for user and returns its secret.
func (pc *pgCluster) token(t *testing.T, user string) string {
	t.Helper()
	ctx := context.Background()
	u, err := pc.db.UserByName(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	secret := fmt.Sprintf("zv_cluster_%s_%d", user, time.Now().UnixNano())
	sum := sha256.Sum256([]byte(secret))
	if err := pc.db.CreateAPIToken(ctx, &engine.APIToken{UserID: u.ID, Name: "cluster test", Hash: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// TestPostgresThreeProcesses: three serve processes on one PostgreSQL
// database behave as one: a decision lands once whichever process each
// click reaches, a session and an idempotency key made on one process hold
// on the others, the sign-in and audit-pull limits count once for all, the
// signers never checkpoint a head twice, and a kill -9 of
// one process during writes loses no acknowledged decision and leaves a
// chain that verifies.
func TestPostgresThreeProcesses(t *testing.T) {
	pc := newPGCluster(t)
	t.Run("OneTransitionOfFifty", func(t *testing.T) {
		w := pc.newProject(t, 100)
		body, _ := json.Marshal(map[string]any{"event": "submit", "version": w.version})
		statuses := make(chan int, 50)
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				status, resp, err := w.post(pc.servers[i%3].base, fmt.Sprintf("/api/v1/projects/%d/actions", w.pid), fmt.Sprintf("fifty-%d", i), body, w.promoter)
				if err != nil {
					t.Error(err)
				} else if status != http.StatusOK && status != http.StatusConflict {
					t.Errorf("click %d: %d %s", i, status, resp)
				}
				statuses <- status
			})
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[http.StatusOK] != 1 || count[http.StatusConflict] != 49 {
			t.Errorf("50 identical submits over 3 processes: %v; want one 200 and 49 409", count)
		}
		if n := pc.logCount(t, w.pid, "submit"); n != 1 {
			t.Errorf("%d submit entries in the log, want 1", n)
		}
	})

	t.Run("IdempotencyKeyAcrossProcesses", func(t *testing.T) {
		w := pc.newProject(t, 101)
		path := fmt.Sprintf("/api/v1/projects/%d/actions", w.pid)
		body, _ := json.Marshal(map[string]any{"event": "submit", "version": w.version})
		s1, first, err := w.post(pc.servers[1].base, path, "across-1", body, w.promoter)
		if err != nil || s1 != http.StatusOK {
			t.Fatalf("first: %d %s %v", s1, first, err)
		}
		s2, again, err := w.post(pc.servers[2].base, path, "across-1", body, w.promoter)
		if err != nil || s2 != http.StatusOK || !bytes.Equal(again, first) {
			t.Fatalf("replay on another process: %d %s %v; want the first answer %s", s2, again, err, first)
		}
		if n := pc.logCount(t, w.pid, "submit"); n != 1 {
			t.Errorf("%d submit entries after a replay, want 1", n)
		}
	})

	t.Run("SessionOnAnyProcess", func(t *testing.T) {
		session := login(t, pc.servers[0].base, "promoter1", "zonevet-demo")
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for i, s := range pc.servers {
			req, _ := http.NewRequest("GET", s.base+"/projects", nil)
			req.AddCookie(session)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("process %d: the session made on process 0 gets %d %s", i, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})

	// The sign-in throttle counts in the database: wrong passwords spread
	// over the three processes are refused at serve's default limit (5 per
	// account and address), as on one process, not at three times it; the
	// refusal names the wait.
	t.Run("SignInLimitAcrossProcesses", func(t *testing.T) {
		var got []int
		for i := range 8 {
			resp := signIn(t, pc.servers[i%3].base, "reviewer2", fmt.Sprintf("guess-%d", i))
			got = append(got, resp.StatusCode)
			if wait, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode == http.StatusTooManyRequests && (wait < 1 || wait > 30) {
				t.Errorf("attempt %d: 429 with Retry-After %q, want the first delay's seconds (≤ 30)", i+1, resp.Header.Get("Retry-After"))
			}
		}
		if want := []int{401, 401, 401, 401, 401, 429, 429, 429}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("8 wrong passwords over 3 processes: %v, want %v", got, want)
		}
	})

	// The audit-pull limiter counts in the database too: one token's pulls
	// spread over the three processes share serve's one budget (a burst of
	// 40, then 5 a second), not three of them. The bound allows the refill
	// over however long the pulls took, so a slow machine only loosens it;
	// three budgets would let all 150 through unless the pulls took 22 s.
	t.Run("PullLimitAcrossProcesses", func(t *testing.T) {
		const pulls, burst, perSecond = 150, 40, 5
		bearer := pc.token(t, "auditor1")
		client := &http.Client{Timeout: 20 * time.Second}
		var mu sync.Mutex
		count := map[int]int{}
		var wg sync.WaitGroup
		start := time.Now()
		for p, s := range pc.servers {
			wg.Go(func() {
				for range pulls / 3 {
					req, _ := http.NewRequest("GET", s.base+"/api/v1/audit/checkpoints", nil)
					req.Header.Set("Authorization", "Bearer "+bearer)
					resp, err := client.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if wait, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode == http.StatusTooManyRequests && wait < 1 {
						t.Errorf("process %d: 429 with Retry-After %q", p, resp.Header.Get("Retry-After"))
					}
					mu.Lock()
					count[resp.StatusCode]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		allowed := burst + int(perSecond*took.Seconds()) + 1
		if count[http.StatusOK] < burst || count[http.StatusOK] > allowed || count[http.StatusOK]+count[http.StatusTooManyRequests] != pulls {
			t.Errorf("%d pulls of one token over 3 processes in %v: %v; want %d to %d 200s, the rest 429",
				pulls, took, count, burst, allowed)
		}
	})

	t.Run("KillOneDuringWrites", func(t *testing.T) {
		done := make(chan struct{})
		var wg sync.WaitGroup
		for i, w := range pc.rig.writers {
			wg.Go(func() { w.run(pc.servers[i%3].base, done) })
		}
		time.Sleep(time.Duration(300+rand.IntN(400)) * time.Millisecond)
		pc.servers[1].kill()
		time.Sleep(500 * time.Millisecond) // the survivors go on writing
		close(done)
		wg.Wait()
		// The load balancer sends what the dead process left unanswered to a live one.
		pc.rig.retryPending(pc.servers[0].base)
		if len(pc.rig.acks) < 10 {
			t.Fatalf("only %d decisions acknowledged", len(pc.rig.acks))
		}
		checkAcks(t, "after kill -9 of one process", pc.sql, pc.rig.acks)
		var stuck int
		pc.sql.QueryRow(`SELECT count(*) FROM idempotency WHERE status = 0`).Scan(&stuck)
		if stuck != 0 {
			t.Errorf("%d idempotency keys stuck", stuck)
		}
		if out := pc.c.ok("audit", "verify", "--signing-key", filepath.Join(pc.c.dir, "zonevet.signing-key.pem")); !strings.Contains(out, "intact") {
			t.Errorf("audit verify: %s", out)
		}
		t.Logf("%d decisions acknowledged, %d retried on another process", len(pc.rig.acks), pc.rig.retried)
	})

	// Three signers every 200 ms all along: each head was vouched for once.
	cps, err := pc.db.Checkpoints(context.Background())
	if err != nil || len(cps) == 0 {
		t.Fatalf("%d checkpoints, %v", len(cps), err)
	}
	for i := 1; i < len(cps); i++ {
		if cps[i].Seq <= cps[i-1].Seq {
			t.Errorf("checkpoint #%d signed twice", cps[i].Seq)
		}
	}
}

// login signs in through the form as a browser does and returns the session cookie.
func login(t *testing.T, base, user, password string) *http.Cookie {
	t.Helper()
	resp := signIn(t, base, user, password)
	for _, c := range resp.Cookies() {
		if c.Name == "zv_session" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("sign-in answered %d without a session", resp.StatusCode)
	return nil
}

// signIn posts the sign-in form as a browser would (its page first, for the
// CSRF cookie and field) and returns the answer, body closed.
func signIn(t *testing.T, base, user, password string) *http.Response {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("login page without its csrf field")
	}
	form := url.Values{"username": {user}, "password": {password}, "csrf": {string(m[1])}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
