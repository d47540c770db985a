package rules

import "zonevet/rules/catalog"

// ReminderRules say how the system chases an overdue project (催办): once
// its deadline has passed it reminds whoever the project waits on every
// EveryWorkingDays working days, and once it is EscalateAfterWorkingDays
// working days overdue it escalates to the park's committee.
type ReminderRules struct {
	EveryWorkingDays         int `yaml:"every_working_days" json:"every_working_days"`
	EscalateAfterWorkingDays int `yaml:"escalate_after_working_days" json:"escalate_after_working_days"`
}

// DefaultReminderRules apply when a rule set names none: a reminder on each
// overdue working day (the zone promises its steps within one working day),
// the committee told after three.
var DefaultReminderRules = ReminderRules{EveryWorkingDays: 1, EscalateAfterWorkingDays: 3}

// Reminders returns the rule set's reminder rules (the defaults if it has none).
func (rs *RuleSet) Reminders() ReminderRules {
	if r := rs.spec.Reminders; r != nil {
		return *r
	}
	return DefaultReminderRules
}

func (b *builder) buildReminders() {
	r := b.spec.Reminders
	if r == nil {
		return
	}
	if r.EveryWorkingDays < 1 {
		b.add("$.reminders.every_working_days", "rules.reminders_every_at_least_one", catalog.Args{"N": r.EveryWorkingDays})
	}
	if r.EscalateAfterWorkingDays < 1 {
		b.add("$.reminders.escalate_after_working_days", "rules.reminders_escalate_at_least_one", catalog.Args{"N": r.EscalateAfterWorkingDays})
	}
}
