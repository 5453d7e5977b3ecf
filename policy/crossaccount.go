package policy

import (
	"fmt"
	"slices"
	"sort"
)

// KeyPolicyReaders builds the key-policy statements the owner of a
// customer managed key adds so that reader roles in other accounts decrypt
// the secrets it protects: per role (readers maps a role ARN to the ARNs
// of the secrets it reads under this key), kms:Decrypt on the key ("*" in
// a key policy is the key itself), only through Secrets Manager in region
// and only for those secrets, the same conditions as a read policy's KMS
// grant. Without them the role's own identity policy is not enough: across
// accounts the key policy must allow it too. The Sids are numbered in the
// order of the sorted role ARNs; nil when readers is empty.
func KeyPolicyReaders(region string, readers map[string][]string) *Document {
	if len(readers) == 0 {
		return nil
	}
	roles := make([]string, 0, len(readers))
	for r := range readers {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	d := &Document{Version: "2012-10-17"}
	for i, r := range roles {
		arns := slices.Clone(readers[r])
		sort.Strings(arns)
		d.Statement = append(d.Statement, Statement{
			Sid: fmt.Sprintf("SecretbootCrossAccountRead%d", i+1), Effect: Allow,
			Principal: &Principal{Values: map[string]StringList{"AWS": {r}}},
			Action:    StringList{"kms:Decrypt"}, Resource: StringList{"*"},
			Condition: viaSecretsManager(region, slices.Compact(arns)),
		})
	}
	return d
}
