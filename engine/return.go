package engine

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	"zonevet/rules"
)

// 退回 with a target: a return (EventReturn) names what the promoter must
// fix (补正), each item "figure:<field>" (a figure or declaration of the
// form) or "document:<kind>", beside the written reason; the list is in the
// return's entry (Action.Fix in its payload). On resubmission the project
// page shows the figures changed against the version that was returned. A
// return goes back to the promoter only: no jump to an arbitrary node.

// ReturnTargets are the items a return may name, in the form's order.
var ReturnTargets = func() []string {
	var out []string
	t := reflect.TypeOf(rules.Figures{})
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, "figure:"+name)
		}
	}
	for _, k := range DocumentKinds {
		out = append(out, "document:"+k)
	}
	return out
}()

// checkReturnTargets refuses a fix list with an item no return may name,
// or one given to another event.
func checkReturnTargets(act Action) error {
	if len(act.Fix) > 0 && act.Event != EventReturn {
		return FieldFail("fix", "err.return_fix_only_on_return", nil)
	}
	for _, f := range act.Fix {
		if !slices.Contains(ReturnTargets, f) {
			return FieldFail("fix", "err.return_fix_unknown", Args{"Item": f})
		}
	}
	return nil
}

// ReturnNote is the latest return of a project: who returned it, why, the
// items to fix, and the figures as they were returned (the last
// submission before the return), to diff against what the promoter has
// now (in returned) or resubmitted.
type ReturnNote struct {
	Seq         int64         `json:"seq"`
	Actor       string        `json:"actor"`
	OnBehalfOf  string        `json:"on_behalf_of,omitempty"`
	Reason      string        `json:"reason"`
	Fix         []string      `json:"fix"`
	Returned    rules.Figures `json:"returned"`
	Resubmitted bool          `json:"resubmitted"`
}

// LatestReturn reads p's log for its latest return; nil when it was never
// returned. u must be able to read p (the caller has read it).
func (s *Service) LatestReturn(ctx context.Context, p *Project) (*ReturnNote, error) {
	es, err := s.store.AuditEntries(ctx, AuditFilter{ProjectID: p.ID, Parks: []string{p.Park},
		Events: []string{EventSubmit, EventResubmit, EventReturn}})
	if err != nil {
		return nil, err
	}
	var n *ReturnNote
	var lastSubmitted rules.Figures
	for _, e := range es {
		switch e.Event {
		case EventSubmit, EventResubmit:
			var sub submission
			if json.Unmarshal([]byte(e.Payload), &sub) == nil {
				lastSubmitted = sub.Figures
			}
			if n != nil {
				n.Resubmitted = true
			}
		case EventReturn:
			var act Action
			_ = json.Unmarshal([]byte(e.Payload), &act)
			n = &ReturnNote{Seq: e.Seq, Actor: e.Actor, OnBehalfOf: e.OnBehalfOf, Reason: e.Reason, Fix: act.Fix, Returned: lastSubmitted}
		}
	}
	return n, nil
}
