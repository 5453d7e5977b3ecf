package provision

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/spec"
)

// replicate applies a secret's replication change: one
// RemoveRegionsFromReplication for the regions removed, replaced or
// retried, then one ReplicateSecretToRegions (each region with its key)
// for those added, replaced or retried, which are then seen through to the
// end of their replication (awaitReadded): a replica that fails because
// its name is taken in its region fails the change, instead of an apply
// that reports success while AWS marks the replica Failed. A
// secret this apply created has its replicas already: CreateSecret
// carried them (AddReplicaRegions, which AWS authorizes as
// ReplicateSecretToRegions too), so the change makes no call. A removed
// replica is deleted without a recovery window, so a replace leaves its
// region without the secret until the new replica is in sync.
// Replication never overwrites a secret of the name that already lives in
// a region (ForceOverwriteReplicaSecret stays off): that replica fails,
// and plan shows why; when it was a retry, the change fails too.
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
	readded := map[string]string{} // region → key of the replicas added (again)
	taken := map[string]bool{}     // the regions where a name clash is not our old replica
	for _, r := range c.Replication.Replicas {
		if r.Op != ReplicaAdd {
			remove = append(remove, r.Region)
		}
		if r.Op != ReplicaRemove {
			add = append(add, replicaRegion(r.Region, r.KMSKey.New))
		}
		if r.Op != ReplicaRemove {
			readded[r.Region] = r.KMSKey.New
			// A clash met by a plain add is not our old replica going
			// away: it is somebody else's secret, such as a replica
			// promoted outside secretboot (StopReplicationToReplica),
			// which keeps the name.
			taken[r.Region] = r.Op == ReplicaAdd || nameTaken(r.Message)
		}
	}
	if len(remove) > 0 {
		if _, err := sm.RemoveRegionsFromReplication(ctx, &secretsmanager.RemoveRegionsFromReplicationInput{
			SecretId: aws.String(id), RemoveReplicaRegions: remove,
		}); err != nil {
			return wrap(err, "removing replicas of secret", c.Name)
		}
	}
	if len(add) == 0 {
		return nil
	}
	out, err := sm.ReplicateSecretToRegions(ctx, &secretsmanager.ReplicateSecretToRegionsInput{
		SecretId: aws.String(id), AddReplicaRegions: add,
	})
	if err != nil {
		return wrap(err, "replicating secret", c.Name)
	}
	if len(readded) == 0 {
		return nil
	}
	return a.awaitReadded(ctx, c, id, readded, taken, out.ReplicationStatus)
}

// awaitReadded sees the replicas that replicate added, or removed and
// added again (region → key), through to the end of their replication. AWS does not
// document whether RemoveRegionsFromReplication deletes a replica before
// it answers; if it does so afterwards, the new replica of the region
// fails as a name clash with the old one ("Secret name … already exists
// in region …", as a Failed status, not an error of the call). Such a
// replica is removed and added again, with the backoff of propagating,
// until it replicates or the propagation timeout passes; a replica still
// InProgress (or not yet listed) is polled with DescribeSecret until it
// is no longer, within the same timeout. The waits hold no lane slot
// (idle). Replicas that fail for another reason are left for plan to
// show.
//
// A replica added where no replica was removed, or one that had already
// failed because the name was taken (taken), clashes with somebody else's
// secret, or with an old replica that an earlier apply gave up waiting
// for: it is added once, and if it clashes the change fails, so that no
// apply reports success while the name stays taken.
func (a *applier) awaitReadded(ctx context.Context, c Change, id string, readded map[string]string, taken map[string]bool, status []smtypes.ReplicationStatusType) error {
	sm := a.s.SecretsManager
	deadline := time.Now().Add(a.opts.PropagationTimeout)
	wait := 250 * time.Millisecond
	for {
		var pending, clashed, still []string
		listed := map[string]bool{}
		for _, st := range status {
			region := aws.ToString(st.Region)
			if _, ok := readded[region]; !ok {
				continue
			}
			listed[region] = true
			switch {
			case st.Status == smtypes.StatusTypeInProgress:
				pending = append(pending, region)
			case st.Status == smtypes.StatusTypeFailed && nameTaken(aws.ToString(st.StatusMessage)) && taken[region]:
				still = append(still, region)
			case st.Status == smtypes.StatusTypeFailed && nameTaken(aws.ToString(st.StatusMessage)):
				clashed = append(clashed, region)
			}
		}
		for region := range readded {
			if !listed[region] {
				pending = append(pending, region)
			}
		}
		if len(still) > 0 {
			slices.Sort(still)
			return fmt.Errorf("replicating secret %s: a secret of its name still exists in %s, somebody else's or a replica an earlier apply removed that AWS has not yet deleted; nothing was overwritten: delete that secret, or run apply again later", c.Name, strings.Join(still, ", "))
		}
		late := time.Now().Add(wait).After(deadline)
		if len(clashed) == 0 && (len(pending) == 0 || late) {
			return nil
		}
		if late {
			slices.Sort(clashed)
			return fmt.Errorf("replicating secret %s: %s after the replica there was removed, the name is still taken in %s (AWS may still be deleting the old replica); run apply again later: it adds the replica once more and fails as now while the name is taken", c.Name, a.opts.PropagationTimeout, strings.Join(clashed, ", "))
		}
		queued, err := a.idle(ctx, c, wait)
		if err != nil {
			return err
		}
		deadline = deadline.Add(queued)
		wait = min(wait*2, 5*time.Second)
		if len(clashed) > 0 {
			var again []smtypes.ReplicaRegionType
			for _, r := range clashed {
				again = append(again, replicaRegion(r, readded[r]))
			}
			if _, err := sm.RemoveRegionsFromReplication(ctx, &secretsmanager.RemoveRegionsFromReplicationInput{
				SecretId: aws.String(id), RemoveReplicaRegions: clashed,
			}); err != nil {
				return wrap(err, "removing replicas of secret", c.Name)
			}
			if _, err := sm.ReplicateSecretToRegions(ctx, &secretsmanager.ReplicateSecretToRegionsInput{
				SecretId: aws.String(id), AddReplicaRegions: again,
			}); err != nil {
				return wrap(err, "replicating secret", c.Name)
			}
		}
		out, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		if err != nil {
			return wrap(err, "reading the replication of secret", c.Name)
		}
		status = out.ReplicationStatus
	}
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

// nameTaken reports whether a replica's status message says that a secret
// of its name already exists in its region.
func nameTaken(msg string) bool { return strings.Contains(msg, "already exists") }
