package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
)

func fingerprint(o *Observed) Fingerprint {
	f := Fingerprint{
		Secrets:  make(map[string]SecretFingerprint, len(o.Secrets)),
		Roles:    make(map[string]RoleFingerprint, len(o.Roles)+len(o.External)+len(o.Forgotten)),
		Profiles: make(map[string][]string, len(o.Profiles)),
	}
	if o.StageKey != nil {
		f.StageKeyVersion = o.StageKey.Current
	}
	h := newHasher()
	var meta []string // reused: a stage of 10,000 secrets hashes 10,000 of them
	for name, s := range o.Secrets {
		meta = append(meta[:0], s.Description, s.KMSKeyID)
		if s.RotationEnabled {
			meta = append(meta, "rotation-enabled")
		}
		if r := s.Rotation; r != nil {
			meta = append(meta, r.LambdaARN, strconv.FormatInt(r.AutomaticallyAfterDays, 10), r.Schedule, r.Window)
		}
		for _, k := range sortedKeys(s.Tags) {
			meta = append(meta, k, s.Tags[k])
		}
		sf := SecretFingerprint{ARN: s.ARN, Current: s.Current, Deleted: s.Deleted, MetaHash: h.of(meta...)}
		if rp, ok := o.ResourcePolicies[name]; ok {
			sf.ResourcePolicyHash = h.of(o.canonical(rp))
		}
		f.Secrets[name] = sf
	}
	for name, r := range o.Roles {
		f.Roles[name] = h.role(o, r)
	}
	for _, r := range o.External {
		f.Roles[r.Name] = h.role(o, r)
	}
	for _, r := range o.Forgotten {
		f.Roles[r.Name] = h.role(o, r)
	}
	for name, p := range o.Profiles {
		f.Profiles[name] = append([]string{}, p.Roles...)
	}
	return f
}

func (h *hasher) role(o *Observed, r *ObservedRole) RoleFingerprint {
	policy := []string{o.canonical(r.Policy)}
	for _, p := range r.Parts {
		policy = append(policy, p.Name, p.DefaultVersion, strconv.FormatBool(p.Attached))
	}
	trust := append([]string{o.canonical(r.Trust), r.Description, r.Boundary}, r.ForeignARNs...)
	trust = append(trust, r.OtherInline...)
	for _, k := range sortedKeys(r.Tags) {
		trust = append(trust, k, r.Tags[k])
	}
	return RoleFingerprint{ARN: r.ARN, TrustHash: h.of(trust...), PolicyHash: h.of(policy...)}
}

// hasher hashes lists of strings, reusing its state and buffer from one
// list to the next.
type hasher struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

func newHasher() *hasher { return &hasher{h: sha256.New()} }

// of is the first 64 bits, in hex, of SHA-256 over the parts, each
// prefixed with its length.
func (h *hasher) of(parts ...string) string {
	h.h.Reset()
	for _, p := range parts {
		h.buf = strconv.AppendInt(h.buf[:0], int64(len(p)), 10)
		h.buf = append(h.buf, ':')
		h.buf = append(h.buf, p...)
		h.h.Write(h.buf)
	}
	return hex.EncodeToString(h.h.Sum(h.sum[:0])[:8])
}
