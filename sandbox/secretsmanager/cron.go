package secretsmanager

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// cron() schedules of rotation rules: cron(minutes hours day-of-month month
// day-of-week year), in UTC, as EventBridge and Secrets Manager read them.
// Each field is *, ?, a value, a range a-b, a list a,b,… and a step */n,
// a/n, a-b/n or /n; months may be JAN–DEC and days of the week SUN–SAT
// (1 is Sunday). The sandbox does not compute the L, W and # forms: a
// schedule using them never comes due. checkCron (below) refuses what
// Secrets Manager refuses; parseCron computes any schedule.

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
		if f[i] == "?" && (sp.dst == &c.days || sp.dst == &c.weekdays) {
			continue // the other day field decides
		}
		set, ok := cronField(f[i], sp.lo, sp.hi, sp.names, sp.nameBase)
		if !ok {
			return c, false
		}
		*sp.dst = set
	}
	return c, true
}

// cronField parses one field into its set of values (nil for *). A step
// without a start (/8) starts at the field's first value, as AWS's own
// example cron(0 /8 * * ? *) does.
func cronField(s string, lo, hi int, names []string, nameBase int) (map[int]bool, bool) {
	if s == "*" {
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
		case rng == "*", rng == "" && stepped:
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

// Secrets Manager accepts a narrower cron() than EventBridge (user guide,
// "Rotation schedules", cron expression requirements): the minutes are 0
// (windows open on the hour), the year is * (no schedule more than a year
// apart), exactly one of day-of-month and day-of-week is ?, and
// rotations are at least four hours apart. Day-of-month may also be L
// (the last day), LW or nW, day-of-week L, nL (the last such day of the
// month) or n#k (the k-th such day); months and days of the week take
// names.
var (
	cronDaySpecialRE     = regexp.MustCompile(`^(L|LW|([1-9]|[12][0-9]|3[01])W)$`)
	cronWeekdaySpecialRE = regexp.MustCompile(`^(L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$`)
)

// minRotationHours is the shortest time between rotations AWS allows.
const minRotationHours = 4

// cronRule is a cron() schedule's rotation start hours, the same every day
// it names, and whether it names two consecutive days.
type cronRule struct {
	hours       []int
	consecutive bool
}

// checkCron parses a cron() ScheduleExpression, refusing what Secrets
// Manager refuses.
func checkCron(expr string) (cronRule, *apiError) {
	bad := func(why string) (cronRule, *apiError) {
		return cronRule{}, invalidParam("The schedule expression %s is not a valid cron() expression for Secrets Manager: %s", expr, why)
	}
	inner, found := strings.CutPrefix(expr, "cron(")
	if !found || !strings.HasSuffix(inner, ")") {
		return bad("it is not cron(minutes hours day-of-month month day-of-week year).")
	}
	f := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(f) != 6 {
		return bad("it has six fields: minutes hours day-of-month month day-of-week year.")
	}
	minutes, hours, days, months, weekdays, years := f[0], f[1], f[2], f[3], f[4], f[5]
	switch {
	case minutes != "0":
		return bad("the minutes field must be 0: rotation windows open on the hour.")
	case years != "*":
		return bad("the year field must be *.")
	case (days == "?") == (weekdays == "?"):
		return bad("one of day-of-month and day-of-week must be ?, and only one.")
	}
	hourSet, ok := cronField(hours, 0, 23, nil, 0)
	if !ok {
		return bad("the hours field is not 0–23 with , - * /.")
	}
	if _, ok := cronField(months, 1, 12, monthNames, 1); !ok {
		return bad("the month field is not 1–12 or JAN–DEC with , - * /.")
	}
	special := false
	if days != "?" {
		if _, ok := cronField(days, 1, 31, nil, 0); !ok {
			if special = cronDaySpecialRE.MatchString(days); !special {
				return bad("the day-of-month field is not 1–31 with , - * / L W.")
			}
		}
	}
	if weekdays != "?" {
		if _, ok := cronField(weekdays, 1, 7, weekdayNames, 1); !ok {
			if special = cronWeekdaySpecialRE.MatchString(strings.ToUpper(weekdays)); !special {
				return bad("the day-of-week field is not 1–7 or SUN–SAT with , - * / L #.")
			}
		}
	}
	var r cronRule
	for h := range 24 {
		if allows(hourSet, h) {
			r.hours = append(r.hours, h)
		}
	}
	// L, W and # name at most one day a week or a month: never two days
	// in a row.
	if !special {
		c, _ := parseCron(expr)
		r.consecutive = c.consecutiveDays()
	}
	if gap := r.gap(); gap < minRotationHours {
		return bad(fmt.Sprintf("it rotates %d hour(s) apart; rotations are at least %d hours apart.", gap, minRotationHours))
	}
	return r, nil
}

// gap is the shortest time in hours between two rotations of the rule:
// between two start hours of a day, or from a day's last to the next
// day's first when it names two days in a row.
func (r cronRule) gap() int {
	gap := 24
	for i := 1; i < len(r.hours); i++ {
		gap = min(gap, r.hours[i]-r.hours[i-1])
	}
	if r.consecutive && len(r.hours) > 0 {
		gap = min(gap, r.hours[0]+24-r.hours[len(r.hours)-1])
	}
	return gap
}

// consecutiveDays reports whether the schedule names two days in a row.
// Eight years from a leap year cover every month, weekday and leap-day
// combination its fields can name (the year is always *).
func (c cronSchedule) consecutiveDays() bool {
	names := func(d time.Time) bool {
		return allows(c.months, int(d.Month())) && allows(c.days, d.Day()) && allows(c.weekdays, int(d.Weekday())+1)
	}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := false
	for end := day.AddDate(8, 0, 0); day.Before(end); day = day.AddDate(0, 0, 1) {
		cur := names(day)
		if cur && prev {
			return true
		}
		prev = cur
	}
	return false
}
