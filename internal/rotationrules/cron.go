package rotationrules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// cron() schedules as Secrets Manager takes them: cron(0 hours
// day-of-month month day-of-week *), in UTC, fields separated by single
// spaces and written in upper case. The hours field is an hour or an
// increment a/n or /n (a step without a start starts at 0, as the guide's
// own cron(0 /8 * * ? *) does): the guide names no list, range or * there.
// Day-of-month, month and day-of-week are *, a value, a range a-b, a list
// a,b,… and steps */n, a/n, a-b/n or /n; months may be JAN–DEC and days
// of the week SUN–SAT (1 is Sunday). Day-of-month may also be L (the last
// day), and day-of-week L, nL (the month's last such day) or n#k (its
// k-th). W, which EventBridge takes in day-of-month, is not among the
// guide's wildcards there.

// cron holds the values each field allows, bit v for value v; a ? day
// field allows every day (the other field decides).
type cron struct {
	hours, days, months, weekdays uint64
	// special is set when a day field uses L or #: such a schedule
	// names at most one day a week or a month, and Next does not compute
	// it.
	special bool
}

var (
	monthNames   = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	weekdayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

	weekdaySpecialRE = regexp.MustCompile(`^(L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$`)
)

// parseCron checks a cron() expression and computes its start hours and
// the shortest time between its rotations.
func parseCron(expr string) (Schedule, error) {
	bad := func(format string, args ...any) (Schedule, error) {
		return Schedule{}, &Error{Kind: BadCron, Input: expr, Why: fmt.Sprintf(format, args...)}
	}
	inner, found := strings.CutPrefix(expr, "cron(")
	if !found || !strings.HasSuffix(inner, ")") {
		return bad("it is not cron(minutes hours day-of-month month day-of-week year).")
	}
	inner = strings.TrimSuffix(inner, ")")
	f := strings.Fields(inner)
	switch {
	case strings.Join(f, " ") != inner:
		return bad("its fields are separated by single spaces, with none before the first or after the last.")
	case strings.ToUpper(inner) != inner:
		return bad("it has lower-case letters: month and day names and L are written in upper case.")
	case len(f) != 6:
		return bad("it has %d fields, not six: minutes hours day-of-month month day-of-week year.", len(f))
	}
	minutes, hours, days, months, weekdays, years := f[0], f[1], f[2], f[3], f[4], f[5]
	switch {
	case minutes != "0":
		return bad("the minutes field must be 0: rotation windows open on the hour.")
	case years != "*":
		return bad("the year field must be *: no schedule is more than a year apart.")
	case (days == "?") == (weekdays == "?"):
		return bad("exactly one of day-of-month and day-of-week must be ?.")
	}
	c := &cron{days: field(1, 31), weekdays: field(1, 7)}
	var ok bool
	if c.hours, ok = parseField(hours, 0, 23, nil); !ok || strings.ContainsAny(hours, ",-*") {
		return bad("the hours field is an hour 0–23 or an increment such as 4/12 or /8 (no list, range or *).")
	}
	if c.months, ok = parseField(months, 1, 12, monthNames); !ok {
		return bad("the month field is not 1–12 or JAN–DEC with , - * /.")
	}
	if days != "?" {
		if c.days, ok = parseField(days, 1, 31, nil); !ok {
			if c.special = days == "L"; !c.special {
				return bad("the day-of-month field is not 1–31 with , - * / L.")
			}
		}
	}
	if weekdays != "?" {
		if c.weekdays, ok = parseField(weekdays, 1, 7, weekdayNames); !ok {
			if c.special = weekdaySpecialRE.MatchString(weekdays); !c.special {
				return bad("the day-of-week field is not 1–7 or SUN–SAT with , - * / L #.")
			}
		}
	}

	s := Schedule{cron: c}
	for h := range 24 {
		if c.hours&(1<<h) != 0 {
			s.Starts = append(s.Starts, h)
		}
	}
	// One start a day at most is a day apart; several, the least
	// difference between two of them, or from the day's last to the next
	// day's first when the schedule names two days in a row.
	s.Gap = 24
	first, last := s.Starts[0], s.Starts[len(s.Starts)-1]
	for i := 1; i < len(s.Starts); i++ {
		s.Gap = min(s.Gap, s.Starts[i]-s.Starts[i-1])
	}
	if overnight := first + 24 - last; overnight < s.Gap && c.consecutiveDays() {
		s.Gap = overnight
		if s.Gap < MinHours {
			return bad("it rotates %d hour(s) apart (%02d:00 UTC, then %02d:00 the next day); rotations are at least %d hours apart.", s.Gap, last, first, MinHours)
		}
	}
	if s.Gap < MinHours {
		return bad("it rotates %d hour(s) apart; rotations are at least %d hours apart.", s.Gap, MinHours)
	}
	return s, nil
}

// field is the set of the values lo–hi.
func field(lo, hi int) uint64 { return (1<<(hi+1) - 1) &^ (1<<lo - 1) }

// parseField parses one field into its set of values, false when it is
// not lo–hi (or names, numbered from lo) with , - * /.
func parseField(s string, lo, hi int, names []string) (uint64, bool) {
	value := func(v string) (int, bool) {
		for i, n := range names {
			if v == n {
				return lo + i, true
			}
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= lo && n <= hi
	}
	var set uint64
	for part := range strings.SplitSeq(s, ",") {
		rng, stepText, stepped := strings.Cut(part, "/")
		step := 1
		if stepped {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, false
			}
			step = n
		}
		from, to := lo, hi
		switch a, b, isRange := strings.Cut(rng, "-"); {
		case rng == "*", rng == "" && stepped:
		case isRange:
			var okA, okB bool
			from, okA = value(a)
			to, okB = value(b)
			if !okA || !okB || from > to {
				return 0, false
			}
		default:
			v, ok := value(rng)
			if !ok {
				return 0, false
			}
			from = v
			if !stepped {
				to = v
			}
		}
		for v := from; v <= to; v += step {
			set |= 1 << v
		}
	}
	return set, true
}

// names reports whether the schedule names day d.
func (c *cron) names(d time.Time) bool {
	return c.months&(1<<int(d.Month())) != 0 && c.days&(1<<d.Day()) != 0 && c.weekdays&(1<<(int(d.Weekday())+1)) != 0
}

// monthDays is each month's last day, February's in a leap year.
var monthDays = [13]int{1: 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// consecutiveDays reports whether the schedule names two days in a row.
// L and # name at most one day a week or a month, never two in a row.
// Otherwise one day field is ? (every day): with day-of-week, two days in
// a row are two weekdays in a row in any month named; with day-of-month,
// two days in a row of a month named, or the last day of one (February's
// 28th or 29th) and the 1st of the next.
func (c *cron) consecutiveDays() bool {
	if c.special {
		return false
	}
	pair := false
	for w := 1; w <= 7; w++ {
		pair = pair || c.weekdays&(1<<w) != 0 && c.weekdays&(1<<(w%7+1)) != 0
	}
	if !pair {
		return false
	}
	day := func(d int) bool { return c.days&(1<<d) != 0 }
	for m := 1; m <= 12; m++ {
		if c.months&(1<<m) == 0 {
			continue
		}
		last := monthDays[m]
		for d := 1; d < last; d++ {
			if day(d) && day(d+1) {
				return true
			}
		}
		if c.months&(1<<(m%12+1)) != 0 && day(1) && (day(last) || m == 2 && day(28)) {
			return true
		}
	}
	return false
}

// Next returns when a rotation comes due after one at t (or after
// rotation was turned on at t), at most ten years on: for
// AutomaticallyAfterDays and rate(n days) midnight UTC n days after t's
// day (a window in days opens at midnight), for rate(n hours) n hours
// after t's hour, for a cron() the first time after t it opens a window.
// It is zero for the zero Schedule, for a cron() using L or # (not
// computed) and for one that names no day (cron(0 0 31 2 ? *)).
func (s Schedule) Next(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	c := s.cron
	switch {
	case s.days > 0:
		return day.AddDate(0, 0, s.days)
	case s.hours > 0:
		return t.Truncate(time.Hour).Add(time.Duration(s.hours) * time.Hour)
	case c == nil || c.special:
		return time.Time{}
	}
	for end := day.AddDate(10, 0, 0); day.Before(end); day = day.AddDate(0, 0, 1) {
		if !c.names(day) {
			continue
		}
		for _, h := range s.Starts {
			if at := day.Add(time.Duration(h) * time.Hour); at.After(t) {
				return at
			}
		}
	}
	return time.Time{}
}
