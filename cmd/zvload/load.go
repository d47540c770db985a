package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// account is one signed-in demo account; the simulated users of that
// account share its session, as colleagues at one desk would.
type account struct {
	name   string
	client *http.Client
	csrf   string
}

// project is a project handed from one stage of the day to the next.
type project struct {
	ID      int64  `json:"id"`
	Version int64  `json:"version"`
	Round   int    `json:"round"`
	State   string `json:"state"`
}

// load is one run: the accounts, the stages' queues and what was measured.
type load struct {
	cfg      config
	base     string
	accounts map[string]*account
	experts  map[string]*account // drawn experts' accounts, signed in on first use; under mu
	criteria map[string]float64  // the scoring sheet at full marks × 0.85

	screening chan project   // submitted, waiting for a reviewer's pass
	scoring   []chan project // per reviewer account: passed, waiting for its score
	committee chan project   // quorum reached and recommended, waiting for approval

	mu        sync.Mutex
	latency   map[string][]time.Duration // by route
	errors    int
	errSample []string
	decisions atomic.Int64
}

// result is what a run measured.
type result struct {
	elapsed       time.Duration
	users         int
	decisions     int64
	routes        []routeStats
	errors        int
	errSample     []string
	rssPeak, hwm  int64 // KiB; 0 without --pid
	rssStart, end int64
}

type routeStats struct {
	route    string
	n        int
	p50, p99 time.Duration
}

func run(ctx context.Context, cfg config) (*result, error) {
	if cfg.users < 5 {
		return nil, errors.New("--users must be at least 5 (one per role and reviewer account)")
	}
	l := &load{cfg: cfg, base: strings.TrimSuffix(cfg.addr, "/"), accounts: map[string]*account{}, experts: map[string]*account{},
		screening: make(chan project, 1<<16), committee: make(chan project, 1<<16), latency: map[string][]time.Duration{}}
	reviewers := []string{"reviewer1", "reviewer2", "reviewer3"}
	for _, name := range append([]string{"promoter1", "committee1", "committee2"}, reviewers...) {
		a, err := l.signIn(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("sign in as %s: %w", name, err)
		}
		l.accounts[name] = a
	}
	for range reviewers {
		l.scoring = append(l.scoring, make(chan project, 1<<16))
	}
	l.criteria = map[string]float64{"chain_fit": 17, "tax_per_mu": 17, "innovation": 17, "investment_scale": 12.75,
		"output_per_mu": 8.5, "energy_emissions": 8.5, "investor_credit": 4.25}

	var rss rssSampler
	if cfg.pid > 0 {
		rss.start(cfg.pid)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	go l.stopAfter(ctx, cancel)
	var wg sync.WaitGroup
	promoters, committee := cfg.users*4/10, max(cfg.users/10, 1)
	for i := range cfg.users {
		rng := rand.New(rand.NewPCG(uint64(i), 16))
		switch {
		case i < promoters:
			wg.Go(func() { l.promoter(ctx, rng, i) })
		case i < promoters+committee:
			wg.Go(func() { l.committeeMember(ctx, rng) })
		default:
			k := i % len(reviewers)
			wg.Go(func() { l.reviewer(ctx, rng, reviewers[k], k, i%2 == 0) })
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := &result{elapsed: elapsed, users: cfg.users, decisions: l.decisions.Load(), errors: l.errors, errSample: l.errSample}
	if cfg.pid > 0 {
		res.rssStart, res.rssPeak, res.end = rss.stop()
		res.hwm = procKiB(cfg.pid, "VmHWM:")
	}
	for route, d := range l.latency {
		slices.Sort(d)
		res.routes = append(res.routes, routeStats{route, len(d), percentile(d, 50), percentile(d, 99)})
	}
	slices.SortFunc(res.routes, func(a, b routeStats) int { return strings.Compare(a.route, b.route) })
	return res, nil
}

// stopAfter ends the run (cancel) once cfg.duration has passed and every
// route in cfg.until has been measured; the caller's ctx bounds it.
func (l *load) stopAfter(ctx context.Context, cancel context.CancelFunc) {
	defer cancel()
	select {
	case <-ctx.Done():
		return
	case <-time.After(l.cfg.duration):
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		l.mu.Lock()
		missing := slices.ContainsFunc(l.cfg.until, func(r string) bool { return len(l.latency[r]) == 0 })
		l.mu.Unlock()
		if !missing {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// percentile is the nearest-rank p-th percentile of sorted (not empty): the
// smallest value with at least p% of the values at or below it, so a
// higher p never reads a smaller value.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1 // ⌈n·p/100⌉, 1-based
	return sorted[max(i, 0)]
}

// pause is a user's think time between two requests.
func (l *load) pause(ctx context.Context, rng *rand.Rand) bool {
	if l.cfg.think > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(rng.Int64N(int64(2 * l.cfg.think)))):
		}
	}
	return ctx.Err() == nil
}

// promoter registers projects and submits them, and now and then opens the
// list or searches it.
func (l *load) promoter(ctx context.Context, rng *rand.Rand, i int) {
	a := l.accounts["promoter1"]
	for n := 0; l.pause(ctx, rng); n++ {
		if n%4 == 3 {
			l.browse(ctx, rng, a)
			continue
		}
		in := map[string]any{"park": l.cfg.park, "name": fmt.Sprintf("%s项目-%d-%d", sectors[rng.IntN(len(sectors))], i, n),
			"investor_name": investors[rng.IntN(len(investors))], "uscc": "91440300708461136T", "figures": figures}
		var p project
		if !l.do(ctx, a, "POST /api/v1/projects", "POST", "/api/v1/projects", in, http.StatusCreated, &p) {
			continue
		}
		if !l.do(ctx, a, "POST /api/v1/projects/{id}/actions submit", "POST", fmt.Sprintf("/api/v1/projects/%d/actions", p.ID),
			map[string]any{"event": "submit", "version": p.Version}, http.StatusOK, &p) {
			continue
		}
		l.decisions.Add(1)
		l.screening <- p
	}
}

// reviewer passes submitted projects through the HTML form (those of the
// first reviewer account) and scores passed ones through the API.
func (l *load) reviewer(ctx context.Context, rng *rand.Rand, name string, k int, passes bool) {
	a := l.accounts[name]
	for n := 0; l.pause(ctx, rng); n++ {
		if n%5 == 4 {
			l.browse(ctx, rng, a)
			continue
		}
		screening := l.screening
		if !passes || k != 0 {
			screening = nil // only the first account's passers take from it
		}
		select {
		case <-ctx.Done():
			return
		case p := <-screening:
			form := url.Values{"event": {"pass"}, "version": {strconv.FormatInt(p.Version, 10)}, "csrf": {a.csrf}}
			if l.form(ctx, a, "POST /projects/{id}/act pass (form)", fmt.Sprintf("/projects/%d/act", p.ID), form, http.StatusSeeOther) {
				l.decisions.Add(1)
				if drawn := l.drawn(ctx, a, p); len(drawn) > 0 {
					// The park keeps an expert pool: only the experts drawn
					// for the project score it, each under their own account.
					for _, name := range drawn {
						if b, err := l.account(ctx, name); err == nil {
							l.score(ctx, b, p)
						}
					}
					continue
				}
				for _, q := range l.scoring {
					q <- p
				}
			}
		case p := <-l.scoring[k]:
			l.score(ctx, a, p)
		}
	}
}

// score scores p as a, and hands it to the committee once recommended.
func (l *load) score(ctx context.Context, a *account, p project) {
	var out struct {
		Project project `json:"project"`
	}
	if l.do(ctx, a, "POST /api/v1/projects/{id}/scores", "POST", fmt.Sprintf("/api/v1/projects/%d/scores", p.ID),
		map[string]any{"round": p.Round, "items": l.criteria, "comment": "符合园区产业定位"}, http.StatusCreated, &out) {
		l.decisions.Add(1)
		if out.Project.State == "committee_review" {
			l.committee <- out.Project
		}
	}
}

// drawnUser is how the project page's draw panel names a drawn expert's account.
var drawnUser = regexp.MustCompile(`data-user="([^"]+)"`)

// drawn are the accounts of the experts drawn for p, read from its page
// (none when the park keeps no expert pool).
func (l *load) drawn(ctx context.Context, a *account, p project) []string {
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/projects/%d", l.base, p.ID), nil)
	if err != nil {
		panic(err)
	}
	var body []byte
	if !l.send(ctx, a, "GET /projects/{id}", req, http.StatusOK, &body) {
		return nil
	}
	var names []string
	for _, m := range drawnUser.FindAllSubmatch(body, -1) {
		names = append(names, string(m[1]))
	}
	return names
}

// account is the signed-in account of a drawn expert, signing it in on
// first use (l.experts, under l.mu: the role accounts are read unlocked).
func (l *load) account(ctx context.Context, name string) (*account, error) {
	l.mu.Lock()
	a := l.experts[name]
	l.mu.Unlock()
	if a != nil {
		return a, nil
	}
	a, err := l.signIn(ctx, name)
	if err != nil && ctx.Err() != nil {
		return nil, err // the run ended during the sign-in: not an error
	}
	if err != nil {
		l.mu.Lock()
		l.fail(fmt.Sprintf("sign in as %s: %v", name, err))
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.experts[name]; b != nil {
		return b, nil
	}
	l.experts[name] = a
	return a, nil
}

// committeeMember approves recommended projects in a committee meeting
// (issue 14): committee1 opens it with committee2 present (2 of the demo
// park's 3 members, a quorum), both vote in favour, and committee1
// announces the decision, which files the minutes.
func (l *load) committeeMember(ctx context.Context, rng *rand.Rand) {
	a, b := l.accounts["committee1"], l.accounts["committee2"]
	for n := 0; l.pause(ctx, rng); n++ {
		if n%3 == 2 {
			l.browse(ctx, rng, a)
			continue
		}
		select {
		case <-ctx.Done():
			return
		case p := <-l.committee:
			var h http.Header
			open := url.Values{"park": {l.cfg.park}, "held_on": {time.Now().Format(time.DateOnly)}, "number": {fmt.Sprintf("zvload %d", p.ID)},
				"present": {"committee1", "committee2"}, "csrf": {a.csrf}}
			if !l.formOut(ctx, a, "POST /meetings (form)", "/meetings", open, http.StatusSeeOther, &h) {
				continue
			}
			at := h.Get("Location")
			item := strconv.FormatInt(p.ID, 10)
			if !l.form(ctx, a, "POST /meetings/{id}/vote (form)", at+"/vote", url.Values{"project": {item}, "choice": {"agree"}, "csrf": {a.csrf}}, http.StatusSeeOther) ||
				!l.form(ctx, b, "POST /meetings/{id}/vote (form)", at+"/vote", url.Values{"project": {item}, "choice": {"agree"}, "csrf": {b.csrf}}, http.StatusSeeOther) {
				continue
			}
			decide := url.Values{"project": {item}, "version": {strconv.FormatInt(p.Version, 10)}, "event": {"approve"}, "csrf": {a.csrf}}
			if l.form(ctx, a, "POST /meetings/{id}/decide approve (form)", at+"/decide", decide, http.StatusSeeOther) {
				l.decisions.Add(1)
			}
		}
	}
}

// browse opens the list as people do: the first page, a state by deadline,
// a search, and the page of a project in the list.
func (l *load) browse(ctx context.Context, rng *rand.Rand, a *account) {
	switch rng.IntN(3) {
	case 0:
		l.get(ctx, a, "GET /projects", "/projects")
	case 1:
		l.get(ctx, a, "GET /projects?state=screening&sort=due", "/projects?state=screening&sort=due")
	default:
		l.get(ctx, a, "GET /projects?q=…", "/projects?q="+url.QueryEscape(sectors[rng.IntN(len(sectors))]))
	}
}

var (
	sectors   = []string{"电子铜箔", "锂电池正极材料", "高端装备", "生物医药", "光伏组件", "半导体封装", "智能制造"}
	investors = []string{"清远华科新材料股份有限公司", "广东英联电子有限公司", "佛冈精工机械有限公司", "清新生物医药有限公司", "连州储能科技有限公司"}
	figures   = map[string]any{"industry_code": "C3985", "total_investment": 30000, "fixed_asset_investment": 20000, "land_area": 50,
		"floor_area": 50025, "building_coverage": 48, "office_share": 5, "expected_output": 60000, "revenue": 58000,
		"tax": 2200, "rd_expense": 2900, "energy_use": 700, "employees": 300, "green_ratio": 8, "land_grade": 9,
		"land_price": 18, "electricity": 300, "negative_list": false, "eco_red_line": false, "bad_credit": false}
)

// do sends a JSON request with the session and its CSRF header and decodes
// the answer into out (nil: discarded); false on anything but want.
func (l *load) do(ctx context.Context, a *account, route, method, path string, body any, want int, out any) bool {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", a.csrf)
	return l.send(ctx, a, route, req, want, out)
}

func (l *load) form(ctx context.Context, a *account, route, path string, form url.Values, want int) bool {
	return l.formOut(ctx, a, route, path, form, want, nil)
}

// formOut is form keeping the answer's headers in h (nil: discarded).
func (l *load) formOut(ctx context.Context, a *account, route, path string, form url.Values, want int, h *http.Header) bool {
	req, err := http.NewRequestWithContext(ctx, "POST", l.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var out any
	if h != nil {
		out = h
	}
	return l.send(ctx, a, route, req, want, out)
}

func (l *load) get(ctx context.Context, a *account, route, path string) bool {
	req, err := http.NewRequestWithContext(ctx, "GET", l.base+path, nil)
	if err != nil {
		panic(err)
	}
	return l.send(ctx, a, route, req, http.StatusOK, nil)
}

func (l *load) send(ctx context.Context, a *account, route string, req *http.Request, want int, out any) bool {
	t0 := time.Now()
	resp, err := a.client.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	d := time.Since(t0)
	if ctx.Err() != nil {
		return false // the run ended during the request: neither measured nor an error
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		l.fail(fmt.Sprintf("%s: %v", route, err))
		return false
	case resp.StatusCode != want:
		l.fail(fmt.Sprintf("%s: %d, want %d: %.200s", route, resp.StatusCode, want, body))
		return false
	}
	if h, ok := out.(*http.Header); ok {
		*h = resp.Header
	} else if b, ok := out.(*[]byte); ok {
		*b = body
	} else if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			l.fail(fmt.Sprintf("%s: answer: %v", route, err))
			return false
		}
	}
	l.latency[route] = append(l.latency[route], d)
	return true
}

// fail counts an error and keeps the first few; l.mu is held.
func (l *load) fail(msg string) {
	l.errors++
	if len(l.errSample) < 5 {
		l.errSample = append(l.errSample, msg)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in through the sign-in form (its double-submit CSRF cookie
// and field) and reads the session's CSRF token from a page.
func (l *load) signIn(ctx context.Context, name string) (*account, error) {
	jar, _ := cookiejar.New(nil)
	a := &account{name: name, client: &http.Client{Jar: jar, Timeout: time.Minute,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	page := func(path string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", l.base+path, nil)
		resp, err := a.client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", err
		}
		m := csrfField.FindSubmatch(b)
		if resp.StatusCode != http.StatusOK || m == nil {
			return "", fmt.Errorf("GET %s: %d, no CSRF field", path, resp.StatusCode)
		}
		return string(m[1]), nil
	}
	var resp *http.Response
	for {
		pre, err := page("/login")
		if err != nil {
			return nil, err
		}
		form := url.Values{"username": {name}, "password": {l.cfg.password}, "csrf": {pre}}
		req, _ := http.NewRequestWithContext(ctx, "POST", l.base+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, err = a.client.Do(req); err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// Every simulated user signs in from this one address, and the
		// server throttles sign-ins per address: wait as it asks. Signing
		// in is not a decision and is not measured.
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusTooManyRequests || wait <= 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(wait) * time.Second):
		}
	}
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("POST /login: %d (is the password right, and the account %s there?)", resp.StatusCode, name)
	}
	csrf, err := page("/projects")
	if err != nil {
		return nil, err
	}
	a.csrf = csrf
	return a, nil
}

// rssSampler samples a process's VmRSS.
type rssSampler struct {
	stopc            chan struct{}
	done             chan struct{}
	first, peak, end int64
}

func (r *rssSampler) start(pid int) {
	r.stopc, r.done = make(chan struct{}), make(chan struct{})
	r.first = procKiB(pid, "VmRSS:")
	go func() {
		defer close(r.done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			v := procKiB(pid, "VmRSS:")
			r.peak, r.end = max(r.peak, v), v
			select {
			case <-r.stopc:
				return
			case <-t.C:
			}
		}
	}()
}

func (r *rssSampler) stop() (first, peak, end int64) {
	close(r.stopc)
	<-r.done
	return r.first, r.peak, r.end
}

// procKiB reads one "Name:  N kB" line of /proc/pid/status; 0 if unknown.
func procKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "%d users for %s: %d decisions, %.1f decisions/s, %d errors\n",
		r.users, r.elapsed.Round(time.Millisecond), r.decisions, float64(r.decisions)/r.elapsed.Seconds(), r.errors)
	fmt.Fprintf(w, "%-46s %8s %9s %9s\n", "route", "requests", "p50 ms", "p99 ms")
	for _, s := range r.routes {
		fmt.Fprintf(w, "%-46s %8d %9.1f %9.1f\n", s.route, s.n, ms(s.p50), ms(s.p99))
	}
	if r.hwm > 0 || r.rssPeak > 0 {
		fmt.Fprintf(w, "server RSS: %.1f MiB at start, peak %.1f MiB sampled, %.1f MiB at end, VmHWM %.1f MiB\n",
			float64(r.rssStart)/1024, float64(r.rssPeak)/1024, float64(r.end)/1024, float64(r.hwm)/1024)
	}
	for _, e := range r.errSample {
		fmt.Fprintln(w, "error:", e)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
