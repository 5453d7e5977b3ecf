package provision

import (
	"slices"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// reviewerActions are the operations a plan without payloads makes
// (ObserveStructure, then Diff), each authorized as the action of the same
// name; sts:GetCallerIdentity needs no permission. No GetSecretValue, no
// KMS action and no write is among them, and no ListSecretVersionIds:
// a secret's history is read only to check ownership with the stage key. TestReviewerPolicy runs the plan
// under ReviewerPolicy on a sandbox that authorizes as AWS does and checks
// that these are exactly the operations it called.
// GetAccountAuthorizationDetails reaches the plan role only from a
// deployer policy that has it (account_iam_read).
var reviewerActions = []string{
	"iam:GetAccountAuthorizationDetails", "iam:GetAccountSummary", "iam:GetInstanceProfile", "iam:GetOpenIDConnectProvider", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
	"iam:ListAttachedRolePolicies", "iam:ListInstanceProfiles", "iam:ListPolicies", "iam:ListRolePolicies", "iam:ListRoles",
	"secretsmanager:GetResourcePolicy", "secretsmanager:ListSecrets",
}

// reviewerSids renames the deployer statements whose name says "manage"
// once only their reads are left.
var reviewerSids = map[string]string{
	SidDeployerExternalRoles: "ReadPolicyOnExternalRoles",
	SidDeployerManageSecrets: "ReadOwnedResourcePolicies",
	SidDeployerPolicies:      "ReadStageManagedPolicies",
}

// ReviewerPolicy is the identity policy of a stage's plan role: what
// `plan -no-payloads` and `policy -check` need for stage d, which read the
// stage's structure and no secret value, not even the stage key. It is
// DeployerPolicy cut down to the reads those commands make, on the same
// resources (so it follows the spec as the deployer's does), and keeps the
// deployer's denial below the stage's path. It needs no AWS access and
// requires the stage's account_id.
func ReviewerPolicy(d *spec.Desired) (*policy.Document, error) {
	deployer, err := DeployerPolicy(d)
	if err != nil {
		return nil, err
	}
	actions := reviewerActions
	for _, s := range d.Secrets {
		if len(s.Replicas) > 0 {
			// A replicated secret's replicas are read with DescribeSecret.
			actions = append(slices.Clone(reviewerActions), "secretsmanager:DescribeSecret")
			break
		}
	}
	doc := &policy.Document{Version: deployer.Version}
	for _, st := range deployer.Statement {
		switch {
		case st.Sid == SidDeployerDenyDeeper:
		case st.Effect == policy.Deny:
			continue // it guards writes, of which the reviewer has none
		default:
			st.Action = slices.DeleteFunc(slices.Clone(st.Action), func(a string) bool { return !slices.Contains(actions, a) })
			if len(st.Action) == 0 {
				continue
			}
			if sid, ok := reviewerSids[st.Sid]; ok {
				st.Sid = sid
			}
		}
		doc.Statement = append(doc.Statement, st)
	}
	return doc.Normalized(), nil
}
