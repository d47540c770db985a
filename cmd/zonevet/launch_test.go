package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"zonevet/store/storetest"
)

// TestMain makes the folder for the run's one build of the binary, and lets
// a test measure a child's peak memory. A child started straight from the
// test process reports the test process's peak as its own: os/exec starts
// children with vfork, and Linux carries the shared memory's high-water mark
// over the exec (under -race the test process is hundreds of MB). Run as ZONEVET_TEST_LAUNCH=1 <test binary> CMD ARGS…, the
// test binary starts CMD from its own small image and prints CMD's peak.
func TestMain(m *testing.M) {
	if os.Getenv("ZONEVET_TEST_LAUNCH") == "1" {
		os.Exit(launchMeasured(os.Args[1:]))
	}
	dir, err := os.MkdirTemp("", "zonevet-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testBinDir = dir
	code := m.Run()
	storetest.StopPostgres()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testBinDir holds the binary buildBinary compiles, for the whole run.
var testBinDir string

func launchMeasured(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 127
	}
	fmt.Fprintf(os.Stderr, "\nlaunch-maxrss-kib=%d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	return cmd.ProcessState.ExitCode()
}

// runMeasured runs bin with args through the launcher and returns its
// standard output, exit code and peak resident set in bytes.
func runMeasured(t *testing.T, bin string, args ...string) (out []byte, code int, peak int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{bin}, args...)...)
	cmd.Env = append(os.Environ(), "ZONEVET_TEST_LAUNCH=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`launch-maxrss-kib=(\d+)`).FindSubmatch(stderr.Bytes())
	if m == nil {
		t.Fatalf("the launcher reported no peak for %s %v:\n%s", bin, args, stderr.Bytes())
	}
	kib, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return out, cmd.ProcessState.ExitCode(), kib << 10
}
