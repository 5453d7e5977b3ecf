package render

import (
	"sort"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
)

// TrustSummary says how a role's trust policy changes: the principals it
// starts and stops trusting, or, when they stay, that only the policy
// around them changes.
func TrustSummary(rc *provision.RoleChange) string {
	if rc == nil || rc.Trust == nil {
		return ""
	}
	old, now := trusted(rc.Trust.Old), trusted(rc.Trust.New)
	var parts []string
	for _, p := range now {
		if !contains(old, p) {
			parts = append(parts, "+ "+p)
		}
	}
	for _, p := range old {
		if !contains(now, p) {
			parts = append(parts, "- "+p)
		}
	}
	if len(parts) == 0 {
		return "policy changes, principals stay: " + strings.Join(now, ", ")
	}
	return strings.Join(parts, ", ")
}

// trusted lists the principals a trust policy allows, as "<service>" for
// a service and "<type> <value>" for the others, sorted; a document that
// does not parse (written outside secretboot) trusts what it says, which
// is shown as "(unreadable policy)".
func trusted(doc string) []string {
	if doc == "" {
		return nil
	}
	d, err := policy.Parse([]byte(doc))
	if err != nil {
		return []string{"(unreadable policy)"}
	}
	seen := map[string]bool{}
	for _, s := range d.Statement {
		if s.Effect != policy.Allow || s.Principal == nil {
			continue
		}
		if s.Principal.Wildcard {
			seen["* (anyone)"] = true
		}
		for typ, values := range s.Principal.Values {
			for _, v := range values {
				if typ == "Service" {
					seen[v] = true
				} else {
					seen[typ+" "+v] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
