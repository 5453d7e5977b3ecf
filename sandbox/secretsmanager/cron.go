package secretsmanager

import (
	"errors"

	"github.com/secretboot/secretboot/internal/rotationrules"
)

// checkRules refuses the rules package rotationrules refuses, the
// definition spec's validate shares (API reference, RotationRulesType;
// user guide, "Rotation schedules"; the stricter reading where AWS's
// answer is not recorded), and returns the schedule of rules it takes
// (the zero Schedule for none). Only the refusal of both kinds of
// schedule is in AWS's recorded words, and the refusal of bad days in
// moto's; the other messages are the sandbox's own.
func checkRules(r *rotationRules) (rotationrules.Schedule, *apiError) {
	if r == nil {
		return rotationrules.Schedule{}, nil
	}
	if r.AutomaticallyAfterDays != nil && r.ScheduleExpression != nil {
		// AWS's text (terraform-provider-aws issue #33329).
		return rotationrules.Schedule{}, invalidParam("You cannot specify both rotation frequency and schedule expression together.")
	}
	schedule, err := r.schedule()
	if err == nil && r.Duration != nil {
		if err = schedule.CheckWindow(*r.Duration); err == nil && r.ScheduleExpression == nil {
			// A window alone opens according to no schedule expression
			// either (AWS's answer is not recorded: the stricter reading).
			return rotationrules.Schedule{}, errWindowWithoutSchedule()
		}
	}
	if err != nil {
		return rotationrules.Schedule{}, refusal(err)
	}
	return schedule, nil
}

func errWindowWithoutSchedule() *apiError {
	return invalidParam("Duration requires a ScheduleExpression: the rotation window starts according to it.")
}

// refusal is the answer to rules rotationrules refuses with err.
func refusal(err error) *apiError {
	var e *rotationrules.Error
	errors.As(err, &e)
	switch e.Kind {
	case rotationrules.BadDays:
		return invalidParam("RotationRules.AutomaticallyAfterDays must be within 1-1000.") // moto's text
	case rotationrules.BadRate:
		return invalidParam("The schedule expression %s is not a valid rate() expression for Secrets Manager: %s", e.Input, e.Why)
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
	case rotationrules.WindowWithoutSchedule:
		return errWindowWithoutSchedule()
	default: // rotationrules.NotSchedule
		return invalidParam("The schedule expression %s is not a valid rate() or cron() expression.", e.Input)
	}
}

// schedule is the schedule rules set, parsed once: when RotateSecret takes
// them, or a state is restored.
func (r *rotationRules) schedule() (rotationrules.Schedule, error) {
	switch {
	case r == nil:
	case r.AutomaticallyAfterDays != nil:
		return rotationrules.AfterDays(*r.AutomaticallyAfterDays)
	case r.ScheduleExpression != nil:
		return rotationrules.Parse(*r.ScheduleExpression)
	}
	return rotationrules.Schedule{}, nil
}
