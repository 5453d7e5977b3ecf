package provision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// TestModel runs seeded random sequences of spec changes, writes outside
// secretboot, stage moves, deletions outside, removals from the spec and
// returns to it, regenerations and applies cut short by failing requests
// or stopped at a random point against the sandbox, and checks after each apply that the next plan is
// empty, every declared value is the declaration, generated passwords are
// the ones secretboot generated, and every secret the spec dropped is
// scheduled for deletion. SECRETBOOT_MODEL_SEED picks another seed.
func TestModel(t *testing.T) {
	seed := uint64(12)
	if v := os.Getenv("SECRETBOOT_MODEL_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = n
	}
	// 240 steps with SECRETBOOT_LONG_TESTS=1 (.ci/run sets it).
	steps := 240
	if testing.Short() || os.Getenv("SECRETBOOT_LONG_TESTS") != "1" {
		steps = 60
	}
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	s := sandboxBackend(env).mustConnect(t)
	t.Logf("seed %d (SECRETBOOT_MODEL_SEED)", seed)
	m := newModel("model", seed)
	ctx := context.Background()
	for step := range steps {
		op := m.rng.IntN(9)
		what := m.perturb(t, s, op)
		if op == 8 {
			// An apply stopped at a random point, as by a kill: its
			// context ends while requests are in flight.
			env.Server.SetFaults(sandbox.Faults{Latency: time.Millisecond})
			stop := time.Duration(1+m.rng.IntN(40)) * time.Millisecond
			d := m.desired()
			if o, err := provision.Observe(ctx, s, d); err == nil {
				if p, err := provision.Diff(d, o, provision.DiffOptions{}); err == nil {
					cut, cancel := context.WithTimeout(ctx, stop)
					_, _ = provision.Apply(cut, s, p, d, provision.ApplyOptions{PropagationTimeout: 1e9})
					cancel()
				}
			}
			env.Server.SetFaults(sandbox.Faults{})
			what = fmt.Sprintf("an apply stopped after %v", stop)
		}
		if op == 7 {
			// An apply cut short: half the requests fail, after the SDK's
			// retries too; the next apply finishes the work.
			env.Server.SetFaults(sandbox.Faults{FaultRate: 0.5})
			d := m.desired()
			if o, err := provision.Observe(ctx, s, d); err == nil {
				if p, err := provision.Diff(d, o, provision.DiffOptions{}); err == nil {
					_, _ = provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 1e9})
				}
			}
			env.Server.SetFaults(sandbox.Faults{})
			what = "an apply cut short by failing requests"
		}
		t.Logf("step %d: %s", step, what)
		var opts provision.DiffOptions
		if op == 6 {
			opts.Regenerate = m.regenerate
		}
		converge(t, s, m.desired(), opts)
		m.check(t, s, step)
		if t.Failed() {
			t.Fatalf("seed %d failed at step %d (%s)", seed, step, what)
		}
	}
}

// model is what the spec declares and what secretboot generated.
type model struct {
	stage      string
	rng        *rand.Rand
	secrets    []*modelSecret
	regenerate []string // the secrets the next apply regenerates
}

type modelSecret struct {
	key      string
	object   bool   // an object with a generated password, else a string
	value    string // the host of an object, the whole string
	declared bool
	existed  bool   // applied at least once
	password string // the generated password, "" before the first apply
	replaced string // the password a regeneration replaces
}

func newModel(stage string, seed uint64) *model {
	m := &model{stage: stage, rng: rand.New(rand.NewPCG(seed, seed^0x5eed))}
	for i := range 4 {
		m.secrets = append(m.secrets, &modelSecret{key: fmt.Sprintf("s%d", i), object: i < 2, value: "v0", declared: true})
	}
	return m
}

func (m *model) name(ms *modelSecret) string { return m.stage + "/" + ms.key }

func (m *model) desired() *spec.Desired {
	d := &spec.Desired{Project: "model", Stage: m.stage, Region: "us-east-1", AccountID: sandboxAccount,
		NamePrefix: m.stage + "/", RolePrefix: "model-"}
	hash := ""
	for _, ms := range m.secrets {
		if !ms.declared {
			continue
		}
		s := &spec.Secret{Key: ms.key, Name: m.name(ms), RecoveryWindowDays: 7}
		if ms.object {
			s.Payload = spec.Payload{Kind: spec.KindObject, Declared: spec.SealString(`{"host":"` + ms.value + `","username":"app"}`),
				Fields:     []string{"host", "password", "username"},
				Generators: []spec.Generator{{Field: "password", Length: 24, Upper: true, Lower: true, Numeric: true}}}
		} else {
			s.Payload = spec.Payload{Kind: spec.KindString, Declared: spec.SealString(ms.value)}
		}
		d.Secrets = append(d.Secrets, s)
		hash += ms.key + "=" + ms.value + ";"
	}
	d.SpecHash = hash
	return d
}

// live are the secrets that exist and are not scheduled for deletion.
func (m *model) live() []*modelSecret {
	var out []*modelSecret
	for _, ms := range m.secrets {
		if ms.declared && ms.existed {
			out = append(out, ms)
		}
	}
	return out
}

func (m *model) pick(list []*modelSecret) *modelSecret {
	if len(list) == 0 {
		return nil
	}
	return list[m.rng.IntN(len(list))]
}

// perturb changes the spec or the secrets outside secretboot, and says
// what it did.
func (m *model) perturb(t *testing.T, s *provision.Session, op int) string {
	t.Helper()
	ctx := context.Background()
	m.regenerate = nil
	switch op {
	case 0, 1: // the spec changes a value, often back to an earlier one
		ms := m.pick(m.secrets)
		ms.value = fmt.Sprintf("v%d", m.rng.IntN(3))
		if !ms.declared {
			ms.declared = true
			return "spec declares " + ms.key + " again, as " + ms.value
		}
		return "spec sets " + ms.key + " to " + ms.value
	case 2: // the spec drops a secret
		ms := m.pick(m.secrets)
		ms.declared = false
		return "spec drops " + ms.key
	case 3: // a write outside secretboot
		ms := m.pick(m.live())
		if ms == nil {
			return "nothing to write"
		}
		value := []string{"garbage", `{"host":"evil","username":"app","password":"by-hand"}`, `{"host":"v0"}`, "v1"}[m.rng.IntN(4)]
		writeOutside(t, s, m.name(ms), value)
		return "write outside to " + ms.key
	case 4: // AWSCURRENT moved to any version, deprecated ones included
		ms := m.pick(m.live())
		if ms == nil {
			return "nothing to move"
		}
		out, err := s.SecretsManager.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(m.name(ms)), IncludeDeprecated: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		to, from := out.Versions[m.rng.IntN(len(out.Versions))], ""
		for _, v := range out.Versions {
			if contains(v.VersionStages, "AWSCURRENT") {
				from = aws.ToString(v.VersionId)
			}
		}
		in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(m.name(ms)), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: to.VersionId}
		if from != aws.ToString(to.VersionId) {
			in.RemoveFromVersionId = aws.String(from)
		}
		if _, err := s.SecretsManager.UpdateSecretVersionStage(ctx, in); err != nil {
			t.Fatal(err)
		}
		return "AWSCURRENT of " + ms.key + " moved"
	case 5: // deleted outside secretboot
		ms := m.pick(m.live())
		if ms == nil {
			return "nothing to delete"
		}
		if _, err := s.SecretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(m.name(ms)), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
			t.Fatal(err)
		}
		return ms.key + " deleted outside"
	case 6: // --regenerate
		var objects []*modelSecret
		for _, ms := range m.live() {
			if ms.object {
				objects = append(objects, ms)
			}
		}
		ms := m.pick(objects)
		if ms == nil {
			return "nothing to regenerate"
		}
		m.regenerate = []string{ms.key}
		ms.replaced, ms.password = ms.password, "" // read back after the apply
		return "regenerate " + ms.key
	}
	return ""
}

// check compares every secret with the model after an apply.
func (m *model) check(t *testing.T, s *provision.Session, step int) {
	t.Helper()
	ctx := context.Background()
	for _, ms := range m.secrets {
		name := m.name(ms)
		if !ms.declared {
			if !ms.existed {
				continue
			}
			out, err := s.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
			if err != nil || out.DeletedDate == nil {
				t.Errorf("step %d: %s left the spec but is not scheduled for deletion (%v)", step, ms.key, err)
			}
			continue
		}
		ms.existed = true
		got := secretValue(t, s, name)
		if !ms.object {
			if got != ms.value {
				t.Errorf("step %d: %s does not hold the declared value", step, ms.key)
			}
			continue
		}
		var f map[string]string
		if err := json.Unmarshal([]byte(got), &f); err != nil {
			t.Errorf("step %d: %s is not a JSON object", step, ms.key)
			continue
		}
		if ms.password == "" && len(f["password"]) == 24 && f["password"] != ms.replaced {
			ms.password, ms.replaced = f["password"], ""
		}
		if f["host"] != ms.value || f["username"] != "app" || f["password"] != ms.password || len(f) != 3 {
			t.Errorf("step %d: %s: host %q want %q, password kept %v, %d fields", step, ms.key, f["host"], ms.value, f["password"] == ms.password, len(f))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
