package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// DiffOptions tune Diff.
type DiffOptions struct {
	// Destroy plans the removal of everything the stage owns.
	Destroy bool
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

// Diff compares the desired stage with what was observed and returns the
// plan. It is pure: no calls, no clock, no randomness.
func Diff(d *spec.Desired, o *Observed, opts DiffOptions) (*Plan, error) {
	if d.PayloadsSkipped && !opts.Destroy {
		return nil, errPayloadsSkipped
	}
	if o.Account == "" {
		return nil, errors.New("diff: the observed state has no account")
	}
	regen, err := resolveRegenerate(d, opts.Regenerate)
	if err != nil {
		return nil, err
	}
	if err := checkRoleBoundaries(d, o.Account); err != nil {
		return nil, err
	}
	if n := externalRoles(d); n > MaxExternalRoles {
		return nil, fmt.Errorf("stage %s names %d external roles, more than %d: each is recorded as a tag on the stage key secret %s, which holds at most 50 tags (3 used for ownership, 2 kept spare); use fewer external roles, or managed roles", d.Stage, n, MaxExternalRoles, StageKeyName(d))
	}
	df := &differ{d: d, o: o, opts: opts, regen: regen, clash: &ClashError{}}
	p := &Plan{
		FormatVersion: FormatVersion,
		Header: Header{
			Project: d.Project, Stage: d.Stage, Account: o.Account, Region: o.Region,
			CallerARN: o.CallerARN, CredentialSource: o.CredentialSource, SpecHash: d.SpecHash,
		},
		Destroy:    opts.Destroy,
		Regenerate: sortedCopy(opts.Regenerate),
		Observed:   fingerprint(o),
	}
	if o.LongTermKey {
		p.Header.Warnings = append(p.Header.Warnings, "the credentials are a long-term access key (AKIA…); prefer a role (SSO, assume_role_arn, web identity)")
	}
	df.stageKey()
	df.secrets()
	df.roles()
	df.policies()
	df.forgottenPolicies()
	df.profiles()
	if len(df.clash.Secrets)+len(df.clash.Unproven)+len(df.clash.Roles)+len(df.clash.Other) > 0 {
		df.errs = append(df.errs, df.clash)
	}
	if err := errors.Join(df.errs...); err != nil {
		return nil, err
	}
	if o.StageKey != nil && o.stageKey.IsEmpty() && !opts.Destroy && df.ownedSecrets > 0 {
		p.Header.Warnings = append(p.Header.Warnings, "the stage key cannot be read, so secretboot cannot tell whether payloads are current; every payload will be rewritten")
	}
	p.Header.Warnings = append(p.Header.Warnings, df.warnings...)
	p.Changes = df.changes
	sortChanges(p.Changes)
	for _, c := range p.Changes {
		switch {
		case c.Action == ActionCreate:
			p.Summary.Add++
		case c.Action == ActionDelete:
			p.Summary.Destroy++
		default:
			p.Summary.Change++
		}
		if c.Policy != nil {
			for _, g := range c.Policy.Grants {
				if g.Broadens {
					p.Summary.Broadening++
				}
			}
		}
	}
	return p, nil
}

type differ struct {
	d            *spec.Desired
	o            *Observed
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

var kindOrder = map[Kind]int{KindStageKey: 0, KindRole: 1, KindSecret: 2, KindRolePolicy: 3, KindInstanceProfile: 4}

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

func (df *differ) stageKey() {
	k, name := df.o.StageKey, StageKeyName(df.d)
	switch {
	case k != nil && !ownedBy(k.Tags, df.d):
		df.clash.Other = append(df.clash.Other, fmt.Sprintf("secret %s (the stage key's name) exists and is not owned by this stage; delete or rename it", name))
	case df.opts.Destroy:
		if k != nil && !k.Deleted {
			df.add(Change{Kind: KindStageKey, Name: name, Action: ActionDelete, Secret: &SecretChange{ARN: k.ARN, RecoveryDays: 30}})
		}
	case k == nil:
		df.add(Change{Kind: KindStageKey, Name: name, Action: ActionCreate, Secret: &SecretChange{}})
	case k.Deleted:
		df.add(Change{Kind: KindStageKey, Name: name, Action: ActionRestore, Secret: &SecretChange{ARN: k.ARN}})
	}
}

func generation(tags map[string]string) int {
	n, err := strconv.Atoi(tags[TagGeneration])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// desiredSecretTags are the tags a secret should carry.
func desiredSecretTags(d *spec.Desired, s *spec.Secret, gen int) map[string]string {
	t := ownerTags(d)
	for k, v := range s.Tags {
		t[k] = v
	}
	if w := s.RecoveryWindowDays; w != 0 && w != defaultRecoveryDays {
		t[TagRecoveryWindow] = strconv.Itoa(w)
	}
	if gen > 0 {
		t[TagGeneration] = strconv.Itoa(gen)
	}
	return t
}

func (df *differ) secrets() {
	d, o := df.d, df.o
	want := map[string]bool{}
	keyName := StageKeyName(d)
	for _, s := range d.Secrets {
		want[s.Name] = true
		if s.Name == keyName {
			df.clash.Other = append(df.clash.Other, fmt.Sprintf("secret %s uses the name reserved for the stage key", s.Name))
			continue
		}
		os := o.Secrets[s.Name]
		if os != nil && !ownedBy(os.Tags, d) {
			df.clash.Secrets = append(df.clash.Secrets, s.Name)
			continue
		}
		if os != nil && !df.owns(os) {
			df.clash.Unproven = append(df.clash.Unproven, s.Name)
			continue
		}
		if os != nil {
			df.ownedSecrets++
		}
		if df.opts.Destroy {
			continue
		}
		if c, ok := df.secretChange(s, os); ok {
			df.add(c)
		}
	}
	for _, name := range sortedKeys(o.Secrets) {
		os := o.Secrets[name]
		if want[name] && !df.opts.Destroy || !ownedBy(os.Tags, d) || os.Deleted {
			continue
		}
		// Before the stage has a key nothing secretboot wrote can exist,
		// so a tagged secret then is somebody else's.
		if !df.owns(os) || o.StageKey == nil {
			why := "none of its versions was written by secretboot for this stage"
			if o.StageKey == nil {
				why = "the stage has no key yet, so secretboot cannot have written it"
			}
			if !want[name] {
				df.warnings = append(df.warnings, fmt.Sprintf("secret %s carries this stage's tags, but %s: it is not deleted; remove its secretboot:* tags, or declare it and run secretboot import %s", name, why, name))
			}
			continue
		}
		df.add(Change{Kind: KindSecret, Name: name, Action: ActionDelete, Secret: &SecretChange{ARN: os.ARN, RecoveryDays: recoveryDays(d, os)}})
	}
}

func (df *differ) readersOf(s *spec.Secret) []string {
	var names []string
	for _, r := range s.Readers {
		for _, role := range df.d.Roles {
			if role.Key == r.Role {
				names = append(names, role.Name)
			}
		}
	}
	sort.Strings(names)
	return names
}

func (df *differ) secretChange(s *spec.Secret, os *ObservedSecret) (Change, bool) {
	d := df.d
	regen, regenerating := df.regen[s.Name]
	c := Change{Kind: KindSecret, Name: s.Name, DependsOn: df.dep(KindStageKey, StageKeyName(d))}
	sc := &SecretChange{Readers: df.readersOf(s)}
	c.Secret = sc
	if os == nil {
		c.Action = ActionCreate
		sc.Payload = payloadChange(s, PayloadNew, nil)
		if s.Description != "" {
			sc.Description = &ValueChange{New: s.Description}
		}
		if s.KMSKeyARN != "" {
			sc.KMSKey = &ValueChange{New: s.KMSKeyARN}
		}
		sc.Tags = tagChanges(nil, s.Tags)
		return c, true
	}
	sc.ARN = os.ARN
	c.Action = ActionUpdate
	changed := false
	if os.Deleted {
		c.Action = ActionRestore
		changed = true
	}
	if os.Description != s.Description {
		sc.Description = &ValueChange{Old: os.Description, New: s.Description}
		changed = true
	}
	if normKMS(os.KMSKeyID) != normKMS(s.KMSKeyARN) {
		sc.KMSKey = &ValueChange{Old: os.KMSKeyID, New: s.KMSKeyARN}
		changed = true
	}
	if note := rotationNote(s, os, regenerating); note != "" {
		df.warnings = append(df.warnings, note)
	}
	owns := ownsValue(s, os)
	regenerating = regenerating && owns // a rotator's value is not regenerated
	gen := generation(os.Tags)
	if regenerating {
		gen++
	}
	tc := tagChanges(os.Tags, desiredSecretTags(d, s, gen))
	if mark := df.markNeeded(s, os); mark != nil {
		tc = append(tc, *mark)
		sort.Slice(tc, func(i, j int) bool { return tc[i].Key < tc[j].Key })
	}
	if len(tc) > 0 {
		sc.Tags = tc
		changed = true
	}
	if !owns {
		return c, changed
	}
	if st, version, ok := df.payloadStatus(s, os, gen); ok {
		var r []string
		if regenerating {
			r = regen
		}
		sc.Payload = payloadChange(s, st, r)
		sc.Payload.Version = version
		sc.Payload.CurrentBySecretboot = os.Current != "" && len(df.o.stageKey.Reveal()) > 0 && writtenBySecretboot(df.o.stageKey.Reveal(), s.Name, os.Current)
		sc.Payload.ReadsLive = st != PayloadRestoreStage && st != PayloadNew && keepsGenerated(s, r)
		changed = true
	}
	return c, changed
}

// keepsGenerated reports whether a write must carry generated values over
// from the live secret.
func keepsGenerated(s *spec.Secret, regen []string) bool {
	for _, g := range s.Payload.Generators {
		if !contains(regen, g.Field) && !contains(regen, "") {
			return true
		}
	}
	return false
}

// payloadStatus compares the declared version with AWSCURRENT, and names
// the version apply writes or makes current ("" while the stage key is
// unknown).
func (df *differ) payloadStatus(s *spec.Secret, os *ObservedSecret, gen int) (PayloadStatus, string, bool) {
	key := df.o.stageKey.Reveal()
	switch {
	case len(key) == 0 && os.Current == "":
		return PayloadNew, "", true
	case len(key) == 0:
		return PayloadUnverified, "", true
	case os.Current == "":
		return PayloadNew, versionToken(key, df.d, s, gen), true
	}
	dv := findDeclared(key, df.d, s, gen, os)
	switch {
	case dv.current:
		return "", "", false
	case dv.target != "":
		return PayloadRestoreStage, dv.target, true
	}
	next := revisionToken(key, df.d, s, gen, min(dv.next, maxRevisions-1))
	if writtenBySecretboot(key, s.Name, os.Current) {
		return PayloadChangedInSpec, next, true
	}
	return PayloadChangedOutside, next, true
}

func payloadChange(s *spec.Secret, st PayloadStatus, regen []string) *PayloadChange {
	pc := &PayloadChange{Status: st, Kind: s.Payload.Kind.String(), Regenerate: regen, Sensitive: "(sensitive)"}
	gens := map[string]bool{}
	for _, g := range s.Payload.Generators {
		gens[g.Field] = true
	}
	pc.Generated = gens[""]
	pc.FieldsHidden = s.Payload.FieldsHidden
	for _, f := range s.Payload.Fields {
		pc.Fields = append(pc.Fields, Field{Name: f, Generated: gens[f]})
	}
	return pc
}

// normKMS maps the ways AWS spells its managed key to "".
func normKMS(k string) string {
	if k == "alias/aws/secretsmanager" {
		return ""
	}
	return k
}

// tagChanges lists the differences between live and desired tags; keys in
// the reserved aws: namespace are not ours.
func tagChanges(live, want map[string]string) []TagChange {
	var out []TagChange
	for _, k := range sortedKeys(want) {
		if old, ok := live[k]; !ok || old != want[k] {
			out = append(out, TagChange{Key: k, Old: live[k], New: want[k]})
		}
	}
	for _, k := range sortedKeys(live) {
		// The mark stays: it proves the secret is ours where no version
		// does.
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "aws:") && k != TagMark {
			out = append(out, TagChange{Key: k, Old: live[k], Removed: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (df *differ) roles() {
	d, o := df.d, df.o
	want := map[string]bool{}
	for _, r := range d.Roles {
		if !r.Managed() {
			if o.External[r.Key] == nil && !df.opts.Destroy {
				df.clash.Other = append(df.clash.Other, fmt.Sprintf("external role %s (%s) does not exist or cannot be read", r.Key, r.External))
			}
			continue
		}
		want[r.Name] = true
		if arn, ok := o.RoleClashes[r.Name]; ok {
			df.clash.Roles = append(df.clash.Roles, r.Name+" ("+arn+")")
			continue
		}
		if df.opts.Destroy {
			continue
		}
		or := o.Roles[r.Name]
		if or != nil && or.Detailed && !ownedBy(or.Tags, d) {
			df.clash.Other = append(df.clash.Other, unownedRole(d, r.Name)+"; an administrator tags it so for secretboot to manage it, or deletes it")
			continue
		}
		tdoc, err := trustPolicy(r)
		if err != nil {
			df.errs = append(df.errs, err)
			continue
		}
		trust := string(tdoc.Canonical())
		if or == nil {
			df.add(Change{Kind: KindRole, Name: r.Name, Action: ActionCreate, Role: &RoleChange{
				Services: servicesOf(r), Description: nonEmpty(r.Description), Trust: &ValueChange{New: trust}, InstanceProfile: r.InstanceProfile,
			}})
			continue
		}
		rc := &RoleChange{ARN: or.ARN, Services: servicesOf(r), InstanceProfile: r.InstanceProfile}
		changed := false
		if or.Description != r.Description {
			rc.Description = &ValueChange{Old: or.Description, New: r.Description}
			changed = true
		}
		if live := canonicalOf(or.Trust); live != trust {
			rc.Trust = &ValueChange{Old: live, New: trust}
			changed = true
		}
		if or.Detailed {
			rc.Boundary, rc.Tags = roleDrift(d, r, or, o.Account)
			changed = changed || rc.Boundary != nil || len(rc.Tags) > 0
		}
		if len(or.ForeignARNs) > 0 {
			rc.Detach = or.ForeignARNs
			changed = true
		}
		if len(or.OtherInline) > 0 {
			rc.DeleteInline = or.OtherInline
			changed = true
		}
		if changed {
			df.add(Change{Kind: KindRole, Name: r.Name, Action: ActionUpdate, Role: rc})
		}
	}
	// Deletions are added in profiles(), once policy and profile removals
	// they depend on are known.
	df.staleRoles = nil
	for _, name := range sortedKeys(o.Roles) {
		if want[name] && !df.opts.Destroy {
			continue
		}
		if or := o.Roles[name]; or.Detailed && !ownedBy(or.Tags, d) {
			df.warnings = append(df.warnings, unownedRole(d, name)+"; it is not deleted: an administrator deletes it, or tags it so for secretboot to delete it")
			continue
		}
		df.staleRoles = append(df.staleRoles, name)
	}
	// Below the stage's path the deployer policy denies every IAM call,
	// so the role is reported, never touched, by any session: telling an
	// administrator's role there from a forgotten one is the
	// administrator's call.
	for _, name := range sortedKeys(o.Deeper) {
		df.warnings = append(df.warnings, fmt.Sprintf("role %s (%s) lies below the stage's path %s, where secretboot's deployer may not touch anything: only an administrator can remove it, and secretboot never does",
			name, o.Deeper[name], RolePath(d)))
	}
}

// unownedRole describes a role at the stage's path without the stage's
// ownership tags, which every role secretboot creates carries.
func unownedRole(d *spec.Desired, name string) string {
	return fmt.Sprintf("role %s is at the stage's path but not tagged as part of this stage (%s=%s, %s=%s), so secretboot did not create it and neither changes nor deletes it",
		name, TagProject, d.Project, TagStage, d.Stage)
}

func servicesOf(r *spec.Role) []string {
	if len(r.Services) == 0 && len(r.Workloads) == 0 {
		return []string{"ec2.amazonaws.com"}
	}
	return r.Services
}

func nonEmpty(s string) *ValueChange {
	if s == "" {
		return nil
	}
	return &ValueChange{New: s}
}

// arns are the exact ARNs of secrets that exist (or will exist after a
// restore) — the ones a policy can name now.
func (df *differ) arns() map[string]string {
	m := map[string]string{}
	for name, s := range df.o.Secrets {
		if df.owns(s) {
			m[name] = s.ARN
		}
	}
	return m
}

func (df *differ) policies() {
	d, o := df.d, df.o
	arns := df.arns()
	for _, r := range d.Roles {
		var live *ObservedRole
		if r.Managed() {
			live = o.Roles[r.Name]
		} else {
			live = o.External[r.Key]
		}
		if r.Managed() && o.RoleClashes[r.Name] != "" || !r.Managed() && live == nil {
			continue
		}
		roleName := r.Name
		if !r.Managed() {
			roleName = live.Name
		}
		pc := &PolicyChange{Role: roleName, PolicyName: readPolicyName(d, r), External: !r.Managed()}
		var doc *policy.Document
		var pending []string
		if !df.opts.Destroy {
			doc, pending = readPolicy(d, o.Region, o.Account, arns, r)
		}
		c, ok, err := df.readPolicyChange(pc, live, doc, pending, partBase(d, roleName, !r.Managed()))
		if err != nil {
			df.errs = append(df.errs, err)
			continue
		}
		if !r.Managed() {
			c, ok = df.record(c, ok, live, doc != nil)
		}
		if !ok {
			continue
		}
		if r.Managed() && c.Action != ActionDelete {
			c.DependsOn = append(c.DependsOn, df.dep(KindRole, r.Name)...)
		}
		for _, s := range pending {
			c.DependsOn = append(c.DependsOn, df.dep(KindSecret, s)...)
		}
		df.add(c)
	}
	// Policies on roles that are going away.
	for _, name := range df.staleRoles {
		if df.ids[changeID(KindRolePolicy, name+"/"+ReadPolicyName)] {
			continue
		}
		pc := &PolicyChange{Role: name, PolicyName: ReadPolicyName}
		if c, ok, _ := df.readPolicyChange(pc, o.Roles[name], nil, nil, partBase(d, name, false)); ok {
			df.add(c)
		}
	}
}

// externalRoles counts the external roles a spec names.
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
		c, ok, _ := df.readPolicyChange(pc, live, nil, nil, partBase(d, name, true))
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

func (df *differ) profiles() {
	d, o := df.d, df.o
	want := map[string]bool{}
	if !df.opts.Destroy {
		for _, r := range d.Roles {
			if !r.Managed() || !r.InstanceProfile || o.RoleClashes[r.Name] != "" {
				continue
			}
			if arn, ok := o.ProfileClashes[r.Name]; ok {
				df.clash.Other = append(df.clash.Other, fmt.Sprintf(
					"instance profile %s exists outside secretboot's path (%s); rename the role in the spec, or delete the existing instance profile", r.Name, arn))
				continue
			}
			want[r.Name] = true
			p := o.Profiles[r.Name]
			switch {
			case p == nil:
				df.add(Change{Kind: KindInstanceProfile, Name: r.Name, Action: ActionCreate, DependsOn: df.dep(KindRole, r.Name),
					Profile: &ProfileChange{AddRole: r.Name}})
			case !contains(p.Roles, r.Name):
				pc := &ProfileChange{AddRole: r.Name}
				if len(p.Roles) > 0 {
					pc.RemoveRole = p.Roles[0] // a profile holds at most one role
				}
				df.add(Change{Kind: KindInstanceProfile, Name: r.Name, Action: ActionUpdate, DependsOn: df.dep(KindRole, r.Name), Profile: pc})
			}
		}
	}
	for _, name := range sortedKeys(o.Profiles) {
		if want[name] {
			continue
		}
		pc := &ProfileChange{}
		if p := o.Profiles[name]; len(p.Roles) > 0 {
			pc.RemoveRole = p.Roles[0]
		}
		df.add(Change{Kind: KindInstanceProfile, Name: name, Action: ActionDelete, Profile: pc})
	}
	for _, name := range df.staleRoles {
		or := o.Roles[name]
		c := Change{Kind: KindRole, Name: name, Action: ActionDelete, Role: &RoleChange{ARN: or.ARN, Detach: or.ForeignARNs, DeleteInline: or.OtherInline}}
		c.DependsOn = append(c.DependsOn, df.dep(KindRolePolicy, name+"/"+ReadPolicyName)...)
		for _, pn := range sortedKeys(o.Profiles) {
			if contains(o.Profiles[pn].Roles, name) {
				c.DependsOn = append(c.DependsOn, df.dep(KindInstanceProfile, pn)...)
			}
		}
		df.add(c)
	}
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

func fingerprint(o *Observed) Fingerprint {
	f := Fingerprint{Secrets: map[string]SecretFingerprint{}, Roles: map[string]RoleFingerprint{}, Profiles: map[string][]string{}}
	if o.StageKey != nil {
		f.StageKeyVersion = o.StageKey.Current
	}
	for name, s := range o.Secrets {
		meta := []string{s.Description, s.KMSKeyID}
		if s.RotationEnabled {
			meta = append(meta, "rotation-enabled")
		}
		for _, k := range sortedKeys(s.Tags) {
			meta = append(meta, k, s.Tags[k])
		}
		f.Secrets[name] = SecretFingerprint{ARN: s.ARN, Current: s.Current, Deleted: s.Deleted, MetaHash: hashOf(meta...)}
	}
	for name, r := range o.Roles {
		f.Roles[name] = roleFingerprint(r)
	}
	for _, r := range o.External {
		f.Roles[r.Name] = roleFingerprint(r)
	}
	for _, r := range o.Forgotten {
		f.Roles[r.Name] = roleFingerprint(r)
	}
	for name, p := range o.Profiles {
		f.Profiles[name] = append([]string{}, p.Roles...)
	}
	return f
}

func roleFingerprint(r *ObservedRole) RoleFingerprint {
	policy := []string{canonicalOf(r.Policy)}
	for _, p := range r.Parts {
		policy = append(policy, p.Name, p.DefaultVersion, strconv.FormatBool(p.Attached))
	}
	trust := append([]string{canonicalOf(r.Trust), r.Description, r.Boundary}, r.ForeignARNs...)
	trust = append(trust, r.OtherInline...)
	for _, k := range sortedKeys(r.Tags) {
		trust = append(trust, k, r.Tags[k])
	}
	return RoleFingerprint{ARN: r.ARN, TrustHash: hashOf(trust...), PolicyHash: hashOf(policy...)}
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p)) + ":" + p))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
