package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// Sids of the stage boundary's statements.
const (
	SidBoundaryRead    = "ReadStageSecrets"
	SidBoundaryDecrypt = "DecryptStageSecretsViaSecretsManager"
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
// reader of the stage can ever need, GetSecretValue and DescribeSecret on
// the secrets under the stage's name prefix, and kms:Decrypt only through
// Secrets Manager in the stage's region and only for those secrets
// (kms:EncryptionContext:SecretARN), with any key since the spec may name
// keys of other accounts. It depends on the stage's name, prefix, region
// and account only, not on its secrets or roles, so it never needs
// updating as the spec changes. The stage must set account_id.
func StageBoundary(d *spec.Desired) (*Boundary, error) {
	if d.AccountID == "" {
		return nil, errors.New("the stage's permissions boundary names its secrets by ARN, so the stage must set account_id")
	}
	return stageBoundary(d, d.AccountID), nil
}

func stageBoundary(d *spec.Desired, account string) *Boundary {
	secrets := "arn:" + partition(d.Region) + ":secretsmanager:" + d.Region + ":" + account + ":secret:" + d.NamePrefix + "*"
	doc := &policy.Document{Version: "2012-10-17", Statement: []policy.Statement{
		{Sid: SidBoundaryRead, Effect: policy.Allow, Resource: policy.StringList{secrets},
			Action: policy.StringList{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}},
		{Sid: SidBoundaryDecrypt, Effect: policy.Allow, Resource: policy.StringList{"*"},
			Action: policy.StringList{"kms:Decrypt"},
			Condition: policy.Conditions{
				"StringEquals": {"kms:ViaService": {"secretsmanager." + d.Region + ".amazonaws.com"}},
				"ArnLike":      {"kms:EncryptionContext:SecretARN": {secrets}},
			}},
	}}
	return &Boundary{Name: BoundaryName(d), Path: RolePath(d), ARN: BoundaryARN(d, account), Document: doc.Normalized()}
}

// ensureBoundary makes sure that the stage's boundary exists before apply
// creates a role that must carry it or sets it on an existing role: one
// GetPolicy, and a CreatePolicy when it is missing. The deployer policy forbids that CreatePolicy (a
// deployer that wrote the boundary could write it as "*:*"), so a deployer
// session needs the boundary installed by an administrator, which the
// error says; a session that may create it (an administrator's, the
// sandbox's) creates it here. An existing boundary is the administrator's
// and is not compared.
func ensureBoundary(ctx context.Context, s *Session, d *spec.Desired, account string, p *Plan) error {
	creates := false
	for _, c := range p.Changes {
		creates = creates || (c.Kind == KindRole && (c.Action == ActionCreate || c.Role != nil && c.Role.Boundary != nil))
	}
	if !creates {
		return nil
	}
	b := stageBoundary(d, account)
	_, err := s.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(b.ARN)})
	if !isNotFound(err) {
		return wrap(err, "reading the stage's permissions boundary", b.ARN)
	}
	_, err = s.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String(b.Name), Path: aws.String(b.Path), PolicyDocument: aws.String(string(b.Document.Compact())),
		Description: aws.String("secretboot permissions boundary of " + d.Project + "/" + d.Stage + ": every role of the stage carries it"),
	})
	switch {
	case isAccessDenied(err):
		return fmt.Errorf("the stage's permissions boundary %s is not installed, and these credentials may not create it (as the deployer policy intends); an administrator installs it once: secretboot policy -deployer -json prints it (docs/security.md): %w", b.ARN, err)
	case apiCode(err) == "EntityAlreadyExists":
		return nil // a concurrent apply created it
	}
	return wrap(err, "creating the stage's permissions boundary", b.ARN)
}

// checkRoleBoundaries refuses a spec role whose permissions_boundary is
// not the stage's: a role has one boundary, every managed role carries the
// stage's, and the deployer may set no other (a boundary it could write
// itself would bound nothing). Naming the stage's boundary is allowed and
// changes nothing.
func checkRoleBoundaries(d *spec.Desired, account string) error {
	want := BoundaryARN(d, account)
	for _, r := range d.Roles {
		if r.Managed() && r.PermissionsBoundary != "" && r.PermissionsBoundary != want {
			return fmt.Errorf("role %s: permissions_boundary %s is not the stage's boundary %s; every role of the stage carries the stage's boundary (docs/security.md), so remove permissions_boundary or set it to that ARN",
				r.Key, r.PermissionsBoundary, want)
		}
	}
	return nil
}
