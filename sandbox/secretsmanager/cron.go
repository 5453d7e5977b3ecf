package secretsmanager

import (
	"strconv"
	"strings"
	"time"
)

// cron() schedules of rotation rules: cron(minutes hours day-of-month month
// day-of-week year), in UTC, as EventBridge and Secrets Manager read them.
// Each field is *, ?, a value, a range a-b, a list a,b,… and a step */n,
// a/n or a-b/n; months may be JAN–DEC and days of the week SUN–SAT (1 is
// Sunday). The sandbox does not compute the L, W and # forms: a schedule
// using them never comes due.

// cronSchedule holds the allowed values of each field; nil allows all.
type cronSchedule struct {
	minutes, hours, days, months, weekdays, years map[int]bool
}

var (
	monthNames   = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	weekdayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

// parseCron parses a cron() expression; ok is false for one the sandbox
// does not compute.
func parseCron(expr string) (c cronSchedule, ok bool) {
	inner, found := strings.CutPrefix(expr, "cron(")
	if !found || !strings.HasSuffix(inner, ")") {
		return c, false
	}
	f := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(f) != 6 {
		return c, false
	}
	specs := []struct {
		dst      *map[int]bool
		lo, hi   int
		names    []string
		nameBase int
	}{
		{&c.minutes, 0, 59, nil, 0},
		{&c.hours, 0, 23, nil, 0},
		{&c.days, 1, 31, nil, 0},
		{&c.months, 1, 12, monthNames, 1},
		{&c.weekdays, 1, 7, weekdayNames, 1},
		{&c.years, 1970, 2199, nil, 0},
	}
	for i, sp := range specs {
		set, ok := cronField(f[i], sp.lo, sp.hi, sp.names, sp.nameBase)
		if !ok {
			return c, false
		}
		*sp.dst = set
	}
	return c, true
}

// cronField parses one field into its set of values (nil for * and ?).
func cronField(s string, lo, hi int, names []string, nameBase int) (map[int]bool, bool) {
	if s == "*" || s == "?" {
		return nil, true
	}
	value := func(v string) (int, bool) {
		for i, n := range names {
			if strings.EqualFold(v, n) {
				return i + nameBase, true
			}
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= lo && n <= hi
	}
	set := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		rng, stepText, stepped := strings.Cut(part, "/")
		step := 1
		if stepped {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return nil, false
			}
			step = n
		}
		from, to := lo, hi
		switch a, b, isRange := strings.Cut(rng, "-"); {
		case rng == "*":
		case isRange:
			var okA, okB bool
			from, okA = value(a)
			to, okB = value(b)
			if !okA || !okB || from > to {
				return nil, false
			}
		default:
			v, ok := value(rng)
			if !ok {
				return nil, false
			}
			from = v
			if !stepped {
				to = v
			}
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, true
}

func allows(set map[int]bool, v int) bool { return set == nil || set[v] }

// next returns the first time after t the schedule names, at most ten
// years on; zero when there is none.
func (c cronSchedule) next(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	for end := day.AddDate(10, 0, 0); day.Before(end); day = day.AddDate(0, 0, 1) {
		if !allows(c.years, day.Year()) || !allows(c.months, int(day.Month())) ||
			!allows(c.days, day.Day()) || !allows(c.weekdays, int(day.Weekday())+1) {
			continue
		}
		for h := range 24 {
			if !allows(c.hours, h) {
				continue
			}
			for m := range 60 {
				if at := day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute); allows(c.minutes, m) && at.After(t) {
					return at
				}
			}
		}
	}
	return time.Time{}
}
