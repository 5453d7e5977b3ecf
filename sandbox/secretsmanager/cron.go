package secretsmanager

import (
	"errors"

	"github.com/secretboot/secretboot/internal/rotationrules"
)

// checkRules refuses the rules AWS refuses (API reference,
// RotationRulesType; user guide, "Rotation schedules"): both kinds of
// schedule, and whatever package rotationrules refuses, the definition
// spec's validate shares (a rate of fewer than four hours or more than
// 1000 days, a cron() expression Secrets Manager does not take, a window
// that is not 1h–24h, runs into the next UTC day or into the next
// rotation's window), in AWS's words.
func checkRules(r *rotationRules) *apiError {
	if r == nil {
		return nil
	}
	if r.AutomaticallyAfterDays != nil && r.ScheduleExpression != nil {
		// AWS's text (terraform-provider-aws issue #33329).
		return invalidParam("You cannot specify both rotation frequency and schedule expression together.")
	}
	// A window alone opens at midnight and is a day from the next.
	schedule, err := rotationrules.AfterDays(1)
	switch {
	case r.AutomaticallyAfterDays != nil:
		schedule, err = rotationrules.AfterDays(*r.AutomaticallyAfterDays)
	case r.ScheduleExpression != nil:
		schedule, err = rotationrules.Parse(*r.ScheduleExpression)
	}
	if err == nil && r.Duration != nil {
		err = schedule.CheckWindow(*r.Duration)
	}
	var e *rotationrules.Error
	if !errors.As(err, &e) {
		return nil
	}
	switch e.Kind {
	case rotationrules.BadDays:
		return invalidParam("AutomaticallyAfterDays must be 1 to 1000.")
	case rotationrules.BadRate:
		return invalidParam("The schedule expression %s is outside the allowed range: from 4 hours to 1000 days.", e.Input)
	case rotationrules.BadCron:
		return invalidParam("The schedule expression %s is not a valid cron() expression for Secrets Manager: %s", e.Input, e.Why)
	case rotationrules.BadWindow:
		return invalidParam("Duration must be a number of hours such as 3h.")
	case rotationrules.WindowRange:
		return invalidParam("Duration must be 1h to 24h.")
	case rotationrules.WindowIntoNext:
		return invalidParam("The rotation window (%s) extends into the next rotation window, %d hours later.", e.Input, e.Hours)
	case rotationrules.WindowPastMidnight:
		return invalidParam("The rotation window (%s) opening at %02d:00 UTC extends into the next UTC day.", e.Input, e.Hours)
	default: // rotationrules.NotSchedule
		return invalidParam("The schedule expression %s is not a valid rate() or cron() expression.", e.Input)
	}
}
