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
			v += " · status " + printable(r.Status)
		}
		if r.Message != "" && r.Status == provision.ReplicaFailed {
			v += " · " + quote(r.Message)
		}
		out = append(out, [2]string{r.Region, v})
	}
	return out
}

// keyName shows a replica's key: its ARN, or the region's AWS managed key.
// A live replica's ARN and status are what the endpoint answered, so
// anything but printable text is quoted, as AWS's status message is: a
// hostile endpoint writes no terminal escape.
func keyName(arn string) string {
	if arn == "" {
		return "aws/secretsmanager"
	}
	return printable(arn)
}

// printable is s, or s quoted when it holds a space, a quote, a backslash
// or a character that is not printable ASCII.
func printable(s string) string {
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '"' || r == '\\' {
			return quote(s)
		}
	}
	return s
}
