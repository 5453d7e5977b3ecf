package views

import (
	"github.com/secretboot/secretboot/provision"
)

// replicationAttrs describes a replication change as name/value pairs, one
// per region, in the order text and Markdown show them: what happens to
// the replica, its key, and for a replica that is there its live status
// (a failed one with AWS's message, which says why, and what apply does
// about it).
func replicationAttrs(c provision.Change) [][2]string {
	rc := c.Replication
	if rc == nil {
		return nil
	}
	var out [][2]string
	for _, r := range rc.Replicas {
		var v string
		switch r.Op {
		case provision.ReplicaAdd:
			v = "add replica, key " + keyName(r.KMSKey.New)
			if c.Action != provision.ActionCreate {
				v += " (missing: newly declared, or removed outside secretboot)"
			}
		case provision.ReplicaRemove:
			v = "remove replica (deleted at once, no recovery window)"
		case provision.ReplicaReplace:
			v = "replace replica: key " + keyName(r.KMSKey.Old) + " → " + keyName(r.KMSKey.New) + " (removed, then added again)"
		case provision.ReplicaRetry:
			v = "retry failed replica, key " + keyName(r.KMSKey.New) + ": removed, then added again; fix the cause first if it is still there"
		}
		if r.Status != "" && r.Op != provision.ReplicaRemove {
			v += " · status " + r.Status
		}
		if r.Message != "" && r.Status == provision.ReplicaFailed {
			v += " · " + quote(r.Message)
		}
		out = append(out, [2]string{r.Region, v})
	}
	return out
}

// keyName shows a replica's key: its ARN, or the region's AWS managed key.
func keyName(arn string) string {
	if arn == "" {
		return "aws/secretsmanager"
	}
	return arn
}
