package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/spec"
)

// A create can find its resource already there although the plan, made
// from a fresh observation, said it was missing: ListSecrets and ListRoles
// lag behind writes, and an interrupted or concurrent apply may have made
// it in between. When the resource is ours (tags for secrets, the stage's
// path for IAM), the create counts as done and apply continues from the
// resource's actual state; anything else is somebody else's and is not
// touched.

// secretCreatedMeanwhile finishes the creation of a secret that exists.
// The version token makes the rest idempotent: when AWSCURRENT already is
// this declaration's token nothing is written; otherwise the payload is
// written with that token, generated values carried over from the live
// value, as for any update.
func (a *applier) secretCreatedMeanwhile(ctx context.Context, s *spec.Secret, token string, regen []string, createErr error) error {
	sm := a.s.SecretsManager
	out, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.Name)})
	if err != nil {
		return wrap(err, "reading secret (it exists although the plan said it did not)", s.Name)
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	found := &ObservedSecret{Name: s.Name, ARN: aws.ToString(out.ARN), Tags: tags, Versions: out.VersionIdsToStages}
	switch {
	case !ownedBy(tags, a.d):
		return fmt.Errorf("creating secret %s: it was created by someone else after the plan was made and is not tagged as part of this stage; nothing was written: %w", s.Name, createErr)
	case len(out.VersionIdsToStages) > 0 && !proven(a.sealedKey().Reveal(), a.d, found):
		return fmt.Errorf("creating secret %s: it was created after the plan was made and carries this stage's tags, but no version of it was written by secretboot (tags alone prove nothing); nothing was written: %w", s.Name, createErr)
	case out.DeletedDate != nil:
		return fmt.Errorf("creating secret %s: it exists and is scheduled for deletion; run plan again to restore it: %w", s.Name, createErr)
	}
	arn := aws.ToString(out.ARN)
	a.mu.Lock()
	a.arns[s.Name] = arn
	a.mu.Unlock()
	current := ""
	for id, stages := range out.VersionIdsToStages {
		if contains(stages, "AWSCURRENT") {
			current = id
		}
	}
	switch {
	case current == token:
		return nil
	case out.VersionIdsToStages[token] != nil:
		return a.makeCurrent(ctx, s, arn, token, current)
	}
	var live map[string]spec.Sealed
	if current != "" && keepsGenerated(s, regen) {
		if live, err = a.liveGenerated(ctx, s, arn, nil); err != nil {
			return err
		}
	}
	value, err := a.compose(s, live, regen)
	if err != nil {
		return fmt.Errorf("secret %s: %w", s.Name, err)
	}
	return a.putPayload(ctx, s, arn, token, 0, value)
}

// stageKeyCreatedMeanwhile adopts a stage key that another apply created:
// both must key tokens with the same bytes, so this one reads it instead
// of keeping the key it generated.
func (a *applier) stageKeyCreatedMeanwhile(ctx context.Context, name string, createErr error) error {
	sm := a.s.SecretsManager
	out, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		return wrap(err, "reading the stage key (it exists although the plan said it did not)", name)
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if !ownedBy(tags, a.d) || out.DeletedDate != nil {
		return fmt.Errorf("creating the stage key %s: a secret of that name appeared after the plan was made that is not this stage's live key; run plan again: %w", name, createErr)
	}
	v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: out.ARN})
	if err != nil {
		return wrap(err, "reading the stage key", name)
	}
	a.setKey(spec.Seal(v.SecretBinary))
	return nil
}

// roleCreatedMeanwhile accepts a role that exists under the stage's path.
// Its trust policy and description are what the next plan compares.
func (a *applier) roleCreatedMeanwhile(ctx context.Context, name string, createErr error) error {
	role, err := getRole(ctx, a.s.IAM, name)
	if err != nil {
		return wrap(err, "reading role (it exists although the plan said it did not)", name)
	}
	if path := aws.ToString(role.Path); path != RolePath(a.d) {
		return fmt.Errorf("creating role %s: a role of that name was created outside secretboot's path (%s) after the plan was made; it is not touched: %w", name, path, createErr)
	}
	return nil
}

// profileCreatedMeanwhile accepts an instance profile that exists under the
// stage's path and returns the roles it holds.
func (a *applier) profileCreatedMeanwhile(ctx context.Context, name string, createErr error) ([]string, error) {
	ip, err := getInstanceProfile(ctx, a.s.IAM, name)
	if err != nil {
		return nil, wrap(err, "reading instance profile (it exists although the plan said it did not)", name)
	}
	if path := aws.ToString(ip.Path); path != RolePath(a.d) {
		return nil, fmt.Errorf("creating instance profile %s: one of that name was created outside secretboot's path (%s) after the plan was made; it is not touched: %w", name, path, createErr)
	}
	var roles []string
	for _, r := range ip.Roles {
		roles = append(roles, aws.ToString(r.RoleName))
	}
	return roles, nil
}
