package provision

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/secretboot/secretboot/spec"
)

// CheckLimits reports the limits of the engine's own design that a spec can
// exceed, as diagnostics pointing at the spec, so that `validate` finds them
// before any AWS call (Diff refuses them too). Limits that AWS imposes on
// names and sizes are the spec package's; these follow from how secretboot
// keeps its state in AWS.
func CheckLimits(d *spec.Desired) hcl.Diagnostics {
	var external []*spec.Role
	for _, r := range d.Roles {
		if !r.Managed() {
			external = append(external, r)
		}
	}
	if len(external) <= MaxExternalRoles {
		return nil
	}
	first := external[MaxExternalRoles]
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Too many external roles",
		Detail: fmt.Sprintf("Stage %q names %d external roles, %d more than the %d a stage can hold: secretboot records each one "+
			"that holds the stage's read policy as a tag on the stage key secret, which holds at most 50 tags (3 for ownership, "+
			"2 kept spare). Role %q is the first over the limit. Use fewer external roles, or managed roles.",
			d.Stage, len(external), len(external)-MaxExternalRoles, MaxExternalRoles, first.Key),
		Subject: first.DeclRange.Ptr(),
	}}
}

func externalRoles(d *spec.Desired) int {
	n := 0
	for _, r := range d.Roles {
		if !r.Managed() {
			n++
		}
	}
	return n
}
