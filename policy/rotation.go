package policy

import "fmt"

// Sids of the statements RotationPolicy writes. They differ from
// ReadPolicy's, so that a role that reads some secrets and rotates others
// can hold both in one document.
const (
	SidRotateSecrets       = "RotateSecrets"
	SidRotationRandomValue = "RotationRandomPassword"
	sidRotateKeyPrefix     = "RotateWithKey"
)

// The rotation protocol's calls: createSecret reads AWSCURRENT, asks for a
// random password and writes AWSPENDING; setSecret and testSecret read
// AWSPENDING; finishSecret reads the stages and moves AWSCURRENT.
var rotationActions = StringList{
	actionDescribeSecret,
	actionGetSecretValue,
	"secretsmanager:PutSecretValue",
	"secretsmanager:UpdateSecretVersionStage",
}

const actionGetRandomPassword = "secretsmanager:GetRandomPassword"

// RotationPolicy synthesises the least-privilege policy of the role a
// rotation function runs as: the rotation protocol's four actions on
// exactly the rotated secrets; GetRandomPassword, which has no resource
// type (so "*"); and per customer KMS key, kms:Decrypt and
// kms:GenerateDataKey (reading and writing versions) on that key, limited
// like ReadPolicy's grant to calls made by Secrets Manager in region for
// exactly that key's secrets. Grant.Describe is ignored: the protocol
// always describes. It returns nil when there is nothing to grant; the
// result is deterministic whatever the order of grants.
func RotationPolicy(region string, grants []Grant) *Document {
	if len(grants) == 0 {
		return nil
	}
	secrets := map[string]bool{}
	for _, g := range grants {
		secrets[g.SecretARN] = true
	}
	byKey, keyRegion := grantsByKey(region, grants)
	d := &Document{Version: "2012-10-17", Statement: []Statement{
		{Sid: SidRotateSecrets, Effect: Allow, Action: rotationActions, Resource: sortedKeys(secrets)},
		{Sid: SidRotationRandomValue, Effect: Allow, Action: StringList{actionGetRandomPassword}, Resource: StringList{"*"}},
	}}
	for i, key := range sortedKeys(byKey) {
		d.Statement = append(d.Statement, Statement{
			Sid: fmt.Sprintf("%s%d", sidRotateKeyPrefix, i+1), Effect: Allow,
			Action: StringList{actionKMSDecrypt, "kms:GenerateDataKey"}, Resource: StringList{key}, Condition: viaSecretsManager(keyRegion[key], sortedKeys(byKey[key])),
		})
	}
	return d.normalized()
}
