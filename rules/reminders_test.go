package rules

import (
	"errors"
	"os"
	"testing"
)

// TestReminders: a rule set without reminders: gets the defaults; one with
// them gets its own; a zero interval or escalation is refused by field.
func TestReminders(t *testing.T) {
	if got := mustDefault(t, "qingyuan").Reminders(); got != DefaultReminderRules {
		t.Fatalf("default = %+v", got)
	}
	src, err := os.ReadFile("parks/qingyuan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, block string
		want        ReminderRules
		problems    []string
	}{
		{"OK", "reminders: {every_working_days: 2, escalate_after_working_days: 5}\n", ReminderRules{2, 5}, nil},
		{"ErrZero", "reminders: {every_working_days: 0, escalate_after_working_days: 0}\n", ReminderRules{},
			[]string{"rules.reminders_every_at_least_one", "rules.reminders_escalate_at_least_one"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := Parse("q.yaml", append(append([]byte{}, src...), tc.block...))
			if tc.problems == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := rs.Reminders(); got != tc.want {
					t.Fatalf("Reminders = %+v, want %+v", got, tc.want)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a validation error", err)
			}
			var ids []string
			for _, p := range ve.Problems {
				ids = append(ids, p.Msg.ID)
			}
			if len(ids) != len(tc.problems) || ids[0] != tc.problems[0] || ids[1] != tc.problems[1] {
				t.Fatalf("problems = %v, want %v", ids, tc.problems)
			}
		})
	}
}
