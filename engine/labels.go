package engine

import "zonevet/rules/catalog"

// Labels are the names of states, events, roles and tracking terms shown to
// people: catalogue messages "state.<state>", "event.<event>", "role.<role>",
// "milestone.<kind>", "clause.<clause>", "cause.<cause>" and
// "metric.<review metric>" (rules/catalog/locales/labels.*.json), so the CLI,
// the web and error messages say the same. A name without a label shows as
// its code.
func label(prefix, code, lang string) string {
	id := prefix + "." + code
	if !catalog.Default().Has(id) {
		return code
	}
	return catalog.T(lang, id, nil)
}

// StateLabel names a state in lang ("en" or zh-CN). A log entry's states
// are a project's, or for a rule-set or calendar change (proposed, in
// force, refused…) the change's: those are named as changes.
func StateLabel(s State, lang string) string {
	if catalog.Default().Has("state." + string(s)) {
		return label("state", string(s), lang)
	}
	return label("rsstate", string(s), lang)
}

// EventLabel names an event or action in lang.
func EventLabel(ev, lang string) string { return label("event", ev, lang) }

// RoleLabel names a role in lang.
func RoleLabel(r Role, lang string) string { return label("role", string(r), lang) }

// MilestoneLabel names a milestone in lang.
func MilestoneLabel(kind, lang string) string { return label("milestone", kind, lang) }

// ClauseLabel names an exit clause in lang.
func ClauseLabel(c, lang string) string { return label("clause", c, lang) }

// CauseLabel names a rectification cause in lang.
func CauseLabel(c, lang string) string { return label("cause", c, lang) }

// ReviewMetricLabel names a review metric in lang.
func ReviewMetricLabel(m, lang string) string { return label("metric", m, lang) }

// labelArg is a label as a message argument, named in the reader's language.
func labelArg(prefix, code string) catalog.Text {
	return catalog.Text{ZH: label(prefix, code, catalog.ZH), EN: label(prefix, code, catalog.EN)}
}

// stateArg is a state as a message argument, named in the reader's language.
func stateArg(s State) catalog.Text { return labelArg("state", string(s)) }

// errNotNow refuses an event the project's state no longer allows: the page
// the user acted from is out of date.
func errNotNow(s State, event string) *Error {
	return Fail(ECONFLICT, "err.not_now", Args{"State": stateArg(s), "Action": catalog.Text{ZH: EventLabel(event, "zh"), EN: EventLabel(event, "en")}})
}
