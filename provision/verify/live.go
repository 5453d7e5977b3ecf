package verify

import (
	"fmt"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
)

// LiveResourcePolicies gives each existing secret the resource policy it
// has on AWS, as Observe read it, in place of the one the spec resolves:
// online verify then proves what a role can read now, not what it could
// once apply has restored a lock somebody deleted, loosened or narrowed.
// Observe reads the resource policies of the secrets that opt in or carry
// secretboot's resource-policy tag; any other secret keeps what the spec
// says, which is none. A replica carries its primary's policy, as Secrets
// Manager replicates it.
func LiveResourcePolicies(secrets []Secret, o *provision.Observed) ([]Secret, error) {
	out := make([]Secret, len(secrets))
	copy(out, secrets)
	primary := map[string]string{} // key → the primary's name, which Targets lists first
	for i, s := range out {
		name := s.Name
		if s.Key != "" {
			if p, ok := primary[s.Key]; ok {
				name = p
			} else {
				primary[s.Key] = s.Name
			}
		}
		live, read := o.ResourcePolicies[name]
		if !s.Exists || !read {
			continue
		}
		if live == "" {
			out[i].Resource = nil
			continue
		}
		doc, err := policy.Parse([]byte(live))
		if err != nil {
			return nil, fmt.Errorf("the resource policy of secret %s does not parse (%v); run plan and apply to restore the stage's", name, err)
		}
		out[i].Resource = doc
	}
	return out, nil
}
