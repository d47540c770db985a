package web

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// latencies collects request durations from many goroutines and reports the
// median, p99 and throughput beside the usual ns/op.
type latencies struct {
	mu    sync.Mutex
	d     []time.Duration
	start time.Time
	cpu   time.Duration // cpuTime at start
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	elapsed := time.Since(l.start)
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	if len(l.d) == 0 {
		return
	}
	q := func(p float64) float64 { return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "req/s")
	// CPU of the whole process (server and load client) per request.
	b.ReportMetric(float64((cpuTime()-l.cpu).Microseconds())/1000/float64(len(l.d)), "cpu-ms/req")
}

// loadClient is a keep-alive HTTP client sized for the benchmark's concurrency.
// Redirects are not followed: a form's answer is its 303.
func loadClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hammer sends b.N requests from par×GOMAXPROCS goroutines over loopback.
func hammer(b *testing.B, par int, do func(i int) (*http.Request, int)) {
	c := loadClient()
	lat := &latencies{}
	var next atomic.Int64
	b.SetParallelism(par)
	b.ResetTimer()
	if dir := os.Getenv("ZONEVET_BENCH_PROFILE"); dir != "" {
		// The load alone, without the benchmark's setup: one CPU profile
		// per benchmark, named after it, for go tool pprof.
		f, err := os.Create(filepath.Join(dir, strings.NewReplacer("/", "_", "?", "_", "=", "_").Replace(b.Name())+".prof"))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if file := os.Getenv("ZONEVET_BENCH_TRACE"); file != "" {
		// An execution trace of the load alone (go tool trace FILE): the
		// writer's batches are its "store.batch" regions.
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		if err := trace.Start(f); err != nil {
			b.Fatal(err)
		}
		defer func() { trace.Stop(); f.Close() }()
	}
	lat.start, lat.cpu = time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			req, want := do(i)
			t0 := time.Now()
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			resp.Body.Close()
			lat.add(time.Since(t0))
			if resp.StatusCode != want {
				b.Errorf("request %d: %d, want %d: %.200s", i, resp.StatusCode, want, buf.String())
				return
			}
		}
	})
	b.StopTimer()
	lat.report(b)
}

// writerShare starts measuring the store's one writer for an act
// benchmark; the function it returns reports, beside hammer's figures, the
// share of the wall time the writer was running batches and the commands
// per commit. At 16 clients the act routes are bound by that writer (every
// decision waits for it in turn), not by the two cores: a change that saves
// CPU elsewhere shows in cpu-ms/req but not in req/s.
func writerShare(b *testing.B, db *store.DB) (report func()) {
	busy0, t0 := db.WriterBusy(), time.Now()
	commits0, cmds0 := db.CommitStats()
	return func() {
		commits, cmds := db.CommitStats()
		b.ReportMetric(100*(db.WriterBusy()-busy0).Seconds()/time.Since(t0).Seconds(), "writer-busy-%")
		if commits > commits0 {
			b.ReportMetric(float64(cmds-cmds0)/float64(commits-commits0), "cmds/commit")
		}
	}
}

// BenchmarkBareEcho is the baseline: an echo handler that writes a small
// JSON body, over the same loopback client, in the same run as the act benchmark.
func BenchmarkBareEcho(b *testing.B) {
	e := echo.New()
	e.POST("/x", func(c echo.Context) error { return c.JSON(200, map[string]any{"ok": true}) })
	ts := httptest.NewServer(e)
	defer ts.Close()
	hammer(b, 8, func(int) (*http.Request, int) {
		r, _ := http.NewRequest("POST", ts.URL+"/x", bytes.NewReader([]byte(`{"event":"submit","version":1}`)))
		r.Header.Set("Content-Type", "application/json")
		return r, 200
	})
}

// BenchmarkActSubmit submits distinct draft projects through the API
// concurrently: token auth, authorization, the rule engine's screening and
// one SQLite write transaction with the audit chain per request.
func BenchmarkActSubmit(b *testing.B) {
	w := mustWorld(b)
	secret := "zv_" + randomToken()
	if err := w.db.CreateAPIToken(w.ctx, &engine.APIToken{UserID: w.users["promoter"].ID, Name: "bench", Hash: hashToken(secret), CreatedAt: w.clock.now()}); err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, b.N)
	for i := range ids {
		ids[i] = w.project(engine.StateDraft).ID
	}
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	defer writerShare(b, w.db)()
	hammer(b, 8, func(i int) (*http.Request, int) {
		r, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/projects/%d/actions", ts.URL, ids[i]), bytes.NewReader([]byte(`{"event":"submit","version":1}`)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+secret)
		return r, 200
	})
}

// BenchmarkProjectList renders the project list page over a database of
// ZONEVET_BENCH_PROJECTS projects (default 100,000), as a signed-in
// promoter, for issue 16's cases: the first page, a middle page by number
// and the one after it by the next link's cursor, a state read deep by
// update, one state by deadline, searches with few hits, with more than
// 2,000 (有限公司, nearly every investor), with one hit in seven (装备), and
// two characters. The database is built once per run and kept in a temp
// dir.
func BenchmarkProjectList(b *testing.B) {
	n := 100000
	if v := os.Getenv("ZONEVET_BENCH_PROJECTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	w := bigWorld(b, n)
	c := w.login("promoter")
	ts := httptest.NewServer(w.srv)
	defer ts.Close()
	own := n - n/3 // two thirds are in the promoter's park
	middle := own / listPageSize / 2
	next := nextLink(b, c, ts.URL+"/projects?page="+strconv.Itoa(middle))
	drafts := own / 2 / listPageSize * 3 / 4 // the drafts are half the park: a page three quarters deep
	for _, q := range []string{"", "?page=" + strconv.Itoa(middle), next, "?state=draft&page=" + strconv.Itoa(drafts),
		"?state=draft&sort=due", "?q=" + "装备项目-4242", "?q=" + "有限公司", "?q=" + "装备", "?q=" + "华科"} {
		b.Run("q="+q, func(b *testing.B) {
			// GOMAXPROCS concurrent users: latency, not queueing behind 16 clients.
			hammer(b, 1, func(int) (*http.Request, int) {
				r, _ := http.NewRequest("GET", ts.URL+"/projects"+q, nil)
				r.AddCookie(c.cookie)
				return r, 200
			})
		})
	}
}

// nextLink is the query of the pager's next link on the page at target
// ("?page=N+1" where the page carries no cursor).
func nextLink(b *testing.B, c *client, target string) string {
	r, _ := http.NewRequest("GET", target, nil)
	r.AddCookie(c.cookie)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	m := regexp.MustCompile(`href="/projects(\?[^"]*)">[^<]*→`).FindStringSubmatch(buf.String())
	if m == nil {
		b.Fatalf("no next link on %s", target)
	}
	return html.UnescapeString(m[1])
}

var (
	bigOnce  sync.Once
	bigCache *world
)

// bigWorld fills a world with n projects through the engine (so rows, audit
// entries and indexes are real), shaped like a zone's: a third in the other
// park; names of a sector and a number ("锂电池正极材料项目-4242"); 5,000
// investor firms, all 有限公司 but one registration in a thousand (个体工商户);
// half submitted (screened, with their reports).
func bigWorld(b *testing.B, n int) *world {
	bigOnce.Do(func() {
		w := mustWorld(&keepTB{TB: b})
		start := time.Now()
		sectors := []string{"电子铜箔", "锂电池正极材料", "高端装备", "生物医药", "光伏储能", "半导体封装", "智能装备", "新型显示", "精细化工", "医疗器械"}
		places := []string{"清远", "英德", "佛冈", "连州", "广州", "深圳", "东莞", "佛山"}
		kinds := []string{"新材料", "电子科技", "精密制造", "生物科技", "能源科技", "智能装备", "化工"}
		for i := 0; i < n; i++ {
			in := goodInput(ownPark)
			in.Name = fmt.Sprintf("%s项目-%d", sectors[i%len(sectors)], i)
			firm := i % 5000
			in.InvestorName = fmt.Sprintf("%s%s%s%d有限公司", places[firm%len(places)], []string{"华科", "恒通", "瑞丰", "金源", "中科"}[firm%5], kinds[firm%len(kinds)], firm)
			if i%1000 == 999 {
				in.InvestorName = fmt.Sprintf("%s个体工商户%d", places[i%len(places)], i)
			}
			who := "promoter"
			if i%3 == 0 {
				in.Park, who = otherPark, "promoter@other"
			}
			p, err := w.svc.CreateProject(w.ctx, w.users[who], in)
			if err != nil {
				b.Fatal(err)
			}
			if i%2 == 0 {
				if _, err := w.svc.Act(w.ctx, w.users[who], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Logf("seeded %d projects in %s", n, time.Since(start).Round(time.Second))
		bigCache = w
	})
	return bigCache
}

// keepTB lets the shared big world outlive the first sub-benchmark: its
// temp dirs and cleanups belong to the process, not to one b, and TestMain
// runs them when every test and benchmark is done.
type keepTB struct{ testing.TB }

// processCleanups are keepTB's cleanups, run last first like testing's.
var (
	processCleanupsMu sync.Mutex
	processCleanups   []func()
)

func (k *keepTB) TempDir() string {
	d, err := os.MkdirTemp("", "zonevet-bench-")
	if err != nil {
		k.TB.Fatal(err)
	}
	k.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func (k *keepTB) Cleanup(f func()) {
	processCleanupsMu.Lock()
	defer processCleanupsMu.Unlock()
	processCleanups = append(processCleanups, f)
}

// runProcessCleanups closes the shared world's database and removes its
// folders (the database before its folder, as t.Cleanup would).
func runProcessCleanups() {
	processCleanupsMu.Lock()
	defer processCleanupsMu.Unlock()
	for i := len(processCleanups) - 1; i >= 0; i-- {
		processCleanups[i]()
	}
	processCleanups = nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	runProcessCleanups()     // drops the shared world's database first
	storetest.StopPostgres() // the server storetest.Path starts on PostgreSQL
	os.Exit(code)
}

// TestKeepTBCleansUpAtProcessEnd guards the shared benchmark world against
// leaking its database and temp folders: what keepTB defers must run, and
// the folders (and a PostgreSQL database) must be gone, once the process's
// cleanups have run.
func TestKeepTBCleansUpAtProcessEnd(t *testing.T) {
	w := mustWorld(&keepTB{TB: t})
	path := w.db.Path()
	folders := []string{filepath.Dir(w.srv.cfg.DocsDir)}
	exists := func() error { _, err := os.Stat(path); return err }
	if store.IsPostgresURL(path) {
		// No file: the database must be dropped.
		exists = func() error {
			raw, _ := storetest.Raw(t, path)
			return raw.Ping()
		}
	} else {
		folders = append(folders, filepath.Dir(path))
	}
	if err := exists(); err != nil {
		t.Fatalf("world database: %v", err)
	}
	runProcessCleanups()
	for _, f := range folders {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("benchmark world's folder %s still there after the process cleanups (err %v)", f, err)
		}
	}
	if exists() == nil {
		t.Fatalf("benchmark world's database %s still there after the process cleanups", path)
	}
}
