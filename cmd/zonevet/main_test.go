package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"zonevet/cmd/internal/testbuild"
)

// buildBinary compiles the real zonevet binary once per test process (each
// build costs seconds); every test runs that same file, which none changes.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.bin, built.err = testbuild.Zonevet(testBinDir)
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

var built struct {
	once sync.Once
	bin  string
	err  error
}

// demoTemplate is the folder where the run's one `zonevet init --demo` left
// its database and documents.
var demoTemplate struct {
	once sync.Once
	dir  string
	err  error
}

// demoDatabase puts at db (and db.docs beside it) the demo database as
// `zonevet init --demo` leaves it: a copy of the one the real binary made
// for the run. Seeding takes seconds of CPU (two dozen argon2id hashes, the
// projects' histories) and a dozen tests start from the demo;
// TestCLIEndToEnd runs init --demo itself and checks what it prints.
func demoDatabase(t *testing.T, db string) {
	t.Helper()
	bin := buildBinary(t)
	demoTemplate.once.Do(func() {
		dir := filepath.Join(testBinDir, "demo")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			demoTemplate.err = err
			return
		}
		cmd := exec.Command(bin, "init", "--demo", "--db", filepath.Join(dir, "zonevet.db"))
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			demoTemplate.err = fmt.Errorf("zonevet init --demo: %v\n%s", err, out)
			return
		}
		demoTemplate.dir = dir
	})
	if demoTemplate.err != nil {
		t.Fatal(demoTemplate.err)
	}
	data, err := os.ReadFile(filepath.Join(demoTemplate.dir, "zonevet.db"))
	if err == nil {
		err = os.WriteFile(db, data, 0o644)
	}
	if err == nil {
		err = os.CopyFS(docsDir("", db), os.DirFS(docsDir("", filepath.Join(demoTemplate.dir, "zonevet.db"))))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// initDemo is `zonevet init --demo` on c's database (see demoDatabase).
func (c *cli) initDemo() {
	c.t.Helper()
	demoDatabase(c.t, c.db)
}

type cli struct {
	t   *testing.T
	bin string
	db  string
	dir string
}

// run executes the binary and returns stdout, stderr and the exit code.
func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "ZONEVET_DB="+c.db)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("zonevet %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestCLIEndToEnd drives the real binary through the operator's story of
// issue 2: demo database, rule checks, a project through the lifecycle,
// export and verification.
func TestCLIEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}

	out := c.ok("init", "--demo")
	if !strings.Contains(out, "park qingyuan") || !strings.Contains(out, "promoter1") {
		t.Fatalf("init output:\n%s", out)
	}
	// The demo's log has what an auditor looks for first: a committee's 一事一议.
	if log := c.ok("audit", "export", "--format", "jsonl"); !strings.Contains(log, `"event":"override"`) {
		t.Error("the demo's decision log holds no override")
	}
	out = c.ok("project", "list")
	if !strings.Contains(out, "22 project(s)") {
		t.Fatalf("demo projects:\n%s", out)
	}
	for _, st := range []string{"draft", "screening", "expert_review", "committee_review", "returned", "approved", "rejected", "signed", "under_construction", "in_production", "rectification", "exited"} {
		if !strings.Contains(out, " "+st+" ") {
			t.Errorf("no demo project in %s", st)
		}
	}

	repoRules, err := filepath.Abs(filepath.Join("..", "..", "rules", "parks"))
	if err != nil {
		t.Fatal(err)
	}
	out = c.ok("rules", "check", filepath.Join(repoRules, "qingyuan.yaml"), filepath.Join(repoRules, "yingde.yaml"))
	if strings.Count(out, ": ok") != 2 {
		t.Fatalf("rules check:\n%s", out)
	}
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("park: x\nchecks: [\n"), 0o644)
	if _, _, code := c.run("rules", "check", broken); code == 0 {
		t.Fatal("rules check accepted a broken file")
	}

	proj := map[string]any{
		"park": "qingyuan", "name": "命令行测试项目", "investor_name": "清远测试科技有限公司", "uscc": "91440300708461136T",
		"figures": map[string]any{"industry_code": "C3985", "total_investment": 30000, "fixed_asset_investment": 20000,
			"land_area": 50, "floor_area": 50000, "building_coverage": 48, "office_share": 5, "expected_output": 60000,
			"revenue": 58000, "tax": 2200, "rd_expense": 2900, "energy_use": 700, "employees": 300,
			"green_ratio": 8, "land_grade": 9, "land_price": 18, "electricity": 300,
			"negative_list": false, "eco_red_line": false, "bad_credit": false},
	}
	data, _ := json.Marshal(proj)
	pf := filepath.Join(dir, "project.json")
	os.WriteFile(pf, data, 0o644)

	out = c.ok("rules", "eval", "--park", "qingyuan", "--json", pf)
	var rep struct {
		RuleSetVersion string `json:"rule_set_version"`
		HardFailures   int    `json:"hard_failures"`
		Checks         []any  `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.RuleSetVersion == "" || rep.HardFailures != 0 || len(rep.Checks) < 10 {
		t.Fatalf("rules eval --json: %v\n%s", err, out)
	}

	out = c.ok("project", "submit", "--as", "promoter1", pf)
	if !strings.Contains(out, "project 23: screening") {
		t.Fatalf("submit:\n%s", out)
	}
	if _, errOut, code := c.run("project", "act", "23", "pass", "--as", "promoter1"); code == 0 || !strings.Contains(errOut, "forbidden") {
		t.Fatalf("promoter passed screening: exit %d %s", code, errOut)
	}
	if _, errOut, code := c.run("project", "act", "23", "return", "--as", "reviewer1"); code == 0 || !strings.Contains(errOut, "reason") {
		t.Fatalf("return without reason: exit %d %s", code, errOut)
	}
	c.ok("project", "act", "23", "pass", "--as", "reviewer1")
	show := c.ok("project", "show", "23")
	for _, want := range []string{"expert_review", "submit", "pass", "reviewer1", "history:"} {
		if !strings.Contains(show, want) {
			t.Errorf("project show lacks %q:\n%s", want, show)
		}
	}

	// The demo park keeps an expert pool: the pass is followed by its draw.
	jsonl := c.ok("audit", "export", "--format", "jsonl")
	lines := strings.Split(strings.TrimSpace(jsonl), "\n")
	var last struct {
		Seq   int64  `json:"seq"`
		Event string `json:"event"`
		Hash  string `json:"hash"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Event != "draw" || int(last.Seq) != len(lines) {
		t.Fatalf("last exported entry %+v (%v) of %d", last, err, len(lines))
	}
	csvOut := c.ok("audit", "export", "--format", "csv")
	if !strings.HasPrefix(csvOut, "\uFEFF序号,时间(UTC),操作人") || !strings.Contains(csvOut, "事件代码") || strings.Count(csvOut, "\n") < len(lines)+1 {
		t.Fatalf("csv export:\n%.300s", csvOut)
	}
	out = c.ok("audit", "verify")
	if !strings.Contains(out, "intact") || !strings.Contains(out, last.Hash) {
		t.Fatalf("verify:\n%s", out)
	}
	if _, _, code := c.run("init", "--demo"); code == 0 {
		t.Fatal("init --demo on an existing database succeeded")
	}

	// Account administration from the command line goes through an admin and is logged.
	if _, errOut, code := c.run("user", "disable", "reviewer4", "--as", "promoter1"); code == 0 || !strings.Contains(errOut, "forbidden") {
		t.Fatalf("a promoter disabled a user: exit %d %s", code, errOut)
	}
	c.ok("user", "disable", "reviewer4", "--as", "admin")
	if out := c.ok("user", "list", "--as", "admin"); !regexp.MustCompile(`reviewer4\s+\S+\s+disabled`).MatchString(out) {
		t.Fatalf("user list:\n%s", out)
	}
	if _, errOut, code := c.run("user", "passwd", "reviewer4", "--password", "short", "--as", "admin"); code == 0 || !strings.Contains(errOut, "password") {
		t.Fatalf("short password: exit %d %s", code, errOut)
	}
	if last := c.ok("audit", "export", "--format", "jsonl"); !strings.Contains(last[strings.LastIndex(strings.TrimSpace(last), "\n")+1:], `"event":"user_disable"`) {
		t.Fatal("disabling is not the log's last entry")
	}
	c.ok("audit", "verify")

	// The operator's own accounts (the first admin of a new park) are logged too.
	c.ok("user", "add", "auditor9", "--display", "审计九", "--password", "auditor9-pass", "--role", "auditor@qingyuan,auditor@yingde")
	var created, roled bool
	for _, line := range strings.Split(strings.TrimSpace(c.ok("audit", "export", "--format", "jsonl")), "\n") {
		created = created || strings.Contains(line, `"event":"user_create"`) && strings.Contains(line, `"actor":"operator@cli"`) &&
			strings.Contains(line, `"park":"qingyuan"`) && strings.Contains(line, "auditor9")
		roled = roled || strings.Contains(line, `"event":"user_roles"`) && strings.Contains(line, `"park":"yingde"`) && strings.Contains(line, "auditor9")
	}
	if !created || !roled {
		t.Fatalf("user add logged user_create in qingyuan: %v, user_roles in yingde: %v", created, roled)
	}
	if out := c.ok("user", "list", "--as", "admin"); !regexp.MustCompile(`auditor9\s+审计九\s+active\s+auditor@qingyuan,auditor@yingde`).MatchString(out) {
		t.Fatalf("user list:\n%s", out)
	}
	c.ok("audit", "verify")

	// Someone with write access to the file drops the guard and edits a reason.
	raw, err := sql.Open("sqlite", c.db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET reason = reason || ' ' WHERE seq = 5"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	out, errOut, code := c.run("audit", "verify")
	if code != 2 || !strings.Contains(errOut, "entry 5") || !strings.Contains(errOut, "altered") {
		t.Fatalf("verify after tampering: exit %d\n%s%s", code, out, errOut)
	}
}

// TestReadmeLifecycleDiagram keeps the README's diagram generated from the
// fsm table: change the table, then paste `zonevet lifecycle` into the README.
func TestReadmeLifecycleDiagram(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"lifecycle"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```mermaid\n"+strings.TrimSpace(out.String())+"\n```") {
		t.Fatalf("README.md's lifecycle diagram is not the fsm table's; run `go run ./cmd/zonevet lifecycle` and paste:\n%s", out.String())
	}
}
