package provision

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/spec"
)

// replicate applies a secret's replication change: one
// RemoveRegionsFromReplication for the regions removed, replaced or
// retried, then one ReplicateSecretToRegions (each region with its key)
// for those added, replaced or retried. A secret this apply created has
// its replicas already: CreateSecret carried them (AddReplicaRegions,
// which AWS authorizes as ReplicateSecretToRegions too), so the change
// makes no call. A removed replica is deleted at
// once (no recovery window), so a replace leaves its region without the
// secret until the new replica is in sync. Replication never overwrites a
// secret of the name that already lives in a region
// (ForceOverwriteReplicaSecret stays off): that replica fails, and plan
// shows why.
func (a *applier) replicate(ctx context.Context, c Change) error {
	a.mu.Lock()
	done := a.replicatedOnCreate[c.Name]
	a.mu.Unlock()
	if done && c.Action == ActionCreate {
		return nil
	}
	id := a.secretID(c.Name)
	sm := a.s.SecretsManager
	var remove []string
	var add []smtypes.ReplicaRegionType
	for _, r := range c.Replication.Replicas {
		if r.Op != ReplicaAdd {
			remove = append(remove, r.Region)
		}
		if r.Op != ReplicaRemove {
			add = append(add, replicaRegion(r.Region, r.KMSKey.New))
		}
	}
	if len(remove) > 0 {
		if _, err := sm.RemoveRegionsFromReplication(ctx, &secretsmanager.RemoveRegionsFromReplicationInput{
			SecretId: aws.String(id), RemoveReplicaRegions: remove,
		}); err != nil {
			return wrap(err, "removing replicas of secret", c.Name)
		}
	}
	if len(add) > 0 {
		if _, err := sm.ReplicateSecretToRegions(ctx, &secretsmanager.ReplicateSecretToRegionsInput{
			SecretId: aws.String(id), AddReplicaRegions: add,
		}); err != nil {
			return wrap(err, "replicating secret", c.Name)
		}
	}
	return nil
}

// replicaRegions are the replicas of a request, each region with its key.
func replicaRegions(rs []spec.Replica) []smtypes.ReplicaRegionType {
	var out []smtypes.ReplicaRegionType
	for _, r := range rs {
		out = append(out, replicaRegion(r.Region, r.KMSKeyARN))
	}
	return out
}

func replicaRegion(region, key string) smtypes.ReplicaRegionType {
	rr := smtypes.ReplicaRegionType{Region: aws.String(region)}
	if key != "" {
		rr.KmsKeyId = aws.String(key)
	}
	return rr
}
