package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLICalendarProposal: an administrator proposes next year's published
// calendar as one new version; nothing changes until the committee approves
// it (never the proposer); then it is in force, and both steps are logged.
// Anyone else is refused and a broken file is refused whole.
func TestCLICalendarProposal(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	if out := c.ok("calendar", "show"); !strings.Contains(out, "2027  provisional") {
		t.Fatalf("built-in calendar:\n%s", out)
	}
	// The State Council's 2027 notice arrives: one new version of the file.
	src := strings.Replace(c.ok("calendar", "default"), "  - year: 2027\n    published: false", "  - year: 2027\n    published: true", 1)
	file := filepath.Join(dir, "calendar-2027.yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, code := c.run("calendar", "propose", file, "--as", "promoter1", "--note", "2027"); code == 0 {
		t.Fatal("a promoter proposed a calendar")
	}
	if _, errOut, code := c.run("calendar", "propose", file, "--as", "admin"); code == 0 || !strings.Contains(errOut, "note") {
		t.Fatalf("a proposal without a note: exit %d, %s", code, errOut)
	}
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("years:\n  - year: 2027\n    workdays: [2027-01-04]\n"), 0o644)
	if _, errOut, code := c.run("calendar", "propose", broken, "--as", "admin", "--note", "2027"); code == 0 || !strings.Contains(errOut, "2027-01-04") {
		t.Fatalf("a make-up working day on a Monday: exit %d, %s", code, errOut)
	}
	out := c.ok("calendar", "propose", file, "--as", "admin", "--note", "国务院办公厅 2027 年节假日安排")
	if !strings.Contains(out, "calendar change 1 proposed") || !strings.Contains(out, "2027: published false -> true") {
		t.Fatalf("calendar propose:\n%s", out)
	}
	if out := c.ok("calendar", "show"); !strings.Contains(out, "2027  provisional") {
		t.Fatalf("a proposal changed the calendar in force:\n%s", out)
	}
	if _, errOut, code := c.run("calendar", "approve", "1", "--as", "admin"); code == 0 {
		t.Fatalf("the proposing admin approved: %s", errOut)
	}
	if out := c.ok("calendar", "changes", "--as", "committee1"); !strings.Contains(out, "1   proposed") {
		t.Fatalf("calendar changes:\n%s", out)
	}
	out = c.ok("calendar", "approve", "1", "--as", "committee1", "--reason", "同意")
	if !strings.Contains(out, "2027  published") {
		t.Fatalf("calendar approve:\n%s", out)
	}
	if out := c.ok("calendar", "show"); !strings.Contains(out, "2027  published") {
		t.Fatalf("calendar in force:\n%s", out)
	}
	log := c.ok("audit", "export", "--format", "jsonl")
	if strings.Count(log, `"event":"calendar_propose"`) != 1 || strings.Count(log, `"event":"calendar_approve"`) != 1 || !strings.Contains(log, `"actor":"committee1"`) {
		t.Error("the proposal and the approval are not in the decision log once each")
	}
	c.ok("audit", "verify")
}
