package provision_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu       sync.Mutex
	started  []string
	finished map[string]error
}

func (r *recorder) ChangeStarted(c provision.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, c.ID)
}

func (r *recorder) ChangeFinished(c provision.Change, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished == nil {
		r.finished = map[string]error{}
	}
	r.finished[c.ID] = err
}

// TestPartialFailure makes one secret fail during apply (its generator
// cannot produce a value): apply reports what was done, what failed and
// what was not attempted because it depended on the failure, and a rerun
// with the spec fixed converges.
func TestPartialFailure(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		stage := uniqueStage("partial")
		d := testDesired(stage, b.account, canary)
		bad := &spec.Secret{
			Key: "app/token", Name: stage + "/app/token", RecoveryWindowDays: 7,
			Readers: []spec.Reader{{Role: "web"}},
			Payload: spec.Payload{Kind: spec.KindString, Generators: []spec.Generator{{Length: 0, Lower: true}}},
		}
		d.Secrets = append(d.Secrets, bad)
		p := plan(t, s, d, provision.DiffOptions{})
		rec := &recorder{}
		res, err := provision.Apply(context.Background(), s, p, d, provision.ApplyOptions{Observer: rec, Parallelism: 2})
		var ae *provision.ApplyError
		if !errors.As(err, &ae) {
			t.Fatalf("want an ApplyError, got %v", err)
		}
		noCanary(t, "apply error", err.Error())
		policyID := "role_policy:shop-" + stage + "-web/secretboot-read"
		if len(res.Failed) != 1 || res.Failed[0].ID != "secret:"+bad.Name {
			t.Errorf("failed = %+v", res.Failed)
		}
		if diff := cmp.Diff([]string{policyID}, res.NotDone); diff != "" {
			t.Errorf("not attempted (-want +got):\n%s", diff)
		}
		want := []string{
			"instance_profile:shop-" + stage + "-web",
			"role:shop-" + stage + "-web",
			"secret:" + stage + "/app/db",
			"secret:" + stage + "/app/stripe",
			"stage_key:" + stage + "/.secretboot/stage-key",
		}
		got := append([]string(nil), res.Done...)
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("done (-want +got):\n%s", diff)
		}
		if len(rec.started) != len(want)+1 || len(rec.finished) != len(rec.started) {
			t.Errorf("observer saw %d starts and %d finishes", len(rec.started), len(rec.finished))
		}

		bad.Payload.Generators[0].Length = 12
		d.SpecHash = "spec-fixed"
		p = converge(t, s, d, provision.DiffOptions{})
		if diff := cmp.Diff([]string{"create secret:" + bad.Name + " [new]", "create " + policyID}, summary(p)); diff != "" {
			t.Errorf("rerun plan (-want +got):\n%s", diff)
		}
	})
}
