package provision

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/secretboot/secretboot/spec"
)

// DiffOptions tune Diff.
type DiffOptions struct {
	// Destroy plans the removal of everything the stage owns.
	Destroy bool
	// NoPayloads plans without the payload sources (the stage evaluated
	// with spec.EvalOptions.SkipPayloads, observed by ObserveStructure):
	// every structural change, no payload compared, for review only.
	NoPayloads bool
	// Regenerate names generated values to replace: a secret ("app/db" or
	// its full name) for all its generated values, or "secret.field" for one
	// field.
	Regenerate []string
}

// ClashError reports resources that exist under names the spec wants but
// that secretboot does not own. They are never touched.
type ClashError struct {
	Secrets []string // secret names; adoptable with `secretboot import`
	// Unproven are secrets the spec names that carry the stage's tags but
	// that nothing proves secretboot wrote (see proven); adoptable with
	// `secretboot import`.
	Unproven []string
	Roles    []string // role names outside the stage's path (IAM paths are immutable)
	Other    []string // further explanations
}

func (e *ClashError) Error() string {
	var b strings.Builder
	b.WriteString("resources exist that secretboot does not own:")
	for _, s := range e.Secrets {
		fmt.Fprintf(&b, "\n  secret %s is not tagged as part of this stage; to manage it, run: secretboot import %s", s, s)
	}
	for _, s := range e.Unproven {
		fmt.Fprintf(&b, "\n  secret %s carries this stage's tags, but none of its versions was written by secretboot for this stage (no version token authenticates with the stage key), and tags alone prove nothing; it is neither written nor deleted. To manage it, run: secretboot import %s", s, s)
	}
	for _, r := range e.Roles {
		fmt.Fprintf(&b, "\n  role %s exists outside secretboot's path; rename the role in the spec, or delete the existing role", r)
	}
	for _, o := range e.Other {
		b.WriteString("\n  " + o)
	}
	return b.String()
}

// errPayloadsSkipped refuses a stage evaluated without its payloads where
// payloads are written or compared: planning would see every declared
// value as gone. Destroying writes none, so it may go without them.
var errPayloadsSkipped = errors.New("the stage was evaluated without its payloads (spec.EvalOptions.SkipPayloads); planning, applying and importing need them, destroying does not")

// Diff compares the desired stage, resolved against what was observed
// (Resolve), with what was observed and returns the plan. It is pure: no
// calls, no clock, no randomness.
func Diff(d *spec.Desired, o *Observed, opts DiffOptions) (*Plan, error) {
	return diffIntent(d, o, Resolve(d, o), opts)
}

// diffIntent is Diff with the intent resolved, which Apply keeps to
// execute the plan with.
func diffIntent(d *spec.Desired, o *Observed, in *Intent, opts DiffOptions) (*Plan, error) {
	if d.PayloadsSkipped && !opts.Destroy && !opts.NoPayloads {
		return nil, errPayloadsSkipped
	}
	if opts.NoPayloads && (opts.Destroy || len(opts.Regenerate) > 0) {
		return nil, errors.New("a plan without payloads compares none, so it cannot destroy (which never needs them) or regenerate")
	}
	if o.Account == "" {
		return nil, errors.New("diff: the observed state has no account")
	}
	regen, err := resolveRegenerate(d, opts.Regenerate)
	if err != nil {
		return nil, err
	}
	if err := checkRoleBoundaries(d, in.Boundary); err != nil {
		return nil, err
	}
	if err := checkOIDCProviders(d, o, opts); err != nil {
		return nil, err
	}
	if n := externalRoles(d); n > MaxExternalRoles {
		return nil, fmt.Errorf("stage %s names %d external roles, more than %d: each is recorded as a tag on the stage key secret %s, which holds at most 50 tags (3 used for ownership, 2 kept spare); use fewer external roles, or managed roles", d.Stage, n, MaxExternalRoles, StageKeyName(d))
	}
	df := &differ{d: d, o: o, in: in, opts: opts, regen: regen, clash: &ClashError{}}
	p := &Plan{
		FormatVersion: FormatVersion,
		Header: Header{
			Project: d.Project, Stage: d.Stage, Account: o.Account, Region: o.Region,
			CallerARN: o.CallerARN, CredentialSource: o.CredentialSource, SpecHash: d.SpecHash,
		},
		Destroy:             opts.Destroy,
		PayloadsNotCompared: opts.NoPayloads,
		Regenerate:          sortedCopy(opts.Regenerate),
		Observed:            fingerprint(o),
	}
	if o.LongTermKey {
		p.Header.Warnings = append(p.Header.Warnings, "the credentials are a long-term access key (AKIA…); prefer a role (SSO, assume_role_arn, web identity)")
	}
	df.stageKey()
	df.secrets()
	df.roles()
	df.policies()
	df.forgottenPolicies()
	df.resourcePolicies()
	df.replication()
	df.profiles()
	df.boundaryDrift()
	df.narrowBeforeValues()
	if len(df.clash.Secrets)+len(df.clash.Unproven)+len(df.clash.Roles)+len(df.clash.Other) > 0 {
		df.errs = append(df.errs, df.clash)
	}
	if err := errors.Join(df.errs...); err != nil {
		return nil, err
	}
	if o.StageKey != nil && o.stageKey.IsEmpty() && !opts.Destroy && !opts.NoPayloads && df.ownedSecrets > 0 {
		p.Header.Warnings = append(p.Header.Warnings, "the stage key cannot be read, so secretboot cannot tell whether payloads are current; every payload will be rewritten")
	}
	p.Header.Warnings = append(p.Header.Warnings, df.warnings...)
	p.Changes = df.changes
	sortChanges(p.Changes)
	p.Summary = summaryOf(p.Changes)
	return p, nil
}

// summaryOf counts a plan's changes by action, and the grants that
// broaden access.
func summaryOf(changes []Change) Summary {
	var sum Summary
	for _, c := range changes {
		switch {
		case c.Action == ActionCreate:
			sum.Add++
		case c.Action == ActionDelete:
			sum.Destroy++
		default:
			sum.Change++
		}
		if c.Policy != nil {
			for _, g := range c.Policy.Grants {
				if g.Broadens {
					sum.Broadening++
				}
			}
		}
		if c.Resource != nil {
			sum.Broadening += len(c.Resource.Broadens)
		}
	}
	return sum
}

type differ struct {
	d            *spec.Desired
	o            *Observed
	in           *Intent
	opts         DiffOptions
	regen        map[string][]string // secret name → regenerated fields ("" = all)
	clash        *ClashError
	changes      []Change
	ids          map[string]bool // IDs of changes made so far
	ownedSecrets int
	staleRoles   []string // managed roles to delete, sorted
	errs         []error  // problems that stop the plan
	warnings     []string // notes for the plan header, in order
}

func (df *differ) add(c Change) {
	if df.ids == nil {
		df.ids = map[string]bool{}
	}
	c.ID = changeID(c.Kind, c.Name)
	df.ids[c.ID] = true
	df.changes = append(df.changes, c)
}

func changeID(k Kind, name string) string { return string(k) + ":" + name }

// dep returns the ID of a change if the plan has it.
func (df *differ) dep(k Kind, name string) []string {
	if id := changeID(k, name); df.ids[id] {
		return []string{id}
	}
	return nil
}

var kindOrder = map[Kind]int{KindStageKey: 0, KindRole: 1, KindSecret: 2, KindRolePolicy: 3, KindInstanceProfile: 4, KindResourcePolicy: 5, KindReplication: 6}

// sortChanges puts changes in apply order (see phase), then by kind and
// name, so that a plan reads the way it will be applied.
func sortChanges(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		if pi, pj := phase(cs[i]), phase(cs[j]); pi != pj {
			return pi < pj
		}
		if kindOrder[cs[i].Kind] != kindOrder[cs[j].Kind] {
			return kindOrder[cs[i].Kind] < kindOrder[cs[j].Kind]
		}
		return cs[i].Name < cs[j].Name
	})
}

// resolveRegenerate maps --regenerate arguments to secret names and fields.
func resolveRegenerate(d *spec.Desired, args []string) (map[string][]string, error) {
	out := map[string][]string{}
	find := func(n string) *spec.Secret {
		for _, s := range d.Secrets {
			if s.Key == n || s.Name == n {
				return s
			}
		}
		return nil
	}
	for _, a := range args {
		s, field := find(a), ""
		if s == nil {
			if i := strings.LastIndex(a, "."); i > 0 {
				s, field = find(a[:i]), a[i+1:]
			}
		}
		if s == nil {
			return nil, fmt.Errorf("regenerate %s: no such secret in stage %s", a, d.Stage)
		}
		ok := false
		for _, g := range s.Payload.Generators {
			ok = ok || field == "" || g.Field == field
		}
		if !ok {
			if field == "" {
				return nil, fmt.Errorf("regenerate %s: the secret has no generated value", a)
			}
			return nil, fmt.Errorf("regenerate %s: the secret has no generated field %q", a, field)
		}
		if !contains(out[s.Name], field) {
			out[s.Name] = append(out[s.Name], field)
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out, nil
}
