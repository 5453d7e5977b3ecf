package views

import (
	"strings"
	"testing"

	"github.com/secretboot/secretboot/provision"
)

// TestReplicationQuotesWhatTheEndpointSaid: a live replica's key ARN and
// status come from the endpoint; anything in them but printable text is
// quoted, so a hostile endpoint cannot write a terminal escape.
func TestReplicationQuotesWhatTheEndpointSaid(t *testing.T) {
	c := provision.Change{Action: provision.ActionUpdate, Replication: &provision.ReplicationChange{Replicas: []provision.ReplicaChange{{
		Region: "us-west-2", Op: provision.ReplicaReplace, Status: "InSync\x1b[2J",
		KMSKey: provision.ValueChange{Old: "arn:aws:kms:us-west-2:000000000000:key/k\x1b]0;owned\x07", New: "arn:aws:kms:us-west-2:000000000000:key/new"},
	}}}}
	got := replicationAttrs(c)[0][1]
	if strings.ContainsAny(got, "\x1b\x07") {
		t.Errorf("control characters reach the view: %q", got)
	}
	for _, want := range []string{`"InSync\x1b[2J"`, `"arn:aws:kms:us-west-2:000000000000:key/k\x1b]0;owned\a"`, "→ arn:aws:kms:us-west-2:000000000000:key/new "} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %s", got, want)
		}
	}
}
