package rules

import (
	"errors"
	"strings"
	"testing"
)

// TestExpertRules: absent, the draw is the scoring quorum with one expert
// covering the industry; a file's numbers are read; a draw below the quorum
// or a minimum outside 0..draw is refused naming its field.
func TestExpertRules(t *testing.T) {
	def, err := Default("qingyuan")
	if err != nil {
		t.Fatal(err)
	}
	if n, m := def.Experts(); n != def.Scoring().Quorum || m != 1 {
		t.Fatalf("defaults: draw %d, min_field %d; want %d, 1", n, m, def.Scoring().Quorum)
	}
	for _, tc := range []struct {
		name, yaml, field string
		n, m              int
	}{
		{"OK", "experts: {draw: 5, min_field: 2}\n", "", 5, 2},
		{"ErrDrawBelowQuorum", "experts: {draw: 2}\n", "experts.draw", 0, 0},
		{"ErrMinFieldAboveDraw", "experts: {draw: 4, min_field: 5}\n", "experts.min_field", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := Parse("qingyuan.yaml", append(def.Source(), []byte("\n"+tc.yaml)...))
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n, m := rs.Experts(); n != tc.n || m != tc.m {
					t.Fatalf("draw %d, min_field %d; want %d, %d", n, m, tc.n, tc.m)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Error(), "experts") || ve.Problems[0].Field != tc.field {
				t.Fatalf("err = %v, want a problem at %s", err, tc.field)
			}
		})
	}
}
