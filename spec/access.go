package spec

import (
	"regexp"
	"slices"
	"sort"
)

// principalARNRe matches the principals a resource policy may exempt by
// aws:PrincipalArn: an IAM role or user, with its path.
var principalARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}$`)

// access evaluates the stage's resource policy settings (resource_policy,
// deployer_arn, break_glass) and each secret's resource_policy override,
// once the secrets are evaluated.
func (e *evaluator) access(d *Desired, secrets []*SecretConfig) {
	attrs := e.st.access
	d.DeployerARN = d.AssumeRoleARN
	if attr, ok := attrs["deployer_arn"]; ok {
		if v, ok := e.str(attr); ok {
			if !principalARNRe.MatchString(v) {
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid deployer ARN",
					"deployer_arn must be the ARN of the IAM role or user that applies the stage, such as arn:aws:iam::123456789012:role/deployer."))
			}
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
	}
}
