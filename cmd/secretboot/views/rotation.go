package views

import (
	"strings"

	"github.com/secretboot/secretboot/provision"
)

// RotationSummary says what a plan does to a secret's rotation: the
// operation, the function and schedule that change, whether it rotates at
// once, and which fields the rotator owns.
func RotationSummary(rc *provision.RotationChange) string {
	parts := []string{rc.Op}
	if rc.Op == provision.RotationCancel {
		if rc.Function != nil {
			parts = append(parts, "function "+quote(rc.Function.Old))
		}
		return strings.Join(parts, " · ")
	}
	if rc.Function != nil {
		parts = append(parts, "function "+valueChange(rc.Function))
	}
	if rc.Schedule != nil {
		parts = append(parts, "schedule "+valueChange(rc.Schedule))
	}
	if rc.RotateImmediately {
		parts = append(parts, "rotates at once")
	}
	if len(rc.Fields) > 0 {
		parts = append(parts, "rotator owns "+strings.Join(rc.Fields, ", "))
	} else {
		parts = append(parts, "rotator owns the whole value")
	}
	return strings.Join(parts, " · ")
}
