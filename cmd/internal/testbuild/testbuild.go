// Package testbuild builds the real zonevet binary for the tests that run
// it (cmd/zonevet's and cmd/zvload's).
package testbuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Zonevet compiles zonevet/cmd/zonevet into dir and returns the binary's
// path. `go test ./...` runs both commands' tests at once, and two
// concurrent `go build`s each compile every dependency themselves (on a
// cold cache ~200 s of CPU each, most of it SQLite's translated C), so
// builds from all test processes take turns on a lock file: the second
// finds the first's packages in Go's build cache and only links.
func Zonevet(dir string) (string, error) {
	unlock, err := lock(filepath.Join(os.TempDir(), "zonevet-testbuild.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	bin := filepath.Join(dir, "zonevet")
	if out, err := exec.Command("go", "build", "-o", bin, "zonevet/cmd/zonevet").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}
