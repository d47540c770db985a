package engine

import "time"

// Calendar counts working days in the zone's time zone: weekends and listed
// public holidays are skipped, listed make-up working weekends (调休) count.
type Calendar struct {
	Location *time.Location
	holidays map[string]bool // "2006-01-02" in Location
	workdays map[string]bool // weekend dates that are working days
}

// NewCalendar returns a calendar in loc with the given holidays and make-up
// working days ("2006-01-02").
func NewCalendar(loc *time.Location, holidays, workdays []string) *Calendar {
	c := &Calendar{Location: loc, holidays: map[string]bool{}, workdays: map[string]bool{}}
	for _, h := range holidays {
		c.holidays[h] = true
	}
	for _, w := range workdays {
		c.workdays[w] = true
	}
	return c
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
