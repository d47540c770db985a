package rules

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds Parse arbitrary bytes: it must return a rule set or a
// *ValidationError with at least one problem, never panic or hang; a rule
// set it accepts must re-parse from its Source to the same Version and
// evaluate without a NaN slipping through. Seeds: the embedded defaults, the
// invalid fixtures and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, park := range DefaultParks() {
		f.Add(mustDefault(f, park).Source())
	}
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse("fuzz.yaml", data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 || err.Error() == "" {
				t.Fatalf("Parse error %T %v, want *ValidationError with problems", err, err)
			}
			return
		}
		again, err := Parse("again.yaml", rs.Source())
		if err != nil || again.Version() != rs.Version() {
			t.Fatalf("re-parse: %v, version %s vs %s", err, again.Version(), rs.Version())
		}
		rep, err := rs.Evaluate(good())
		if err != nil {
			return // a fuzzed formula may fail on these figures; it must not panic
		}
		for _, c := range rep.Checks {
			if !finite(c.Actual) {
				t.Fatalf("%s: actual %v", c.ID, c.Actual)
			}
		}
		if _, err := rs.Rate([]FirmYear{{ProjectID: 1, LandArea: 1, Tax: 1}, {ProjectID: 2, LandArea: 2}}); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				t.Fatalf("Rate rejected valid firms: %v", err)
			}
		}
	})
}
