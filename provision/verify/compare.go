package verify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/secretboot/secretboot/policy"
)

// DifferenceKind says how a cell differs from what the spec intends.
type DifferenceKind string

// Kinds of differences.
const (
	// Extra: allowed, though the spec does not grant it.
	Extra DifferenceKind = "extra"
	// Missing: the spec grants it, but it is denied.
	Missing DifferenceKind = "missing"
	// Unverified: the role or the secret does not exist, so nothing
	// could be checked; one difference stands for all its cells.
	Unverified DifferenceKind = "unverified"
)

// Difference is one disagreement between two matrices.
type Difference struct {
	Kind     DifferenceKind `json:"kind"`
	Role     string         `json:"role,omitempty"`   // role key; "" when a secret is unverified for every role
	Secret   string         `json:"secret,omitempty"` // secret name; "" when a role is unverified
	Action   string         `json:"action,omitempty"` // "" for unverified
	Decision string         `json:"decision,omitempty"`
	Sources  []string       `json:"sources,omitempty"`
	Reason   string         `json:"reason,omitempty"` // why a cell is unverified
	// CrossAccount marks the unverified other side of a cross-account
	// reader, which no check in this account can prove: it does not fail
	// verify (Result.CrossAccount).
	CrossAccount bool `json:"cross_account,omitempty"`
}

// accountOf is the account of an IAM ARN.
func accountOf(arn string) string {
	if f := strings.SplitN(arn, ":", 6); len(f) == 6 {
		return f[4]
	}
	return ""
}

// String describes the difference in one line.
func (d Difference) String() string {
	switch d.Kind {
	case Extra:
		s := fmt.Sprintf("extra access: role %s may %s on %s, which the spec does not grant", d.Role, d.Action, d.Secret)
		if len(d.Sources) > 0 {
			s += fmt.Sprintf(" (allowed by %s)", strings.Join(d.Sources, ", "))
		}
		return s
	case Missing:
		s := fmt.Sprintf("missing access: role %s may not %s on %s, which the spec grants", d.Role, d.Action, d.Secret)
		if d.Decision == string(policy.ExplicitDeny) {
			s += " (explicitly denied"
			if len(d.Sources) > 0 {
				s += " by " + strings.Join(d.Sources, ", ")
			}
			s += ")"
		}
		return s
	}
	return "not verified: " + d.Reason
}

// Compare lists where actual differs from expected, sorted by role, secret
// and action: cells allowed beyond the spec (Extra), grants the spec makes
// that are denied (Missing), and, for each role or secret that actual
// could not check, one Unverified. Cells of actual that expected does not
// have (secrets outside the spec) count as Extra when allowed.
func Compare(expected, actual *Matrix) []Difference {
	var out []Difference
	roles := map[string]Role{}
	for _, r := range actual.Roles {
		roles[r.Key] = r
	}
	secretExists := map[string]bool{}
	for _, s := range actual.Secrets {
		secretExists[s.Name] = s.Exists
	}
	cross := map[string]Role{}
	for _, r := range expected.Roles {
		if r.CrossAccount {
			cross[r.Key] = r
		}
	}
	unverified := map[[2]string]bool{}
	for _, e := range expected.Cells {
		a, ok := actual.Lookup(e.Role, e.Secret, e.Action)
		switch {
		case !ok:
			var key [2]string
			var reason string
			switch r := roles[e.Role]; {
			case cross[e.Role].CrossAccount:
				r := cross[e.Role]
				key, reason = [2]string{e.Role, ""}, fmt.Sprintf("cross-account role %s (%s) cannot be checked from this account: in account %s, check that the role holds the identity policy of its .cross-account.json reviewer file, and that the owner of each customer managed key it decrypts added the statements of the key's .key-policy.json file", e.Role, r.ARN, accountOf(r.ARN))
			case !r.Exists && r.External:
				key, reason = [2]string{e.Role, ""}, fmt.Sprintf("external role %s (%s) does not exist or cannot be read", e.Role, r.ARN)
			case !r.Exists:
				key, reason = [2]string{e.Role, ""}, fmt.Sprintf("role %s does not exist yet (run apply)", e.Role)
			case !secretExists[e.Secret]:
				key, reason = [2]string{"", e.Secret}, fmt.Sprintf("secret %s does not exist yet (run apply)", e.Secret)
			default:
				key, reason = [2]string{e.Role, e.Secret}, fmt.Sprintf("no decision for role %s on secret %s", e.Role, e.Secret)
			}
			if !unverified[key] {
				unverified[key] = true
				out = append(out, Difference{Kind: Unverified, Role: key[0], Secret: key[1], Reason: reason, CrossAccount: cross[e.Role].CrossAccount})
			}
		case a.Allowed && !e.Allowed:
			out = append(out, Difference{Kind: Extra, Role: e.Role, Secret: e.Secret, Action: e.Action, Decision: a.Decision, Sources: a.Sources})
		case !a.Allowed && e.Allowed:
			out = append(out, Difference{Kind: Missing, Role: e.Role, Secret: e.Secret, Action: e.Action, Decision: a.Decision, Sources: a.Sources})
		}
	}
	for _, a := range actual.Cells {
		if _, ok := expected.Lookup(a.Role, a.Secret, a.Action); !ok && a.Allowed {
			out = append(out, Difference{Kind: Extra, Role: a.Role, Secret: a.Secret, Action: a.Action, Decision: a.Decision, Sources: a.Sources})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return cellLess(Cell{Role: out[i].Role, Secret: out[i].Secret, Action: out[i].Action},
			Cell{Role: out[j].Role, Secret: out[j].Secret, Action: out[j].Action})
	})
	return out
}
