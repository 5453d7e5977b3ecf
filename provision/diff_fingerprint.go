package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

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
		if r := s.Rotation; r != nil {
			meta = append(meta, r.LambdaARN, strconv.FormatInt(r.AutomaticallyAfterDays, 10), r.Schedule, r.Window)
		}
		for _, k := range sortedKeys(s.Tags) {
			meta = append(meta, k, s.Tags[k])
		}
		sf := SecretFingerprint{ARN: s.ARN, Current: s.Current, Deleted: s.Deleted, MetaHash: hashOf(meta...)}
		if rp, ok := o.ResourcePolicies[name]; ok {
			sf.ResourcePolicyHash = hashOf(canonicalOf(rp))
		}
		f.Secrets[name] = sf
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
