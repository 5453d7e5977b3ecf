package provision_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// eventLog records apply progress in the order it happens.
type eventLog struct {
	mu     sync.Mutex
	events []string // "start <id>" / "done <id>"
}

func (l *eventLog) ChangeStarted(c provision.Change) { l.add("start " + c.ID) }
func (l *eventLog) ChangeFinished(c provision.Change, _ error) {
	l.add("done " + c.ID)
}
func (l *eventLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}
func (l *eventLog) at(e string) int { return slices.Index(l.events, e) }

// TestApplySchedulesByDependencies: apply runs each change once what it
// depends on is done, with one parallelism bound per service. So the
// instance profile (which needs only its role) is made while secrets are
// still being written, and the read policy starts only after every secret
// it grants exists.
func TestApplySchedulesByDependencies(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, Latency: 5 * time.Millisecond})
	b := sandboxBackend(env)
	s := b.mustConnect(t)

	d := testDesired(uniqueStage("sched"), sandboxAccount, canary)
	d.Secrets = nil
	for i := range 20 {
		name := fmt.Sprintf("app/s%02d", i)
		d.Secrets = append(d.Secrets, &spec.Secret{
			Key: name, Name: d.NamePrefix + name, Readers: []spec.Reader{{Role: "web"}}, RecoveryWindowDays: 7,
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString(canary)},
		})
	}
	p := plan(t, s, d, provision.DiffOptions{})
	events := &eventLog{}
	// One change at a time per service: the Secrets Manager lane takes 20
	// serial writes, the IAM lane a role and a profile.
	if _, err := provision.Apply(context.Background(), s, p, d, provision.ApplyOptions{Parallelism: 1, Observer: events}); err != nil {
		t.Fatalf("apply: %v", err)
	}

	role := "role:" + d.Roles[0].Name
	profile := "instance_profile:" + d.Roles[0].Name
	policy := "role_policy:" + d.Roles[0].Name + "/" + provision.ReadPolicyName
	for _, id := range []string{role, profile, policy} {
		if events.at("done "+id) < 0 {
			t.Fatalf("no change %s in %v", id, events.events)
		}
	}
	lastSecretDone := -1 // secrets finish in any order
	for _, sec := range d.Secrets {
		lastSecretDone = max(lastSecretDone, events.at("done secret:"+sec.Name))
	}
	if events.at("start "+profile) < events.at("done "+role) {
		t.Errorf("the instance profile started before its role was created")
	}
	if events.at("done "+profile) > lastSecretDone {
		t.Errorf("the instance profile waited for the secrets it does not need:\n%v", events.events)
	}
	for _, sec := range d.Secrets {
		if events.at("start "+policy) < events.at("done secret:"+sec.Name) {
			t.Errorf("the read policy started before secret %s existed", sec.Name)
		}
	}
}
