package provision_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestCallStatsMatchServer applies against a sandbox that fails a fifth of
// all requests with a 5xx: every request the server saw is a call or a
// retry in the session's counters, and the apply summary counts the calls
// of the apply (its re-observation included).
func TestCallStatsMatchServer(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, FaultRate: 0.2})

	s, err := provision.Connect(context.Background(), provision.ConnectOptions{
		Stage: "stats", Region: "us-east-1", AccountID: sandboxAccount, Endpoint: env.URL,
		Credentials: provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
		MaxAttempts: 20, // high enough that no call runs out of attempts
	})
	if err != nil {
		t.Fatal(err)
	}
	d := testDesired("stats", sandboxAccount, canary)
	p := plan(t, s, d, provision.DiffOptions{})
	before := s.CallStats()
	res := apply(t, s, p, d)
	env.Server.SetFaults(sandbox.Faults{})

	server := 0
	for _, n := range env.Server.Stats().Calls {
		server += n
	}
	faults := 0
	for _, n := range env.Server.Stats().Faults {
		faults += n
	}
	total := s.CallStats().Total()
	if total.Calls+total.Retries != server {
		t.Errorf("session counted %d calls + %d retries, the server saw %d requests", total.Calls, total.Retries, server)
	}
	if total.Retries != faults {
		t.Errorf("session counted %d retries, the server injected %d faults", total.Retries, faults)
	}
	if faults == 0 {
		t.Log("no fault was injected; retries were not exercised")
	}

	sum := res.Summary
	applied := s.CallStats().Since(before).Total()
	got := []int{sum.Changes, sum.Calls, sum.Retries, sum.Throttles}
	want := []int{len(p.Changes), applied.Calls, applied.Retries, applied.Throttles}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("apply summary [changes calls retries throttles] (-want +got):\n%s", diff)
	}
	if sum.Duration <= 0 || len(sum.Ops) == 0 {
		t.Errorf("apply summary lacks duration or operations: %+v", sum)
	}
}
