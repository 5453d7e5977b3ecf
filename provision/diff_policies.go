package provision

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/secretboot/secretboot/policy"
)

// policies compares each role's intended read policy with what it holds,
// and removes the read policy of roles that are going away.
func (df *differ) policies() {
	d, o := df.d, df.o
	for _, r := range d.Roles {
		rd := df.in.role(r.Key)
		if !rd.placed {
			continue
		}
		live := rd.live
		roleName := r.Name
		if !r.Managed() {
			roleName = live.Name
		}
		pc := &PolicyChange{Role: roleName, PolicyName: readPolicyName(d, r), External: !r.Managed()}
		want := rd
		if df.opts.Destroy || rd.Read == nil {
			want = nil
		}
		c, ok, err := df.readPolicyChange(pc, live, want, partBase(d, roleName, !r.Managed()))
		if err != nil {
			df.errs = append(df.errs, err)
			continue
		}
		if !r.Managed() {
			c, ok = df.record(c, ok, live, want != nil)
		}
		if !ok {
			continue
		}
		if r.Managed() && c.Action != ActionDelete {
			c.DependsOn = append(c.DependsOn, df.dep(KindRole, r.Name)...)
		}
		if want != nil {
			for _, s := range want.Pending {
				c.DependsOn = append(c.DependsOn, df.dep(KindSecret, s)...)
			}
		}
		df.add(c)
	}
	// Policies on roles that are going away.
	for _, name := range df.staleRoles {
		if df.ids[changeID(KindRolePolicy, name+"/"+ReadPolicyName)] {
			continue
		}
		pc := &PolicyChange{Role: name, PolicyName: ReadPolicyName}
		if c, ok, _ := df.readPolicyChange(pc, o.Roles[name], nil, partBase(d, name, false)); ok {
			df.add(c)
		}
	}
}

// record brings an external role's record on the stage key in line with
// whether the role keeps the stage's read policy (holds): a role that gets
// or keeps the policy must be recorded, with its current ARN, and one that
// loses it must not stay recorded. The record goes into the policy change
// (PolicyChange.Record), which apply writes before putting the policy and
// removes after deleting it; when the policy itself is in sync, a change
// that only records is made. ok says whether c is a change already.
func (df *differ) record(c Change, ok bool, live *ObservedRole, holds bool) (Change, bool) {
	key, value := externalTag(live.Name, live.ARN)
	old, recorded := df.o.StageKey.tagValue(key)
	var rec *TagChange
	switch {
	case holds && old != value:
		rec = &TagChange{Key: key, Old: old, New: value}
	case !holds && recorded && !df.opts.Destroy:
		// On destroy the records go with the stage key.
		rec = &TagChange{Key: key, Old: old, Removed: true}
	}
	if rec == nil {
		return c, ok
	}
	if !ok {
		c = Change{Kind: KindRolePolicy, Name: c.Name, Action: ActionUpdate,
			Policy: &PolicyChange{Role: c.Policy.Role, PolicyName: c.Policy.PolicyName, External: true}}
	}
	c.Policy.Record = rec
	// The stage key may be created or restored by this apply.
	c.DependsOn = append(c.DependsOn, df.dep(KindStageKey, StageKeyName(df.d))...)
	return c, true
}

// tagValue is a tag of an observed secret; a nil secret has none.
func (s *ObservedSecret) tagValue(key string) (string, bool) {
	if s == nil {
		return "", false
	}
	v, ok := s.Tags[key]
	return v, ok
}

// forgottenPolicies plans the removal of the read policy from recorded
// external roles the spec no longer names, and of their records. The
// grants removed show the plan narrowing access.
func (df *differ) forgottenPolicies() {
	d := df.d
	var deletes []string
	for _, name := range sortedKeys(df.o.Forgotten) {
		live := df.o.Forgotten[name]
		pc := &PolicyChange{Role: name, PolicyName: externalPolicyName(d), External: true}
		c, ok, _ := df.readPolicyChange(pc, live, nil, partBase(d, name, true))
		if c, ok = df.record(c, ok, live, false); ok {
			df.add(c)
			deletes = append(deletes, changeID(c.Kind, c.Name))
		}
	}
	df.roomForRecords()
	// Destroy keeps the stage key until the policies its records lead to
	// are gone, so a failed removal is found again by the next destroy.
	if !df.opts.Destroy {
		return
	}
	for _, c := range df.changes {
		if c.Kind == KindRolePolicy && c.Policy.External && !contains(deletes, c.ID) {
			deletes = append(deletes, c.ID)
		}
	}
	sort.Strings(deletes)
	for i := range df.changes {
		if c := &df.changes[i]; c.Kind == KindStageKey && c.Action == ActionDelete {
			c.DependsOn = append(c.DependsOn, deletes...)
		}
	}
}

// maxRecords is how many records the stage key's tags can hold besides
// its 3 ownership tags.
const maxRecords = 50 - 3

// roomForRecords orders new records after the removal of old ones when
// both together would not fit the stage key's tags: a spec that swaps many
// external roles at once then loses the old grants before it records the
// new roles, which only ever narrows access.
func (df *differ) roomForRecords() {
	var adds []int
	var removals []string
	for i, c := range df.changes {
		switch rec := c.Policy; {
		case c.Kind != KindRolePolicy || rec == nil || rec.Record == nil:
		case rec.Record.Removed:
			removals = append(removals, c.ID)
		case rec.Record.Old == "":
			adds = append(adds, i)
		}
	}
	if len(df.o.Recorded)+len(adds) <= maxRecords {
		return
	}
	sort.Strings(removals)
	for _, i := range adds {
		df.changes[i].DependsOn = append(df.changes[i].DependsOn, removals...)
	}
}

// held is what a role holds of its read policy now.
type held struct {
	inline string            // the inline policy, canonical; "" when absent
	parts  []*ObservedPolicy // the managed parts, in part order
	// docs are the canonical documents that grant now: a part that is not
	// attached grants nothing.
	docs []string
}

func heldBy(o *Observed, live *ObservedRole) held {
	var h held
	if live != nil {
		h.inline, h.parts = o.canonical(live.Policy), live.Parts
	}
	if h.inline != "" {
		h.docs = append(h.docs, h.inline)
	}
	for _, p := range h.parts {
		if p.Attached {
			h.docs = append(h.docs, o.canonical(p.Document))
		}
	}
	return h
}

func (h held) exists() bool { return h.inline != "" || len(h.parts) > 0 }

// deleteParts plans the deletion of the parts numbered from on, and
// reports whether there were any.
func (h held) deleteParts(pc *PolicyChange, from int) (found bool) {
	for _, p := range h.parts {
		if p.Part >= from {
			pc.Managed = append(pc.Managed, ManagedPolicyChange{Name: p.Name, Action: ActionDelete})
			found = true
		}
	}
	return found
}

// readPolicyChange compares a role's intended read policy (want; nil when
// the role should read nothing) with what the role holds: its inline
// policy and its managed parts. It reports false when they match.
func (df *differ) readPolicyChange(pc *PolicyChange, live *ObservedRole, want *RoleDocuments, base string) (Change, bool, error) {
	c := Change{Kind: KindRolePolicy, Name: pc.Role + "/" + pc.PolicyName, Policy: pc}
	h := heldBy(df.o, live)
	if want == nil {
		if !h.exists() {
			return c, false, nil
		}
		c.Action = ActionDelete
		pc.DeletesInline = h.inline != ""
		h.deleteParts(pc, 1)
		pc.Grants = diffGrants(h.docs, nil)
		return c, true, nil
	}
	if err := want.place.err; err != nil {
		return c, false, fmt.Errorf("the read policy of role %s cannot fit its quotas: %w", pc.Role, err)
	}
	pc.Document = string(want.Read.Canonical())
	pc.Pending = want.Pending
	changed := len(want.Pending) > 0
	var newDocs []string
	if layout := want.place.layout; layout.Inline != nil {
		pc.Layout = LayoutInline
		newDocs = []string{pc.Document}
		surplus := h.deleteParts(pc, 1)
		changed = changed || h.inline != pc.Document || surplus
	} else {
		pc.Layout = LayoutManaged
		pc.DeletesInline = h.inline != ""
		var partsChanged bool
		newDocs, partsChanged = h.managedChanges(df.o, pc, layout, base)
		changed = changed || pc.DeletesInline || partsChanged
	}
	if !changed {
		return c, false, nil
	}
	pc.Grants = diffGrants(h.docs, newDocs)
	c.Action = ActionUpdate
	if !h.exists() {
		c.Action = ActionCreate
	}
	return c, true, nil
}

// managedChanges plans the parts of a split read policy: each part is
// created, versioned or attached as it needs, and surplus parts deleted.
// It returns the parts' canonical documents and whether any part changes.
func (h held) managedChanges(o *Observed, pc *PolicyChange, layout policy.Layout, base string) (docs []string, changed bool) {
	byPart := map[int]*ObservedPolicy{}
	for _, p := range h.parts {
		byPart[p.Part] = p
	}
	for i, md := range layout.Managed {
		want := string(md.Canonical())
		docs = append(docs, want)
		mc := ManagedPolicyChange{Name: base + "-" + strconv.Itoa(i+1), Document: want}
		if p := byPart[i+1]; p == nil {
			mc.Action, mc.Attach = ActionCreate, true
		} else {
			if o.canonical(p.Document) != want {
				mc.Action = ActionUpdate
			}
			mc.Attach = !p.Attached
		}
		changed = changed || mc.Action != "" || mc.Attach
		pc.Managed = append(pc.Managed, mc)
	}
	surplus := h.deleteParts(pc, len(layout.Managed)+1)
	return docs, changed || surplus
}

// diffGrants lists the Allow grants added and removed between two sets of
// canonical documents, with policy.DiffGrants deciding which additions
// broaden access. The sets are compared as unions, so a policy that moves
// between inline and managed parts changes no grant.
func diffGrants(oldDocs, newDocs []string) []GrantChange {
	parse := func(docs []string) []*policy.Document {
		var out []*policy.Document
		for _, s := range docs {
			if d, err := parseLive(s); err == nil && d != nil {
				out = append(out, d)
			}
		}
		return out
	}
	var out []GrantChange
	for _, g := range policy.DiffGrants(parse(oldDocs), parse(newDocs)) {
		op := "remove"
		if g.Added {
			op = "add"
		}
		out = append(out, GrantChange{Op: op, Effect: g.Effect, Action: g.Action, Resource: g.Resource, Condition: g.Condition, Broadens: g.Broadens})
	}
	return out
}

// parseLive parses a document read from IAM; nil when there is none.
func parseLive(s string) (*policy.Document, error) {
	if s == "" {
		return nil, nil
	}
	return policy.Parse([]byte(s))
}

// canonicalOf renders a live document canonically for comparison; one that
// does not parse is compared as written (and so differs from any desired
// one, which makes apply replace it).
func canonicalOf(s string) string {
	d, err := parseLive(s)
	if err != nil {
		return s
	}
	if d == nil {
		return ""
	}
	return string(d.Canonical())
}
