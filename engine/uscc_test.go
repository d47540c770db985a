package engine

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestValidUSCC walks testdata/uscc/cases.tsv: published and constructed
// codes, each valid or wrong in one named part, with the check characters
// worked out by hand in the file's comments (GB 32100-2015, GB 11714).
func TestValidUSCC(t *testing.T) {
	f, err := os.Open("testdata/uscc/cases.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The English message names the part at fault.
	parts := map[string]string{
		"length":    "18 characters",
		"alphabet":  "capital letters",
		"authority": "position 1 ",
		"category":  "position 2 ",
		"division":  "positions 3–8",
		"orgcode":   "GB 11714",
		"check":     "position 18",
	}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		col := strings.Split(line, "\t")
		if len(col) != 3 {
			t.Fatalf("bad line %q", line)
		}
		code, want, why := col[0], col[1], col[2]
		n++
		t.Run(code, func(t *testing.T) {
			err := CheckUSCC(code)
			if want == "ok" {
				if err != nil {
					t.Errorf("CheckUSCC(%q) (%s) = %v, want nil", code, why, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckUSCC(%q) (%s) = nil, want an error on %s", code, why, want)
			}
			e, ok := err.(*Error)
			if !ok || e.Field != "uscc" || e.Code != EINVALID || e.Text("zh") == "" {
				t.Fatalf("CheckUSCC(%q) = %#v, want an invalid FieldError on uscc", code, err)
			}
			if !strings.Contains(e.Text("en"), parts[want]) {
				t.Errorf("CheckUSCC(%q) (%s) says %q, want it to name %q", code, why, e.Text("en"), parts[want])
			}
		})
	}
	if n < 30 {
		t.Fatalf("%d cases, want at least 30", n)
	}
}

// TestValidUSCCSingleSubstitution: every single-character corruption of a
// valid code is refused (the check character detects all single substitutions).
func TestValidUSCCSingleSubstitution(t *testing.T) {
	for _, code := range []string{"91440300708461136T", "914403001922038216", "91441800MA4UL0Q1X4"} {
		for i := 0; i < len(code); i++ {
			for _, c := range []byte(usccAlphabet) {
				if c == code[i] {
					continue
				}
				if bad := code[:i] + string(c) + code[i+1:]; ValidUSCC(bad) {
					t.Fatalf("ValidUSCC(%q) = true for a corrupted code", bad)
				}
			}
		}
	}
	if ValidUSCC("９1440300708461136T") || ValidUSCC("") {
		t.Error("full-width digits or an empty code accepted")
	}
}
