package policy

import (
	"slices"
	"sort"
)

// Sids of the statements ResourcePolicy writes, stable across versions so
// that reviewers and drift reports can follow them.
const (
	SidDenyReadExceptReaders    = "DenyReadExceptReaders"
	SidDenyPolicyChangesExcept  = "DenyPolicyChangesExceptDeployer"
	SidAllowCrossAccountReaders = "AllowCrossAccountReaders"
)

// ResourcePolicyReadActions are the actions a secret's resource policy
// denies to everyone but its readers: those that return the payload.
// BatchGetSecretValue is authorized as GetSecretValue on each secret, so
// it is covered. DescribeSecret and ListSecretVersionIds return metadata
// only and stay with identity policies.
var ResourcePolicyReadActions = StringList{actionGetSecretValue}

// resourcePolicyWriteActions are the actions that would lift the lock:
// only the deployer and break-glass principals may change or remove it.
var resourcePolicyWriteActions = StringList{"secretsmanager:DeleteResourcePolicy", "secretsmanager:PutResourcePolicy"}

// ResourcePolicy synthesizes a secret's resource policy, the second lock
// besides the readers' identity policies: an explicit Deny of reading the
// secret to every principal whose aws:PrincipalArn is none of readers and
// admins, and a Deny of changing or deleting the resource policy to every
// principal but admins (the stage's deployer and break-glass principals).
// An explicit deny wins over any Allow, so a role that some other policy
// grants secretsmanager:* on * still cannot read. It allows nothing: in
// the secret's own account an identity policy's Allow is enough, so
// readers keep their grant from their read policies. The exceptions are
// conditions on aws:PrincipalArn, not NotPrincipal, which AWS discourages
// (a NotPrincipal Deny must name every session ARN form). The ARNs are
// IAM role or user ARNs; for an assumed-role session aws:PrincipalArn is
// the role's ARN with its path, so the role ARNs match its sessions. The
// result is deterministic whatever the order of the inputs; nil when
// admins is empty (nobody could apply the stage afterwards).
//
// crossAccount are reader roles in other accounts. An identity policy
// alone does not reach across accounts: such a role reads only when the
// resource policy allows it too, so they get an Allow of reading and are
// exempt from the Deny like the other readers.
func ResourcePolicy(readers, admins []string, crossAccount ...string) *Document {
	admins = sortedSet(admins)
	if len(admins) == 0 {
		return nil
	}
	except := func(arns []string) Conditions {
		return Conditions{"ArnNotEquals": {"aws:PrincipalArn": StringList(arns)}}
	}
	crossAccount = sortedSet(crossAccount)
	everyone := &Principal{Values: map[string]StringList{"AWS": {"*"}}}
	exempt := append(append(slices.Clone(readers), crossAccount...), admins...)
	d := &Document{Version: "2012-10-17", Statement: []Statement{
		{Sid: SidDenyReadExceptReaders, Effect: Deny, Principal: everyone, Action: ResourcePolicyReadActions,
			Resource: StringList{"*"}, Condition: except(sortedSet(exempt))},
		{Sid: SidDenyPolicyChangesExcept, Effect: Deny, Principal: everyone, Action: resourcePolicyWriteActions,
			Resource: StringList{"*"}, Condition: except(admins)},
	}}
	if len(crossAccount) > 0 {
		d.Statement = append(d.Statement, Statement{Sid: SidAllowCrossAccountReaders, Effect: Allow,
			Principal: &Principal{Values: map[string]StringList{"AWS": StringList(crossAccount)}},
			Action:    ResourcePolicyReadActions, Resource: StringList{"*"}})
	}
	return d
}

func sortedSet(l []string) []string {
	out := slices.Clone(l)
	sort.Strings(out)
	return slices.Compact(out)
}
