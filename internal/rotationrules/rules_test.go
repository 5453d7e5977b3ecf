package rotationrules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParse: every example of the user guide ("Rotation schedules") is
// taken, with the start hours and the shortest time between rotations it
// means; every requirement the guide states refuses what breaks it.
func TestParse(t *testing.T) {
	tests := []struct {
		expr   string
		starts []int // nil: refused
		gap    int
		kind   Kind   // when refused
		why    string // part of Error.Why, for BadCron
	}{
		// The guide's examples.
		{expr: "rate(4 hours)", starts: []int{0}, gap: 4},
		{expr: "rate(1 day)", starts: []int{0}, gap: 24},
		{expr: "rate(8 days)", starts: []int{0}, gap: 24},
		{expr: "rate(10 days)", starts: []int{0}, gap: 24},
		{expr: "cron(0 4/12 * * ? *)", starts: []int{4, 16}, gap: 12},
		{expr: "cron(0 /8 * * ? *)", starts: []int{0, 8, 16}, gap: 8},
		{expr: "cron(0 8/8 * * ? *)", starts: []int{8, 16}, gap: 8},
		{expr: "cron(0 2/10 * * ? *)", starts: []int{2, 12, 22}, gap: 4}, // 22:00, then 02:00
		{expr: "cron(0 10 * * ? *)", starts: []int{10}, gap: 24},
		{expr: "cron(0 18 ? * SAT *)", starts: []int{18}, gap: 24},
		{expr: "cron(0 8 1 * ? *)", starts: []int{8}, gap: 24},
		{expr: "cron(0 8 1/7 * ? *)", starts: []int{8}, gap: 24},
		{expr: "cron(0 1 ? 1/3 SUN#1 *)", starts: []int{1}, gap: 24},
		{expr: "cron(0 17 L * ? *)", starts: []int{17}, gap: 24},
		{expr: "cron(0 16 L * ? *)", starts: []int{16}, gap: 24},
		{expr: "cron(0 8 ? * MON-FRI *)", starts: []int{8}, gap: 24},
		{expr: "cron(0 16 1,15 * ? *)", starts: []int{16}, gap: 24},
		{expr: "cron(0 0 ? * SUN#1 *)", starts: []int{0}, gap: 24},
		{expr: "cron(0 0 ? 1/11 2#1 *)", starts: []int{0}, gap: 24},
		{expr: "cron(0 0 1 JAN,APR,JUL,OCT ? *)", starts: []int{0}, gap: 24},
		// The wildcards each field takes.
		{expr: "cron(0 22 ? * 6L *)", starts: []int{22}, gap: 24},
		{expr: "cron(0 22 ? * L *)", starts: []int{22}, gap: 24},
		{expr: "cron(0 0/6 * * ? *)", starts: []int{0, 6, 12, 18}, gap: 6},
		{expr: "cron(0 8/4 ? * MON-FRI *)", starts: []int{8, 12, 16, 20}, gap: 4},
		{expr: "cron(0 0 ? JAN-MAR,DEC * *)", starts: []int{0}, gap: 24},
		{expr: "cron(0 0 1-7 * ? *)", starts: []int{0}, gap: 24},
		{expr: "cron(0 0 1-7/2 1/2 ? *)", starts: []int{0}, gap: 24},
		{expr: "rate(23 hours)", starts: []int{0}, gap: 23},
		{expr: "rate(999 days)", starts: []int{0}, gap: 24},

		// Rates: four hours to 23 hours, a day to 999 days, the unit in
		// the value's number.
		{expr: "rate(3 hours)", kind: BadRate, why: "at least 4 hours apart"},
		{expr: "rate(1 hour)", kind: BadRate, why: "at least 4 hours apart"},
		{expr: "rate(24 hours)", kind: BadRate, why: "a day or more is written in days, rate(1 day) to rate(999 days)"},
		{expr: "rate(24000 hours)", kind: BadRate, why: "4 to 23 hours"},
		{expr: "rate(0 days)", kind: BadRate, why: "a whole number from 1"},
		{expr: "rate(08 days)", kind: BadRate, why: "without leading zeros"},
		{expr: "rate(1000 days)", kind: BadRate, why: "the longest rotation period is 999 days"},
		{expr: "rate(99999999999999999999 days)", kind: BadRate, why: "the longest rotation period is 999 days"},
		{expr: "rate(1 days)", kind: BadRate, why: "singular for 1 and plural above"},
		{expr: "rate(2 day)", kind: BadRate, why: "singular for 1 and plural above"},
		{expr: "rate(6 hour)", kind: BadRate, why: "singular for 1 and plural above"},
		{expr: "rate(6  hours)", kind: NotSchedule},
		{expr: "rate(6 Hours)", kind: NotSchedule},

		// Rotations at least four hours apart, across midnight too.
		{expr: "cron(0 0/1 * * ? *)", kind: BadCron, why: "1 hour(s) apart"},
		{expr: "cron(0 /3 * * ? *)", kind: BadCron, why: "3 hour(s) apart"},
		{expr: "cron(0 0/2 * * ? *)", kind: BadCron, why: "2 hour(s) apart"},
		{expr: "cron(0 0/7 * * ? *)", kind: BadCron, why: "3 hour(s) apart (21:00 UTC, then 00:00 the next day)"},
		{expr: "cron(0 1/21 ? * MON,TUE *)", kind: BadCron, why: "3 hour(s) apart (22:00 UTC, then 01:00 the next day)"},
		{expr: "cron(0 1/21 ? * SAT,SUN *)", kind: BadCron, why: "3 hour(s) apart"}, // Saturday, then Sunday
		{expr: "cron(0 1/21 1,31 * ? *)", kind: BadCron, why: "3 hour(s) apart"},    // the 31st, then the 1st
		{expr: "cron(0 1/21 28 FEB,MAR ? *)", starts: []int{1, 22}, gap: 21},        // never two days in a row
		{expr: "cron(0 1/21 ? * MON,WED *)", starts: []int{1, 22}, gap: 21},
		{expr: "cron(0 1/21 L * ? *)", starts: []int{1, 22}, gap: 21}, // once a month
		{expr: "cron(0 1/21 ? * 2#1 *)", starts: []int{1, 22}, gap: 21},

		// The fields Secrets Manager restricts.
		{expr: "cron(30 4 * * ? *)", kind: BadCron, why: "minutes field must be 0"},
		{expr: "cron(30 0/20 ? * MON *)", kind: BadCron, why: "minutes field must be 0"},
		{expr: "cron(*/30 4 * * ? *)", kind: BadCron, why: "minutes field must be 0"},
		{expr: "cron(0 4 * * ? 2027)", kind: BadCron, why: "year field must be *"},
		{expr: "cron(0 4 1 * MON *)", kind: BadCron, why: "exactly one of day-of-month and day-of-week"},
		{expr: "cron(0 4 * * * *)", kind: BadCron, why: "exactly one of day-of-month and day-of-week"},
		{expr: "cron(0 4 ? * ? *)", kind: BadCron, why: "exactly one of day-of-month and day-of-week"},
		{expr: "cron(0 ? * * ? *)", kind: BadCron, why: "hours field"},
		{expr: "cron(0 25 * * ? *)", kind: BadCron, why: "hours field"},
		{expr: "cron(0 4/0 * * ? *)", kind: BadCron, why: "hours field"},
		{expr: "cron(0 4/ * * ? *)", kind: BadCron, why: "hours field"},
		{expr: "cron(0 4, * * ? *)", kind: BadCron, why: "hours field"},
		{expr: "cron(0 4 32 * ? *)", kind: BadCron, why: "day-of-month field"},
		{expr: "cron(0 4 0 * ? *)", kind: BadCron, why: "day-of-month field"},
		{expr: "cron(0 4 ? * 8 *)", kind: BadCron, why: "day-of-week field"},
		{expr: "cron(0 4 ? * SUN#6 *)", kind: BadCron, why: "day-of-week field"},
		{expr: "cron(0 4 ? * MON-SUN *)", kind: BadCron, why: "day-of-week field"},
		{expr: "cron(0 4 ? 13 * *)", kind: BadCron, why: "month field"},
		{expr: "cron(0 4 ? JANUARY * *)", kind: BadCron, why: "month field"},
		{expr: "cron(0 4 * * ?)", kind: BadCron, why: "5 fields, not six"},
		{expr: "cron(0 4 * * ? * *)", kind: BadCron, why: "7 fields, not six"},
		{expr: "cron(0 4 * * ? *) ; rm", kind: BadCron, why: "not cron(minutes"},

		// Forms the guide does not list, which EventBridge takes: the
		// stricter reading.
		{expr: "cron(0 */6 * * ? *)", kind: BadCron, why: "hours field is an hour 0–23 or an increment"},
		{expr: "cron(0 * * * ? *)", kind: BadCron, why: "hours field"},
		{expr: "cron(0 1,13 * * ? *)", kind: BadCron, why: "hours field"},
		{expr: "cron(0 8-16 ? * MON-FRI *)", kind: BadCron, why: "hours field"},
		{expr: "cron(0 8-16/4 ? * MON-FRI *)", kind: BadCron, why: "hours field"},
		{expr: "cron(0 9 15W * ? *)", kind: BadCron, why: "day-of-month field"},
		{expr: "cron(0 9 LW * ? *)", kind: BadCron, why: "day-of-month field"},
		{expr: "cron(0 9 L-2 * ? *)", kind: BadCron, why: "day-of-month field"},
		{expr: "cron(0  4 * * ? *)", kind: BadCron, why: "single spaces"},
		{expr: "cron( 0 4 * * ? *)", kind: BadCron, why: "single spaces"},
		{expr: "cron(0 4 * * ? * )", kind: BadCron, why: "single spaces"},
		{expr: "cron(0\t4 * * ? *)", kind: BadCron, why: "single spaces"},
		{expr: "cron(0 4 ? * sun *)", kind: BadCron, why: "lower-case letters"},
		{expr: "cron(0 4 ? * Sun *)", kind: BadCron, why: "lower-case letters"},
		{expr: "cron(0 4 1 jan ? *)", kind: BadCron, why: "lower-case letters"},
		{expr: "cron(0 4 l * ? *)", kind: BadCron, why: "lower-case letters"},
		{expr: "cron(0 4 ? * 6l *)", kind: BadCron, why: "lower-case letters"},
		{expr: "rate(10 minutes)", kind: NotSchedule},
		{expr: "every day", kind: NotSchedule},
		{expr: "", kind: NotSchedule},
	}
	for _, tt := range tests {
		s, err := Parse(tt.expr)
		if tt.starts != nil {
			if err != nil || !cmp.Equal(s.Starts, tt.starts) || s.Gap != tt.gap {
				t.Errorf("%s: starts %v, gap %d, %v; want starts %v, gap %d, taken", tt.expr, s.Starts, s.Gap, err, tt.starts, tt.gap)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Kind != tt.kind || !strings.Contains(e.Why, tt.why) || e.Input != tt.expr || s.Gap != 0 {
			t.Errorf("%s: %#v, want kind %d, why with %q", tt.expr, err, tt.kind, tt.why)
		}
	}
}

func TestAfterDays(t *testing.T) {
	for n, ok := range map[int64]bool{0: false, 1: true, 30: true, 1000: true, 1001: false, -1: false} {
		s, err := AfterDays(n)
		var e *Error
		switch {
		case ok && (err != nil || s.Gap != 24 || !cmp.Equal(s.Starts, []int{0})):
			t.Errorf("AfterDays(%d) = %+v, %v; want taken", n, s, err)
		case !ok && (!errors.As(err, &e) || e.Kind != BadDays):
			t.Errorf("AfterDays(%d) = %v, want BadDays", n, err)
		}
	}
}

// TestCheckWindow: whole hours from 1h to 24h, at most the time between
// rotations (the guide: "less than or equal to"), closing by midnight UTC.
func TestCheckWindow(t *testing.T) {
	parse := func(expr string) Schedule {
		s, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	days, _ := AfterDays(30)
	tests := []struct {
		schedule Schedule
		window   string
		kind     Kind // 0: taken
		hours    int
	}{
		{parse("rate(4 hours)"), "3h", 0, 0},
		{parse("rate(4 hours)"), "4h", 0, 0},
		{parse("rate(4 hours)"), "5h", WindowIntoNext, 4},
		{parse("rate(6 hours)"), "6h", 0, 0},
		{parse("rate(6 hours)"), "7h", WindowIntoNext, 6},
		{parse("rate(1 day)"), "24h", 0, 0},
		{parse("rate(2 days)"), "24h", 0, 0},
		{days, "24h", WindowWithoutSchedule, 0},
		{days, "4h", WindowWithoutSchedule, 0},
		{days, "25h", WindowRange, 0},
		{days, "0h", WindowRange, 0},
		{days, "90m", BadWindow, 0},
		{days, "4", BadWindow, 0},
		{days, "1d", BadWindow, 0},
		{days, "1000h", BadWindow, 0},
		{parse("cron(0 20 * * ? *)"), "4h", 0, 0},
		{parse("cron(0 21 * * ? *)"), "4h", WindowPastMidnight, 21},
		{parse("cron(0 22 ? * SUN *)"), "2h", 0, 0},
		{parse("cron(0 22 ? * SUN *)"), "3h", WindowPastMidnight, 22},
		{parse("cron(0 4/12 * * ? *)"), "8h", 0, 0},
		{parse("cron(0 4/12 * * ? *)"), "12h", WindowPastMidnight, 16},
		{parse("cron(0 0/6 * * ? *)"), "6h", 0, 0},
		{parse("cron(0 0/6 * * ? *)"), "7h", WindowIntoNext, 6},
		{parse("cron(0 0/12 * * ? *)"), "12h", 0, 0},
		{parse("cron(0 2/10 * * ? *)"), "2h", 0, 0},
		{parse("cron(0 2/10 * * ? *)"), "5h", WindowIntoNext, 4}, // 22:00 to 02:00
		{parse("cron(0 1/19 ? * MON *)"), "4h", 0, 0},            // Monday only: 20:00 to 24:00
		{Schedule{}, "30h", WindowRange, 0},                      // a refused schedule: the window alone
		{Schedule{}, "24h", 0, 0},
	}
	for _, tt := range tests {
		err := tt.schedule.CheckWindow(tt.window)
		var e *Error
		if tt.kind == 0 {
			if err != nil {
				t.Errorf("%v window %s: %v, want taken", tt.schedule.Starts, tt.window, err)
			}
		} else if !errors.As(err, &e) || e.Kind != tt.kind || e.Hours != tt.hours || e.Input != tt.window {
			t.Errorf("%v window %s: %#v, want kind %d, hours %d", tt.schedule.Starts, tt.window, err, tt.kind, tt.hours)
		}
	}
}

// TestErrorSays: each refusal says what Secrets Manager takes.
func TestErrorSays(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Kind: BadDays, Input: "0"}, "every 1 to 1000 days, not every 0"},
		{&Error{Kind: NotSchedule, Input: "daily"}, `"daily" is not a schedule Secrets Manager takes: a rate() or cron() expression`},
		{&Error{Kind: BadRate, Input: "rate(2 hours)", Why: "rotations are at least 4 hours apart."}, "rate(2 hours) is not a rate() expression Secrets Manager takes: rotations are at least 4 hours apart."},
		{&Error{Kind: BadCron, Input: "cron(30 4 * * ? *)", Why: "the minutes field must be 0."}, "cron(30 4 * * ? *) is not a cron() expression Secrets Manager takes: the minutes field must be 0."},
		{&Error{Kind: BadWindow, Input: "90m"}, `whole number of hours such as "4h", not "90m"`},
		{&Error{Kind: WindowRange, Input: "25h"}, "1h to 24h, not 25h"},
		{&Error{Kind: WindowIntoNext, Input: "7h", Hours: 6}, "A window of 7h runs into the next rotation, 6 hours later"},
		{&Error{Kind: WindowPastMidnight, Input: "4h", Hours: 21}, "A window of 4h opening at 21:00 UTC runs into the next UTC day"},
		{&Error{Kind: WindowWithoutSchedule, Input: "4h", Days: 30}, "A window of 4h opens according to a schedule expression: Secrets Manager takes no window with AutomaticallyAfterDays. The schedule expression rate(30 days) rotates as AutomaticallyAfterDays 30 does."},
		{&Error{Kind: WindowWithoutSchedule, Input: "4h", Days: 1}, "The schedule expression rate(1 day) rotates as AutomaticallyAfterDays 1 does."},
		{&Error{Kind: WindowWithoutSchedule, Input: "4h", Days: 1000}, "with AutomaticallyAfterDays. The longest schedule expression is rate(999 days)."},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); !strings.Contains(got, tt.want) {
			t.Errorf("%d: %q does not say %q", tt.err.Kind, got, tt.want)
		}
	}
}

func TestNext(t *testing.T) {
	// 2026-03-01 is a Sunday.
	from := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		expr string
		want time.Time // zero: not computed
	}{
		{"cron(0 4 ? * SUN *)", time.Date(2026, 3, 8, 4, 0, 0, 0, time.UTC)},
		{"cron(0 16 ? * SUN *)", time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)},
		{"cron(0 4 ? * 2 *)", time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}, // 2 is Monday
		{"cron(0 16 1,15 * ? *)", time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)},
		{"cron(0 8 1,15 * ? *)", time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC)},
		{"cron(0 0/6 * * ? *)", time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)},
		{"cron(0 /8 * * ? *)", time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)},
		{"cron(0 1-3 ? * MON-FRI *)", time.Time{}}, // refused: an hour apart
		{"cron(0 1/4 ? * MON-FRI *)", time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)},
		{"cron(0 0 1 JAN ? *)", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"cron(0 0 29 FEB ? *)", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"cron(0 0 31 2 ? *)", time.Time{}},                          // no February 31st
		{"cron(0 0 L * ? *)", time.Time{}},                           // L is not computed
		{"cron(0 0 ? * 6#3 *)", time.Time{}},                         // nor #
		{"rate(1 day)", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}, // midnight, a day after the last rotation
		{"rate(30 days)", time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		{"rate(6 hours)", time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)}, // from the hour of the last rotation
		{"rate(1000 days)", time.Time{}},                                // refused
	}
	for _, tt := range tests {
		s, _ := Parse(tt.expr)
		if got := s.Next(from); !got.Equal(tt.want) {
			t.Errorf("%s after %s = %s, want %s", tt.expr, from, got, tt.want)
		}
	}
	days, _ := AfterDays(2)
	if got, want := days.Next(from), time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("AutomaticallyAfterDays 2 after %s = %s, want %s", from, got, want)
	}
}

// BenchmarkParse: validate parses every rotated secret's schedule; the
// scan for two days in a row runs only when rotations across midnight
// are closer than within a day, and is longest when there are none.
func BenchmarkParse(b *testing.B) {
	for _, expr := range []string{"rate(30 days)", "cron(0 4 ? * SUN *)", "cron(0 2/10 * * ? *)", "cron(0 1/21 ? * MON,WED *)"} {
		b.Run(expr, func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(expr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestConsecutiveDays checks the reasoning of consecutiveDays against
// the calendar: 28 years from 2000 put every date, February 29th
// included, on every weekday.
func TestConsecutiveDays(t *testing.T) {
	scan := func(c *cron) bool {
		prev := false
		for d := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2028; d = d.AddDate(0, 0, 1) {
			cur := c.names(d)
			if cur && prev {
				return true
			}
			prev = cur
		}
		return false
	}
	var fields [][2]string // day-of-month, day-of-week
	for _, dom := range []string{"*", "1", "31", "1,31", "30,1", "28,1", "29,1", "28", "29", "30", "15,16", "1/2", "2/2", "27,29", "28,31"} {
		fields = append(fields, [2]string{dom, "?"})
	}
	for _, dow := range []string{"*", "MON", "MON,TUE", "SAT,SUN", "MON,WED,FRI", "1-3", "2/2", "1/2", "TUE,THU,SAT"} {
		fields = append(fields, [2]string{"?", dow})
	}
	n := 0
	for _, months := range []string{"*", "FEB", "FEB,MAR", "JAN,DEC", "DEC", "APR,MAY", "2/2", "JAN,MAR", "APR,JUN"} {
		for _, f := range fields {
			expr := "cron(0 4 " + f[0] + " " + months + " " + f[1] + " *)"
			s, err := Parse(expr)
			if err != nil {
				t.Fatal(err)
			}
			got, want := s.cron.consecutiveDays(), scan(s.cron)
			if got != want {
				t.Errorf("%s: two days in a row %v, the calendar says %v", expr, got, want)
			}
			if got {
				n++
			}
		}
	}
	if n == 0 || n == 9*len(fields) {
		t.Errorf("%d of %d schedules name two days in a row: the table tells nothing", n, 9*len(fields))
	}
}

// TestWindowWithoutSchedule: a window opens according to a schedule
// expression, so AutomaticallyAfterDays takes none; the error names the
// rate() that rotates as the days do, rate(999 days) at most.
func TestWindowWithoutSchedule(t *testing.T) {
	for n, rate := range map[int64]string{1: "rate(1 day)", 30: "rate(30 days)", 999: "rate(999 days)", 1000: "rate(999 days)"} {
		s, err := AfterDays(n)
		if err != nil {
			t.Fatal(err)
		}
		var e *Error
		if err := s.CheckWindow("4h"); !errors.As(err, &e) || e.Kind != WindowWithoutSchedule || e.Days != int(n) || !strings.Contains(err.Error(), rate) {
			t.Errorf("AfterDays(%d) window 4h: %v, want WindowWithoutSchedule naming %s", n, err, rate)
		}
		if got := RateOfDays(int(n)); got != rate {
			t.Errorf("RateOfDays(%d) = %s, want %s", n, got, rate)
		}
		if r, err := Parse(rate); err != nil || r.CheckWindow("4h") != nil {
			t.Errorf("%s window 4h: %v, want taken", rate, err)
		}
	}
}
