package provision_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// TestReaddedReplicaWaitsWithoutASlot, as the deployer on the enforcing
// sandbox with one Secrets Manager slot (Parallelism 1): two secrets'
// failed replicas in eu-west-1 are retried, and the first one removed
// leaves, as AWS may, a secret of its name in the region for a while, so
// its change waits for the name to free up. The other secret's change
// runs during that wait instead of after it: the wait holds no slot.
func TestReaddedReplicaWaitsWithoutASlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true,
		Regions: []string{"us-west-2", "eu-west-1"}, KMSKeys: []string{westKey}})
	admin := sandboxBackend(env).mustConnect(t)
	d := replicatedDesired("db.internal")
	d.Secrets[1].Replicas = []spec.Replica{{Region: "eu-west-1"}}
	log, logged := startCallLog(t, env)
	s := stageDeployer(t, logged, admin, d)
	if err := converge1(ctx, s, d, false); err != nil {
		t.Fatal(err)
	}
	names := []string{d.Secrets[0].Name, d.Secrets[1].Name}
	for _, name := range names {
		if err := env.Server.FailReplica("eu-west-1", name); err != nil {
			t.Fatal(err)
		}
	}
	p := plan(t, s, d, provision.DiffOptions{})
	for _, name := range names {
		if got := strings.Join(replicaOps(p, name), ", "); got != "retry eu-west-1" {
			t.Fatalf("plan after %s's replica failed: %q", name, got)
		}
	}

	// The secret whose replica was removed first lingers.
	gone, lingered := log.lingerOldReplica(t, env, names, 1500*time.Millisecond)
	log.take()
	if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{Parallelism: 1, PropagationTimeout: 30 * time.Second}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	awaitClosed(t, gone, "the old replica was never removed")
	first := lingered()
	events := log.take()
	other := names[0]
	if first == other {
		other = names[1]
	}
	var lastReadd int
	for i, e := range events {
		if strings.HasPrefix(e, "begin ReplicateSecretToRegions ") && strings.Contains(e, ":secret:"+first+"-") {
			lastReadd = i
		}
	}
	if at := firstEvent(events, "begin RemoveRegionsFromReplication", other); at < 0 || at > lastReadd {
		t.Errorf("%s's replica was retried at %d, after %s's last attempt at %d: the wait held the slot:\n%s", other, at, first, lastReadd, strings.Join(events, "\n"))
	}
	if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
		t.Fatalf("plan after the retries:\n%s", textOf(t, p))
	}
}
