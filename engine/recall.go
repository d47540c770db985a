package engine

import (
	"context"
	"slices"
	"strings"
)

// EventRecall (撤回) takes back the last move on a project by the person
// who made it, while the next actor has not acted: the project returns to
// the state before that move, and the recall is its own log entry (the
// recalled entry stays). It is not an fsm event: where it leads depends on
// the move it takes back.
const EventRecall = "recall"

// recallable are the moves that can be taken back: those whose only effect
// is the move (the screening a submit stored is kept, as the log keeps it;
// the next submit screens again). Decisions with effects (a meeting's
// decision and its minutes, an override, a signature) are not recalled.
var recallable = []string{EventSubmit, EventResubmit, EventPass, EventReturn}

// recallTarget finds the move u may take back on p: the project's last log
// entry, a recallable move by u leading to p's state. Any later entry (a
// score, a declared conflict, an upload, a vote) means the next actor has
// acted, and it is refused.
func (s *Service) recallTarget(ctx context.Context, u *User, p *Project) (AuditEntry, error) {
	es, err := s.store.AuditEntries(ctx, AuditFilter{ProjectID: p.ID, Parks: []string{p.Park}})
	if err != nil {
		return AuditEntry{}, err
	}
	// Chasing the next actor (催办) is not their acting.
	es = slices.DeleteFunc(es, func(e AuditEntry) bool { return e.Event == EventRemind || e.Event == EventEscalate })
	// The last move and whether anyone wrote after it.
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if e.Event == EventDraw && i == len(es)-1 {
			// A pass that drew the experts has an effect: the draw stands (experts.go).
			return AuditEntry{}, Fail(ECONFLICT, "err.recall_not_recallable", Args{"Event": EventLabel(EventPass, "zh")})
		}
		if e.FromState == e.ToState || e.FromState == "" {
			if i == len(es)-1 || e.Event == EventRecall {
				return AuditEntry{}, Fail(ECONFLICT, "err.recall_next_actor_acted", nil)
			}
			continue
		}
		if i != len(es)-1 {
			return AuditEntry{}, Fail(ECONFLICT, "err.recall_next_actor_acted", nil)
		}
		if e.Event == EventRecall || !slices.Contains(recallable, e.Event) || e.ToState != p.State {
			return AuditEntry{}, Fail(ECONFLICT, "err.recall_not_recallable", Args{"Event": EventLabel(e.Event, "zh")})
		}
		if e.Actor != u.Username {
			return AuditEntry{}, Fail(EFORBIDDEN, "err.recall_not_yours", nil)
		}
		return e, nil
	}
	return AuditEntry{}, Fail(ECONFLICT, "err.recall_next_actor_acted", nil)
}

// recallPayload is what a recall records: the entry it takes back.
type recallPayload struct {
	RecalledSeq   int64  `json:"recalled_seq"`
	RecalledEvent string `json:"recalled_event"`
}

// recall takes back u's last move on p (Act with EventRecall).
func (s *Service) recall(ctx context.Context, u *User, p *Project, act Action) (*Project, error) {
	a, err := s.authorize(u, p.Park, string(p.State), EventRecall)
	if err != nil {
		return nil, s.stateOrPermission(u, p, EventRecall, err)
	}
	if act.Version != p.Version {
		return nil, ErrStale()
	}
	if err := checkTextLength("reason", "textfield.reason", act.Reason); err != nil {
		return nil, err
	}
	last, err := s.recallTarget(ctx, u, p)
	if err != nil {
		return nil, err
	}
	from, to := p.State, last.FromState
	now := s.now().UTC()
	if err := s.moveTo(ctx, p, to, now); err != nil {
		return nil, err
	}
	e := s.entry(a, p, EventRecall, from, to)
	e.Reason = strings.TrimSpace(act.Reason)
	e.Payload = payload(recallPayload{RecalledSeq: last.Seq, RecalledEvent: last.Event})
	if err := s.store.Apply(ctx, &Change{Project: p, ExpectedVersion: act.Version, Entry: e, Answer: p}); err != nil {
		return nil, err
	}
	return p, nil
}
