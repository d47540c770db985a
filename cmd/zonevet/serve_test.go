package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeEndToEnd starts the real binary on a free port with a new
// database, as the README's run command does: demo data is seeded, the URL
// and the demo logins are printed, the sign-in page lists the demo accounts,
// a demo promoter signs in and sees their workbench, and SIGTERM shuts the
// server down cleanly, leaving a log that verifies.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	cmd := exec.Command(c.bin, "serve", "--addr", "127.0.0.1:0", "--db", c.db, "--checkpoint-interval", "0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ZONEVET_DEMO=true")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// The start-up lines up to the demo logins; the rest is drained.
	var base, printed string
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		var b strings.Builder
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if m := regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)/`).FindStringSubmatch(sc.Text()); m != nil {
				base = m[1]
			}
			if strings.Contains(sc.Text(), "committee1") {
				printed = b.String()
				close(found)
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case <-found:
	case <-time.After(2 * time.Minute):
		t.Fatal("serve printed no URL and demo logins within two minutes")
	}
	if !strings.Contains(printed, "zonevet-demo") {
		t.Errorf("demo password not printed:\n%s", printed)
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	login := get(t, client, base+"/login")
	if !strings.Contains(login, `id="demo-accounts"`) || !strings.Contains(login, "promoter1") {
		t.Fatal("sign-in page lists no demo accounts")
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(login)
	if csrf == nil {
		t.Fatal("no CSRF field on the sign-in page")
	}
	resp, err := client.PostForm(base+"/login", url.Values{"csrf": {csrf[1]}, "username": {"promoter1"}, "password": {"zonevet-demo"}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "生物医药中试基地") {
		t.Fatalf("after sign-in: %d, workbench lacks the returned demo project\n%.500s", resp.StatusCode, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if out := c.ok("audit", "verify"); !strings.Contains(out, "intact") {
		t.Errorf("verify after shutdown:\n%s", out)
	}
}

func get(t *testing.T, client *http.Client, u string) string {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return string(b)
}
