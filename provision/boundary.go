package provision

import (
	"errors"
	"fmt"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// Sids of the stage boundary's statements.
const (
	SidBoundaryRead    = "ReadOwnedStageSecrets"
	SidBoundaryDecrypt = "DecryptStageSecretsViaSecretsManager"
	SidBoundaryRotate  = "RotateOwnedStageSecrets"
	SidBoundaryRandom  = "RotationRandomPassword"
)

// Boundary is a stage's permissions boundary: the customer managed policy
// that every role secretboot creates in the stage carries, so that no
// identity policy on such a role, whoever writes it, grants more than
// reading the stage's secrets. An administrator installs it once per stage,
// with the deployer policy (docs/security.md); the deployer can neither
// create nor change it.
type Boundary struct {
	Name     string           // secretboot-<project>-<stage>-boundary: managed policy names are unique per account, whatever the path
	Path     string           // the stage's path, RolePath
	ARN      string           // arn:<partition>:iam::<account>:policy<path><name>
	Document *policy.Document // canonical
}

// BoundaryName is the name of the stage's permissions boundary policy.
func BoundaryName(d *spec.Desired) string { return spec.BoundaryName(d.Project, d.Stage) }

// BoundaryARN is the ARN of the stage's permissions boundary in account.
func BoundaryARN(d *spec.Desired, account string) string {
	return "arn:" + partition(d.Region) + ":iam::" + account + ":policy" + RolePath(d) + BoundaryName(d)
}

// StageBoundary returns the stage's permissions boundary: at most what a
// reader or a rotator of the stage can ever need. GetSecretValue and
// DescribeSecret on the secrets under the stage's name prefix, in every
// region (replicas keep the primary's name), that carry the stage's
// ownership tags: the prefix alone proves nothing, since two projects'
// dev stages share "dev/" and validate sees one spec, and a stolen
// deployer may write any read policy on the bounded roles. Every region,
// not the spec's replica regions, because the boundary must not change
// when a replica region is declared. Then the rotation protocol's writes
// (PutSecretValue, UpdateSecretVersionStage) on the same owned secrets of
// the stage's region, as the deployer may write them; GetRandomPassword;
// and kms:Decrypt and kms:GenerateDataKey only through Secrets Manager and
// only for the stage's secrets and their replicas
// (kms:EncryptionContext:SecretARN), with any key since the spec may name
// keys of other accounts. The key's request carries no tag of the secret,
// but Secrets Manager calls KMS for the caller only within a call the
// grants above allow. It depends on the stage's name, prefix, region and
// account only, not on its secrets or roles, so it never needs updating as
// the spec changes. The stage must set account_id.
func StageBoundary(d *spec.Desired) (*Boundary, error) {
	if d.AccountID == "" {
		return nil, errors.New("the stage's permissions boundary names its secrets by ARN, so the stage must set account_id")
	}
	return stageBoundary(d, d.AccountID), nil
}

func stageBoundary(d *spec.Desired, account string) *Boundary {
	secrets := "arn:" + partition(d.Region) + ":secretsmanager:" + d.Region + ":" + account + ":secret:" + d.NamePrefix + "*"
	everywhere := "arn:" + partition(d.Region) + ":secretsmanager:*:" + account + ":secret:" + d.NamePrefix + "*"
	read := policy.StringList{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}
	owned := func() policy.Conditions {
		return policy.Conditions{"StringEquals": {
			"aws:ResourceTag/" + TagProject: {d.Project},
			"aws:ResourceTag/" + TagStage:   {d.Stage},
		}}
	}
	doc := &policy.Document{Version: "2012-10-17", Statement: []policy.Statement{
		{Sid: SidBoundaryRead, Effect: policy.Allow, Resource: policy.StringList{everywhere}, Action: read, Condition: owned()},
		{Sid: SidBoundaryRotate, Effect: policy.Allow, Resource: policy.StringList{secrets},
			Action:    policy.StringList{"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"},
			Condition: owned()},
		{Sid: SidBoundaryRandom, Effect: policy.Allow, Resource: policy.StringList{"*"},
			Action: policy.StringList{"secretsmanager:GetRandomPassword"}},
		{Sid: SidBoundaryDecrypt, Effect: policy.Allow, Resource: policy.StringList{"*"},
			Action: policy.StringList{"kms:Decrypt", "kms:GenerateDataKey"},
			Condition: policy.Conditions{
				"StringLike": {"kms:ViaService": {"secretsmanager.*.amazonaws.com"}},
				"ArnLike":    {"kms:EncryptionContext:SecretARN": {everywhere}},
			}},
	}}
	return &Boundary{Name: BoundaryName(d), Path: RolePath(d), ARN: BoundaryARN(d, account), Document: doc.Normalized()}
}

// boundaryDrift warns when the stage's installed boundary is not the one
// StageBoundary writes: the deployer may not change it
// (SidDeployerDenyBoundary), and one installed by an older version may
// allow the stage's roles more, such as reading every secret under the
// prefix, tagged or not.
func (df *differ) boundaryDrift() {
	if df.o.Boundary == "" {
		return
	}
	want := stageBoundary(df.d, df.o.Account)
	if df.o.canonical(df.o.Boundary) == string(want.Document.Canonical()) {
		return
	}
	df.warnings = append(df.warnings, fmt.Sprintf("the stage's permissions boundary %s is not the one this version of secretboot writes: an administrator should install the current one (secretboot policy -deployer -json prints it); until then the stage's roles are bounded by the installed one, which may allow more", want.ARN))
}
