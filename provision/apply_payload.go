package provision

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/spec"
)

// "✓" means the secret holds what the spec declares: every payload write
// and stage move ends with AWSCURRENT on the version secretboot intended,
// confirmed by the write's response or by one DescribeSecret, or the
// change fails.

const stageCurrent = "AWSCURRENT"

// writePayload brings a secret's value to the plan's payload change: it
// moves AWSCURRENT to the declared version when that exists, and writes
// the declaration otherwise. os is the secret as observed.
func (a *applier) writePayload(ctx context.Context, s *spec.Secret, arn string, p *PayloadChange, os *ObservedSecret, gen int, regen []string) error {
	token := p.Version
	if token == "" { // planned while the stage key was unknown
		token = versionToken(a.sealedKey().Reveal(), a.d, s, gen)
	}
	if p.Status == PayloadRestoreStage {
		return a.makeCurrent(ctx, s, arn, token, os.Current)
	}
	var live map[string]spec.Sealed
	if p.ReadsLive {
		var err error
		if live, err = a.liveGenerated(ctx, s, arn, os); err != nil {
			return err
		}
	}
	value, err := a.compose(s, live, regen)
	if err != nil {
		return fmt.Errorf("secret %s: %w", s.Name, err)
	}
	return a.putPayload(ctx, s, arn, token, gen, value)
}

// putPayload writes value under token. A token already taken by a version
// with other data (its generated values differ: it was written before
// out-of-band writes replaced them) is answered with
// ResourceExistsException; the value then goes into the next revision,
// whose token authenticates as well. A token whose version holds this
// very data is silently ignored by Secrets Manager, which leaves
// AWSCURRENT where it was: the stage is then moved to it.
func (a *applier) putPayload(ctx context.Context, s *spec.Secret, arn, token string, gen int, value spec.Sealed) error {
	key := a.sealedKey().Reveal()
	rev, _ := tokenRevision(key, a.d, s, gen, token)
	for {
		in := &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), ClientRequestToken: aws.String(token)}
		setValue(s, value, &in.SecretString, &in.SecretBinary)
		out, err := a.s.SecretsManager.PutSecretValue(ctx, in)
		if apiCode(err) == "ResourceExistsException" && rev+1 < maxRevisions {
			rev++
			token = revisionToken(key, a.d, s, gen, rev)
			continue
		}
		if err != nil {
			return wrap(err, "writing secret", s.Name)
		}
		if aws.ToString(out.VersionId) == token && contains(out.VersionStages, stageCurrent) {
			return nil
		}
		current, err := a.currentVersion(ctx, s, arn)
		if err != nil || current == token {
			return err
		}
		return a.makeCurrent(ctx, s, arn, token, current)
	}
}

// makeCurrent moves AWSCURRENT to version token from the version that
// holds it ("" for none), and checks that it arrived.
func (a *applier) makeCurrent(ctx context.Context, s *spec.Secret, arn, token, from string) error {
	in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(arn), VersionStage: aws.String(stageCurrent), MoveToVersionId: aws.String(token)}
	if from != "" && from != token {
		in.RemoveFromVersionId = aws.String(from)
	}
	if _, err := a.s.SecretsManager.UpdateSecretVersionStage(ctx, in); err != nil {
		return wrap(err, "making the declared version current of secret", s.Name)
	}
	current, err := a.currentVersion(ctx, s, arn)
	if err != nil {
		return err
	}
	if current != token {
		return fmt.Errorf("secret %s: AWSCURRENT is version %s after the write, not %s, the version secretboot made for the spec: the secret does not hold the declared value; run apply again, and report it if this repeats", s.Name, current, token)
	}
	return nil
}

// currentVersion reads which version holds AWSCURRENT: one DescribeSecret.
func (a *applier) currentVersion(ctx context.Context, s *spec.Secret, arn string) (string, error) {
	out, err := a.s.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", wrap(err, "reading the versions of secret", s.Name)
	}
	for id, stages := range out.VersionIdsToStages {
		if contains(stages, stageCurrent) {
			return id, nil
		}
	}
	return "", nil
}

// liveGenerated reads the generated values to keep. Secretboot's own
// generated values are the declared ones, so they come from the versions
// it wrote: the current one when it is one of them, else the newest of the
// others (AWSPREVIOUS first, then the history newest first); for a secret
// whose value a rotator keeps, the current version first, whoever wrote
// it: the generated fields are the rotating ones. Only a value
// none of them holds (an adopted secret) is taken from a current version
// written outside, and only a value no version holds is made anew.
// Decoding errors are reported without their text: it could quote the
// payload.
func (a *applier) liveGenerated(ctx context.Context, s *spec.Secret, arn string, os *ObservedSecret) (map[string]spec.Sealed, error) {
	// AWSCURRENT is named, not implied: moto, which keeps a separate
	// default version, then answers with the current one.
	current := &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(stageCurrent)}
	var reads []*secretsmanager.GetSecretValueInput
	if os == nil {
		reads = append(reads, current)
	} else {
		key := a.sealedKey().Reveal()
		ours := func(id string) bool { return writtenBySecretboot(key, s.Name, id) }
		// A rotator's current version holds the generated (rotating)
		// fields as they are now: they are kept from it.
		rotated := !ownsValue(s, os)
		if ours(os.Current) || rotated {
			reads = append(reads, current)
		}
		seen := map[string]bool{os.Current: true}
		byID := func(id string) {
			if !seen[id] && ours(id) {
				seen[id] = true
				reads = append(reads, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(id)})
			}
		}
		for _, id := range sortedKeys(os.Versions) {
			if contains(os.Versions[id], "AWSPREVIOUS") {
				byID(id)
			}
		}
		for _, id := range sortedKeys(os.Versions) {
			byID(id)
		}
		for _, id := range os.newest {
			byID(id)
		}
		if !ours(os.Current) && !rotated {
			reads = append(reads, current)
		}
	}
	live := map[string]spec.Sealed{}
	for _, in := range reads {
		if len(live) == len(s.Payload.Generators) {
			break
		}
		out, err := a.s.SecretsManager.GetSecretValue(ctx, in)
		if err != nil {
			return nil, wrap(err, "reading a value (to keep generated values) of secret", s.Name)
		}
		raw := spec.Seal(out.SecretBinary)
		if out.SecretString != nil {
			raw = spec.SealString(*out.SecretString)
		}
		pickGenerated(s, raw, live)
	}
	return live, nil
}

// pickGenerated adds to live the generated values raw holds that live
// lacks.
func pickGenerated(s *spec.Secret, raw spec.Sealed, live map[string]spec.Sealed) {
	var fields map[string]json.RawMessage
	isObject := json.Unmarshal(raw.Reveal(), &fields) == nil
	for _, g := range s.Payload.Generators {
		if _, ok := live[g.Field]; ok {
			continue
		}
		if g.Field == "" {
			live[""] = raw
			continue
		}
		if !isObject {
			continue // not an object: the field is not in this version
		}
		var v string
		if f, ok := fields[g.Field]; ok && json.Unmarshal(f, &v) == nil && v != "" {
			live[g.Field] = spec.SealString(v)
		}
	}
}
