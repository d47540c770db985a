package engine

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/looplab/fsm"

	"zonevet/rules/catalog"
)

// A working-day calendar moves every open deadline, so it goes in force the
// way a rule set does (issue 12): an administrator proposes a file with a
// note, someone else — the committee — approves it after seeing which days
// change and which deadlines move, or refuses it with a reason; the proposer
// may withdraw it. An approved calendar is in force at once: it only states
// the State Council's days, and holding it back would count deadlines with
// days known to be wrong.

// Calendar change events: the casbin action and the decision-log event.
const (
	EventCalendarPropose  = "calendar_propose"
	EventCalendarWithdraw = "calendar_withdraw"
	EventCalendarRefuse   = "calendar_refuse"
	EventCalendarApprove  = "calendar_approve" // puts the calendar in force
)

// calendarLifecycle is a calendar change's lifecycle table: the rule-set
// change's states, without an effective time.
var calendarLifecycle = fsm.Events{
	{Name: EventCalendarPropose, Src: []string{string(RuleSetDraft)}, Dst: string(RuleSetProposed)},
	{Name: EventCalendarWithdraw, Src: []string{string(RuleSetProposed)}, Dst: string(RuleSetWithdrawn)},
	{Name: EventCalendarRefuse, Src: []string{string(RuleSetProposed)}, Dst: string(RuleSetRefused)},
	{Name: EventCalendarApprove, Src: []string{string(RuleSetProposed)}, Dst: string(RuleSetInForce)},
}

// calendarObject is the casbin object of a calendar change in a state.
func calendarObject(s RuleSetState) string { return "calendar:" + string(s) }

// calendarTransition returns the state event leads to from s, or a conflict.
func calendarTransition(s RuleSetState, event string) (RuleSetState, error) {
	return changeTransition(calendarLifecycle, s, event, "err.calendar_change_not_now")
}

// CalendarChange is one proposal to put a calendar version in force.
type CalendarChange struct {
	ID          int64             `json:"id"`
	Version     string            `json:"version"`      // SHA-256 of Source
	BaseVersion string            `json:"base_version"` // in force when proposed
	Source      string            `json:"-"`
	State       RuleSetState      `json:"state"` // proposed, in_force (approved), refused, withdrawn
	Note        string            `json:"note"`
	Days        []CalendarDayDiff `json:"days"` // against the base
	ProposedBy  string            `json:"proposed_by"`
	ProposedAt  time.Time         `json:"proposed_at"`
	DecidedBy   string            `json:"decided_by,omitempty"`
	DecidedAt   time.Time         `json:"decided_at,omitzero"`
	Reason      string            `json:"reason,omitempty"`
	RowVersion  int64             `json:"row_version"`
}

// CalendarDayDiff is what one year of a calendar change does: holidays and
// make-up working days added and removed, and whether the year's notice
// becomes (or stops being) published.
type CalendarDayDiff struct {
	Year            int      `json:"year"`
	HolidaysAdded   []string `json:"holidays_added,omitempty"`
	HolidaysRemoved []string `json:"holidays_removed,omitempty"`
	WorkdaysAdded   []string `json:"workdays_added,omitempty"`
	WorkdaysRemoved []string `json:"workdays_removed,omitempty"`
	PublishedBefore bool     `json:"published_before"`
	PublishedAfter  bool     `json:"published_after"`
	YearAdded       bool     `json:"year_added,omitempty"`
	YearRemoved     bool     `json:"year_removed,omitempty"`
	SourceAfter     string   `json:"source_after,omitempty"`
}

// PublishedChanged reports whether the year's notice status changes.
func (d CalendarDayDiff) PublishedChanged() bool { return d.PublishedBefore != d.PublishedAfter }

// DiffCalendars lists, year by year, what changes from a to b; years that
// do not change are left out.
func DiffCalendars(a, b *Calendar) []CalendarDayDiff {
	var years []int
	for y := range a.years {
		years = append(years, y)
	}
	for y := range b.years {
		if _, ok := a.years[y]; !ok {
			years = append(years, y)
		}
	}
	slices.Sort(years)
	var out []CalendarDayDiff
	for _, y := range years {
		ya, inA := a.years[y]
		yb, inB := b.years[y]
		d := CalendarDayDiff{Year: y, PublishedBefore: ya.Published, PublishedAfter: yb.Published,
			YearAdded: !inA, YearRemoved: !inB, SourceAfter: yb.Source}
		d.HolidaysAdded, d.HolidaysRemoved = setDiff(ya.Holidays, yb.Holidays)
		d.WorkdaysAdded, d.WorkdaysRemoved = setDiff(ya.Workdays, yb.Workdays)
		if d.YearAdded || d.YearRemoved || d.PublishedChanged() || len(d.HolidaysAdded)+len(d.HolidaysRemoved)+len(d.WorkdaysAdded)+len(d.WorkdaysRemoved) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// setDiff returns the dates in b not in a, and those in a not in b, sorted.
func setDiff(a, b []string) (added, removed []string) {
	for _, d := range b {
		if !slices.Contains(a, d) {
			added = append(added, d)
		}
	}
	for _, d := range a {
		if !slices.Contains(b, d) {
			removed = append(removed, d)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

// CalendarChangeStore reads calendar changes; they are written through
// Apply with a CalendarPart.
type CalendarChangeStore interface {
	CalendarChanges(ctx context.Context) ([]CalendarChange, error) // newest first
	CalendarChange(ctx context.Context, id int64) (CalendarChange, error)
}

// calendarActor authorizes u for event on a calendar change in state s: in
// any park where u holds a role that may (the calendar is the zone's, the
// same for every park).
func (s *Service) calendarActor(ctx context.Context, u *User, obj, event string) (actor, error) {
	parks, err := s.store.Parks(ctx)
	if err != nil {
		return actor{}, err
	}
	for _, p := range parks {
		if a, err := s.authorize(u, p.ID, obj, event); err == nil {
			return a, nil
		} else if ErrorCode(err) == EUNAUTHORIZED {
			return actor{}, err
		}
	}
	return actor{}, Fail(EFORBIDDEN, "err.calendar_not_yours", Args{"Action": catalog.Message{ID: "event." + event}})
}

// ProposeCalendar validates a calendar file and proposes it, with the days
// it changes against the calendar in force. Nothing moves until approval.
func (s *Service) ProposeCalendar(ctx context.Context, u *User, src []byte, note string) (*CalendarChange, error) {
	a, err := s.calendarActor(ctx, u, calendarObject(RuleSetDraft), EventCalendarPropose)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(src)) == 0 {
		return nil, FieldFail("file", "err.choose_calendar_file", nil)
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, FieldFail("note", "err.write_change_note", nil)
	}
	if utf8.RuneCountInString(note) > maxNoteLength {
		return nil, FieldFail("note", "err.change_note_may_have", Args{"MaxNoteLength": maxNoteLength})
	}
	c, err := ParseCalendar(src, s.location)
	if err != nil {
		return nil, err
	}
	cur, err := s.calendar(ctx)
	if err != nil {
		return nil, err
	}
	if cur.Version() == c.Version() {
		return nil, Fail(ECONFLICT, "err.this_version_is_already_in_force", nil)
	}
	to, err := calendarTransition(RuleSetDraft, EventCalendarPropose)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	ch := &CalendarChange{Version: c.Version(), BaseVersion: cur.Version(), Source: string(src), State: to, Note: note,
		Days: DiffCalendars(cur, c), ProposedBy: u.Username, ProposedAt: now, RowVersion: 1}
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Event: EventCalendarPropose,
		FromState: State(RuleSetDraft), ToState: State(to), Reason: note,
		Payload: payload(map[string]any{"version": c.Version(), "base_version": cur.Version(), "days": ch.Days})}
	if err := s.store.Apply(ctx, &Change{Entry: e, Calendar: &CalendarPart{Propose: ch}}); err != nil {
		return nil, err
	}
	return ch, nil
}

// CalendarPreview is what approving a calendar change would do now: the
// days it changes against the calendar in force, and the open deadlines it
// moves (each with the date it has now, in Before).
type CalendarPreview struct {
	Change      CalendarChange
	BaseVersion string // in force now; an approval names it, and is refused if it changed
	Days        []CalendarDayDiff
	Moved       []MovedDeadline
}

// MovedDeadline is one open deadline a calendar would move.
type MovedDeadline struct {
	ProjectID int64      `json:"project_id"`
	Name      string     `json:"name"`
	Park      string     `json:"park"`
	State     State      `json:"state"`
	Before    *time.Time `json:"before"`
	After     *time.Time `json:"after"`
}

// PreviewCalendarChange computes, for whoever may read calendar changes,
// what approving change id would do now.
func (s *Service) PreviewCalendarChange(ctx context.Context, u *User, id int64) (*CalendarPreview, error) {
	if _, err := s.calendarActor(ctx, u, "calendar", "read"); err != nil {
		return nil, err
	}
	ch, err := s.store.CalendarChange(ctx, id)
	if err != nil {
		return nil, err
	}
	p, _, _, err := s.calendarEffect(ctx, ch)
	return p, err
}

// calendarEffect is change ch against the calendar in force: the preview,
// the parsed calendar and the deadlines to write.
func (s *Service) calendarEffect(ctx context.Context, ch CalendarChange) (*CalendarPreview, *Calendar, []OpenDeadline, error) {
	c, err := ParseCalendar([]byte(ch.Source), s.location)
	if err != nil {
		return nil, nil, nil, err
	}
	cur, err := s.calendar(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	before, err := s.store.OpenDeadlines(ctx, workingDayStates)
	if err != nil {
		return nil, nil, nil, err
	}
	was := make(map[int64]*time.Time, len(before))
	for _, d := range before {
		was[d.ProjectID] = d.DueAt
	}
	moved, err := s.recount(ctx, c)
	if err != nil {
		return nil, nil, nil, err
	}
	p := &CalendarPreview{Change: ch, BaseVersion: cur.Version(), Days: DiffCalendars(cur, c)}
	for _, d := range moved {
		pr, err := s.store.Project(ctx, d.ProjectID)
		if err != nil {
			return nil, nil, nil, err
		}
		p.Moved = append(p.Moved, MovedDeadline{ProjectID: d.ProjectID, Name: pr.Name, Park: d.Park, State: d.State, Before: was[d.ProjectID], After: d.DueAt})
	}
	return p, c, moved, nil
}

// ApproveCalendar puts a proposed calendar in force under four eyes: never
// by its proposer, and only against the calendar in force the approver's
// preview was computed with (base; "" skips the check for the CLI, which
// computes the preview in the same call). The open deadlines are re-counted
// in the same transaction and listed in the log entry.
func (s *Service) ApproveCalendar(ctx context.Context, u *User, id int64, base, opinion string) (*CalendarChange, error) {
	ch, a, err := s.calendarChangeFor(ctx, u, id, EventCalendarApprove)
	if err != nil {
		return nil, err
	}
	if ch.ProposedBy == u.Username {
		return nil, Fail(EFORBIDDEN, "err.four_eyes_calendar", nil)
	}
	if err := checkTextLength("opinion", "textfield.approval_opinion", opinion); err != nil {
		return nil, err
	}
	to, err := calendarTransition(ch.State, EventCalendarApprove)
	if err != nil {
		return nil, err
	}
	p, c, moved, err := s.calendarEffect(ctx, ch)
	if err != nil {
		return nil, err
	}
	if base != "" && base != p.BaseVersion {
		return nil, Fail(ECONFLICT, "err.calendar_in_force_changed", nil)
	}
	if p.BaseVersion == c.Version() {
		return nil, Fail(ECONFLICT, "err.this_version_is_already_in_force", nil)
	}
	now := s.now().UTC()
	from := ch.State
	ch.State, ch.DecidedBy, ch.DecidedAt, ch.Reason = to, u.Username, now, strings.TrimSpace(opinion)
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Event: EventCalendarApprove,
		FromState: State(from), ToState: State(to), Reason: ch.Reason,
		Payload: payload(map[string]any{"change": ch.ID, "version": c.Version(), "before": p.BaseVersion, "proposed_by": ch.ProposedBy,
			"years": c.Years(), "deadlines_moved": p.Moved})}
	rec := CalendarRecord{Version: c.Version(), Source: ch.Source, LoadedBy: u.Username, LoadedAt: now}
	if err := s.store.Apply(ctx, &Change{Entry: e, Calendar: &CalendarPart{Decide: &ch, ExpectInForce: p.BaseVersion, Record: &rec, Moved: moved}}); err != nil {
		return nil, err
	}
	return &ch, nil
}

// RefuseCalendar refuses a proposed calendar; the reason is required.
func (s *Service) RefuseCalendar(ctx context.Context, u *User, id int64, reason string) (*CalendarChange, error) {
	return s.closeCalendarChange(ctx, u, id, EventCalendarRefuse, reason, true)
}

// WithdrawCalendar withdraws a proposed calendar before the committee decides.
func (s *Service) WithdrawCalendar(ctx context.Context, u *User, id int64, reason string) (*CalendarChange, error) {
	return s.closeCalendarChange(ctx, u, id, EventCalendarWithdraw, reason, false)
}

func (s *Service) closeCalendarChange(ctx context.Context, u *User, id int64, event, reason string, needReason bool) (*CalendarChange, error) {
	ch, a, err := s.calendarChangeFor(ctx, u, id, event)
	if err != nil {
		return nil, err
	}
	if reason, err = closingReason(reason, needReason); err != nil {
		return nil, err
	}
	to, err := calendarTransition(ch.State, event)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	from := ch.State
	ch.State, ch.DecidedBy, ch.DecidedAt, ch.Reason = to, u.Username, now, reason
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Event: event, FromState: State(from), ToState: State(to), Reason: reason,
		Payload: payload(map[string]any{"change": ch.ID, "version": ch.Version, "proposed_by": ch.ProposedBy})}
	if err := s.store.Apply(ctx, &Change{Entry: e, Calendar: &CalendarPart{Decide: &ch}}); err != nil {
		return nil, err
	}
	return &ch, nil
}

// calendarChangeFor loads a change and authorizes event on it for u; a
// change already decided answers as a conflict to those who could have
// decided it while it was open.
func (s *Service) calendarChangeFor(ctx context.Context, u *User, id int64, event string) (CalendarChange, actor, error) {
	ch, err := s.store.CalendarChange(ctx, id)
	if err != nil {
		return ch, actor{}, err
	}
	a, err := s.calendarActor(ctx, u, calendarObject(ch.State), event)
	if err != nil && ch.State != RuleSetProposed {
		if _, perr := s.calendarActor(ctx, u, calendarObject(RuleSetProposed), event); perr == nil {
			_, terr := calendarTransition(ch.State, event)
			return ch, actor{}, terr
		}
	}
	return ch, a, err
}

// CalendarChanges lists the calendar changes, newest first, for those who
// may read them (administrators, the committee, auditors).
func (s *Service) CalendarChanges(ctx context.Context, u *User) ([]CalendarChange, error) {
	if _, err := s.calendarActor(ctx, u, "calendar", "read"); err != nil {
		return nil, err
	}
	return s.store.CalendarChanges(ctx)
}

// CanActOnCalendar reports whether u may take event on a change in state st
// (the page's buttons; the engine checks again, with four eyes).
func (s *Service) CanActOnCalendar(ctx context.Context, u *User, st RuleSetState, event string) bool {
	_, err := s.calendarActor(ctx, u, calendarObject(st), event)
	return err == nil
}
