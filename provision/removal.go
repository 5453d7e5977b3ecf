package provision

import (
	"strconv"

	"github.com/secretboot/secretboot/spec"
)

// TagRecoveryWindow records a secret's declared recovery window on the
// secret itself, so that the plan that schedules its deletion after it
// left the spec still knows it: ListSecrets returns tags at no extra
// cost. It is written only for a window other than AWS's default.
const TagRecoveryWindow = "secretboot:recovery-window-days"

// defaultRecoveryDays is AWS's recovery window when none is given.
const defaultRecoveryDays = 30

// recoveryDays is the window for deleting a secret: the spec's when it
// still names the secret (destroy), else the one recorded on the secret,
// else AWS's default.
func recoveryDays(d *spec.Desired, os *ObservedSecret) int {
	for _, s := range d.Secrets {
		if s.Name == os.Name && s.RecoveryWindowDays != 0 {
			return s.RecoveryWindowDays
		}
	}
	if n, err := strconv.Atoi(os.Tags[TagRecoveryWindow]); err == nil && n >= 7 && n <= 30 {
		return n
	}
	return defaultRecoveryDays
}

// owns reports whether an observed secret is the stage's: tagged as its,
// and proven so by a version secretboot wrote or an adoption mark. While
// the stage key is unknown (before the first apply, or when it is
// scheduled for deletion) nothing can be proven either way, and the tags
// decide as they did before keys existed; only deletion asks more (see
// (*differ).secrets): before the first apply nothing is deleted.
func (o *Observed) owns(d *spec.Desired, os *ObservedSecret) bool {
	if !ownedBy(os.Tags, d) {
		return false
	}
	key := o.stageKey.Reveal()
	return len(key) == 0 || proven(key, d, os)
}

func (df *differ) owns(os *ObservedSecret) bool { return df.o.owns(df.d, os) }
