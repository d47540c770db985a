package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLICalendarLoad: an administrator loads next year's published
// calendar as one new version; it is in force and logged; anyone else is
// refused and a broken file is refused whole.
func TestCLICalendarLoad(t *testing.T) {
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
	if _, _, code := c.run("calendar", "load", file, "--as", "promoter1"); code == 0 {
		t.Fatal("a promoter loaded a calendar")
	}
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("years:\n  - year: 2027\n    workdays: [2027-01-04]\n"), 0o644)
	if _, errOut, code := c.run("calendar", "load", broken, "--as", "admin"); code == 0 || !strings.Contains(errOut, "2027-01-04") {
		t.Fatalf("a make-up working day on a Monday: exit %d, %s", code, errOut)
	}
	out := c.ok("calendar", "load", file, "--as", "admin")
	if !strings.Contains(out, "2027  published") {
		t.Fatalf("calendar load:\n%s", out)
	}
	if out := c.ok("calendar", "show"); !strings.Contains(out, "2027  published") {
		t.Fatalf("calendar in force:\n%s", out)
	}
	if log := c.ok("audit", "export", "--format", "jsonl"); strings.Count(log, `"event":"calendar_load"`) != 1 || !strings.Contains(log, `"actor":"admin"`) {
		t.Error("the calendar load is not in the decision log once, by admin")
	}
	c.ok("audit", "verify")
}
