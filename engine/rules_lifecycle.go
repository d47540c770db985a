package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/looplab/fsm"
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
	m := fsm.NewFSM(string(s), ruleSetLifecycle, nil)
	err := m.Event(context.Background(), event)
	switch {
	case err == nil:
		return RuleSetState(m.Current()), nil
	case errors.As(err, new(fsm.UnknownEventError)):
		return "", Errorf(EINVALID, "未知操作:%s", "unknown action: %s", event)
	}
	return "", &Error{Code: ECONFLICT,
		Message:   fmt.Sprintf("该规则集变更当前为“%s”,不能“%s”,请刷新页面", RuleSetStateLabel(s, "zh"), EventLabel(event, "zh")),
		MessageEN: fmt.Sprintf("the rule-set change is now %s: %s is not possible; reload the page", RuleSetStateLabel(s, "en"), EventLabel(event, "en"))}
}

// RuleSetLifecycleDiagram is the change lifecycle as a mermaid diagram.
func RuleSetLifecycleDiagram() (string, error) {
	return fsm.VisualizeWithType(fsm.NewFSM(string(RuleSetDraft), ruleSetLifecycle, nil), fsm.MERMAID)
}

var ruleSetStateLabels = map[RuleSetState][2]string{
	RuleSetDraft: {"草稿", "draft"}, RuleSetProposed: {"待审议", "proposed"}, RuleSetApproved: {"已批准待生效", "approved, not yet in force"},
	RuleSetInForce: {"执行中", "in force"}, RuleSetSuperseded: {"已被取代", "superseded"}, RuleSetWithdrawn: {"已撤回", "withdrawn"},
	RuleSetRefused: {"未批准", "refused"},
}

// RuleSetStateLabel names a change state in lang.
func RuleSetStateLabel(s RuleSetState, lang string) string {
	return pick(ruleSetStateLabels[s], lang, string(s))
}

func init() {
	addEventLabels(map[string][2]string{
		EventRulesPropose: {"提请审议规则集", "rule-set change proposed"}, EventRulesWithdraw: {"撤回规则集提案", "rule-set proposal withdrawn"},
		EventRulesRefuse: {"不批准规则集", "rule-set change refused"}, EventRulesApprove: {"批准规则集", "rule-set change approved"},
		EventRulesTakeEffect: {"规则集生效", "rule set takes effect"}, EventRulesSupersede: {"规则集被取代", "rule set superseded"},
		EventRulesWhatIf: {"生成规则变更影响评估", "rule-change what-if generated"},
	})
}
