package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/looplab/fsm"

	"zonevet/rules/catalog"
)

// RuleSetState is where a proposed rule-set change stands (issue 12).
type RuleSetState string

// The states of a rule-set change. Draft is a file not yet proposed (what
// `rules check` and `rules whatif FILE` read); the store keeps a change from
// proposed on. In force and superseded follow from the clock: an approved
// change is in force from its effective time until a later one takes over,
// so nothing has to flip a flag at midnight and a screening at the boundary
// gets exactly one version, chosen by its own time.
const (
	RuleSetDraft      RuleSetState = "draft"
	RuleSetProposed   RuleSetState = "proposed"
	RuleSetApproved   RuleSetState = "approved"
	RuleSetInForce    RuleSetState = "in_force"
	RuleSetSuperseded RuleSetState = "superseded"
	RuleSetWithdrawn  RuleSetState = "withdrawn"
	RuleSetRefused    RuleSetState = "refused"
)

// Rule-set change events: the casbin action and the decision-log event.
const (
	EventRulesPropose    = "rules_propose"
	EventRulesWithdraw   = "rules_withdraw"
	EventRulesRefuse     = "rules_refuse"
	EventRulesApprove    = "rules_approve"
	EventRulesTakeEffect = "rules_take_effect" // the clock reaching the effective time; nobody's act
	EventRulesSupersede  = "rules_supersede"   // a later version taking effect; nobody's act
	EventRulesWhatIf     = "rules_whatif"      // a what-if report generated for a proposal (not a transition)
)

// ruleSetLifecycle is the rule-set change's lifecycle table.
var ruleSetLifecycle = fsm.Events{
	{Name: EventRulesPropose, Src: []string{string(RuleSetDraft)}, Dst: string(RuleSetProposed)},
	{Name: EventRulesWithdraw, Src: []string{string(RuleSetProposed)}, Dst: string(RuleSetWithdrawn)},
	{Name: EventRulesRefuse, Src: []string{string(RuleSetProposed)}, Dst: string(RuleSetRefused)},
	{Name: EventRulesApprove, Src: []string{string(RuleSetProposed)}, Dst: string(RuleSetApproved)},
	{Name: EventRulesTakeEffect, Src: []string{string(RuleSetApproved)}, Dst: string(RuleSetInForce)},
	{Name: EventRulesSupersede, Src: []string{string(RuleSetInForce)}, Dst: string(RuleSetSuperseded)},
}

// ruleSetObject is the casbin object of a rule-set change in a state.
func ruleSetObject(s RuleSetState) string { return "ruleset:" + string(s) }

// ruleSetTransition returns the state event leads to from s, or a conflict.
func ruleSetTransition(s RuleSetState, event string) (RuleSetState, error) {
	return changeTransition(ruleSetLifecycle, s, event, "err.rule_change_not_now")
}

// changeTransition returns the state event leads to from s in a change's
// lifecycle (a rule set's, a calendar's), or a conflict saying so with the
// catalogue message notNow.
func changeTransition(lifecycle fsm.Events, s RuleSetState, event, notNow string) (RuleSetState, error) {
	m := fsm.NewFSM(string(s), lifecycle, nil)
	err := m.Event(context.Background(), event)
	switch {
	case err == nil:
		return RuleSetState(m.Current()), nil
	case errors.As(err, new(fsm.UnknownEventError)):
		return "", Fail(EINVALID, "err.unknown_action", Args{"Event": event})
	}
	return "", Fail(ECONFLICT, notNow, Args{"State": catalog.Message{ID: "rsstate." + string(s)}, "Action": catalog.Message{ID: "event." + event}})
}

// closingReason checks the reason of a refusal (needed) or a withdrawal
// of a change, and returns it trimmed.
func closingReason(reason string, needed bool) (string, error) {
	reason = strings.TrimSpace(reason)
	if needed && reason == "" {
		return "", FieldFail("reason", "err.this_action_needs_written_reason", nil)
	}
	return reason, checkTextLength("reason", "textfield.reason", reason)
}

// RuleSetLifecycleDiagram is the change lifecycle as a mermaid diagram.
func RuleSetLifecycleDiagram() (string, error) {
	return fsm.VisualizeWithType(fsm.NewFSM(string(RuleSetDraft), ruleSetLifecycle, nil), fsm.MERMAID)
}

// RuleSetStateLabel names a change state in lang (catalogue "rsstate.<state>").
func RuleSetStateLabel(s RuleSetState, lang string) string { return label("rsstate", string(s), lang) }
