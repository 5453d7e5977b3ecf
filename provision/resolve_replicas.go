package provision

import (
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// replicaGrants are the grants of a reader role on the copies of secret s
// it reads (spec.Secret.ReaderRegions): the primary, whose ARN is arn (in
// region), and each replica, whose ARN is the primary's name and suffix in
// the replica's region. A replica's ARN is exact as soon as the primary's
// is, whether or not the replica exists yet: Secrets Manager gives it the
// primary's suffix. Each copy is decrypted with its own region's key.
func replicaGrants(region, arn string, s *spec.Secret, role *spec.Role, describe bool) []policy.Grant {
	var out []policy.Grant
	for _, c := range s.ReaderRegions(region, role) {
		g := policy.Grant{SecretARN: arn, Describe: describe, KMSKeyARN: c.KMSKeyARN}
		if c.Region != region {
			g.SecretARN, g.Region = ReplicaARN(arn, c.Region), c.Region
		}
		out = append(out, g)
	}
	return out
}

// ReplicaARN is the ARN of a secret's replica in region: the same ARN
// with the region replaced (for a pending pattern too).
func ReplicaARN(arn, region string) string {
	parts := strings.SplitN(arn, ":", 5) // arn, partition, service, region, rest
	if len(parts) != 5 {
		return arn
	}
	parts[3] = region
	return strings.Join(parts, ":")
}
