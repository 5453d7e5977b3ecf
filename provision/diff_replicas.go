package provision

import (
	"fmt"
	"slices"
)

// KindReplication is a secret's replication: the replicas Secrets Manager
// keeps of it in other regions (spec.Secret.Replicas). Name is the
// secret's.
const KindReplication Kind = "replication"

// Replica operations (ReplicaChange.Op).
const (
	ReplicaAdd     = "add"     // ReplicateSecretToRegions: declared, and missing (new, or removed outside secretboot)
	ReplicaRemove  = "remove"  // RemoveRegionsFromReplication: no longer declared, or the secret is deleted
	ReplicaReplace = "replace" // remove, then add: the replica's key differs from the declared one
	ReplicaRetry   = "retry"   // remove, then add: the replica failed (Message says why)
)

// ReplicationChange details the change of a secret's replicas. It holds
// regions, keys and statuses, never a payload: the replicas follow the
// primary's versions on their own.
type ReplicationChange struct {
	ARN      string          `json:"arn,omitempty"` // the primary's; "" until created
	Replicas []ReplicaChange `json:"replicas"`      // sorted by region
}

// ReplicaChange is one region's change.
type ReplicaChange struct {
	Region string `json:"region"`
	Op     string `json:"op"`
	// KMSKey is the replica's key before and after ("" for the region's
	// aws/secretsmanager): Old is empty on add, New on remove.
	KMSKey ValueChange `json:"kms_key"`
	// Status and Message are the live replica's (ReplicationStatus), for
	// remove, replace and retry.
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// replication plans each owned (or new) secret's replicas: add the
// declared regions that are missing, remove the regions no longer
// declared, replace a replica whose key differs, and retry a failed one.
// A secret being deleted loses every replica first (Secrets Manager
// refuses to delete a primary that has replicas), so its deletion
// depends on this change. A secret in the stage's region that is itself
// a replica of another region's primary is a clash: secretboot manages
// primaries only.
func (df *differ) replication() {
	for _, name := range sortedKeys(df.in.secrets) {
		si := df.in.secrets[name]
		os := si.live
		if os != nil && !si.owned {
			continue
		}
		if os != nil && os.PrimaryRegion != "" && os.PrimaryRegion != df.in.Region {
			df.clash.Other = append(df.clash.Other, fmt.Sprintf(
				"secret %s is a replica of a secret whose primary is in %s; secretboot manages the primary in the stage's region (%s) only: remove the replica there, or promote it (StopReplicationToReplica)",
				name, os.PrimaryRegion, df.in.Region))
			continue
		}
		want := map[string]string{} // region → key
		if si.spec != nil && !df.opts.Destroy {
			for _, r := range si.spec.Replicas {
				want[r.Region] = r.KMSKeyARN
			}
		}
		var live []ObservedReplica
		if os != nil && !os.Deleted {
			live = df.o.Replication[name]
		}
		rc := replicaChanges(want, live)
		if len(rc) == 0 {
			continue
		}
		c := Change{Kind: KindReplication, Name: name, Replication: &ReplicationChange{Replicas: rc}}
		if os != nil {
			c.Replication.ARN = os.ARN
		}
		c.Action = ActionUpdate
		switch {
		case len(want) == 0:
			c.Action = ActionDelete
		case len(live) == 0:
			c.Action = ActionCreate
		}
		secretID := changeID(KindSecret, name)
		if df.ids[secretID] && c.Action == ActionDelete {
			// The deletion waits for the replicas to go.
			for i := range df.changes {
				if df.changes[i].ID == secretID && df.changes[i].Action == ActionDelete {
					df.changes[i].DependsOn = append(df.changes[i].DependsOn, changeID(KindReplication, name))
				}
			}
		} else {
			c.DependsOn = df.dep(KindSecret, name)
		}
		df.add(c)
	}
}

// replicaChanges compares the declared replicas (region → key) with the
// live ones, sorted by region.
func replicaChanges(want map[string]string, live []ObservedReplica) []ReplicaChange {
	var out []ReplicaChange
	have := map[string]bool{}
	for _, l := range live {
		have[l.Region] = true
		key, declared := want[l.Region]
		rc := ReplicaChange{Region: l.Region, KMSKey: ValueChange{Old: liveKey(l.KMSKeyID), New: key}, Status: l.Status, Message: l.Message}
		switch {
		case !declared:
			rc.Op, rc.KMSKey.New = ReplicaRemove, ""
		case l.Status == ReplicaFailed:
			rc.Op = ReplicaRetry
		case !sameKey(key, l.KMSKeyID):
			rc.Op = ReplicaReplace
		default:
			continue
		}
		out = append(out, rc)
	}
	for region, key := range want {
		if !have[region] {
			out = append(out, ReplicaChange{Region: region, Op: ReplicaAdd, KMSKey: ValueChange{New: key}})
		}
	}
	slices.SortFunc(out, func(a, b ReplicaChange) int {
		switch {
		case a.Region < b.Region:
			return -1
		case a.Region > b.Region:
			return 1
		}
		return 0
	})
	return out
}

// liveKey is a live replica's key as a plan shows it: "" for the AWS
// managed key.
func liveKey(id string) string {
	if id == defaultSecretsManagerKey {
		return ""
	}
	return id
}
