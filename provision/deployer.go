package provision

import (
	"errors"

	"github.com/secretboot/secretboot/provision/policy"
	"github.com/secretboot/secretboot/spec"
)

// Sids of the statements DeployerPolicy writes, in document order. They
// are stable so that a reviewer can follow a statement across spec
// changes, and docs/security.md explains each.
const (
	SidDeployerListSecrets   = "ListSecrets"
	SidDeployerManageSecrets = "ManageStageSecrets"
	SidDeployerReadSecrets   = "ReadStageKeyAndGeneratedValues"
	SidDeployerKMS           = "EncryptWithCustomerKeys"
	SidDeployerListIAM       = "ListIAM"
	SidDeployerRoles         = "ManageStageRoles"
	SidDeployerPassRoles     = "PassStageRoles"
	SidDeployerProfiles      = "ManageStageInstanceProfiles"
	SidDeployerPolicies      = "ManageStageManagedPolicies"
	SidDeployerFindRoles     = "FindRolesByName"
	SidDeployerFindProfiles  = "FindInstanceProfilesByName"
	SidDeployerExternalRoles = "ManageReadPolicyOnExternalRoles"
	SidDeployerSimulate      = "VerifyRoles"
)

// DeployerPolicy is the identity policy that a principal needs to run
// plan, apply, destroy, output, import and verify for stage d, and no more:
// it names the actions the engine calls, each on the narrowest resources
// those calls touch, derived from the same names the engine uses. It needs
// no AWS access. The account is the stage's account_id, which it
// requires: every resource of the document is in that account.
//
// What the stage owns is scoped by the stage's name prefix and IAM path:
// Secrets Manager writes on "<name_prefix>*" (secrets removed from the spec
// must still be scheduled for deletion, so exact names would not do),
// roles, instance profiles and the managed parts of split read policies on
// the path "/secretboot/<project>/<stage>/". GetSecretValue is narrower:
// the stage key and the secrets whose generated values apply carries
// over, so the deployer cannot read any other payload. External roles get
// the read-policy actions on their exact ARNs. Listings, which IAM and
// Secrets Manager authorize on "*" only, are read-only.
//
// The document depends on the spec: an external role, a customer managed
// key, a managed role or a generated value added to the spec adds to it.
// External roles and keys the spec no longer names are not in it, although
// the apply that removes them still touches them: keep the previous
// document until that apply has run.
func DeployerPolicy(d *spec.Desired) (*policy.Document, error) {
	if d.AccountID == "" {
		return nil, errors.New("the deployer policy names the stage's resources by ARN, so the stage must set account_id")
	}
	part := partition(d.Region)
	secret := "arn:" + part + ":secretsmanager:" + d.Region + ":" + d.AccountID + ":secret:"
	iamARN := func(kind, rest string) string { return "arn:" + part + ":iam::" + d.AccountID + ":" + kind + rest }
	path := RolePath(d)
	stageRoles := iamARN("role", path+"*")

	// The stage key and generated values are read whole; a secret that
	// does not exist yet is named by the pattern apply would give it.
	read := policy.StringList{secret + StageKeyName(d) + "-??????"}
	var keys, roleNames, profileNames policy.StringList
	for _, s := range d.Secrets {
		if len(s.Payload.Generators) > 0 {
			read = append(read, secret+s.Name+"-??????")
		}
		if s.KMSKeyARN != "" {
			keys = append(keys, s.KMSKeyARN)
		}
	}
	var external policy.StringList
	for _, r := range d.Roles {
		switch {
		case !r.Managed():
			external = append(external, r.External)
		default:
			roleNames = append(roleNames, iamARN("role", "/"+r.Name), iamARN("role", "/*/"+r.Name))
			if r.InstanceProfile {
				profileNames = append(profileNames, iamARN("instance-profile", "/"+r.Name), iamARN("instance-profile", "/*/"+r.Name))
			}
		}
	}

	allow := func(sid string, resources policy.StringList, actions ...string) policy.Statement {
		return policy.Statement{Sid: sid, Effect: policy.Allow, Action: actions, Resource: resources}
	}
	doc := &policy.Document{Version: "2012-10-17"}
	add := func(s policy.Statement) { doc.Statement = append(doc.Statement, s) }

	add(allow(SidDeployerListSecrets, policy.StringList{"*"}, "secretsmanager:ListSecrets"))
	// CreateSecret with tags needs TagResource too; DescribeSecret serves
	// an apply that finds a secret created since it observed the stage.
	add(allow(SidDeployerManageSecrets, policy.StringList{secret + d.NamePrefix + "*"},
		"secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds",
		"secretsmanager:PutSecretValue", "secretsmanager:RestoreSecret", "secretsmanager:TagResource",
		"secretsmanager:UntagResource", "secretsmanager:UpdateSecret", "secretsmanager:UpdateSecretVersionStage"))
	add(allow(SidDeployerReadSecrets, read, "secretsmanager:GetSecretValue"))
	if len(keys) > 0 {
		// What Secrets Manager asks of the caller to encrypt a new version
		// (GenerateDataKey), to read one (Decrypt) and to re-encrypt the
		// current versions when UpdateSecret changes the key (Encrypt);
		// only through Secrets Manager in the stage's region.
		kms := allow(SidDeployerKMS, keys, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
		kms.Condition = policy.Conditions{"StringEquals": {"kms:ViaService": {"secretsmanager." + d.Region + ".amazonaws.com"}}}
		add(kms)
	}
	add(allow(SidDeployerListIAM, policy.StringList{"*"},
		"iam:GetAccountSummary", "iam:ListInstanceProfiles", "iam:ListPolicies", "iam:ListRoles"))
	add(allow(SidDeployerRoles, policy.StringList{stageRoles},
		"iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
		"iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:PutRolePolicy", "iam:TagRole",
		"iam:UpdateAssumeRolePolicy", "iam:UpdateRole"))
	// AddRoleToInstanceProfile hands the role to every instance launched
	// with the profile, so IAM also asks for PassRole on the role.
	add(allow(SidDeployerPassRoles, policy.StringList{stageRoles}, "iam:PassRole"))
	add(allow(SidDeployerProfiles, policy.StringList{iamARN("instance-profile", path+"*")},
		"iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
		"iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile"))
	// The whole path, not the parts' names (ReadPolicyPartName): the parts
	// of a role the spec dropped must still be deleted.
	add(allow(SidDeployerPolicies, policy.StringList{iamARN("policy", path+"*")},
		"iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
		"iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy"))
	// The engine reads a managed role or instance profile only by the name
	// the spec gives it, when the listing by path did not show it: absent
	// (IAM authorizes the name at path "/"), just created (under the path)
	// or somebody else's elsewhere, which plan reports as a clash. No other
	// role or profile is read.
	if len(roleNames) > 0 {
		add(allow(SidDeployerFindRoles, roleNames, "iam:GetRole"))
	}
	if len(profileNames) > 0 {
		add(allow(SidDeployerFindProfiles, profileNames, "iam:GetInstanceProfile"))
	}
	if len(external) > 0 {
		add(allow(SidDeployerExternalRoles, external,
			"iam:AttachRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:GetRole", "iam:GetRolePolicy",
			"iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:PutRolePolicy"))
	}
	add(allow(SidDeployerSimulate, append(policy.StringList{stageRoles}, external...), "iam:SimulatePrincipalPolicy"))
	// Sorted and without duplicates (two secrets may share a key), as the
	// canonical form writes them, so the value equals its parsed file.
	return doc.Normalized(), nil
}
