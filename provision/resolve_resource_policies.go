package provision

import (
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
// role's ARN with the stage's path, an external role's ARN), and its
// admins the stage's deployer and break-glass principals.
func resourcePolicy(d *spec.Desired, roles []RoleDocuments, s *spec.Secret) *policy.Document {
	if !s.ResourcePolicy {
		return nil
	}
	var readers []string
	for _, r := range s.Readers {
		for _, rd := range roles {
			if rd.Key == r.Role {
				readers = append(readers, rd.ARN)
			}
		}
	}
	return policy.ResourcePolicy(readers, resourcePolicyAdmins(d))
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
