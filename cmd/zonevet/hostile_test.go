package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode"
)

// unsafeRunes lists what of out would reach a terminal raw: control
// characters other than the line ends and tabs the CLI prints itself, line
// separators and format characters (bidi overrides and isolates, zero-width
// characters).
func unsafeRunes(out string) []rune {
	var bad []rune
	for _, r := range out {
		if r == '\n' || r == '\t' {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) {
			bad = append(bad, r)
		}
	}
	return bad
}

// TestCLIHostileInput runs the real binary (built once) on what a careless
// or hostile user can hand the command line.
func TestCLIHostileInput(t *testing.T) {
	bin := buildBinary(t)
	t.Run("EscapesNames", func(t *testing.T) { testCLIEscapesNames(t, bin) })
	t.Run("RulesCheckHostileFiles", func(t *testing.T) { testCLIRulesCheckHostileFiles(t, bin) })
}

// testCLIEscapesNames: names and free text a user typed reach the
// operator's terminal escaped, so a project name cannot forge a row of
// `project list`, nor a display name one of `user list`, nor an escape
// sequence or bidi override rewrite what `project show` shows.
func testCLIEscapesNames(t *testing.T, bin string) {
	dir := t.TempDir()
	c := &cli{t: t, bin: bin, db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.ok("init")
	c.ok("user", "add", "admin9", "--password", "admin9-pass", "--role", "admin@qingyuan", "--display", "管理员\n3  forged  伪造  active  admin@yingde")
	c.ok("user", "add", "prom9", "--password", "prom9-pass", "--role", "promoter@qingyuan", "--display", "招商\u202e员专")

	forged := "正常项目\n2  qingyuan  approved  -  伪造项目"
	proj := map[string]any{
		"park": "qingyuan", "name": forged, "investor_name": "\x1b[31m红字\u2066公司\u2069\u200b", "uscc": "91440300708461136T",
		"figures": map[string]any{"industry_code": "C3985", "total_investment": 30000, "fixed_asset_investment": 20000,
			"land_area": 50, "floor_area": 50000, "building_coverage": 48, "office_share": 5, "expected_output": 60000,
			"revenue": 58000, "tax": 2200, "rd_expense": 2900, "energy_use": 700, "employees": 300,
			"green_ratio": 8, "land_grade": 9, "land_price": 18, "electricity": 300, "negative_list": false, "eco_red_line": false, "bad_credit": false},
	}
	data, _ := json.Marshal(proj)
	pf := filepath.Join(dir, "project.json")
	if err := os.WriteFile(pf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok("project", "create", "--as", "prom9", pf)
	c.ok("project", "act", "1", "submit", "--as", "prom9")

	list := c.ok("project", "list")
	if lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n"); len(lines) != 3 || !strings.Contains(lines[1], `正常项目\n2  qingyuan`) {
		t.Errorf("project list of one project has %d lines, want header, row, count:\n%s", len(lines), list)
	}
	users := c.ok("user", "list", "--as", "admin9")
	if lines := strings.Split(strings.TrimSuffix(users, "\n"), "\n"); len(lines) != 3 || !strings.Contains(users, `招商\u{202e}员专`) {
		t.Errorf("user list of two users has %d lines:\n%s", len(lines), users)
	}
	show := c.ok("project", "show", "1")
	if !strings.Contains(show, `investor \u{1b}[31m红字\u{2066}公司\u{2069}\u{200b}`) || strings.Contains(show, "\n2  qingyuan") {
		t.Errorf("project show:\n%s", show)
	}
	for cmd, out := range map[string]string{"project list": list, "user list": users, "project show": show} {
		if bad := unsafeRunes(out); len(bad) > 0 {
			t.Errorf("%s prints %q raw", cmd, bad)
		}
	}
}

// testCLIRulesCheckHostileFiles: `rules check` refuses a 60,000-deep rule
// file naming its line, with the process's peak memory bounded (before the
// depth check: 5.3 GB), and a SIGTERM in a long run over many files ends it
// at the next file instead of after the last.
func testCLIRulesCheckHostileFiles(t *testing.T, bin string) {
	dir := t.TempDir()
	c := &cli{t: t, bin: bin, db: filepath.Join(dir, "zonevet.db"), dir: dir}
	deep := filepath.Join(dir, "deep.yaml")
	if err := os.WriteFile(deep, []byte("park: qingyuan\nchecks: "+strings.Repeat("[", 60000)+strings.Repeat("]", 60000)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code, peak := runMeasured(t, c.bin, "rules", "check", deep)
	if code != 1 || !strings.Contains(string(out), "nested more than 64 levels deep; a rule set needs only a few (line 2") {
		t.Errorf("rules check of a deep file: exit %d\n%s", code, out)
	}
	t.Logf("rules check of a deep file: peak %d MB", peak>>20)
	if peak > 200<<20 {
		t.Errorf("rules check of a deep file peaked at %d MB", peak>>20)
	}

	const n = 100
	args := []string{"rules", "check"}
	for range n {
		args = append(args, deep)
	}
	cmd := exec.Command(c.bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Scan() // the first file is done: the run is under way
	cmd.Process.Signal(syscall.SIGTERM)
	done := 1
	for lines.Scan() {
		done++
	}
	cmd.Wait()
	if done >= n || !strings.Contains(stderr.String(), "interrupted after") {
		t.Errorf("SIGTERM after the first file: %d of %d files checked, stderr %q", done, n, stderr.String())
	}
}
