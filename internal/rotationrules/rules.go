// Package rotationrules is the one definition of the rotation rules
// Secrets Manager takes in RotateSecret's RotationRules. spec's validate
// refuses with it exactly what the sandbox's RotateSecret refuses with it,
// so a schedule or window that validates is never refused at apply time,
// after other changes were made (promise 4). The sandbox also computes
// with it when a cron() schedule comes due.
//
// Sources: the Secrets Manager user guide, "Rotation schedules"
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html),
// and the API reference, RotationRulesType:
//   - AutomaticallyAfterDays is 1–1000;
//   - rate(n hours) or rate(n days), from four hours to 1000 days;
//   - cron(minutes hours day-of-month month day-of-week year) in UTC, with
//     0 in the minutes (windows open on the hour), * in the year, exactly
//     one of the day fields ?, and rotations at least four hours apart;
//     increments of hours restart each day, so cron(0 2/10 * * ? *) is
//     22:00 then 02:00 the next day (cron.go);
//   - a window (Duration) of whole hours, 1h–24h, at most as long as the
//     time between rotations and closing by midnight UTC.
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
	MaxDays        = 1000
	MinHours       = 4 // the shortest time between two rotations
	MaxWindowHours = 24
)

// Kind is the rule a refused schedule or window breaks.
type Kind int

const (
	// BadDays is an AutomaticallyAfterDays outside MinDays–MaxDays.
	BadDays Kind = iota + 1
	// NotSchedule is an expression that is neither rate() nor cron().
	NotSchedule
	// BadRate is a rate() outside four hours to 1000 days.
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
)

// Error is a refused schedule or window.
type Error struct {
	Kind  Kind
	Input string // the schedule expression, days or window refused
	Why   string // BadCron: what Secrets Manager takes that Input is not
	Hours int    // WindowIntoNext: the hours between rotations; WindowPastMidnight: the hour the window opens
}

// Error says what Secrets Manager takes, in a sentence.
func (e *Error) Error() string {
	switch e.Kind {
	case BadDays:
		return fmt.Sprintf("Secrets Manager rotates every %d to %d days, not every %s.", MinDays, MaxDays, e.Input)
	case NotSchedule:
		return fmt.Sprintf(`%q is not a schedule Secrets Manager takes: a rate() or cron() expression, such as "rate(12 hours)", "rate(30 days)" or "cron(0 4 ? * SUN *)".`, e.Input)
	case BadRate:
		return fmt.Sprintf("%s is outside what Secrets Manager takes: a rate() from %d hours to %d days.", e.Input, MinHours, MaxDays)
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
	}
	return fmt.Sprintf("rotation rule %q refused", e.Input)
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

	cron *cron // nil unless a cron() expression
}

// AfterDays checks an AutomaticallyAfterDays.
func AfterDays(n int64) (Schedule, error) {
	if n < MinDays || n > MaxDays {
		return Schedule{}, &Error{Kind: BadDays, Input: strconv.FormatInt(n, 10)}
	}
	return Schedule{Starts: []int{0}, Gap: 24}, nil
}

var rateRE = regexp.MustCompile(`^rate\(([0-9]+) (hours?|days?)\)$`)

// Parse checks a ScheduleExpression.
func Parse(expr string) (Schedule, error) {
	if m := rateRE.FindStringSubmatch(expr); m != nil {
		n, err := strconv.Atoi(m[1])
		inHours := strings.HasPrefix(m[2], "hour")
		switch {
		case err != nil, !inHours && (n < MinDays || n > MaxDays), inHours && (n < MinHours || n > 24*MaxDays):
			return Schedule{}, &Error{Kind: BadRate, Input: expr}
		case inHours:
			return Schedule{Starts: []int{0}, Gap: min(n, 24)}, nil
		}
		return Schedule{Starts: []int{0}, Gap: 24}, nil
	}
	if !strings.HasPrefix(expr, "cron(") {
		return Schedule{}, &Error{Kind: NotSchedule, Input: expr}
	}
	return parseCron(expr)
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
	case len(s.Starts) == 0:
	case n > s.Gap:
		return &Error{Kind: WindowIntoNext, Input: w, Hours: s.Gap}
	case s.Starts[len(s.Starts)-1]+n > 24:
		return &Error{Kind: WindowPastMidnight, Input: w, Hours: s.Starts[len(s.Starts)-1]}
	}
	return nil
}
