package engine

import (
	"testing"
	"time"
)

func TestCalendarDue(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	cal := NewCalendar(sh, []string{"2026-10-01", "2026-10-02", "2026-10-05"}, []string{"2026-09-26"})
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		name string
		from string
		n    int
		want string // local midnight ending the due day
	}{
		{"MondayOneDay", "2026-11-23 10:00", 1, "2026-11-25 00:00"},
		{"FridayOneDaySkipsWeekend", "2026-11-20 17:30", 1, "2026-11-24 00:00"},
		{"SaturdayOneDay", "2026-11-21 09:00", 1, "2026-11-24 00:00"},
		{"FiveDaysSpanWeekend", "2026-11-18 09:00", 5, "2026-11-26 00:00"},
		{"HolidaysSkipped", "2026-09-30 09:00", 1, "2026-10-07 00:00"},
		{"MakeUpSaturdayCounts", "2026-09-25 09:00", 1, "2026-09-27 00:00"},
		// 23:30 UTC on the 22nd is already the 23rd in Shanghai.
		{"LocalDateNotUTC", "2026-11-23 07:30", 1, "2026-11-25 00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cal.Due(at(tc.from), tc.n)
			if want := at(tc.want); got == nil || !got.Equal(want) {
				t.Errorf("Due(%s, %d) = %v, want %v", tc.from, tc.n, got, want)
			}
		})
	}
	t.Run("NoDeadline", func(t *testing.T) {
		if got := cal.Due(at("2026-11-23 10:00"), 0); got != nil {
			t.Errorf("Due(.., 0) = %v, want nil", got)
		}
	})
}
