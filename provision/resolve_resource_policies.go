package provision

import (
	"slices"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// TagResourcePolicy marks a secret that holds the resource policy
// secretboot wrote (value "managed"). ListSecrets returns it at no cost, so
// Observe reads the resource policy (GetResourcePolicy) only of secrets
// that opt in or carry the tag, and a secret that opts out loses the
// policy: the tag is what leads back to it. Apply sets it before the first
// PutResourcePolicy and removes it after DeleteResourcePolicy; the
// secret's own tag changes leave it alone.
const TagResourcePolicy = "secretboot:resource-policy"

const tagResourcePolicyValue = "managed"

// resourcePolicy resolves the resource policy of secret s
// (policy.ResourcePolicy): nil when the secret does not opt in. Its readers
// are the ARNs of its reader roles as roles resolves them (a managed
// role's ARN with the stage's path, an external role's live ARN), and its
// admins the stage's deployer and break-glass principals; its
// cross-account readers are allowed as the spec names them (secretboot
// cannot read a role of another account to learn its path).
func resourcePolicy(d *spec.Desired, roles []RoleDocuments, s *spec.Secret) *policy.Document {
	if !s.ResourcePolicy {
		return nil
	}
	return policy.ResourcePolicy(resourcePolicyReaders(roles, s), resourcePolicyAdmins(d), s.CrossAccountReaders...)
}

// resourcePolicyReaders are the ARNs of the reader roles of s and of its
// rotator, sorted: the rotation protocol reads the secret too
// (GetSecretValue of AWSCURRENT and AWSPENDING), so a lock that left the
// rotator out would stop every rotation. aws:PrincipalArn carries a
// role's path, so an existing role is named by its live ARN, which has it
// even when an external role's ARN in the spec leaves it out.
func resourcePolicyReaders(roles []RoleDocuments, s *spec.Secret) []string {
	keys := make([]string, 0, len(s.Readers)+1)
	for _, r := range s.Readers {
		keys = append(keys, r.Role)
	}
	if s.Rotation != nil && s.Rotation.Rotator != "" {
		keys = append(keys, s.Rotation.Rotator)
	}
	var readers []string
	for _, key := range keys {
		for _, rd := range roles {
			if rd.Key != key {
				continue
			}
			arn := rd.ARN
			if rd.live != nil {
				arn = rd.live.ARN
			}
			readers = append(readers, arn)
		}
	}
	slices.Sort(readers)
	return slices.Compact(readers)
}

// resourcePolicyAdmins are the principals every resource policy of the
// stage lets change the policy: its deployer and break-glass principals.
func resourcePolicyAdmins(d *spec.Desired) []string {
	var admins []string
	if d.DeployerARN != "" {
		admins = append(admins, d.DeployerARN)
	}
	return append(admins, d.BreakGlass...)
}
