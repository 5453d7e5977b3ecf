package provision

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// ObservedReplica is one replica of a secret as DescribeSecret's
// ReplicationStatus reports it on the primary.
type ObservedReplica struct {
	Region string
	// KMSKeyID is the key as AWS reports it (an ARN, a key id, or
	// alias/aws/secretsmanager); "" when absent.
	KMSKeyID string
	Status   string // InSync, InProgress or Failed
	Message  string // StatusMessage, such as why a replica failed
}

// Replica statuses (ReplicationStatusType.Status).
const (
	ReplicaInSync     = "InSync"
	ReplicaInProgress = "InProgress"
	ReplicaFailed     = "Failed"
)

// readReplication reads, with one DescribeSecret, the replicas of an owned
// secret that the intent says needs it (replicationReads). ListSecrets
// reports no replicas, only PrimaryRegion, so a secret that neither
// declares replicas nor shows a PrimaryRegion costs nothing. mu guards
// o.Replication.
func (o *Observed) readReplication(ctx context.Context, s *Session, mu *sync.Mutex, os *ObservedSecret) error {
	out, err := s.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(os.ARN)})
	if err != nil {
		return wrap(err, "reading the replication of secret", os.Name)
	}
	reps := make([]ObservedReplica, 0, len(out.ReplicationStatus))
	for _, r := range out.ReplicationStatus {
		reps = append(reps, ObservedReplica{
			Region: aws.ToString(r.Region), KMSKeyID: aws.ToString(r.KmsKeyId),
			Status: string(r.Status), Message: aws.ToString(r.StatusMessage),
		})
	}
	sort.Slice(reps, func(i, j int) bool { return reps[i].Region < reps[j].Region })
	mu.Lock()
	defer mu.Unlock()
	if o.Replication == nil {
		o.Replication = map[string][]ObservedReplica{}
	}
	o.Replication[os.Name] = reps
	if p := aws.ToString(out.PrimaryRegion); p != "" {
		os.PrimaryRegion = p
	}
	return nil
}

// replicationReads names, sorted, the secrets whose replication Observe
// reads: owned, not scheduled for deletion (a primary with replicas
// cannot be), in the stage's region, and either declaring replicas or
// listed with a PrimaryRegion (replicated, perhaps outside the spec, and
// perhaps leaving it: its deletion removes its replicas first).
func (in *Intent) replicationReads() []string {
	var names []string
	for name, si := range in.secrets {
		if !si.owned || si.live.Deleted || si.live.PrimaryRegion != "" && si.live.PrimaryRegion != in.Region {
			continue
		}
		if si.spec != nil && len(si.spec.Replicas) > 0 || si.live.PrimaryRegion != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// sameKey reports whether a replica's live key (as AWS reports it) is the
// declared one ("" for the region's aws/secretsmanager).
func sameKey(want, live string) bool {
	if want == "" || live == "" || live == defaultSecretsManagerKey {
		return (want == "") == (live == "" || live == defaultSecretsManagerKey)
	}
	if want == live {
		return true
	}
	_, id, ok := strings.Cut(want, ":key/")
	return ok && (live == id || strings.HasSuffix(live, ":key/"+id))
}

// defaultSecretsManagerKey is how AWS names the AWS managed key.
const defaultSecretsManagerKey = "alias/aws/secretsmanager"
