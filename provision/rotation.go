package provision

import (
	"fmt"

	"github.com/secretboot/secretboot/spec"
)

// ownsValue reports whether secretboot keeps a secret's value as declared.
// A secret with rotation enabled outside the spec belongs to its rotator:
// moving AWSCURRENT back or rewriting the value would undo every rotation.
func ownsValue(s *spec.Secret, os *ObservedSecret) bool {
	return !os.RotationEnabled
}

// rotationWarning is the plan's note on a secret whose value secretboot
// leaves to a rotator.
func rotationWarning(s *spec.Secret, os *ObservedSecret, regenerating bool) string {
	w := fmt.Sprintf("secret %s: rotation enabled outside the spec: values are not restored", s.Name)
	if regenerating {
		w += " (nor regenerated)"
	}
	return w
}
