package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// resourcePolicy puts or deletes a secret's resource policy. The secret is
// tagged (TagResourcePolicy) before the first put and untagged after the
// delete, so an apply that stops in between leaves a tag without a policy,
// which the next plan deletes or rewrites, never a policy nothing leads
// back to. Every put blocks public policies (BlockPublicPolicy).
func (a *applier) resourcePolicy(ctx context.Context, c Change) error {
	rc := c.Resource
	id := a.secretID(c.Name)
	sm := a.s.SecretsManager
	if rec := rc.Record; rec != nil && !rec.Removed {
		if _, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{
			SecretId: aws.String(id), Tags: []smtypes.Tag{{Key: aws.String(rec.Key), Value: aws.String(rec.New)}},
		}); err != nil {
			return wrap(err, "tagging secret as holding a resource policy", c.Name)
		}
	}
	if c.Action == ActionDelete {
		if _, err := sm.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String(id)}); err != nil && !isNotFound(err) {
			return wrap(err, "deleting the resource policy of secret", c.Name)
		}
	} else if _, err := sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{
		SecretId: aws.String(id), ResourcePolicy: aws.String(rc.Document), BlockPublicPolicy: aws.Bool(true),
	}); err != nil {
		return wrap(err, "putting the resource policy of secret", c.Name)
	}
	if rec := rc.Record; rec != nil && rec.Removed {
		if _, err := sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(id), TagKeys: []string{rec.Key}}); err != nil {
			return wrap(err, "removing the resource policy tag of secret", c.Name)
		}
	}
	return nil
}

// secretID names a secret for a call: its ARN when it exists or this
// apply created it, its name otherwise.
func (a *applier) secretID(name string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if arn := a.arns[name]; arn != "" {
		return arn
	}
	return name
}

// validateResourcePolicies asks Secrets Manager to validate every resource
// policy the plan puts (ValidateResourcePolicy, which also runs AWS's
// check for broad access) before apply's first write, so that nothing
// changes when one would be refused. Each distinct document is validated
// once, without a secret: the check does not depend on it.
func validateResourcePolicies(ctx context.Context, s *Session, p *Plan) error {
	seen := map[string]bool{}
	var problems []string
	for _, c := range p.Changes {
		if c.Kind != KindResourcePolicy || c.Resource.Document == "" || seen[c.Resource.Document] {
			continue
		}
		seen[c.Resource.Document] = true
		out, err := s.SecretsManager.ValidateResourcePolicy(ctx, &secretsmanager.ValidateResourcePolicyInput{ResourcePolicy: aws.String(c.Resource.Document)})
		if err != nil {
			return wrap(err, "validating the resource policy of secret", c.Name)
		}
		if !out.PolicyValidationPassed {
			var why []string
			for _, e := range out.ValidationErrors {
				why = append(why, aws.ToString(e.CheckName)+": "+aws.ToString(e.ErrorMessage))
			}
			problems = append(problems, fmt.Sprintf("the resource policy of secret %s does not pass validation: %s", c.Name, strings.Join(why, "; ")))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("nothing was changed: %s", strings.Join(problems, "\n"))
	}
	return nil
}
