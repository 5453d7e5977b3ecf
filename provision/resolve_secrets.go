package provision

import (
	"strconv"

	"github.com/secretboot/secretboot/spec"
)

// secretIntent is what secretboot intends for one secret that the spec
// declares or that exists under the stage's name prefix: its name and
// declaration, whether the live secret is the stage's, the generation
// counter its tags and version tokens are made at, and the recovery
// window its deletion uses. Diff and apply read it; the tokens themselves
// are computed from the declaration and a generation (tokens.go).
type secretIntent struct {
	name  string
	spec  *spec.Secret    // nil for a secret the spec does not declare
	live  *ObservedSecret // nil when it does not exist (or offline)
	owned bool            // live is the stage's (Observed.owns)
	// generation is the generation counter the live secret carries
	// (TagGeneration): tags and tokens are made at it, or at one more when
	// the plan regenerates the secret's values; 0 for a new secret.
	generation int
	// recoveryDays is the window a deletion of the secret uses; 0 for a
	// secret that does not exist.
	recoveryDays int
}

// tags are the tags the declared secret carries at generation gen.
func (si *secretIntent) tags(d *spec.Desired, gen int) map[string]string {
	return desiredSecretTags(d, si.spec, gen)
}

// resolveSecrets resolves every secret d declares and every secret o
// shows under the stage's name prefix, by name; o may be nil (offline).
func resolveSecrets(d *spec.Desired, o *Observed) map[string]*secretIntent {
	out := map[string]*secretIntent{}
	for _, s := range d.Secrets {
		out[s.Name] = &secretIntent{name: s.Name, spec: s}
	}
	if o == nil {
		return out
	}
	for name, os := range o.Secrets {
		si := out[name]
		if si == nil {
			si = &secretIntent{name: name}
			out[name] = si
		}
		si.live, si.owned = os, o.owns(d, os)
		si.generation, si.recoveryDays = generation(os.Tags), recoveryDays(si.spec, os)
	}
	return out
}

// historyNeeded lists, sorted by name, the existing secrets whose
// labelled versions leave a question open that their whole history
// answers (needsHistory), with the stage key key.
func (in *Intent) historyNeeded(d *spec.Desired, key []byte) []*ObservedSecret {
	var need []*ObservedSecret
	for _, name := range sortedKeys(in.secrets) {
		if si := in.secrets[name]; si.live != nil && si.needsHistory(d, key) {
			need = append(need, si.live)
		}
	}
	return need
}

// needsHistory reports whether the secret's labelled versions leave a
// question open that the whole history answers: whether secretboot ever
// wrote it (ownership), or whether the declared version exists although
// no label is on it. A converged secret needs no history.
func (si *secretIntent) needsHistory(d *spec.Desired, key []byte) bool {
	os := si.live
	if !ownedBy(os.Tags, d) {
		return false
	}
	if !si.owned { // tagged, and with the key known, not proven
		return true
	}
	if si.spec == nil || os.Current == "" || !ownsValue(si.spec, os) && !declaresFields(si.spec) {
		return false
	}
	dv := findDeclared(key, d, si.spec, si.generation, os)
	return !dv.current && dv.target == ""
}

// ownedARNs are the exact ARNs of the secrets the stage owns, by name:
// the ones a policy can name now (a secret scheduled for deletion is
// restored before any policy needs it).
func ownedARNs(secrets map[string]*secretIntent) map[string]string {
	m := map[string]string{}
	for name, si := range secrets {
		if si.owned {
			m[name] = si.live.ARN
		}
	}
	return m
}

// generation reads the generation counter (TagGeneration) from a
// secret's tags; 0 when absent or malformed.
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
	if s.Rotation != nil {
		t[TagRotation] = "spec"
	}
	return t
}

// recoveryDays is the window for deleting a secret: the spec's s when it
// still names the secret (destroy), else the one recorded on the secret,
// else AWS's default.
func recoveryDays(s *spec.Secret, os *ObservedSecret) int {
	if s != nil && s.RecoveryWindowDays != 0 {
		return s.RecoveryWindowDays
	}
	if n, err := strconv.Atoi(os.Tags[TagRecoveryWindow]); err == nil && n >= 7 && n <= 30 {
		return n
	}
	return defaultRecoveryDays
}

// owns reports whether an observed secret is the stage's: tagged as its,
// and proven so by a version secretboot wrote or an adoption mark. While
// the stage key is unknown (before the first apply, or when it is
// scheduled for deletion) nothing can be proven either way, and the tags
// decide as they did before keys existed; only deletion asks more (see
// (*differ).secrets): before the first apply nothing is deleted.
func (o *Observed) owns(d *spec.Desired, os *ObservedSecret) bool {
	if !ownedBy(os.Tags, d) {
		return false
	}
	key := o.stageKey.Reveal()
	return len(key) == 0 || proven(key, d, os)
}
