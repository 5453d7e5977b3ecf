package provision

import (
	"slices"

	"github.com/secretboot/secretboot/policy"
)

// narrowBeforeValues orders each new value of an existing secret after
// the changes of the same plan that take reading it away from someone, so
// that a reader the spec removes never reads the value written with its
// removal:
//
//   - a resource policy change that narrows (narrowsResource) runs before
//     the secret's change, instead of after it, when the secret is live
//     (a deleted secret takes no policy until its change restores it);
//   - a read policy change that removes a grant reading the secret
//     (removesRead) runs before the secret's change.
//
// Changes that only broaden keep their order after the value, so a new
// reader never reads the value it replaces. A change that does both
// (one reader swapped for another) counts as narrowing: the new reader
// may read the outgoing value for the moment in between, the removed one
// never reads the new value. A narrowing change that fails leaves the
// value unwritten (its dependants are not attempted).
//
// No cycle can arise: a read policy waits only for its role, the stage
// key, other read policies and the secrets it names that are created by
// this apply, none of which waits for an existing secret's value; and a
// resource policy that runs first no longer waits for its secret.
func (df *differ) narrowBeforeValues() {
	at := make(map[string]int, len(df.changes))
	for i, c := range df.changes {
		at[c.ID] = i
	}
	for i := range df.changes {
		c := &df.changes[i]
		if c.Kind != KindSecret || c.Action == ActionCreate || c.Action == ActionDelete || !writesValue(c.Secret) {
			continue
		}
		var first []string
		if j, ok := at[changeID(KindResourcePolicy, c.Name)]; ok && c.Action == ActionUpdate && narrowsResource(df.changes[j].Resource) {
			rp := &df.changes[j]
			rp.DependsOn = slices.DeleteFunc(rp.DependsOn, func(id string) bool { return id == c.ID })
			first = append(first, rp.ID)
		}
		for _, pc := range df.changes {
			if pc.Kind == KindRolePolicy && removesRead(pc.Policy, c.Secret.ARN, df.in.Region) {
				first = append(first, pc.ID)
			}
		}
		slices.Sort(first)
		c.DependsOn = append(c.DependsOn, first...)
	}
}

// writesValue reports whether a secret change gives the secret a new
// AWSCURRENT value: a payload write or stage move, or a rotation started
// at once.
func writesValue(sc *SecretChange) bool {
	return sc.Payload != nil || sc.Rotation != nil && sc.Rotation.RotateImmediately
}

// removesRead reports whether a read policy change removes an Allow that
// lets its role read the value of the secret arn (in the stage's region),
// there or in a replica's region. The removed grant's conditions are ignored: a grant removed
// under conditions still took reading away from someone.
func removesRead(pc *PolicyChange, arn, region string) bool {
	if pc == nil || arn == "" {
		return false
	}
	for _, g := range pc.Grants {
		if g.Op != "remove" || g.Effect != policy.Allow {
			continue
		}
		grant := &policy.Document{Version: "2012-10-17", Statement: []policy.Statement{{
			Effect: policy.Allow, Action: policy.StringList{g.Action}, Resource: policy.StringList{ReplicaARN(g.Resource, region)},
		}}}
		req := policy.Request{Action: "secretsmanager:GetSecretValue", Resource: arn}
		if policy.Evaluate(policy.PolicySet{Identity: []*policy.Document{grant}}, req).Decision == policy.Allowed {
			return true
		}
	}
	return false
}

// narrowsResource reports whether a resource policy change on a live
// secret takes reading away from anyone: a first lock (it denies all but
// the readers), a principal dropped from the lock's exceptions or from
// the Allow of other accounts' readers, or the deletion of a lock that
// allowed other accounts' readers. A live document that is not
// secretboot's lock cannot be compared and counts as narrowing: the
// spec's lock goes on before the value.
func narrowsResource(rc *ResourcePolicyChange) bool {
	if rc.Live == "" {
		return rc.Document != ""
	}
	liveExempt, liveForeign, ok := lockOf(rc.Live)
	if !ok {
		return true
	}
	if rc.Document == "" {
		return len(liveForeign) > 0
	}
	wantExempt, wantForeign, ok := lockOf(rc.Document)
	return !ok || !subset(liveExempt, wantExempt) || !subset(liveForeign, wantForeign)
}

// lockOf reads a resource policy as policy.ResourcePolicy writes it: the
// principals its Deny of reading exempts, and those its Allow names (the
// readers of other accounts). ok is false for any other document.
func lockOf(doc string) (exempt, foreign []string, ok bool) {
	d, err := policy.Parse([]byte(doc))
	if err != nil || d == nil {
		return nil, nil, false
	}
	for _, st := range d.Statement {
		if st.Sid == policy.SidDenyReadExceptReaders && st.Effect == policy.Deny {
			exempt, ok = st.Condition["ArnNotEquals"]["aws:PrincipalArn"], true
		}
	}
	return exempt, allowedPrincipals(d), ok
}

func subset(a, b []string) bool {
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}
