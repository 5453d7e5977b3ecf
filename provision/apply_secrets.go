package provision

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/spec"
)

func (a *applier) stageKey(ctx context.Context, c Change) error {
	sm := a.s.SecretsManager
	switch c.Action {
	case ActionDelete:
		return a.deleteSecret(ctx, c)
	case ActionRestore:
		if _, err := sm.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(c.Secret.ARN)}); err != nil {
			return wrap(err, "restoring the stage key", c.Name)
		}
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.Secret.ARN)})
		if err != nil {
			return wrap(err, "reading the stage key", c.Name)
		}
		a.setKey(spec.Seal(out.SecretBinary))
		return nil
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(a.opts.Rand, raw); err != nil {
		return fmt.Errorf("creating the stage key: %w", err)
	}
	a.s.maskKey(raw)
	key := spec.Seal(raw)
	clear(raw)
	tags := []smtypes.Tag{{Key: aws.String(TagStageKey), Value: aws.String("true")}}
	for _, k := range sortedKeys(ownerTags(a.d)) {
		tags = append(tags, smtypes.Tag{Key: aws.String(k), Value: aws.String(ownerTags(a.d)[k])})
	}
	_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(c.Name),
		Description:  aws.String("secretboot stage key for " + a.d.Project + "/" + a.d.Stage + ": keys version tokens; never read by applications"),
		SecretBinary: key.Reveal(),
		Tags:         tags,
	})
	if apiCode(err) == "ResourceExistsException" {
		return a.stageKeyCreatedMeanwhile(ctx, c.Name, err)
	}
	if err != nil {
		return wrap(err, "creating the stage key", c.Name)
	}
	a.setKey(key)
	return nil
}

func (a *applier) setKey(k spec.Sealed) {
	a.mu.Lock()
	a.key = k
	a.mu.Unlock()
}

func (a *applier) sealedKey() spec.Sealed {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.key
}

func smTags(m map[string]string) []smtypes.Tag {
	var out []smtypes.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, smtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func (a *applier) secret(ctx context.Context, c Change) error {
	sm := a.s.SecretsManager
	si := a.in.secrets[c.Name]
	if si == nil || si.spec == nil {
		return fmt.Errorf("secret %s is in the plan but not in the spec", c.Name)
	}
	s := si.spec
	regen := c.Secret.Payload.regenerate()
	if c.Action == ActionCreate {
		if err := a.createSecret(ctx, si, regen); err != nil {
			return err
		}
		a.mu.Lock()
		arn := a.arns[s.Name]
		a.mu.Unlock()
		if err := a.markRotated(ctx, s, arn); err != nil {
			return err
		}
		return a.rotate(ctx, s, arn, c.Secret.Rotation)
	}
	arn := aws.String(c.Secret.ARN)
	if rc := c.Secret.Rotation; rc != nil && rc.Op == RotationCancel {
		if err := a.rotate(ctx, s, c.Secret.ARN, rc); err != nil {
			return err
		}
	}
	if c.Action == ActionRestore {
		if err := a.restore(ctx, c, arn); err != nil {
			return err
		}
	}
	if c.Secret.Description != nil || c.Secret.KMSKey != nil {
		in := &secretsmanager.UpdateSecretInput{SecretId: arn}
		if c.Secret.Description != nil {
			in.Description = aws.String(s.Description)
		}
		if c.Secret.KMSKey != nil {
			key := s.KMSKeyARN
			if key == "" {
				key = "alias/aws/secretsmanager"
			}
			in.KmsKeyId = aws.String(key)
		}
		if _, err := sm.UpdateSecret(ctx, in); err != nil {
			return wrap(err, "updating secret", s.Name)
		}
	}
	// Tags first: the generation tag must be in place before the write it
	// keys, or a failure in between would undo a regeneration on rerun.
	if err := a.retagSecret(ctx, s.Name, arn, c.Secret.Tags); err != nil {
		return err
	}
	os := si.live
	gen := si.generation
	if len(regen) > 0 {
		gen++
	}
	if p := c.Secret.Payload; p != nil {
		if err := a.writePayload(ctx, s, c.Secret.ARN, p, os, gen, regen); err != nil {
			return err
		}
	}
	if rc := c.Secret.Rotation; rc != nil && rc.Op != RotationCancel {
		return a.rotate(ctx, s, c.Secret.ARN, rc)
	}
	return nil
}

// restore restores a secret scheduled for deletion and, when the plan
// changes its resource policy, applies that change at once (restoreLocks),
// before any new value; with a value to write, it then waits Settle for
// the policy to propagate.
func (a *applier) restore(ctx context.Context, c Change, arn *string) error {
	if _, err := a.s.SecretsManager.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: arn}); err != nil {
		return wrap(err, "restoring secret", c.Name)
	}
	lock, ok := a.restoreLocks[c.Name]
	if !ok {
		return nil
	}
	if err := a.resourcePolicy(ctx, lock); err != nil {
		return err
	}
	if !writesValue(c.Secret) {
		return nil
	}
	_, err := a.idle(ctx, c, a.opts.Settle)
	return err
}

// createSecret creates a secret of the plan with its declared payload,
// the first version keyed by the declaration's token.
func (a *applier) createSecret(ctx context.Context, si *secretIntent, regen []string) error {
	sm := a.s.SecretsManager
	s := si.spec
	value, err := a.compose(s, nil, regen)
	if err != nil {
		return fmt.Errorf("secret %s: %w", s.Name, err)
	}
	in := &secretsmanager.CreateSecretInput{
		Name:               aws.String(s.Name),
		ClientRequestToken: aws.String(versionToken(a.sealedKey().Reveal(), a.d, s, 0)),
		Tags:               smTags(si.tags(a.d, 0)),
	}
	if s.Description != "" {
		in.Description = aws.String(s.Description)
	}
	if s.KMSKeyARN != "" {
		in.KmsKeyId = aws.String(s.KMSKeyARN)
	}
	in.AddReplicaRegions = replicaRegions(s.Replicas)
	setValue(s, value, &in.SecretString, &in.SecretBinary)
	out, err := sm.CreateSecret(ctx, in)
	if apiCode(err) == "ResourceExistsException" {
		return a.secretCreatedMeanwhile(ctx, s, aws.ToString(in.ClientRequestToken), regen, err)
	}
	if err != nil {
		return wrap(err, "creating secret", s.Name)
	}
	a.mu.Lock()
	a.arns[s.Name] = aws.ToString(out.ARN)
	if len(in.AddReplicaRegions) > 0 {
		if a.replicatedOnCreate == nil {
			a.replicatedOnCreate = map[string]bool{}
		}
		a.replicatedOnCreate[s.Name] = true
	}
	a.mu.Unlock()
	// A new secret's first version is AWSCURRENT: it must be ours.
	if v := aws.ToString(out.VersionId); v != aws.ToString(in.ClientRequestToken) {
		return fmt.Errorf("secret %s: created with version %q, not %s, the version secretboot made for the spec: the secret does not hold the declared value", s.Name, v, aws.ToString(in.ClientRequestToken))
	}
	return nil
}

// retagSecret adds and removes the tags of a secret as the plan says.
func (a *applier) retagSecret(ctx context.Context, name string, arn *string, changes []TagChange) error {
	sm := a.s.SecretsManager
	tags := map[string]string{}
	var untag []string
	for _, t := range changes {
		if t.Removed {
			untag = append(untag, t.Key)
		} else {
			tags[t.Key] = t.New
		}
	}
	if len(tags) > 0 {
		if _, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: arn, Tags: smTags(tags)}); err != nil {
			return wrap(err, "tagging secret", name)
		}
	}
	if len(untag) > 0 {
		if _, err := sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: arn, TagKeys: untag}); err != nil {
			return wrap(err, "untagging secret", name)
		}
	}
	return nil
}

// regenerate lists the fields to regenerate ("" = all) of a payload change.
func (p *PayloadChange) regenerate() []string {
	if p == nil {
		return nil
	}
	return p.Regenerate
}

// setValue puts the payload into the request field its kind uses. This and
// the token are the only places payload bytes go.
func setValue(s *spec.Secret, v spec.Sealed, str **string, bin *[]byte) {
	if s.Payload.Kind == spec.KindBinary {
		*bin = v.Reveal()
		return
	}
	*str = aws.String(string(v.Reveal()))
}

// compose builds the value to write: declared fields plus generated ones,
// taken from live where present and not regenerated, new otherwise.
func (a *applier) compose(s *spec.Secret, live map[string]spec.Sealed, regen []string) (spec.Sealed, error) {
	gen := map[string]spec.Sealed{}
	for _, g := range s.Payload.Generators {
		if v, ok := live[g.Field]; ok && !contains(regen, g.Field) && !contains(regen, "") {
			gen[g.Field] = v
			continue
		}
		v, err := g.Generate(a.opts.Rand)
		if err != nil {
			return spec.Sealed{}, err
		}
		a.s.maskSecret(v.Reveal())
		gen[g.Field] = v
	}
	return s.Payload.Compose(gen)
}

func (a *applier) deleteSecret(ctx context.Context, c Change) error {
	days := c.Secret.RecoveryDays
	if days == 0 {
		days = 30
	}
	_, err := a.s.SecretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
		SecretId: aws.String(c.Secret.ARN), RecoveryWindowInDays: aws.Int64(int64(days)),
	})
	return wrap(err, "scheduling deletion of secret", c.Name)
}

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
