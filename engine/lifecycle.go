package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/looplab/fsm"
)

// State is where a project stands in its lifecycle.
type State string

// The states of DESIGN.md's lifecycle.
const (
	StateDraft             State = "draft"
	StateScreening         State = "screening"
	StateExpertReview      State = "expert_review"
	StateCommitteeReview   State = "committee_review"
	StateReturned          State = "returned"
	StateWithdrawn         State = "withdrawn"
	StateApproved          State = "approved"
	StateRejected          State = "rejected"
	StateSigned            State = "signed"
	StateUnderConstruction State = "under_construction"
	StateInProduction      State = "in_production"
	StateRectification     State = "rectification"
	StateExited            State = "exited"
)

// States lists every state in lifecycle order.
var States = []State{StateDraft, StateScreening, StateExpertReview, StateCommitteeReview, StateReturned,
	StateWithdrawn, StateApproved, StateRejected, StateSigned, StateUnderConstruction, StateInProduction,
	StateRectification, StateExited}

// Event names: the commands that move a project, as recorded in the log.
const (
	EventCreate            = "create" // not an fsm event: a project is born in draft
	EventUpdate            = "update" // not an fsm event: figures edited in draft or returned
	EventSubmit            = "submit"
	EventPass              = "pass"
	EventOverride          = "override" // committee passes screening despite a failed hard rule (一事一议)
	EventReturn            = "return"
	EventResubmit          = "resubmit"
	EventWithdraw          = "withdraw"
	EventScore             = "score"    // not an fsm event: one reviewer's sheet
	EventConflict          = "conflict" // not an fsm event: a declared conflict of interest
	EventRecommend         = "recommend"
	EventFailReview        = "fail_review"
	EventApprove           = "approve"
	EventReject            = "reject"
	EventSign              = "sign"
	EventStartConstruction = "start_construction"
	EventStartProduction   = "start_production"
	EventRate              = "rate"
	EventRectify           = "rectify"
	EventRectified         = "rectified"
	EventExit              = "exit"
	// Idle land (《闲置土地处置办法》): the committee finds land idle a year
	// past the agreed start (or construction stalled a year), levies the
	// idle-land fee and orders rectification; two years, and it recovers the
	// land without compensation. Construction resumed closes the order.
	EventIdleLand           = "idle_land"
	EventRecoverLand        = "recover_land"
	EventResumeConstruction = "resume_construction"
)

// lifecycle is the whole workflow in one table; the README's diagram is generated from it.
var lifecycle = fsm.Events{
	{Name: EventSubmit, Src: []string{string(StateDraft)}, Dst: string(StateScreening)},
	{Name: EventPass, Src: []string{string(StateScreening)}, Dst: string(StateExpertReview)},
	{Name: EventOverride, Src: []string{string(StateScreening)}, Dst: string(StateExpertReview)},
	{Name: EventReturn, Src: []string{string(StateScreening), string(StateExpertReview), string(StateCommitteeReview)}, Dst: string(StateReturned)},
	{Name: EventResubmit, Src: []string{string(StateReturned)}, Dst: string(StateScreening)},
	{Name: EventWithdraw, Src: []string{string(StateDraft), string(StateReturned)}, Dst: string(StateWithdrawn)},
	{Name: EventRecommend, Src: []string{string(StateExpertReview)}, Dst: string(StateCommitteeReview)},
	{Name: EventFailReview, Src: []string{string(StateExpertReview)}, Dst: string(StateReturned)},
	{Name: EventApprove, Src: []string{string(StateCommitteeReview)}, Dst: string(StateApproved)},
	{Name: EventReject, Src: []string{string(StateScreening), string(StateCommitteeReview)}, Dst: string(StateRejected)},
	{Name: EventSign, Src: []string{string(StateApproved)}, Dst: string(StateSigned)},
	{Name: EventStartConstruction, Src: []string{string(StateSigned)}, Dst: string(StateUnderConstruction)},
	{Name: EventStartProduction, Src: []string{string(StateUnderConstruction)}, Dst: string(StateInProduction)},
	{Name: EventRate, Src: []string{string(StateInProduction)}, Dst: string(StateInProduction)},
	{Name: EventRectify, Src: []string{string(StateInProduction)}, Dst: string(StateRectification)},
	{Name: EventRectified, Src: []string{string(StateRectification)}, Dst: string(StateInProduction)},
	{Name: EventExit, Src: []string{string(StateInProduction), string(StateRectification)}, Dst: string(StateExited)},
	{Name: EventIdleLand, Src: []string{string(StateSigned), string(StateUnderConstruction)}, Dst: string(StateRectification)},
	{Name: EventResumeConstruction, Src: []string{string(StateRectification)}, Dst: string(StateUnderConstruction)},
	{Name: EventRecoverLand, Src: []string{string(StateSigned), string(StateUnderConstruction), string(StateRectification)}, Dst: string(StateExited)},
}

// effects are what each event writes beside the project's move and its log
// entry, in the same transaction (the Change's TrackingPart; the functions
// are in tracking_agreement.go). An event without a row moves the project
// and logs it, nothing more; submit and override, which screen and waive,
// are checked before the move (Service.Act).
var effects = map[string]func(context.Context, *actEffect) error{
	// sign: the agreement on file, or the default one from the screened
	// figures and the rule set's deadlines, land delivered today.
	EventSign: recordAgreement,
	// start_construction: the 开工 milestone on the day the act names (the
	// button and the milestone are one step); start_production: the
	// milestones, reached today.
	EventStartConstruction: startConstruction,
	EventStartProduction:   recordMilestones(MilestoneCompletion, MilestoneProduction),
	// rectify: a rectification order with the rule set's deadline; the project is due then.
	EventRectify: openManualRectification,
	// idle_land: the idle-land finding (fee, years) and its order.
	EventIdleLand: findIdleLand,
	// resume_construction: the idle-land order closed as rectified.
	EventResumeConstruction: resumeConstruction,
	// rectified: the open order closed as rectified, with the re-measured evidence.
	EventRectified: closeRectification,
	// exit: the open order closed as failed; the exit with the clauses invoked.
	EventExit: closeRectification,
	// recover_land: the idle-land finding, the order closed as failed, the
	// exit under the recovery clause.
	EventRecoverLand: closeRectification,
	// approve, reject (from committee review): the meeting's decision, its
	// minutes attached, the votes and the minutes' hash in the entry (meetings.go).
	EventApprove: decideInMeeting,
	EventReject:  decideInMeeting,
	// pass, override (into expert review): the reviewers drawn at random
	// from the park's expert pool, when it keeps one (experts.go).
	EventPass:     drawExperts,
	EventOverride: drawExperts,
}

// Terminal reports whether no event leaves s.
func (s State) Terminal() bool {
	return len(machine().next[s]) == 0
}

// newMachine builds a throwaway fsm at state s. looplab/fsm is not safe for
// concurrent use and holds state in memory; the store's version check is
// the real guard.
func newMachine(s State) *fsm.FSM {
	return fsm.NewFSM(string(s), lifecycle, nil)
}

// lifecycleMachine is what looplab/fsm answers for the lifecycle table,
// asked once for every state and event: building an fsm costs more than a
// command's checks (its maps and callbacks, BENCHMARKS.md issue 16), and
// the table never changes, so a command looks its move up here.
type lifecycleMachine struct {
	next   map[State]map[string]State // per state, each event's destination
	events map[string]bool            // every event of the table
}

var machine = sync.OnceValue(func() lifecycleMachine {
	m := lifecycleMachine{next: map[State]map[string]State{}, events: map[string]bool{}}
	for _, e := range lifecycle {
		m.events[e.Name] = true
	}
	for _, s := range States {
		m.next[s] = map[string]State{}
		for _, ev := range newMachine(s).AvailableTransitions() {
			f := newMachine(s)
			err := f.Event(context.Background(), ev)
			if err != nil && !errors.As(err, new(fsm.NoTransitionError)) {
				panic(fmt.Sprintf("lifecycle: %s from %s: %v", ev, s, err)) // cannot happen: fsm offered it
			}
			m.next[s][ev] = State(f.Current())
		}
	}
	return m
})

// transition returns the state event leads to from s, or a conflict error
// (the project is not in a state where event applies).
func transition(s State, event string) (State, error) {
	m := machine()
	if to, ok := m.next[s][event]; ok {
		return to, nil
	}
	if !m.events[event] {
		return "", Fail(EINVALID, "err.unknown_action", Args{"Event": event})
	}
	return "", errNotNow(s, event)
}

// Visualize renders the lifecycle as a Mermaid state diagram, for the README.
func Visualize() (string, error) {
	return fsm.VisualizeWithType(newMachine(StateDraft), fsm.MERMAID)
}
