package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"zonevet/rules"
)

// TestCLIRulesGovernance drives the real binary through issue 12's
// commands on the demo database: the demo's proposal waits for the
// committee with its what-if; the admin cannot approve it; a committee
// member generates the what-if and approves it for 2027-01-01; a file
// whose own example fails is refused by check and propose; every screened
// demo project's screening replays byte for byte.
func TestCLIRulesGovernance(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()

	out := c.ok("rules", "versions", "--park", "qingyuan")
	m := regexp.MustCompile(`(?m)^\d+\s+proposed\s+([0-9a-f]{16})\s+admin\s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no proposal waiting in the demo:\n%s", out)
	}
	version := m[1]
	if _, errOut, code := c.run("rules", "approve", version, "--as", "admin"); code == 0 || !strings.Contains(errOut, "权限") && !strings.Contains(errOut, "may not") {
		t.Errorf("the admin approved: exit %d %s", code, errOut)
	}
	xlsx := filepath.Join(dir, "whatif.xlsx")
	out = c.ok("rules", "whatif", "--park", "qingyuan", version, "--as", "committee1", "--xlsx", xlsx)
	for _, want := range []string{"report stored, SHA-256", "固定资产投资强度 门槛:≥ 300 万元/亩 → ≥ 330 万元/亩", "亩均税收 权重:35 → 30", "screening replay:", "rating replay, run #"} {
		if !strings.Contains(out, want) {
			t.Errorf("whatif output lacks %q:\n%s", want, out)
		}
	}
	if st, err := os.Stat(xlsx); err != nil || st.Size() < 1000 {
		t.Errorf("whatif xlsx: %v", err)
	}
	out = c.ok("rules", "approve", version, "--as", "committee1", "--effective", "2027-01-01")
	if !strings.Contains(out, "approved, not yet in force") || !strings.Contains(out, "effective 2027-01-01 00:00") {
		t.Errorf("approve:\n%s", out)
	}
	out = c.ok("rules", "versions", "--park", "qingyuan")
	if !regexp.MustCompile(`(?m)^\d+\s+approved\s+`+version+`\s+admin\s.*committee1\s+2027-01-01 00:00`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^\d+\s+in_force\s`).MatchString(out) {
		t.Errorf("versions after approval:\n%s", out)
	}

	// 15000 万元 on 50 亩 is 300 万元/亩: the example expects a pass, which
	// holds under 300 and fails under 320.
	def, _ := rules.Default("qingyuan")
	example := "\nexamples:\n  - id: at_floor\n    name_zh: 投资强度恰好 300 万元/亩\n    given: {industry_code: C3985, total_investment: 30000, fixed_asset_investment: 15000, land_area: 50,\n      floor_area: 50025, building_coverage: 48, office_share: 5, green_ratio: 8, land_grade: 9, land_price: 18,\n      expected_output: 60000, revenue: 58000, tax: 2200, rd_expense: 2900, energy_use: 700, electricity: 300,\n      employees: 300, negative_list: false, eco_red_line: false, bad_credit: false}\n    expect: {passed: true, checks: {investment_intensity: pass}}\n"
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(string(def.Source())+example), 0o644)
	if out := c.ok("rules", "check", good); !strings.Contains(out, "1 examples hold") {
		t.Errorf("check good:\n%s", out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(string(def.Source()), "value: 300 # 国家级园区取 300", "value: 320 #", 1)+example), 0o644)
	if out, _, code := c.run("rules", "check", bad); code == 0 || !strings.Contains(out, "example at_floor fails") {
		t.Errorf("check bad: exit %d\n%s", code, out)
	}
	if _, errOut, code := c.run("rules", "propose", bad, "--as", "admin", "--note", "提高门槛"); code == 0 || !strings.Contains(errOut, "测试用例") && !strings.Contains(errOut, "examples") {
		t.Errorf("propose bad: exit %d %s", code, errOut)
	}
	if out := c.ok("rules", "diff", good, bad); !strings.Contains(out, "固定资产投资强度 门槛:≥ 300 万元/亩 → ≥ 320 万元/亩") {
		t.Errorf("diff:\n%s", out)
	}

	replayed := 0
	for id := 1; id <= 22; id++ {
		out, errOut, code := c.run("rules", "replay", strconv.Itoa(id))
		switch {
		case code == 0 && strings.Contains(out, "reproduced byte for byte"):
			replayed++
		case code == 2:
			t.Errorf("project %d: %s%s", id, out, errOut)
		}
	}
	if replayed < 15 {
		t.Errorf("only %d demo projects replayed", replayed)
	}
}
