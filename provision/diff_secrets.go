package provision

import (
	"fmt"
	"sort"
	"strings"

	"github.com/secretboot/secretboot/spec"
)

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
		if os != nil && !df.in.secrets[s.Name].owned {
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
		if !df.in.secrets[name].owned || o.StageKey == nil {
			why := "none of its versions was written by secretboot for this stage"
			if o.StageKey == nil {
				why = "the stage has no key yet, so secretboot cannot have written it"
			}
			if !want[name] {
				df.warnings = append(df.warnings, fmt.Sprintf("secret %s carries this stage's tags, but %s: it is not deleted; remove its secretboot:* tags, or declare it and run secretboot import %s", name, why, name))
			}
			continue
		}
		df.add(Change{Kind: KindSecret, Name: name, Action: ActionDelete, Secret: &SecretChange{ARN: os.ARN, RecoveryDays: df.in.secrets[name].recoveryDays}})
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
		creating(s, sc)
		sc.Rotation = rotationChange(s, nil)
		if df.opts.NoPayloads {
			sc.Payload = &PayloadChange{Status: PayloadNotCompared, Sensitive: "(sensitive)"}
		}
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
	if sc.Rotation = rotationChange(s, os); sc.Rotation != nil {
		changed = true
	}
	if note := rotationNote(s, os, regenerating); note != "" {
		df.warnings = append(df.warnings, note)
	}
	owns := ownsValue(s, os)
	regenerating = regenerating && owns // a rotator's value is not regenerated
	si := df.in.secrets[s.Name]
	gen := si.generation
	if regenerating {
		gen++
	}
	tc := tagChanges(os.Tags, si.tags(d, gen))
	if mark := df.markNeeded(s, os); mark != nil {
		tc = append(tc, *mark)
		sort.Slice(tc, func(i, j int) bool { return tc[i].Key < tc[j].Key })
	}
	if len(tc) > 0 {
		sc.Tags = tc
		changed = true
	}
	if df.opts.NoPayloads {
		return c, changed
	}
	if !owns {
		cancel := sc.Rotation != nil && sc.Rotation.Op == RotationCancel
		if pc := df.rotatedValueChange(s, os, gen, cancel); pc != nil {
			sc.Payload = pc
			changed = true
		}
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

// creating fills in the change of a secret that does not exist yet.
func creating(s *spec.Secret, sc *SecretChange) {
	sc.Payload = payloadChange(s, PayloadNew, nil)
	if s.Description != "" {
		sc.Description = &ValueChange{New: s.Description}
	}
	if s.KMSKeyARN != "" {
		sc.KMSKey = &ValueChange{New: s.KMSKeyARN}
	}
	sc.Tags = tagChanges(nil, s.Tags)
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
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "aws:") && k != TagMark && k != TagResourcePolicy {
			out = append(out, TagChange{Key: k, Old: live[k], Removed: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// ownsValue reports whether secretboot keeps a secret's value as declared
// (spec.Secret.ValueOwner). By default a secret with rotation enabled
// outside the spec belongs to its rotator: moving AWSCURRENT back or
// rewriting the value would undo every rotation.
func ownsValue(s *spec.Secret, os *ObservedSecret) bool {
	switch s.ValueOwner {
	case spec.ValueOwnerSecretboot:
		return true
	case spec.ValueOwnerRotation:
		return false
	}
	return !os.RotationEnabled
}

// rotationNote is the plan's note on a secret whose value a rotator may
// replace; "" when there is nothing to say: value_owner = "rotation"
// says it already.
func rotationNote(s *spec.Secret, os *ObservedSecret, regenerating bool) string {
	switch {
	case s.Rotation != nil && regenerating:
		return fmt.Sprintf("secret %s: its generated fields are its declared rotation's, so they are not regenerated", s.Name)
	case s.ValueOwner == spec.ValueOwnerRotation && regenerating:
		return fmt.Sprintf("secret %s: value_owner = %q: its value is the rotator's, so it is not regenerated", s.Name, spec.ValueOwnerRotation)
	case !os.RotationEnabled || s.ValueOwner == spec.ValueOwnerRotation:
		return ""
	case s.ValueOwner == spec.ValueOwnerSecretboot:
		return fmt.Sprintf("secret %s: rotation enabled outside the spec, and value_owner = %q: each rotation is undone", s.Name, spec.ValueOwnerSecretboot)
	}
	return fmt.Sprintf("secret %s: rotation enabled outside the spec: values are not restored (set value_owner = %q to say so, or %q to restore them)", s.Name, spec.ValueOwnerRotation, spec.ValueOwnerSecretboot)
}

// markNeeded is the tag change that marks a secret whose value a rotator
// keeps (TagMark), while its versions still prove it is the stage's:
// Secrets Manager keeps about 100 versions, and a rotator writes one per
// rotation, so the versions secretboot wrote do not last.
func (df *differ) markNeeded(s *spec.Secret, os *ObservedSecret) *TagChange {
	key := df.o.stageKey.Reveal()
	if len(key) == 0 || os.Deleted || !os.RotationEnabled && s.ValueOwner != spec.ValueOwnerRotation {
		return nil
	}
	mark := ownerMark(key, df.d, os.Name, os.ARN)
	if os.Tags[TagMark] == mark {
		return nil
	}
	return &TagChange{Key: TagMark, Old: os.Tags[TagMark], New: mark}
}
