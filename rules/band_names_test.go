package rules

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestBandNamesAreFixed: the dashboard, its Excel export and the rating
// run's log entry list the classes as A, B, C, D and T, so a rule set that
// names them otherwise is refused with a message that says which name is
// expected where, instead of being accepted and its firms vanishing from
// those views.
func TestBandNamesAreFixed(t *testing.T) {
	src, err := os.ReadFile("testdata/valid/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, from, to string
		field          string
		says           []string // what the message must name
	}{
		{"RenamedFirst", "- { band: A, upto_percent: 20 }", "- { band: 优, upto_percent: 20 }", "bands[0].band", []string{`"A"`, `"优"`, "A, B, C, D"}},
		{"Skipped", "- { band: B }", "- { band: B, upto_percent: 60 }\n    - { band: D }", "bands[2].band", []string{`"C"`, `"D"`}},
		{"FifthBand", "- { band: B }", "- { band: B, upto_percent: 40 }\n    - { band: C, upto_percent: 60 }\n    - { band: D, upto_percent: 80 }\n    - { band: E }", "bands[4].band", []string{"at most 4"}},
		{"NotRatedClass", "grace_band: B", "grace_band: B\n  not_rated_class: N", "not_rated_class", []string{"T", `"N"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := strings.Replace(string(src), tc.from, tc.to, 1)
			if changed == string(src) {
				t.Fatalf("fixture has no %q", tc.from)
			}
			_, err := Parse("bands.yaml", []byte(changed))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %v; want a validation error", err)
			}
			if len(ve.Problems) != 1 || ve.Problems[0].Field != tc.field {
				t.Fatalf("problems %v; want one at %s", ve.Problems, tc.field)
			}
			for _, s := range tc.says {
				if !strings.Contains(ve.Problems[0].Message, s) {
					t.Errorf("message %q does not name %s", ve.Problems[0].Message, s)
				}
			}
		})
	}
	// Two to four bands named from A are all accepted (minimal.yaml has A, B).
	for _, bands := range []string{
		"- { band: B }",
		"- { band: B, upto_percent: 60 }\n    - { band: C }",
		"- { band: B, upto_percent: 60 }\n    - { band: C, upto_percent: 95 }\n    - { band: D }",
	} {
		if _, err := Parse("bands.yaml", []byte(strings.Replace(string(src), "- { band: B }", bands, 1))); err != nil {
			t.Errorf("bands A, %s: %v", strings.ReplaceAll(bands, "\n", " "), err)
		}
	}
}
