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
	bin := filepath.Join(dir, "zonevet")
	if out, err := exec.Command("go", "build", "-o", bin, "zonevet/cmd/zonevet").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
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
	// three scores: on a busy machine four seconds may not get one there, so
	// the day goes on (up to five rounds, the projects carrying over) until
	// every stage was measured.
	routes := []string{"POST /api/v1/projects", "POST /api/v1/projects/{id}/actions submit", "POST /projects/{id}/act pass (form)",
		"POST /api/v1/projects/{id}/scores", "POST /meetings/{id}/decide approve (form)", "GET /projects"}
	seen := map[string]bool{}
	var res *result
	for round := 1; round <= 5; round++ {
		res, err = run(context.Background(), config{addr: base, users: 20, duration: 4 * time.Second, think: 20 * time.Millisecond,
			password: "zonevet-demo", park: "qingyuan", pid: cmd.Process.Pid})
		if err != nil {
			t.Fatal(err)
		}
		var report strings.Builder
		res.print(&report)
		t.Logf("round %d\n%s", round, report.String())
		if res.errors != 0 {
			t.Fatalf("%d errors", res.errors)
		}
		for _, r := range res.routes {
			seen[r.route] = seen[r.route] || r.n > 0
		}
		if !slices.ContainsFunc(routes, func(r string) bool { return !seen[r] }) {
			break
		}
	}
	for _, route := range routes {
		if !seen[route] {
			t.Errorf("no request measured on %s", route)
		}
	}
	if res.decisions == 0 || res.hwm == 0 {
		t.Errorf("decisions %d, server VmHWM %d KiB", res.decisions, res.hwm)
	}
}
