package views

import (
	"strings"

	"github.com/secretboot/secretboot/provision"
)

// resourcePolicyAttrs describes a resource policy change as name/value
// pairs, in the order text and Markdown show them.
func resourcePolicyAttrs(c provision.Change) [][2]string {
	rc := c.Resource
	if rc == nil {
		return nil
	}
	var out [][2]string
	switch c.Action {
	case provision.ActionDelete:
		out = append(out, [2]string{"lock", "removed: the secret no longer opts in to a resource policy"})
	case provision.ActionUpdate:
		out = append(out, [2]string{"drift", "the live policy differs from the spec's (changed outside secretboot); it is replaced"})
		fallthrough
	default:
		out = append(out,
			[2]string{"readers", shortPrincipals(rc.Readers)},
			[2]string{"admins", shortPrincipals(rc.Admins)},
			[2]string{"lock", "every other principal is denied GetSecretValue; only the admins may change the policy"})
	}
	for _, p := range rc.Broadens {
		out = append(out, [2]string{"allows", p + " of another account  BROADENS"})
	}
	if rc.Record != nil {
		out = append(out, [2]string{"tag", tagChange(*rc.Record)})
	}
	return out
}

// shortPrincipals names principals by their ARN's resource part
// ("role/ci/deployer"); "none" for none.
func shortPrincipals(arns []string) string {
	if len(arns) == 0 {
		return "none"
	}
	out := make([]string, len(arns))
	for i, a := range arns {
		if j := strings.LastIndex(a, ":"); j >= 0 {
			a = a[j+1:]
		}
		out[i] = a
	}
	return strings.Join(out, ", ")
}

// resourcePolicyDetails is a resource policy change in one table cell.
func resourcePolicyDetails(c provision.Change) []string {
	var parts []string
	for _, a := range resourcePolicyAttrs(c) {
		parts = append(parts, a[0]+" "+a[1])
	}
	return parts
}
