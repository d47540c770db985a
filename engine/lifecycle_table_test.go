package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/looplab/fsm"
)

// TestTransitionMatchesFSM: the table worked out once answers every state
// and event (an unknown one too) exactly as a freshly built fsm does.
func TestTransitionMatchesFSM(t *testing.T) {
	events := []string{"no_such_event", EventScore, EventUpdate}
	for _, e := range lifecycle {
		events = append(events, e.Name)
	}
	for _, s := range append(States, State("no_such_state")) {
		for _, ev := range events {
			got, gotErr := transition(s, ev)
			m := newMachine(s)
			err := m.Event(context.Background(), ev)
			var want State
			var wantCode string
			switch {
			case err == nil, errors.As(err, new(fsm.NoTransitionError)):
				want = State(m.Current())
			case errors.As(err, new(fsm.UnknownEventError)):
				wantCode = EINVALID
			case errors.As(err, new(fsm.InvalidEventError)):
				wantCode = ECONFLICT
			default:
				t.Fatalf("%s from %s: fsm says %v", ev, s, err)
			}
			if got != want || ErrorCode(gotErr) != wantCode {
				t.Errorf("%s from %s: got %q, %v; the fsm: %q, code %q", ev, s, got, gotErr, want, wantCode)
			}
		}
		if got, want := s.Terminal(), len(newMachine(s).AvailableTransitions()) == 0; got != want {
			t.Errorf("%s: Terminal %v, the fsm %v", s, got, want)
		}
	}
}
