package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// server is a running `zonevet serve` started by a test.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port

	mu     sync.Mutex
	stdout strings.Builder
	stderr strings.Builder
	exited chan struct{}
	err    error
}

// startServe starts the binary's serve on a free port with db and extra
// flags, and waits until it prints its URL. If it exits first, base is ""
// and the output says why.
func startServe(t *testing.T, bin, db string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--checkpoint-interval", "0"}, extra...)
	s := &server{t: t, cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	s.cmd.Env = append(os.Environ(), "ZONEVET_DEMO=false")
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errPipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); <-s.exited })
	ready := make(chan string, 1)
	var pipes sync.WaitGroup
	pipes.Go(func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		re := regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)/`)
		for sc.Scan() {
			s.mu.Lock()
			s.stdout.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
		io.Copy(io.Discard, out)
	})
	pipes.Go(func() {
		b, _ := io.ReadAll(errPipe)
		s.mu.Lock()
		s.stderr.Write(b)
		s.mu.Unlock()
	})
	go func() {
		pipes.Wait()
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.base = <-ready:
	case <-s.exited:
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve printed no URL within two minutes:\n%s", s.output())
	}
	return s
}

// output is what the server printed so far, stdout then stderr.
func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stdout.String() + s.stderr.String()
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.exited:
		if s.err != nil {
			s.t.Fatalf("serve after SIGTERM: %v\n%s", s.err, s.output())
		}
	case <-time.After(30 * time.Second):
		s.t.Fatal("serve did not stop on SIGTERM")
	}
}

// kill ends the server as a crash would: SIGKILL, nothing flushed.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// waitExit waits for a server that should refuse to start.
func (s *server) waitExit(ctx context.Context) error {
	select {
	case <-s.exited:
		return s.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
