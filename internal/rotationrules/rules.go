// Package rotationrules is the one definition of the rotation rules
// Secrets Manager takes in RotateSecret's RotationRules. spec's validate
// refuses with it exactly what the sandbox's RotateSecret refuses with it,
// so a schedule or window that validates is never refused at apply time,
// after other changes were made (promise 4). The sandbox also computes
// with it when a schedule comes due.
//
// Sources: the Secrets Manager user guide, "Rotation schedules"
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html),
// and the API reference, RotationRulesType:
//   - AutomaticallyAfterDays is 1–1000 (API reference);
//   - rate(n hours) or rate(n days), from four hours, and "The maximum
//     rotation period is 999 days" (guide);
//   - cron(minutes hours day-of-month month day-of-week year) in UTC, with
//     0 in the minutes (windows open on the hour), * in the year, exactly
//     one of the day fields ?, the wildcards the guide lists for each
//     field, and rotations at least four hours apart; increments of hours
//     restart each day, so cron(0 2/10 * * ? *) is 22:00 then 02:00 the
//     next day (cron.go);
//   - a window (Duration) of whole hours, 1h–24h, at most as long as the
//     time between rotations and closing by midnight UTC; it "starts
//     according to the ScheduleExpression" (API reference), and
//     terraform-provider-aws issue #22969 reports it works only with one.
//
// Where AWS's answer is not recorded, the rule is the stricter reading:
// a schedule validate refuses is a clear error the user can rewrite, one
// it takes and AWS refuses fails apply half-way. So rate(n hours) is
// limited to 4–23 hours and a day or more is written in days (as
// Turbot Guardrails' Secrets Manager policy reference lists them: hours
// 4 to 23, days 1 to 999), a rate's unit agrees in number with
// its value (rate(1 day), rate(2 days)), cron() fields are separated by
// single spaces and written in upper case, the hours field is a single
// hour or an increment (4/12, /8; the guide names no list or range
// there), day-of-month takes no W, and a window needs a schedule
// expression.
//
// Sharing the rule makes spec and sandbox agree by construction; the
// fidelity corpus (sandbox/fidelity) and this package's tables, which take
// every example of the guide, check the rule itself against AWS.
package rotationrules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Limits of RotationRulesType.
const (
	MinDays        = 1
	MaxDays        = 1000 // AutomaticallyAfterDays
	MaxRateDays    = 999  // rate(n days)
	MinHours       = 4    // the shortest time between two rotations
	MaxRateHours   = 23   // rate(n hours); a day or more is rate(n days)
	MaxWindowHours = 24
)

// Kind is the rule a refused schedule or window breaks.
type Kind int

const (
	// BadDays is an AutomaticallyAfterDays outside MinDays–MaxDays.
	BadDays Kind = iota + 1
	// NotSchedule is an expression that is neither rate() nor cron().
	NotSchedule
	// BadRate is a rate() Secrets Manager does not take; Error.Why says
	// why.
	BadRate
	// BadCron is a cron() expression Secrets Manager does not take;
	// Error.Why says which part.
	BadCron
	// BadWindow is a window that is not a whole number of hours ("4h").
	BadWindow
	// WindowRange is a window outside 1h–24h.
	WindowRange
	// WindowIntoNext is a window longer than the Error.Hours between
	// rotations.
	WindowIntoNext
	// WindowPastMidnight is a window opening at Error.Hours that runs
	// into the next UTC day.
	WindowPastMidnight
	// WindowWithoutSchedule is a window with AutomaticallyAfterDays
	// (Error.Days) instead of a schedule expression.
	WindowWithoutSchedule
)

// Error is a refused schedule or window.
type Error struct {
	Kind  Kind
	Input string // the schedule expression, days or window refused
	Why   string // BadRate, BadCron: what Secrets Manager takes that Input is not
	Hours int    // WindowIntoNext: the hours between rotations; WindowPastMidnight: the hour the window opens
	Days  int    // WindowWithoutSchedule: the AutomaticallyAfterDays
}

// Error says what Secrets Manager takes, in a sentence.
func (e *Error) Error() string {
	switch e.Kind {
	case BadDays:
		return fmt.Sprintf("Secrets Manager rotates every %d to %d days, not every %s.", MinDays, MaxDays, e.Input)
	case NotSchedule:
		return fmt.Sprintf(`%q is not a schedule Secrets Manager takes: a rate() or cron() expression, such as "rate(12 hours)", "rate(30 days)" or "cron(0 4 ? * SUN *)".`, e.Input)
	case BadRate:
		return fmt.Sprintf("%s is not a rate() expression Secrets Manager takes: %s", e.Input, e.Why)
	case BadCron:
		return fmt.Sprintf("%s is not a cron() expression Secrets Manager takes: %s", e.Input, e.Why)
	case BadWindow:
		return fmt.Sprintf(`A rotation window is a whole number of hours such as "4h", not %q.`, e.Input)
	case WindowRange:
		return fmt.Sprintf("A rotation window is 1h to %dh, not %s.", MaxWindowHours, e.Input)
	case WindowIntoNext:
		return fmt.Sprintf("A window of %s runs into the next rotation, %d hours later: Secrets Manager takes a window at most as long as the time between rotations.", e.Input, e.Hours)
	case WindowPastMidnight:
		return fmt.Sprintf("A window of %s opening at %02d:00 UTC runs into the next UTC day: Secrets Manager takes a window that closes by midnight UTC.", e.Input, e.Hours)
	case WindowWithoutSchedule:
		s := fmt.Sprintf("A window of %s opens according to a schedule expression: Secrets Manager takes no window with AutomaticallyAfterDays.", e.Input)
		if e.Days > MaxRateDays {
			return s + fmt.Sprintf(" The longest schedule expression is %s.", RateOfDays(e.Days))
		}
		return s + fmt.Sprintf(" The schedule expression %s rotates as AutomaticallyAfterDays %d does.", RateOfDays(e.Days), e.Days)
	}
	return fmt.Sprintf("rotation rule %q refused", e.Input)
}

// RateOfDays is the rate() expression that rotates every n days, as
// AutomaticallyAfterDays n does: rate(1 day), rate(n days), and for more
// than MaxRateDays the longest rate, rate(999 days).
func RateOfDays(n int) string {
	if n == 1 {
		return "rate(1 day)"
	}
	return fmt.Sprintf("rate(%d days)", min(n, MaxRateDays))
}

// Schedule is a schedule Secrets Manager takes.
type Schedule struct {
	// Starts are the UTC hours rotation windows open at, ascending, on
	// each day the schedule names: 0 for AutomaticallyAfterDays and
	// rate(), whose windows start at midnight.
	Starts []int
	// Gap is the shortest time between two rotations in hours, at most 24
	// (a window closes by the end of its UTC day).
	Gap int

	// days or hours is the period of AutomaticallyAfterDays (byDays) or of
	// a rate(); both 0 for a cron() expression.
	days, hours int
	byDays      bool
	cron        *cron // nil unless a cron() expression
}

// AfterDays checks an AutomaticallyAfterDays.
func AfterDays(n int64) (Schedule, error) {
	if n < MinDays || n > MaxDays {
		return Schedule{}, &Error{Kind: BadDays, Input: strconv.FormatInt(n, 10)}
	}
	return Schedule{Starts: []int{0}, Gap: 24, days: int(n), byDays: true}, nil
}

// rateRE is rate(value unit) as the guide writes it: one space, the units
// hour, hours, day and days.
var rateRE = regexp.MustCompile(`^rate\(([0-9]+) (hours?|days?)\)$`)

// Parse checks a ScheduleExpression.
func Parse(expr string) (Schedule, error) {
	if m := rateRE.FindStringSubmatch(expr); m != nil {
		return parseRate(expr, m[1], m[2])
	}
	if !strings.HasPrefix(expr, "cron(") {
		return Schedule{}, &Error{Kind: NotSchedule, Input: expr}
	}
	return parseCron(expr)
}

func parseRate(expr, value, unit string) (Schedule, error) {
	bad := func(format string, args ...any) (Schedule, error) {
		return Schedule{}, &Error{Kind: BadRate, Input: expr, Why: fmt.Sprintf(format, args...)}
	}
	n, _ := strconv.Atoi(value) // digits only: out of range, n is the largest int
	inHours := strings.HasPrefix(unit, "hour")
	switch {
	case n < 1 || value[0] == '0':
		return bad("the value is a whole number from 1, without leading zeros.")
	case (n == 1) != (unit == "hour" || unit == "day"):
		return bad("the unit is singular for 1 and plural above, as in rate(1 day) and rate(2 days).")
	case inHours && n < MinHours:
		return bad("rotations are at least %d hours apart.", MinHours)
	case inHours && n > MaxRateHours:
		return bad("a rate in hours is %d to %d hours; a day or more is written in days, rate(1 day) to rate(%d days).", MinHours, MaxRateHours, MaxRateDays)
	case !inHours && n > MaxRateDays:
		return bad("the longest rotation period is %d days.", MaxRateDays)
	case inHours:
		return Schedule{Starts: []int{0}, Gap: n, hours: n}, nil
	}
	return Schedule{Starts: []int{0}, Gap: 24, days: n}, nil
}

var windowRE = regexp.MustCompile(`^([0-9]{1,3})h$`)

// CheckWindow checks a window (Duration) for the schedule; the zero
// Schedule, for one that was refused, checks the window on its own.
func (s Schedule) CheckWindow(w string) error {
	m := windowRE.FindStringSubmatch(w)
	if m == nil {
		return &Error{Kind: BadWindow, Input: w}
	}
	n, _ := strconv.Atoi(m[1])
	switch {
	case n < 1 || n > MaxWindowHours:
		return &Error{Kind: WindowRange, Input: w}
	case s.byDays:
		return &Error{Kind: WindowWithoutSchedule, Input: w, Days: s.days}
	case len(s.Starts) == 0:
	case n > s.Gap:
		return &Error{Kind: WindowIntoNext, Input: w, Hours: s.Gap}
	case s.Starts[len(s.Starts)-1]+n > 24:
		return &Error{Kind: WindowPastMidnight, Input: w, Hours: s.Starts[len(s.Starts)-1]}
	}
	return nil
}
