package provision

import (
	"fmt"

	"github.com/secretboot/secretboot/spec"
)

// ownsValue reports whether secretboot keeps a secret's value as declared
// (spec.Secret.ValueOwner). By default a secret with rotation enabled
// outside the spec belongs to its rotator: moving AWSCURRENT back or
// rewriting the value would undo every rotation.
func ownsValue(s *spec.Secret, os *ObservedSecret) bool {
	switch s.ValueOwner {
	case spec.ValueOwnerSecretboot:
		return true
	case spec.ValueOwnerRotation:
		return false
	}
	return !os.RotationEnabled
}

// rotationNote is the plan's note on a secret whose value a rotator may
// replace; "" when there is nothing to say: value_owner = "rotation"
// says it already.
func rotationNote(s *spec.Secret, os *ObservedSecret, regenerating bool) string {
	switch {
	case s.ValueOwner == spec.ValueOwnerRotation && regenerating:
		return fmt.Sprintf("secret %s: value_owner = %q: its value is the rotator's, so it is not regenerated", s.Name, spec.ValueOwnerRotation)
	case !os.RotationEnabled || s.ValueOwner == spec.ValueOwnerRotation:
		return ""
	case s.ValueOwner == spec.ValueOwnerSecretboot:
		return fmt.Sprintf("secret %s: rotation enabled outside the spec, and value_owner = %q: each rotation is undone", s.Name, spec.ValueOwnerSecretboot)
	}
	return fmt.Sprintf("secret %s: rotation enabled outside the spec: values are not restored (set value_owner = %q to say so, or %q to restore them)", s.Name, spec.ValueOwnerRotation, spec.ValueOwnerSecretboot)
}

// markNeeded is the tag change that marks a secret whose value a rotator
// keeps (TagMark), while its versions still prove it is the stage's:
// Secrets Manager keeps about 100 versions, and a rotator writes one per
// rotation, so the versions secretboot wrote do not last.
func (df *differ) markNeeded(s *spec.Secret, os *ObservedSecret) *TagChange {
	key := df.o.stageKey.Reveal()
	if len(key) == 0 || os.Deleted || !os.RotationEnabled && s.ValueOwner != spec.ValueOwnerRotation {
		return nil
	}
	mark := ownerMark(key, df.d, os.Name, os.ARN)
	if os.Tags[TagMark] == mark {
		return nil
	}
	return &TagChange{Key: TagMark, Old: os.Tags[TagMark], New: mark}
}
