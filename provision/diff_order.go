package provision

import (
	"bytes"
	"slices"
	"strings"

	"github.com/secretboot/secretboot/policy"
)

// narrowBeforeValues orders each new value of an existing secret after
// the changes of the same plan that take reading it away from someone, so
// that a reader the spec removes does not read the value written with its
// removal:
//
//   - a resource policy change that narrows (narrowsResource) runs before
//     the secret's change, instead of after it, when the secret is live;
//     a restored secret takes no policy until it is restored, so its
//     change puts the policy itself, between RestoreSecret and the value
//     (apply's restoreLocks);
//   - a read policy change that removes a grant reading the secret
//     (readRemovals) runs before the secret's change.
//
// This is best effort within IAM's propagation: IAM and resource policies
// are eventually consistent, and a removed reader may still read for a
// moment after the call that removed it has answered. Apply therefore
// starts such a value ApplyOptions.Settle (10 s) after the last of these
// changes ended, which covers what AWS usually takes, not every case.
//
// A resource policy change that only broadens keeps its order after the
// value, so a reader it lets in never reads the value the new one
// replaces. A read policy change that only broadens keeps its own order
// (after its role and the secrets it names that this apply creates), not
// after the values: a read policy swapping one secret for another would
// then wait for a value that waits for it. A change that does both (one
// reader swapped for another) counts as narrowing: the new reader may
// read the outgoing value for the moment in between. A narrowing change that fails leaves the
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
	removed := indexReadRemovals(df.changes, df.in.Region)
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
		first = append(first, removed.of(c.Secret.ARN)...)
		slices.Sort(first)
		c.DependsOn = append(c.DependsOn, slices.Compact(first)...)
	}
}

// readRemovals are the read policy changes of a plan that remove an Allow
// reading a secret's value (GetSecretValue), in the stage's region or in
// a replica's: by the exact ARN the grant names in the stage's region,
// and, for the rare grant with wildcards in its resource, by pattern. A
// removed grant's conditions are ignored: a grant removed under
// conditions still took reading away from someone.
type readRemovals struct {
	exact    map[string][]string // secret ARN → change IDs
	patterns []readRemoval
}

type readRemoval struct {
	grant *policy.Document // the removed grant, in the stage's region
	id    string
}

// indexReadRemovals indexes the removed grants of changes once, so that
// each secret looks its own up instead of scanning every change (a plan
// can hold 10,000 of each).
func indexReadRemovals(changes []Change, region string) readRemovals {
	r := readRemovals{exact: map[string][]string{}}
	readingActions := map[string]bool{} // action → whether it reads a value
	for _, c := range changes {
		if c.Kind != KindRolePolicy || c.Policy == nil {
			continue
		}
		for _, g := range c.Policy.Grants {
			if g.Op != "remove" || g.Effect != policy.Allow {
				continue
			}
			// A NotAction or NotResource grant (a read policy edited by
			// hand, policy.Grants) is kept whole, not as a list: it counts
			// as reading every secret, which may order more than needed,
			// never less.
			action, resource := g.Action, ReplicaARN(g.Resource, region)
			if strings.HasPrefix(action, "NotAction:") {
				action = "*"
			}
			if strings.HasPrefix(g.Resource, "NotResource:") {
				resource = "*"
			}
			readsValue, known := readingActions[action]
			if !known {
				readsValue = reads(allows(action, "*"), anySecret)
				readingActions[action] = readsValue
			}
			if !readsValue {
				continue
			}
			if strings.ContainsAny(resource, "*?") {
				r.patterns = append(r.patterns, readRemoval{allows(action, resource), c.ID})
			} else {
				r.exact[resource] = append(r.exact[resource], c.ID)
			}
		}
	}
	return r
}

// of returns the IDs of the changes that remove reading the secret arn.
func (r readRemovals) of(arn string) []string {
	if arn == "" {
		return nil
	}
	ids := slices.Clone(r.exact[arn])
	for _, p := range r.patterns {
		if reads(p.grant, arn) {
			ids = append(ids, p.id)
		}
	}
	return ids
}

// anySecret stands for every secret where only a grant's action matters.
const anySecret = "arn:aws:secretsmanager:us-east-1:000000000000:secret:any-AbCdEf"

func allows(action, resource string) *policy.Document {
	return &policy.Document{Version: "2012-10-17", Statement: []policy.Statement{{
		Effect: policy.Allow, Action: policy.StringList{action}, Resource: policy.StringList{resource},
	}}}
}

// reads reports whether doc lets its holder read the value of the secret
// arn.
func reads(doc *policy.Document, arn string) bool {
	req := policy.Request{Action: "secretsmanager:GetSecretValue", Resource: arn}
	return policy.Evaluate(policy.PolicySet{Identity: []*policy.Document{doc}}, req).Decision == policy.Allowed
}

// writesValue reports whether a secret change gives the secret a new
// AWSCURRENT value: a payload write or stage move, or a rotation started
// at once.
func writesValue(sc *SecretChange) bool {
	return sc.Payload != nil || sc.Rotation != nil && sc.Rotation.RotateImmediately
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
// readers of other accounts). ok is false for any other document, one
// with a statement added or changed by hand included: it is the one
// policy.ResourcePolicy rebuilds from the principals it names, or not
// secretboot's.
func lockOf(doc string) (exempt, foreign []string, ok bool) {
	d, err := policy.Parse([]byte(doc))
	if err != nil || d == nil {
		return nil, nil, false
	}
	var admins []string
	for _, st := range d.Statement {
		switch {
		case st.Sid == policy.SidDenyReadExceptReaders && st.Effect == policy.Deny:
			exempt = st.Condition["ArnNotEquals"]["aws:PrincipalArn"]
		case st.Sid == policy.SidDenyPolicyChangesExcept && st.Effect == policy.Deny:
			admins = st.Condition["ArnNotEquals"]["aws:PrincipalArn"]
		}
	}
	foreign = allowedPrincipals(d)
	rebuilt := policy.ResourcePolicy(exempt, admins, foreign...)
	if rebuilt == nil || !bytes.Equal(rebuilt.Canonical(), d.Canonical()) {
		return nil, nil, false
	}
	return exempt, foreign, true
}

func subset(a, b []string) bool {
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}
