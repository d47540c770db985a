package engine

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDefaultCalendarDue walks testdata/calendar/due.tsv, a hand-counted
// table over the built-in 2026 (published) and 2027 (statutory) calendars,
// including 2026-12-31 + 1 working day = 2027-01-04.
func TestDefaultCalendarDue(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	cal, err := ParseCalendar(DefaultCalendarSource(), sh)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/calendar/due.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		col := strings.Split(line, "\t")
		if len(col) != 5 {
			t.Fatalf("bad line %q", line)
		}
		n++
		t.Run(col[0]+"+"+col[1], func(t *testing.T) {
			from, err := time.ParseInLocation(time.DateOnly, col[0], sh)
			if err != nil {
				t.Fatal(err)
			}
			days, _ := strconv.Atoi(col[1])
			last, err := time.ParseInLocation(time.DateOnly, col[2], sh)
			if err != nil {
				t.Fatal(err)
			}
			got := cal.Due(from.Add(10*time.Hour), days)
			if want := last.AddDate(0, 0, 1); got == nil || !got.Equal(want) {
				t.Errorf("Due(%s, %d) = %v, want the end of %s (%s)", col[0], days, got, col[2], col[4])
			}
			if got, want := cal.Provisional(got), col[3] == "yes"; got != want {
				t.Errorf("Provisional = %v, want %v (%s)", got, want, col[4])
			}
		})
	}
	if n < 10 {
		t.Fatalf("%d cases", n)
	}
}

func TestParseCalendarRefuses(t *testing.T) {
	for name, src := range map[string]string{
		"ErrNoYears":        "years: []\n",
		"ErrNotADate":       "years:\n  - year: 2027\n    holidays: [2027-02-30]\n",
		"ErrOtherYear":      "years:\n  - year: 2027\n    holidays: [2028-01-01]\n",
		"ErrTwice":          "years:\n  - year: 2027\n    holidays: [2027-01-01]\n    workdays: [2027-01-01]\n",
		"ErrWorkdayWeekday": "years:\n  - year: 2027\n    workdays: [2027-01-04]\n",
		"ErrYearTwice":      "years:\n  - year: 2027\n  - year: 2027\n",
		"ErrUnknownKey":     "years:\n  - year: 2027\n    holiday: [2027-01-01]\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseCalendar([]byte(src), time.UTC)
			if e, ok := err.(*Error); !ok || e.Field != "file" || e.Code != EINVALID {
				t.Errorf("ParseCalendar = %v, want an invalid FieldError on file", err)
			}
		})
	}
}

// TestCalendarNotice: from 1 December the calendar says when next year is
// missing or only statutory.
func TestCalendarNotice(t *testing.T) {
	cal, err := ParseCalendar(DefaultCalendarSource(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tc := range []struct {
		today string
		want  *CalendarNotice
	}{
		{"2026-11-30", nil},
		{"2026-12-01", &CalendarNotice{Year: 2027, Unpublished: true}},
		{"2027-11-30", nil},
		{"2027-12-01", &CalendarNotice{Year: 2028, Missing: true}},
		{"2027-12-31", &CalendarNotice{Year: 2028, Missing: true}},
	} {
		got := cal.Notice(day(tc.today))
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("Notice(%s) = %+v, want %+v", tc.today, got, tc.want)
		}
	}
}
