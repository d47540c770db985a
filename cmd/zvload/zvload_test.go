package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"zonevet/cmd/internal/testbuild"
)

// TestLoadAgainstRealServer runs zvload for a few seconds against the real
// zonevet binary on a fresh database with its demo accounts: every stage
// of the day (register, submit, pass by form, score, approve, the list)
// is exercised, with no error at all, and the server's memory is read.
func TestLoadAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	dir := t.TempDir()
	bin, err := testbuild.Zonevet(dir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "zonevet.db"), "--checkpoint-interval", "0")
	cmd.Env = append(os.Environ(), "ZONEVET_DEMO=true")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)/`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-ready:
	case <-time.After(2 * time.Minute):
		t.Fatal("server did not start")
	}

	// A project reaches the meeting's decision only after submit, pass and
	// three scores: on a busy machine a few seconds may not get one there,
	// so the day goes on until every stage was measured, within a deadline
	// generous enough for a machine at any load.
	routes := []string{"POST /api/v1/projects", "POST /api/v1/projects/{id}/actions submit", "POST /projects/{id}/act pass (form)",
		"POST /api/v1/projects/{id}/scores", "POST /meetings/{id}/decide approve (form)", "GET /projects"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := run(ctx, config{addr: base, users: 20, duration: 2 * time.Second, think: 20 * time.Millisecond,
		password: "zonevet-demo", park: "qingyuan", pid: cmd.Process.Pid, until: routes})
	if err != nil {
		t.Fatal(err)
	}
	var report strings.Builder
	res.print(&report)
	t.Log(report.String())
	if res.errors != 0 {
		t.Fatalf("%d errors", res.errors)
	}
	for _, route := range routes {
		if !slices.ContainsFunc(res.routes, func(r routeStats) bool { return r.route == route && r.n > 0 }) {
			t.Errorf("no request measured on %s", route)
		}
	}
	if res.decisions == 0 || res.hwm == 0 {
		t.Errorf("decisions %d, server VmHWM %d KiB", res.decisions, res.hwm)
	}
}

// TestPercentile: nearest rank, so p50 never exceeds p99 however few the
// requests (two once printed p50 > p99), and both are values measured.
func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var d []time.Duration
		for _, n := range ns {
			d = append(d, time.Duration(n)*time.Millisecond)
		}
		return d
	}
	for _, tc := range []struct {
		sorted   []time.Duration
		p50, p99 time.Duration
	}{
		{ms(7), 7 * time.Millisecond, 7 * time.Millisecond},
		{ms(1, 9), 1 * time.Millisecond, 9 * time.Millisecond},
		{ms(1, 2, 9), 2 * time.Millisecond, 9 * time.Millisecond},
		{ms(1, 2, 3, 9), 2 * time.Millisecond, 9 * time.Millisecond},
	} {
		if p50, p99 := percentile(tc.sorted, 50), percentile(tc.sorted, 99); p50 != tc.p50 || p99 != tc.p99 {
			t.Errorf("%v: p50 %v p99 %v, want %v %v", tc.sorted, p50, p99, tc.p50, tc.p99)
		}
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	if p50, p99, p100 := percentile(hundred, 50), percentile(hundred, 99), percentile(hundred, 100); p50 != 50 || p99 != 99 || p100 != 100 {
		t.Errorf("1..100: p50 %d p99 %d p100 %d", p50, p99, p100)
	}
	for n := 1; n <= len(hundred); n++ {
		if p50, p99 := percentile(hundred[:n], 50), percentile(hundred[:n], 99); p50 > p99 {
			t.Fatalf("n=%d: p50 %d > p99 %d", n, p50, p99)
		}
	}
}
