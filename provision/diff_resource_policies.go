package provision

import (
	"errors"
	"fmt"
	"github.com/secretboot/secretboot/policy"
	"slices"
	"strings"
)

// resourcePolicies plans each declared secret's resource policy: put
// where the secret opts in and the live policy differs (a policy changed
// outside secretboot is restored), deleted where the secret opts out and
// still carries secretboot's (TagResourcePolicy). Destroy plans none: the
// policy goes with its secret. Secrets the stage does not own are
// reported by secrets() and left alone.
func (df *differ) resourcePolicies() {
	if df.opts.Destroy {
		return
	}
	d := df.d
	admins := slices.Sorted(slices.Values(resourcePolicyAdmins(d)))
	locks := false
	for i, s := range d.Secrets {
		ref, si := df.in.Secrets[i], df.in.secrets[s.Name]
		os := si.live
		if s.Name == StageKeyName(d) || os != nil && !si.owned {
			continue
		}
		rc := &ResourcePolicyChange{}
		c := Change{Kind: KindResourcePolicy, Name: s.Name, DependsOn: df.dep(KindSecret, s.Name), Resource: rc}
		var want string
		if ref.Resource != nil {
			want = string(ref.Resource.Canonical())
			rc.Readers, rc.Admins = resourcePolicyReaders(df.in.Roles, s), admins
		}
		tagged := os != nil && os.Tags[TagResourcePolicy] != ""
		switch {
		case os == nil || os.Deleted:
			// Not read: a new secret has none, a restored one gets its
			// policy written whole, and a restored one that no longer opts
			// in loses the policy it was deleted with (its tag says it has
			// one), or it would keep admitting the readers that policy
			// named.
			switch {
			case want != "":
				c.Action = ActionCreate
			case tagged:
				c.Action = ActionDelete
			default:
				continue
			}
		case want != "":
			live := canonicalOf(df.o.ResourcePolicies[s.Name])
			if live == want && tagged {
				continue
			}
			c.Action, rc.Live = ActionUpdate, live
			if live == "" {
				c.Action = ActionCreate
			}
		case tagged:
			c.Action, rc.Live = ActionDelete, canonicalOf(df.o.ResourcePolicies[s.Name])
		default:
			continue
		}
		if os != nil {
			rc.ARN = os.ARN
		}
		rc.Document = want
		rc.Broadens = newlyAllowed(ref.Resource, rc.Live)
		switch {
		case want != "" && !tagged:
			rc.Record = &TagChange{Key: TagResourcePolicy, New: tagResourcePolicyValue}
		case want == "" && tagged:
			rc.Record = &TagChange{Key: TagResourcePolicy, Old: os.Tags[TagResourcePolicy], Removed: true}
		}
		locks = locks || want != ""
		df.add(c)
	}
	if locks && !callerIn(df.o.CallerARN, admins) {
		// Usually a deployer_arn that is not the deployer's, which would
		// lock the real one out with the first put. A review plan
		// (NoPayloads) writes nothing, so there it is a note.
		msg := fmt.Sprintf("the caller %s is neither the stage's deployer (%s) nor a break-glass principal, so the resource policies this plan puts would lock it out of the stage's secrets and of their resource policies", df.o.CallerARN, d.DeployerARN)
		if df.opts.NoPayloads {
			df.warnings = append(df.warnings, msg)
		} else {
			df.errs = append(df.errs, errors.New(msg+"; apply as the deployer, or correct deployer_arn (the role's ARN with its path), or name the caller in break_glass"))
		}
	}
}

// callerIn reports whether the caller (a user ARN, or an assumed-role
// session ARN, whose aws:PrincipalArn is its role's ARN) is one of the
// principals arns; a session matches a role of its name in its account
// whatever the role's path, which the session ARN does not show.
func callerIn(caller string, arns []string) bool {
	if slices.Contains(arns, caller) {
		return true
	}
	rest, ok := strings.CutPrefix(caller, "arn:")
	if !ok {
		return false
	}
	parts := strings.SplitN(rest, ":", 5) // partition, service, region, account, resource
	if len(parts) != 5 || parts[1] != "sts" {
		return false
	}
	session, ok := strings.CutPrefix(parts[4], "assumed-role/")
	if !ok {
		return false
	}
	role, _, _ := strings.Cut(session, "/")
	for _, a := range arns {
		prefix := "arn:" + parts[0] + ":iam::" + parts[3] + ":role/"
		if p, ok := strings.CutPrefix(a, prefix); ok && (p == role || strings.HasSuffix(p, "/"+role)) {
			return true
		}
	}
	return false
}

// newlyAllowed lists the principals that want's Allow statements name and
// live's do not, sorted: readers of another account that the change
// lets in. A live document that does not parse allows nobody, so every
// principal counts.
func newlyAllowed(want *policy.Document, live string) []string {
	if want == nil {
		return nil
	}
	had := map[string]bool{}
	if doc, err := policy.Parse([]byte(live)); live != "" && err == nil {
		for _, p := range allowedPrincipals(doc) {
			had[p] = true
		}
	}
	var out []string
	for _, p := range allowedPrincipals(want) {
		if !had[p] {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func allowedPrincipals(d *policy.Document) []string {
	var out []string
	for _, st := range d.Statement {
		if st.Effect == policy.Allow && st.Principal != nil {
			out = append(out, st.Principal.Values["AWS"]...)
		}
	}
	return out
}
