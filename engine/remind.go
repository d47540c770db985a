package engine

import (
	"context"
	"errors"
	"time"

	"zonevet/rules"
)

// EventRemind (催办) chases whoever a project waits on; EventEscalate tells
// the park's committee that a project is overdue past the rule set's limit.
// Neither moves the project: each is a log entry with its notifications.
const (
	EventRemind   = "remind"
	EventEscalate = "escalate"
)

// escalateSender is the reminders key of escalations, apart from the system's reminders.
const escalateSender = SystemActor + ":escalate"

// remindPayload is what a reminder records.
type remindPayload struct {
	WaitingOn          Role `json:"waiting_on"`
	OverdueWorkingDays int  `json:"overdue_working_days,omitempty"`
}

// remindRefusal says why u may not remind anyone of p now, nil if u may:
// u's role allows it in p's state (casbin: the promoter, the committee and
// admins, upstream of whoever the project waits on), the project waits on
// someone, a promoter reminds only of a project they registered, and
// nobody reminds twice a day of the same project (per sender, the zone's date).
func (s *Service) remindRefusal(ctx context.Context, u *User, p *Project) (actor, error) {
	a, err := s.authorize(u, p.Park, string(p.State), EventRemind)
	if err != nil {
		if _, waits := waitsOn(p.State); !waits {
			return actor{}, Fail(ECONFLICT, "err.remind_nothing_waits", Args{"State": stateArg(p.State)})
		}
		return actor{}, err
	}
	if _, waits := waitsOn(p.State); !waits {
		return actor{}, Fail(ECONFLICT, "err.remind_nothing_waits", Args{"State": stateArg(p.State)})
	}
	if a.role == RolePromoter && p.CreatedBy != u.ID {
		return actor{}, Fail(EFORBIDDEN, "err.remind_not_your_project", nil)
	}
	last, err := s.store.LastReminder(ctx, p.ID, u.Username)
	if err != nil {
		return actor{}, err
	}
	if last == s.Today().Format(time.DateOnly) {
		return actor{}, errRemindedToday()
	}
	return a, nil
}

func errRemindedToday() error { return Fail(ECONFLICT, "err.remind_once_a_day", nil) }

// remind is Act with EventRemind: a log entry by u notifying whoever p
// waits on, in-app and on the outbound channels.
func (s *Service) remind(ctx context.Context, u *User, p *Project, act Action) (*Project, error) {
	a, err := s.remindRefusal(ctx, u, p)
	if err != nil {
		return nil, err
	}
	if err := checkTextLength("reason", "textfield.reason", act.Reason); err != nil {
		return nil, err
	}
	role, _ := waitsOn(p.State)
	e := s.entry(a, p, EventRemind, p.State, p.State)
	e.Reason = act.Reason
	e.Payload = payload(remindPayload{WaitingOn: role})
	day := s.Today().Format(time.DateOnly)
	if err := s.writeReminder(ctx, p, e, NoticeRemind, Reminder{ProjectID: p.ID, Sender: u.Username, Day: day}, p); err != nil {
		return nil, err
	}
	return p, nil
}

// writeReminder writes a reminder's entry with its notice to whoever p
// waits on (an escalation's: to the park's committee) under its key.
func (s *Service) writeReminder(ctx context.Context, p *Project, e AuditEntry, kind string, key Reminder, answer any) error {
	n, _ := waitingNotice(p, kind)
	if kind == NoticeEscalate {
		n = Notice{Kind: kind, Role: RoleCommittee, Park: p.Park}
	}
	part := &NotifyPart{Notices: []Notice{n}, Outbox: s.outbound.channelsFor(e.Event), Reminder: &key}
	return s.store.Apply(ctx, &Change{Entry: e, Notify: part, Answer: answer})
}

// SweepResult counts what one reminder sweep wrote.
type SweepResult struct {
	Reminded  int `json:"reminded"`
	Escalated int `json:"escalated"`
}

// RemindSweep reminds of every overdue project at its park's rule-set
// intervals and escalates those overdue EscalateAfterWorkingDays working
// days or more to the park's committee, each as an entry by SystemActor.
// Run it as often as you like (the serve worker, cron): the reminders' keys
// make a second run of the same day write nothing.
func (s *Service) RemindSweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	cal, err := s.calendar(ctx)
	if err != nil {
		return res, err
	}
	now := s.now()
	var states []State
	for _, st := range States {
		if _, ok := waitsOn(st); ok {
			states = append(states, st)
		}
	}
	ps, _, err := s.store.Projects(ctx, ProjectFilter{States: states, Overdue: true, Now: now, Sort: "due", Limit: 100000, Summary: true})
	if err != nil {
		return res, err
	}
	rulesOf := map[string]rules.ReminderRules{}
	for _, p := range ps {
		r, ok := rulesOf[p.Park]
		if !ok {
			rs, err := s.ActiveRuleSet(ctx, p.Park)
			if err != nil {
				return res, err
			}
			r = rs.Reminders()
			rulesOf[p.Park] = r
		}
		n := workingDaysBetween(cal, *p.DueAt, now)
		if n < 1 || !cal.WorkingDay(now) {
			continue // nobody is chased on a day off
		}
		today := civil(now, cal.Location).Format(time.DateOnly)
		dueDay := p.DueAt.In(cal.Location).Format(time.DateOnly)
		last, err := s.store.LastReminder(ctx, p.ID, SystemActor)
		if err != nil {
			return res, err
		}
		if last < dueDay || (last != today && workingDaysBetween(cal, dayStart(last, cal.Location).AddDate(0, 0, 1), now) >= r.EveryWorkingDays) {
			done, err := s.systemReminder(ctx, p, EventRemind, NoticeRemind, Reminder{ProjectID: p.ID, Sender: SystemActor, Day: today}, n)
			if err != nil {
				return res, err
			}
			if done {
				res.Reminded++
			}
		}
		if n >= r.EscalateAfterWorkingDays {
			done, err := s.systemReminder(ctx, p, EventEscalate, NoticeEscalate, Reminder{ProjectID: p.ID, Sender: escalateSender, Day: dueDay}, n)
			if err != nil {
				return res, err
			}
			if done {
				res.Escalated++
			}
		}
	}
	return res, nil
}

// systemReminder writes one automatic reminder or escalation; false when its
// key was taken already (another sweep of the same day got there first).
func (s *Service) systemReminder(ctx context.Context, p *Project, event, kind string, key Reminder, overdue int) (bool, error) {
	role, _ := waitsOn(p.State)
	e := AuditEntry{Time: s.now().UTC(), Actor: SystemActor, Park: p.Park, ProjectID: p.ID, Event: event,
		FromState: p.State, ToState: p.State,
		Payload: payload(remindPayload{WaitingOn: role, OverdueWorkingDays: overdue})}
	err := s.writeReminder(ctx, p, e, kind, key, nil)
	var de *Error
	if errors.As(err, &de) && de.Code == ECONFLICT {
		return false, nil
	}
	return err == nil, err
}

// workingDaysBetween counts the working days whose local date lies from
// from's local date up to now's, both included: 1 on the first overdue
// working day of a deadline (due at the local midnight starting it).
func workingDaysBetween(cal *Calendar, from, now time.Time) int {
	l := from.In(cal.Location)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, cal.Location)
	n := 0
	for ; !d.After(now); d = d.AddDate(0, 0, 1) {
		if cal.WorkingDay(d) {
			n++
		}
	}
	return n
}

// dayStart is the local midnight starting the date day (YYYY-MM-DD).
func dayStart(day string, loc *time.Location) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return time.Time{}
	}
	return t
}
