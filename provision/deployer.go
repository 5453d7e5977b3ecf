package provision

import (
	"errors"
	"slices"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// Sids of the statements DeployerPolicy writes, in document order. They
// are stable so that a reviewer can follow a statement across spec
// changes, and docs/security.md explains each.
const (
	SidDeployerListSecrets     = "ListSecrets"
	SidDeployerDescribeSecrets = "DescribeStageSecrets"
	SidDeployerManageSecrets   = "ManageOwnedSecrets"
	SidDeployerReadSecrets     = "ReadStageKeyAndGeneratedValues"
	SidDeployerResourcePolicy  = "PutOwnedResourcePolicies"
	SidDeployerValidatePolicy  = "ValidateResourcePolicies"
	SidDeployerKMS             = "EncryptWithCustomerKeys"
	SidDeployerReplicaKMS      = "EncryptReplicasWithCustomerKeys"
	SidDeployerListIAM         = "ListIAM"
	SidDeployerCreateRoles     = "CreateBoundedStageRoles"
	SidDeployerRolePolicies    = "WriteBoundedRolePolicies"
	SidDeployerAttachParts     = "AttachStagePartsToBoundedRoles"
	SidDeployerRoles           = "ManageOwnedStageRoles"
	SidDeployerReadRoles       = "ReadStageRolePolicies"
	SidDeployerPassRoles       = "PassStageRolesToEC2"
	SidDeployerProfiles        = "ManageStageInstanceProfiles"
	SidDeployerPolicies        = "ManageStageManagedPolicies"
	SidDeployerFindRoles       = "FindRolesByName"
	SidDeployerFindProfiles    = "FindInstanceProfilesByName"
	SidDeployerOIDCProviders   = "ReadTrustedOIDCProviders"
	SidDeployerExternalRoles   = "ManageReadPolicyOnExternalRoles"
	SidDeployerExternalParts   = "AttachStagePartsToExternalRoles"
	SidDeployerSimulate        = "VerifyRoles"
	SidDeployerDenyDeeper      = "DenyBelowTheStagePath"
	SidDeployerDenyBoundary    = "DenyWritesToTheBoundary"
)

// DeployerPolicy is the identity policy that a principal needs to run
// plan, apply, destroy, output and verify for stage d, and no more: it
// names the actions the engine calls, each on the narrowest resources
// those calls touch and under the conditions that keep the deployer from
// raising its own or anyone's privileges (docs/security.md has the threat
// model). It needs no AWS access. The account is the stage's account_id,
// which it requires: every resource of the document is in that account.
//
// Secrets are scoped by the stage's name prefix and owned by their tags:
// every write requires them on the secret (aws:ResourceTag; a secret being
// created has its request's tags, so CreateSecret must carry them) and no
// request may set them to other values (aws:RequestTag), so the deployer
// cannot write, tag, untag or delete a secret it does not own nor claim
// one. Adopting an existing secret with import is a separate
// grant, ImportPolicy. GetSecretValue is narrower still: the stage key and
// the secrets whose generated values apply carries over.
//
// Roles live at the stage's exact path "/secretboot/<project>/<stage>/":
// IAM ARN patterns match across "/", so a deny statement keeps every write
// off deeper paths. A role can only be created with the stage's boundary
// (iam:PermissionsBoundary) and the ownership tags, and an inline or
// attached policy only written on a role that carries the boundary, so any
// policy the deployer writes on its roles grants at most the boundary;
// attachments are limited to the read-policy parts at the stage's path
// (iam:PolicyARN), never the boundary, which the deployer cannot write
// either, and PutRolePermissionsBoundary can set no other boundary. Roles are handed to EC2 only (iam:PassedToService). Writes that
// IAM does not give iam:PermissionsBoundary (UpdateAssumeRolePolicy,
// UpdateRole, TagRole, UntagRole, DeleteRole) require the ownership tags on
// the role.
// External roles get the read-policy actions on their exact ARNs; what
// that leaves possible is in docs/security.md. Listings, which IAM and
// Secrets Manager authorize on "*" only, are read-only.
//
// The document depends on the spec: an external role, a customer managed
// key, a managed role, a generated value, a resource policy or a replica
// added to the spec adds to it, and so does account_iam_read.
// External roles and keys the spec no longer names are not in it, although
// the apply that removes them still touches them: keep the previous
// document until that apply has run.
//
// It is long on purpose: one statement after another, each with the
// resources and conditions that must be read together, in the order
// docs/security.md explains them.
func DeployerPolicy(d *spec.Desired) (*policy.Document, error) {
	if d.AccountID == "" {
		return nil, errors.New("the deployer policy names the stage's resources by ARN, so the stage must set account_id")
	}
	part := partition(d.Region)
	secret := "arn:" + part + ":secretsmanager:" + d.Region + ":" + d.AccountID + ":secret:"
	iamARN := func(kind, rest string) string { return "arn:" + part + ":iam::" + d.AccountID + ":" + kind + rest }
	path := RolePath(d)
	stageRoles := iamARN("role", path+"*")
	// The same names and ARNs the stage's intent resolves offline.
	in := Resolve(d, nil)
	boundary := in.Boundary

	// The stage key and generated values are read whole; a secret that
	// does not exist yet is named by the pattern apply would give it.
	read := policy.StringList{secret + StageKeyName(d) + "-??????"}
	var keys, roleNames, profileNames, replicaKeys, replicaServices, replicaRegions policy.StringList
	resourcePolicies, replicated := false, false
	for _, s := range d.Secrets {
		resourcePolicies = resourcePolicies || s.ResourcePolicy
		if len(s.Payload.Generators) > 0 {
			read = append(read, secret+s.Name+"-??????")
		}
		if s.KMSKeyARN != "" {
			keys = append(keys, s.KMSKeyARN)
		}
		replicated = replicated || len(s.Replicas) > 0
		for _, r := range s.Replicas {
			if !slices.Contains(replicaRegions, r.Region) {
				replicaRegions = append(replicaRegions, r.Region)
			}
			if r.KMSKeyARN != "" {
				replicaKeys = append(replicaKeys, r.KMSKeyARN)
				replicaServices = append(replicaServices, "secretsmanager."+r.Region+".amazonaws.com")
			}
		}
	}
	var external policy.StringList
	for i, r := range d.Roles {
		switch {
		case !r.Managed():
			external = append(external, in.Roles[i].ARN)
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
	with := func(st policy.Statement, c policy.Conditions) policy.Statement {
		st.Condition = c
		return st
	}
	doc := &policy.Document{Version: "2012-10-17"}
	add := func(s policy.Statement) { doc.Statement = append(doc.Statement, s) }
	owners := func(prefix string) map[string]policy.StringList {
		return map[string]policy.StringList{prefix + TagProject: {d.Project}, prefix + TagStage: {d.Stage}}
	}
	ownedSecret := policy.Conditions{"StringEquals": owners("aws:ResourceTag/")}
	stagePolicies := iamARN("policy", path+"*")
	// The parts of split read policies, and so never the boundary.
	stageParts := policy.Conditions{"ArnLike": {"iam:PolicyARN": {stagePolicies + partSuffix + "-*"}}}

	add(allow(SidDeployerListSecrets, policy.StringList{"*"}, "secretsmanager:ListSecrets"))
	// Metadata only: apply tells its own secrets from others' by their tags,
	// and by version tokens, which a secret's version history shows.
	add(allow(SidDeployerDescribeSecrets, policy.StringList{secret + d.NamePrefix + "*"},
		"secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"))
	// Ownership by tags, as IAM's ABAC tutorial for Secrets Manager has
	// it: every write needs the ownership tags on the secret, and a
	// secret being created is judged by the tags of its request, which
	// CreateSecret must therefore carry; no request may set them to
	// other values. So a secret without them (or another stage's) can be
	// neither written nor claimed. CreateSecret with tags needs
	// TagResource too. RotateSecret and CancelRotateSecret configure a
	// declared rotation; lambda:InvokeFunction on the rotation function,
	// which AWS asks of RotateSecret's caller, is not the deployer's to
	// hold: the function is the user's (docs/security.md).
	// When a secret declares replicas, ReplicateSecretToRegions and
	// RemoveRegionsFromReplication add and remove them, called on the
	// primary: Secrets Manager creates and deletes the replicas itself,
	// which asks the caller for no permission in the replica's region.
	manage := []string{"secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:PutSecretValue", "secretsmanager:RestoreSecret",
		"secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:UpdateSecret", "secretsmanager:UpdateSecretVersionStage",
		"secretsmanager:RotateSecret", "secretsmanager:CancelRotateSecret"}
	manageCond := policy.Conditions{"StringEquals": owners("aws:ResourceTag/"), "StringEqualsIfExists": owners("aws:RequestTag/")}
	if resourcePolicies {
		// The second lock (docs/security.md), read and deleted here, on
		// owned secrets; put below.
		manage = append(manage, "secretsmanager:DeleteResourcePolicy", "secretsmanager:GetResourcePolicy")
	}
	if replicated {
		manage = append(manage, "secretsmanager:ReplicateSecretToRegions", "secretsmanager:RemoveRegionsFromReplication")
		// Replicas only in the spec's regions: CreateSecret and
		// ReplicateSecretToRegions name the regions they add in
		// secretsmanager:AddReplicaRegions, and a request adding none
		// lacks the key, which ForAllValues lets through.
		slices.Sort(replicaRegions)
		manageCond["ForAllValues:StringEquals"] = map[string]policy.StringList{"secretsmanager:AddReplicaRegions": replicaRegions}
		// Never over a secret of the same name in a replica's region, which
		// may not be the stage's: apply does not set the flag.
		manageCond["BoolIfExists"] = map[string]policy.StringList{"secretsmanager:ForceOverwriteReplicaSecret": {"false"}}
	}
	add(with(allow(SidDeployerManageSecrets, policy.StringList{secret + d.NamePrefix + "*"}, manage...), manageCond))
	add(with(allow(SidDeployerReadSecrets, read, "secretsmanager:GetSecretValue"), ownedSecret))
	if resourcePolicies {
		// The second lock, put only with BlockPublicPolicy, which apply
		// always sets: a stolen credential cannot put a policy that opens
		// an owned secret to the world. Bool, not BoolIfExists, so that
		// a request without the flag is refused too (a statement of its
		// own for that). Its validation reads no resource.
		add(with(allow(SidDeployerResourcePolicy, policy.StringList{secret + d.NamePrefix + "*"}, "secretsmanager:PutResourcePolicy"),
			policy.Conditions{"StringEquals": ownedSecret["StringEquals"], "Bool": {"secretsmanager:BlockPublicPolicy": {"true"}}}))
		add(allow(SidDeployerValidatePolicy, policy.StringList{"*"}, "secretsmanager:ValidateResourcePolicy"))
	}
	if len(keys) > 0 {
		// What Secrets Manager asks of the caller to encrypt a new version
		// (GenerateDataKey), to read one (Decrypt) and to re-encrypt the
		// current versions when UpdateSecret changes the key (Encrypt);
		// only through Secrets Manager in the stage's region.
		add(with(allow(SidDeployerKMS, keys, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
			policy.Conditions{"StringEquals": {"kms:ViaService": {"secretsmanager." + d.Region + ".amazonaws.com"}}}))
	}
	if len(replicaKeys) > 0 {
		// What ReplicateSecretToRegions asks of the caller for a replica
		// with a customer managed key (GenerateDataKey, Encrypt), and
		// Decrypt for its versions; only through Secrets Manager in the
		// replicas' regions (a key is regional, so each key through its
		// own).
		add(with(allow(SidDeployerReplicaKMS, replicaKeys, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
			policy.Conditions{"StringEquals": {"kms:ViaService": replicaServices}}))
	}
	listIAM := []string{"iam:GetAccountSummary", "iam:ListInstanceProfiles", "iam:ListPolicies", "iam:ListRoles"}
	if d.AccountIAMRead {
		// Observe's account-wide read (observe_account.go): every role's
		// and customer managed policy's documents in the account, which
		// only the stage's opt-in grants. Like the listings it has no
		// resource type (its account-wide ListInstanceProfiles is the
		// listing's action), and in their statement it keeps the
		// multistage example's prod policy within a managed policy's
		// 6,144 characters, which a statement of its own would not.
		listIAM = append(listIAM, "iam:GetAccountAuthorizationDetails")
	}
	add(allow(SidDeployerListIAM, policy.StringList{"*"}, listIAM...))
	bounded := map[string]policy.StringList{"iam:PermissionsBoundary": {boundary}}
	createCond := owners("aws:RequestTag/")
	createCond["iam:PermissionsBoundary"] = policy.StringList{boundary}
	add(with(allow(SidDeployerCreateRoles, policy.StringList{stageRoles}, "iam:CreateRole"), policy.Conditions{"StringEquals": createCond}))
	// PutRolePermissionsBoundary can only set the stage's boundary (the
	// key is the requested one): apply converges a role that lacks it.
	add(with(allow(SidDeployerRolePolicies, policy.StringList{stageRoles}, "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"),
		policy.Conditions{"StringEquals": bounded}))
	add(with(allow(SidDeployerAttachParts, policy.StringList{stageRoles}, "iam:AttachRolePolicy"),
		policy.Conditions{"ArnLike": stageParts["ArnLike"], "StringEquals": bounded}))
	// Detaching grants nothing: apply removes policies attached by hand.
	add(with(allow(SidDeployerRoles, policy.StringList{stageRoles},
		"iam:DeleteRole", "iam:DetachRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole"),
		policy.Conditions{"StringEquals": owners("aws:ResourceTag/")}))
	// GetRole also for the tags of a role the spec drops (only an owned
	// one is deleted), ListRolePolicies for inline policies put by hand.
	add(allow(SidDeployerReadRoles, policy.StringList{stageRoles}, "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"))
	// AddRoleToInstanceProfile hands the role to every instance launched
	// with the profile, so IAM also asks for PassRole on the role.
	add(with(allow(SidDeployerPassRoles, policy.StringList{stageRoles}, "iam:PassRole"),
		policy.Conditions{"StringEquals": {"iam:PassedToService": {"ec2.amazonaws.com"}}}))
	add(allow(SidDeployerProfiles, policy.StringList{iamARN("instance-profile", path+"*")},
		"iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
		"iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile"))
	// The whole path, not the parts' names (ReadPolicyPartName): the parts
	// of a role the spec dropped must still be deleted. A part's content is
	// the deployer's to write; it grants nothing beyond the boundary on
	// the stage's roles (see external roles below).
	add(allow(SidDeployerPolicies, policy.StringList{stagePolicies},
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
	// Plan checks that the OIDC providers the roles' trust names exist,
	// by their ARNs (observe_oidc.go).
	if providers := TrustedOIDCProviders(d); len(providers) > 0 {
		add(allow(SidDeployerOIDCProviders, providers, "iam:GetOpenIDConnectProvider"))
	}
	if len(external) > 0 {
		add(allow(SidDeployerExternalRoles, external,
			"iam:DeleteRolePolicy", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
			"iam:ListRolePolicies", "iam:PutRolePolicy"))
		add(with(allow(SidDeployerExternalParts, external, "iam:AttachRolePolicy", "iam:DetachRolePolicy"), stageParts))
	}
	add(allow(SidDeployerSimulate, append(policy.StringList{stageRoles}, external...), "iam:SimulatePrincipalPolicy"))
	// Names cannot hold "/", so "<path>*/*" is exactly what lies below
	// the stage's path (roles, instance profiles, policies: one pattern
	// for every kind keeps the document within a managed policy's size),
	// where plan reports roles and touches nothing; verify simulates
	// them, which reads and changes nothing.
	add(policy.Statement{Sid: SidDeployerDenyDeeper, Effect: policy.Deny, NotAction: policy.StringList{"iam:SimulatePrincipalPolicy"},
		Resource: policy.StringList{iamARN("*", path+"*/*")}})
	// The boundary sits at the stage's path, which the grants above cover:
	// a deployer that could create or rewrite it would bound nothing.
	// "iam:Create*", "iam:Delete*" and "iam:Set*" name, on a policy, exactly
	// CreatePolicy(Version), DeletePolicy(Version) and
	// SetDefaultPolicyVersion, and keep the document within a managed
	// policy's size.
	add(policy.Statement{Sid: SidDeployerDenyBoundary, Effect: policy.Deny, Resource: policy.StringList{boundary},
		Action: policy.StringList{"iam:Create*", "iam:Delete*", "iam:Set*", "iam:TagPolicy", "iam:UntagPolicy"}})
	// Sorted and without duplicates (two secrets may share a key), as the
	// canonical form writes them, so the value equals its parsed file.
	return doc.Normalized(), nil
}

// SidImport is the statement of ImportPolicy.
const SidImport = "ClaimUnownedSecrets"

// ImportPolicy is the grant that `secretboot import` needs on top of
// DeployerPolicy: tagging with the stage's ownership tags, and with
// nothing else, a secret under the name prefix that carries neither
// ownership tag, so that no other stage's or project's secret can be
// claimed. It is separate because it lets the deployer take over any
// unowned secret under the prefix (and then read or replace its value):
// attach it for the import, then remove it.
func ImportPolicy(d *spec.Desired) (*policy.Document, error) {
	if d.AccountID == "" {
		return nil, errors.New("the import policy names the stage's secrets by ARN, so the stage must set account_id")
	}
	secrets := "arn:" + partition(d.Region) + ":secretsmanager:" + d.Region + ":" + d.AccountID + ":secret:" + d.NamePrefix + "*"
	doc := &policy.Document{Version: "2012-10-17", Statement: []policy.Statement{{
		Sid: SidImport, Effect: policy.Allow, Action: policy.StringList{"secretsmanager:TagResource"}, Resource: policy.StringList{secrets},
		Condition: policy.Conditions{
			"Null":         {"aws:ResourceTag/" + TagProject: {"true"}, "aws:ResourceTag/" + TagStage: {"true"}},
			"StringEquals": {"aws:RequestTag/" + TagProject: {d.Project}, "aws:RequestTag/" + TagStage: {d.Stage}},
			// The owner mark and the removal window come with the claim;
			// a mark is worth nothing without the stage key's HMAC.
			"ForAllValues:StringEquals": {"aws:TagKeys": {TagProject, TagStage, TagMark, TagRecoveryWindow}},
		},
	}}}
	return doc.Normalized(), nil
}
