package provision

import (
	"context"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/spec"
)

// observeSecrets lists the stage's secrets (ListSecrets by name prefix,
// partitioned for a large stage: observe_listing.go) and reads the stage
// key when the stage owns it.
func (o *Observed) observeSecrets(ctx context.Context, s *Session, d *spec.Desired, readStageKey bool) error {
	keyName := StageKeyName(d)
	var mu sync.Mutex
	err := listSecrets(ctx, s, d, func(page []smtypes.SecretListEntry) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range page {
			name := aws.ToString(e.Name)
			// The name filter is a prefix match on AWS; emulators may
			// match more loosely.
			if len(name) < len(d.NamePrefix) || name[:len(d.NamePrefix)] != d.NamePrefix {
				continue
			}
			os := &ObservedSecret{
				Name:        name,
				ARN:         aws.ToString(e.ARN),
				Description: aws.ToString(e.Description),
				KMSKeyID:    aws.ToString(e.KmsKeyId),
				Tags:        map[string]string{},
				Deleted:     e.DeletedDate != nil,
				Versions:    e.SecretVersionsToStages,

				PrimaryRegion: aws.ToString(e.PrimaryRegion),

				RotationEnabled: aws.ToBool(e.RotationEnabled),
			}
			if os.RotationEnabled {
				os.Rotation = observedRotation(e)
			}
			for _, t := range e.Tags {
				os.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			for id, stages := range e.SecretVersionsToStages {
				for _, st := range stages {
					if st == "AWSCURRENT" {
						os.Current = id
					}
				}
			}
			if name == keyName {
				o.StageKey = os
				continue
			}
			o.Secrets[name] = os
		}
	})
	if err != nil {
		return err
	}
	if !readStageKey {
		return nil
	}
	return o.readStageKey(ctx, s, d)
}

// readStageKey reads the stage key when the stage owns it and it is not
// scheduled for deletion; a key created without a value counts as absent.
func (o *Observed) readStageKey(ctx context.Context, s *Session, d *spec.Desired) error {
	if o.StageKey == nil || o.StageKey.Deleted || !ownedBy(o.StageKey.Tags, d) {
		return nil
	}
	out, err := s.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(o.StageKey.ARN)})
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return wrap(err, "reading the stage key", StageKeyName(d))
	}
	o.stageKey = spec.Seal(out.SecretBinary)
	return nil
}

// readHistory reads the history of a secret the intent says needs it
// (Intent.historyNeeded): one ListSecretVersionIds with IncludeDeprecated,
// and a page more per 100 versions. It needs the stage key and the
// listing, so it runs after them (observeFollowUps).
func readHistory(ctx context.Context, s *Session, os *ObservedSecret) error {
	p := secretsmanager.NewListSecretVersionIdsPaginator(s.SecretsManager, &secretsmanager.ListSecretVersionIdsInput{
		SecretId: aws.String(os.ARN), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(100),
	})
	history := map[string]bool{}
	var versions []smtypes.SecretVersionsListEntry
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrap(err, "listing the versions of secret", os.Name)
		}
		for _, v := range page.Versions {
			history[aws.ToString(v.VersionId)] = true
			versions = append(versions, v)
		}
	}
	sort.SliceStable(versions, func(i, j int) bool {
		ti, tj := aws.ToTime(versions[i].CreatedDate), aws.ToTime(versions[j].CreatedDate)
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return aws.ToString(versions[i].VersionId) < aws.ToString(versions[j].VersionId)
	})
	for _, v := range versions {
		os.newest = append(os.newest, aws.ToString(v.VersionId))
	}
	os.History = history
	return nil
}
