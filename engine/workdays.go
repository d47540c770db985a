package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/goccy/go-yaml"

	"zonevet/rules"
	"zonevet/rules/catalog"
)

// The working-day calendar is its own versioned data, apart from the parks'
// rule sets: public holidays are the State Council's, the same for every
// park, and they change on their own schedule (a notice each November).
// Every deadline is counted with the calendar in force when it is computed,
// never with one pinned to a project's screening.

//go:embed calendar/default.yaml
var defaultCalendarSource []byte

// DefaultCalendarSource is the built-in calendar file (2026 as published,
// 2027's statutory days), in force until an administrator loads another.
func DefaultCalendarSource() []byte { return slices.Clone(defaultCalendarSource) }

// EventCalendarLoad was one administrator putting a calendar in force on
// their own, before calendars went through proposal and approval
// (workdays_governance.go); older logs hold it.
const EventCalendarLoad = "calendar_load"

// CalendarYear is one year of a calendar file: its public holidays and
// make-up working weekends (调休上班). Published says the State Council's
// notice for the year is in; without it the holidays are the statutory days
// only and deadlines counted into the year are provisional (暂定).
type CalendarYear struct {
	Year      int      `yaml:"year" json:"year"`
	Published bool     `yaml:"published" json:"published"`
	Source    string   `yaml:"source" json:"source"`
	Holidays  []string `yaml:"holidays" json:"holidays"`
	Workdays  []string `yaml:"workdays" json:"workdays"`
}

type calendarFile struct {
	Years []CalendarYear `yaml:"years"`
}

// Calendar counts working days in the zone's time zone: weekends and listed
// public holidays are skipped, listed make-up working weekends (调休) count.
type Calendar struct {
	Location *time.Location
	version  string
	years    map[int]CalendarYear
	holidays map[string]bool // "2006-01-02" in Location
	workdays map[string]bool // weekend dates that are working days
}

// NewCalendar returns a calendar in loc with the given holidays and make-up
// working days ("2006-01-02"); the years they fall in count as published.
func NewCalendar(loc *time.Location, holidays, workdays []string) *Calendar {
	c := &Calendar{Location: loc, years: map[int]CalendarYear{}, holidays: map[string]bool{}, workdays: map[string]bool{}}
	for _, list := range [][]string{holidays, workdays} {
		for _, d := range list {
			if t, err := time.Parse(time.DateOnly, d); err == nil {
				c.years[t.Year()] = CalendarYear{Year: t.Year(), Published: true}
			}
		}
	}
	for _, h := range holidays {
		c.holidays[h] = true
	}
	for _, w := range workdays {
		c.workdays[w] = true
	}
	return c
}

// ParseCalendar reads a calendar file (the format of calendar/default.yaml)
// into a calendar in loc, versioned by the SHA-256 of its text. A file with
// a mistake is refused with the first one named: a date that is not one, a
// date outside its year, a date listed twice, a make-up working day that is
// not a weekend, a year listed twice.
func ParseCalendar(src []byte, loc *time.Location) (*Calendar, error) {
	bad := func(id string, args Args) error {
		return FieldFail("file", "err.calendar_file", Args{"Problem": catalog.Message{ID: id, Args: args}})
	}
	var f calendarFile
	if err := yaml.NewDecoder(bytes.NewReader(src), yaml.DisallowUnknownField()).Decode(&f); err != nil {
		return nil, bad("cal.unreadable", Args{"Err": yaml.FormatError(err, false, true)})
	}
	if len(f.Years) == 0 {
		return nil, bad("cal.no_years", nil)
	}
	sum := sha256.Sum256(src)
	c := &Calendar{Location: loc, version: hex.EncodeToString(sum[:]), years: map[int]CalendarYear{},
		holidays: map[string]bool{}, workdays: map[string]bool{}}
	for _, y := range f.Years {
		if y.Year < 1990 || y.Year > 2100 {
			return nil, bad("cal.year_invalid", Args{"Year": y.Year})
		}
		if _, dup := c.years[y.Year]; dup {
			return nil, bad("cal.year_twice", Args{"Year": y.Year})
		}
		c.years[y.Year] = y
		for _, list := range []struct {
			name  string
			dates []string
			into  map[string]bool
		}{{"holidays", y.Holidays, c.holidays}, {"workdays", y.Workdays, c.workdays}} {
			for _, d := range list.dates {
				t, err := time.Parse(time.DateOnly, d)
				switch {
				case err != nil || t.Format(time.DateOnly) != d:
					return nil, bad("cal.not_a_date", Args{"Year": y.Year, "Date": d})
				case t.Year() != y.Year:
					return nil, bad("cal.date_not_in_year", Args{"Date": d, "Year": y.Year})
				case c.holidays[d] || c.workdays[d]:
					return nil, bad("cal.date_twice", Args{"Date": d})
				case list.name == "workdays" && t.Weekday() != time.Saturday && t.Weekday() != time.Sunday:
					return nil, bad("cal.makeup_not_weekend", Args{"Date": d})
				}
				list.into[d] = true
			}
		}
	}
	return c, nil
}

// Version is the SHA-256 of the calendar file's text ("" for a calendar
// built with NewCalendar).
func (c *Calendar) Version() string { return c.version }

// Years lists the calendar's years in order.
func (c *Calendar) Years() []CalendarYear {
	out := make([]CalendarYear, 0, len(c.years))
	for _, y := range c.years {
		out = append(out, y)
	}
	slices.SortFunc(out, func(a, b CalendarYear) int { return a.Year - b.Year })
	return out
}

// Published reports whether year's days off and make-up working days are
// known from the State Council's notice.
func (c *Calendar) Published(year int) bool { return c.years[year].Published }

// Provisional reports whether a deadline as Due returns it (the instant
// ending its last day) falls in a year whose notice is not in the calendar:
// the working days counted there may still move, so the date is 暂定.
func (c *Calendar) Provisional(due *time.Time) bool {
	if due == nil {
		return false
	}
	return !c.Published(due.Add(-time.Nanosecond).In(c.Location).Year())
}

// WorkingDay reports whether the local date of t is a working day.
func (c *Calendar) WorkingDay(t time.Time) bool {
	t = t.In(c.Location)
	day := t.Format(time.DateOnly)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return c.workdays[day]
	}
	return !c.holidays[day]
}

// Due returns the end (local midnight) of the n-th working day after from's
// local date; n <= 0 means no deadline (nil). A step started on Friday with one
// working day is due at the end of Monday.
func (c *Calendar) Due(from time.Time, n int) *time.Time {
	if n <= 0 {
		return nil
	}
	l := from.In(c.Location)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, c.Location)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.WorkingDay(d) {
			n--
		}
	}
	due := d.AddDate(0, 0, 1).UTC()
	return &due
}

// CalendarNotice is what the admin page and the admins' workbench say about
// next year's calendar from 1 December on: Missing (no year at all) or
// Unpublished (statutory days only, the State Council's notice not loaded).
type CalendarNotice struct {
	Year        int  `json:"year"`
	Missing     bool `json:"missing"`
	Unpublished bool `json:"unpublished"`
}

// Notice is the calendar's warning for today (a civil date), or nil: from
// 1 December, next year's calendar should be in.
func (c *Calendar) Notice(today time.Time) *CalendarNotice {
	if today.Month() != time.December {
		return nil
	}
	next := today.Year() + 1
	y, ok := c.years[next]
	switch {
	case !ok:
		return &CalendarNotice{Year: next, Missing: true}
	case !y.Published:
		return &CalendarNotice{Year: next, Unpublished: true}
	}
	return nil
}

// CalendarRecord is a stored calendar version: its file and who loaded it.
type CalendarRecord struct {
	Version  string    `json:"version"` // SHA-256 of Source
	Source   string    `json:"source,omitempty"`
	LoadedBy string    `json:"loaded_by"`
	LoadedAt time.Time `json:"loaded_at"`
	InForce  bool      `json:"in_force"`
	Builtin  bool      `json:"builtin"` // the embedded default, never loaded
}

// OpenDeadline is a project's working-day deadline as stored: the state it
// is for and when the project entered that state (the transition's entry).
type OpenDeadline struct {
	ProjectID      int64
	Park           string
	State          State
	Since          time.Time
	RuleSetVersion string // the screened rule set's version, "" before screening
	DueAt          *time.Time
}

// CalendarStore keeps calendar versions; the newest loaded is in force.
type CalendarStore interface {
	// CalendarInForce is the newest loaded version, with its source; not_found when none was.
	CalendarInForce(ctx context.Context) (CalendarRecord, error)
	// CalendarVersionInForce is CalendarInForce's version alone: calendars
	// are append-only and a version is its source's hash, so the parsed
	// calendar of a version seen before can be kept.
	CalendarVersionInForce(ctx context.Context) (string, error)
	// Calendars lists the loaded versions newest first, without their source.
	Calendars(ctx context.Context) ([]CalendarRecord, error)
	// OpenDeadlines lists the projects in states that have a deadline set.
	OpenDeadlines(ctx context.Context, states []State) ([]OpenDeadline, error)
	CalendarChangeStore
}

// CalendarPart is a calendar change (Change.Calendar): Propose is inserted
// (the store sets its ID); Decide is written where the stored change is
// still proposed at its RowVersion. An approval also carries Record, which
// becomes the version in force provided ExpectInForce still is, and the
// re-counted deadlines of Moved, written to projects still in the state
// they were counted for. A deadline is derived data: the projects' versions
// do not change.
type CalendarPart struct {
	Propose       *CalendarChange
	Decide        *CalendarChange
	ExpectInForce string
	Record        *CalendarRecord
	Moved         []OpenDeadline
}

// workingDayStates are the states whose deadline counts working days.
var workingDayStates = []State{StateDraft, StateScreening, StateExpertReview, StateCommitteeReview, StateReturned,
	StateApproved, StateSigned, StateUnderConstruction}

// recount re-counts every open working-day deadline with cal from the
// moment its project entered its state, and returns those that move.
func (s *Service) recount(ctx context.Context, cal *Calendar) ([]OpenDeadline, error) {
	open, err := s.store.OpenDeadlines(ctx, workingDayStates)
	if err != nil {
		return nil, err
	}
	ruleSets := map[string]*rules.RuleSet{}
	var moved []OpenDeadline
	for _, d := range open {
		key := d.RuleSetVersion
		if key == "" {
			key = "park:" + d.Park
		}
		rs, ok := ruleSets[key]
		if !ok {
			if d.RuleSetVersion != "" {
				rs, err = s.RuleSetVersion(ctx, d.RuleSetVersion)
			} else {
				rs, err = s.ActiveRuleSet(ctx, d.Park)
			}
			if err != nil {
				return nil, err
			}
			ruleSets[key] = rs
		}
		due := cal.Due(d.Since, rs.DeadlineDays(string(d.State)))
		if due == nil || d.DueAt != nil && due.Equal(*d.DueAt) {
			continue
		}
		d.DueAt = due
		moved = append(moved, d)
	}
	return moved, nil
}

// calendarCache holds the parsed calendar of the version last seen in force.
type calendarCache struct {
	mu  sync.Mutex
	cal *Calendar
}

// calendar is the working-day calendar in force now: the newest version an
// administrator loaded, else the built-in one. Deadlines always count with it.
// Every move asks, so the parsed calendar is kept and only the version in
// force is read each time; the source only when that version is new.
func (s *Service) calendar(ctx context.Context) (*Calendar, error) {
	version, err := s.store.CalendarVersionInForce(ctx)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		version = defaultCalendarVersion()
	case err != nil:
		return nil, err
	}
	s.cal.mu.Lock()
	defer s.cal.mu.Unlock()
	if s.cal.cal != nil && s.cal.cal.version == version {
		return s.cal.cal, nil
	}
	src := defaultCalendarSource
	if version != defaultCalendarVersion() {
		rec, err := s.store.CalendarInForce(ctx)
		if err != nil {
			return nil, err
		}
		src, version = []byte(rec.Source), rec.Version // the stored version is the source's SHA-256
	}
	c, err := ParseCalendar(src, s.location)
	if err != nil {
		return nil, fmt.Errorf("calendar %.12s in force: %w", version, err)
	}
	s.cal.cal = c
	return c, nil
}

// BuiltinCalendarVersion is the built-in calendar's version: in force
// while no calendar was ever approved.
func BuiltinCalendarVersion() string { return defaultCalendarVersion() }

// defaultCalendarVersion is the built-in calendar's version, hashed once.
var defaultCalendarVersion = sync.OnceValue(func() string {
	sum := sha256.Sum256(defaultCalendarSource)
	return hex.EncodeToString(sum[:])
})

// DueProvisional reports whether a project's deadline in state is
// provisional (暂定): a working-day deadline in a year whose State Council
// notice is not in the calendar in force. Rectification runs on calendar
// days, which no holiday notice moves.
func (s *Service) DueProvisional(ctx context.Context, state State, due *time.Time) bool {
	if due == nil || state == StateRectification {
		return false
	}
	cal, err := s.calendar(ctx)
	return err == nil && cal.Provisional(due)
}

// Calendar is the working-day calendar in force, for pages that show deadlines.
func (s *Service) Calendar(ctx context.Context) (*Calendar, error) { return s.calendar(ctx) }

// CalendarVersions lists the loaded calendar versions, newest first, or the
// built-in one when none was loaded; for administrators.
func (s *Service) CalendarVersions(ctx context.Context, u *User) ([]CalendarRecord, error) {
	if _, err := s.calendarActor(ctx, u, "calendar", "read"); err != nil {
		return nil, err
	}
	recs, err := s.store.Calendars(ctx)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		c, err := ParseCalendar(defaultCalendarSource, s.location)
		if err != nil {
			return nil, err
		}
		recs = []CalendarRecord{{Version: c.Version(), InForce: true, Builtin: true}}
	}
	return recs, nil
}

// CanManageCalendar reports whether u may propose calendars (the nav and
// the workbench's calendar notice are for them).
func (s *Service) CanManageCalendar(ctx context.Context, u *User) bool {
	_, err := s.calendarActor(ctx, u, calendarObject(RuleSetDraft), EventCalendarPropose)
	return err == nil
}
