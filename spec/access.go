package spec

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// principalARNRe matches the principals a resource policy may exempt by
// aws:PrincipalArn: an IAM role or user, with its path. It captures the
// account, the kind and the name.
var principalARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):(role|user)/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)

// access evaluates the stage's resource policy settings (resource_policy,
// deployer_arn, break_glass) and each secret's resource_policy override,
// once the secrets are evaluated, and the deployer's account-wide IAM read
// (account_iam_read).
func (e *evaluator) access(d *Desired, secrets []*SecretConfig) {
	attrs := e.st.access
	if attr, ok := attrs["account_iam_read"]; ok {
		d.AccountIAMRead = e.bool(attr, false)
	}
	d.DeployerARN = d.AssumeRoleARN
	if attr, ok := attrs["deployer_arn"]; ok {
		if v, ok := e.str(attr); ok {
			e.checkDeployerARN(attr, v)
			d.DeployerARN = v
		}
	}
	if attr, ok := attrs["break_glass"]; ok {
		for _, v := range e.strList(attr) {
			switch {
			case v == "*":
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Break-glass principal \"*\"",
					"break_glass names the principals allowed to read every secret in an emergency; \"*\" would exempt everyone and undo the resource policies. Name a role ARN."))
			case !principalARNRe.MatchString(v):
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid break-glass principal",
					"%q is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/break-glass; wildcards are not allowed.", v))
			default:
				d.BreakGlass = append(d.BreakGlass, v)
			}
		}
		sort.Strings(d.BreakGlass)
		d.BreakGlass = slices.Compact(d.BreakGlass)
	}
	stageOn, stageAttr := false, attrs["resource_policy"]
	if stageAttr != nil {
		stageOn = e.bool(stageAttr, false)
	}
	roles := make(map[string]*Role, len(d.Roles))
	for _, r := range d.Roles {
		roles[r.Key] = r
	}
	byKey := make(map[string]*SecretConfig, len(secrets))
	for _, sc := range secrets {
		byKey[sc.Name] = sc
	}
	for _, s := range d.Secrets {
		on, where := stageOn, stageAttr
		if attr, ok := byKey[s.Key].attrs["resource_policy"]; ok {
			on, where = e.bool(attr, stageOn), attr
		}
		s.ResourcePolicy = on
		if on && d.DeployerARN == "" {
			e.diags = append(e.diags, errDiag(where.Expr.Range(), "Resource policy without a deployer",
				"The resource policy of %s denies reading it to everyone but its readers, the deployer and break_glass, so the stage must name its deployer: set deployer_arn (or assume_role_arn) on stage %q.", s.Name, e.st.Name))
		}
		e.crossAccountReaders(s, byKey[s.Key], roles)
	}
}

// checkDeployerARN refuses a deployer_arn that cannot be the principal
// applying the stage. The resource policies exempt the deployer by its
// exact aws:PrincipalArn, so a wrong one makes the first apply lock the
// real deployer out of the stage's secrets and their resource policies:
// it must be in the stage's account (which the deployer policy's
// resources are in), and a role that assume_role_arn names too, by the
// same name, must have the same path (IAM role names are unique in an
// account whatever their path, so one of the two paths is wrong).
func (e *evaluator) checkDeployerARN(attr *hcl.Attribute, arn string) {
	m := principalARNRe.FindStringSubmatch(arn)
	if m == nil {
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid deployer ARN",
			"deployer_arn must be the ARN of the IAM role or user that applies the stage, such as arn:aws:iam::123456789012:role/deployer."))
		return
	}
	if account := e.st.account(); account != "" && m[1] != account {
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Deployer in another account",
			"deployer_arn is in account %s but stage %q is in account %s: the deployer must be a principal of the stage's account, and the resource policies would lock out the one that applies the stage.", m[1], e.st.Name, account))
		return
	}
	// Past the account check, assume_role_arn is in the deployer's account.
	if a := roleARNRe.FindStringSubmatch(e.st.AssumeRoleARN); a != nil && m[2] == "role" && strings.EqualFold(a[2], m[3]) && e.st.AssumeRoleARN != arn {
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Deployer ARN differs from assume_role_arn",
			"deployer_arn and assume_role_arn name role %s differently (%s and %s), but a role name is unique in an account, so one of them is wrong: set deployer_arn to the role's real ARN, path included, or remove it (it defaults to assume_role_arn).", m[3], arn, e.st.AssumeRoleARN))
	}
}

// crossAccountReaders checks the readers of s in another account: such a
// role reads only when the secret's resource policy allows it (an identity
// policy does not reach across accounts), and decrypts only with a
// customer managed key whose key policy lets it (the AWS managed key
// aws/secretsmanager cannot be shared with another account).
// A cross-account rotator is refused: the rotation policy is an identity
// policy secretboot would have to put in the other account; so is a
// cross-account role in describe, which the resource policy does not grant.
func (e *evaluator) crossAccountReaders(s *Secret, sc *SecretConfig, roles map[string]*Role) {
	if rc := sc.Rotation; rc != nil && rc.Rotator != nil && roles[rc.Rotator.Role] != nil && roles[rc.Rotator.Role].CrossAccount {
		e.diags = append(e.diags, errDiag(rc.Rotator.Range, "Rotator in another account",
			"role.%s is in another account than stage %q; secretboot cannot put its rotation policy there. Name a role of the stage's account.", rc.Rotator.Role, e.st.Name))
	}
	for _, ref := range sc.DescribeRefs {
		if r := roles[ref.Role]; r != nil && r.CrossAccount {
			e.diags = append(e.diags, errDiag(ref.Range, "Describe for a cross-account reader",
				"role.%s is in another account than stage %q; its resource policy Allow grants GetSecretValue only. Remove it from describe.", r.Key, e.st.Name))
		}
	}
	for _, ref := range sc.Readers {
		r := roles[ref.Role]
		if r == nil || !r.CrossAccount {
			continue
		}
		if s.KMSKeyARN == "" {
			e.diags = append(e.diags, errDiag(ref.Range, "Cross-account reader without a customer managed key",
				"role.%s is in another account than stage %q; it can decrypt %s only with a customer managed key whose key policy allows it, and the AWS managed key aws/secretsmanager cannot be shared across accounts. Set kms_key_arn.", r.Key, e.st.Name, s.Name))
		}
		if !s.ResourcePolicy {
			e.diags = append(e.diags, errDiag(ref.Range, "Cross-account reader without a resource policy",
				"role.%s is in another account than stage %q; an identity policy does not reach across accounts, so it reads %s only when the secret's resource policy allows it. Set resource_policy = true on the secret or the stage.", r.Key, e.st.Name, s.Name))
		}
	}
}

// account is the stage's account as the spec tells it: account_id, else
// the account of assume_role_arn, else "" (unknown until apply).
func (st *StageConfig) account() string {
	if st.AccountID != "" {
		return st.AccountID
	}
	if m := roleARNRe.FindStringSubmatch(st.AssumeRoleARN); m != nil {
		return m[1]
	}
	return ""
}

// splitCrossAccount moves the cross-account roles out of d.Roles into
// d.CrossAccountRoles, and their reader entries out of each secret's
// Readers into its CrossAccountReaders: the engine creates, reads and
// attaches policies to the roles of the stage's account only, and a
// cross-account reader is a property of the secret's resource policy.
func splitCrossAccount(d *Desired) {
	cross := map[string]string{}
	roles := d.Roles[:0]
	for _, r := range d.Roles {
		if r.CrossAccount {
			cross[r.Key] = r.External
			d.CrossAccountRoles = append(d.CrossAccountRoles, r)
		} else {
			roles = append(roles, r)
		}
	}
	d.Roles = roles
	if len(cross) == 0 {
		return
	}
	for _, s := range d.Secrets {
		readers := s.Readers[:0]
		for _, r := range s.Readers {
			if arn, ok := cross[r.Role]; ok {
				s.CrossAccountReaders = append(s.CrossAccountReaders, arn)
			} else {
				readers = append(readers, r)
			}
		}
		s.Readers = readers
		slices.Sort(s.CrossAccountReaders)
		s.CrossAccountReaders = slices.Compact(s.CrossAccountReaders)
	}
}
