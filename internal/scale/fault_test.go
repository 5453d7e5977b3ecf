package scale_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"golang.org/x/time/rate"

	"github.com/secretboot/secretboot/internal/fakeclock"
	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// neighbour spends half of the account's shared Secrets Manager create
// quota and of the sandbox's IAM write quota from another client until ctx
// ends, as a second pipeline in the same account would. The engine's
// client-side limits assume the whole quota, so the sandbox answers
// ThrottlingException and the SDK's retries have to absorb it.
func neighbour(ctx context.Context, env *sandboxtest.Env) {
	sm := secretsmanager.NewFromConfig(env.Config)
	iamc := iam.NewFromConfig(env.Config)
	smRate, iamRate := rate.NewLimiter(25, 1), rate.NewLimiter(10, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; smRate.Wait(ctx) == nil; i++ {
			_, _ = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(fmt.Sprintf("neighbour/%d", i)), SecretString: aws.String("x")})
		}
	})
	wg.Go(func() {
		for i := 0; iamRate.Wait(ctx) == nil; i++ {
			_, _ = iamc.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName: aws.String(fmt.Sprintf("neighbour-%d", i)), Path: aws.String("/neighbour/"),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
			})
		}
	})
	wg.Wait()
}

// TestApplyConvergesUnderHarshFaults: AWS quotas with a neighbour spending
// half of them, 10 % of requests failing with a 5xx, latency, and new roles
// invisible to IAM for two seconds and their first two uses. Reruns of apply (as a user or CI would
// rerun) converge to an empty plan, with one version per secret and no
// error that carries a payload.
func TestApplyConvergesUnderHarshFaults(t *testing.T) {
	d, err := scale.Desired(150, 8, 11)
	if err != nil {
		t.Fatal(err)
	}
	env := sandboxtest.Start(t, sandbox.Options{
		Account: scale.Account, Quotas: true, FaultRate: 0.10,
		Latency: 2 * time.Millisecond, Jitter: 3 * time.Millisecond,
		PropagationDelay: 2 * time.Second, PropagateWrites: true, PropagationRefusals: 2,
	})
	ctx, stop := context.WithTimeout(context.Background(), 90*time.Second)
	defer stop()
	noisy, quiet := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { neighbour(noisy, env) })
	defer wg.Wait()
	defer quiet()

	s := connectRetrying(t, env)
	converged, applies := false, 0
	for run := 1; run <= 8 && !converged; run++ {
		o, err := provision.Observe(ctx, s, d)
		if err != nil {
			t.Logf("run %d: observe failed (rerun follows): %v", run, err)
			continue
		}
		p, err := provision.Diff(d, o, provision.DiffOptions{})
		if err != nil {
			t.Fatalf("diff: %v", err)
		}
		if p.Empty() {
			converged = true
			break
		}
		applies++
		_, err = provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 10 * time.Second})
		var stale *provision.StalePlanError
		var incomplete *provision.ApplyError
		switch {
		case err == nil:
		case errors.As(err, &stale), errors.As(err, &incomplete):
			t.Logf("run %d: %v", run, err)
		default:
			t.Logf("run %d: apply failed (rerun follows): %v", run, err)
		}
	}
	quiet()
	wg.Wait()
	env.Server.SetFaults(sandbox.Faults{})
	if !converged {
		if p := planOf(t, s, d); !p.Empty() {
			t.Fatalf("no convergence after 8 applies: %d changes left", len(p.Changes))
		}
	}
	st := env.Server.Stats()
	c, refused := callsOf(st), 0
	for _, n := range st.Propagating {
		refused += n
	}
	t.Logf("%d applies, %d calls, %d 5xx injected, %d throttled, %d NoSuchEntity while roles propagated", applies, c.total, c.faults, c.throttled, refused)
	if c.faults == 0 || c.throttled == 0 || refused == 0 {
		t.Errorf("the faults did not happen: %d 5xx, %d throttles, %d propagation refusals", c.faults, c.throttled, refused)
	}
	checkVersions(t, env.Config, d, nil)
}

// connectRetrying connects through injected faults: Connect's single
// GetCallerIdentity is retried by the SDK, but eight 10 % failures in a row
// are not impossible, and a test must not flake on them.
func connectRetrying(t *testing.T, env *sandboxtest.Env) *provision.Session {
	t.Helper()
	id, key := env.Server.AdminCredentials()
	var err error
	for range 3 {
		var s *provision.Session
		s, err = provision.Connect(context.Background(), provision.ConnectOptions{
			Stage: scale.Stage, Region: scale.Region, AccountID: scale.Account,
			Endpoint: env.URL, Credentials: provision.StaticCredentials(id, key, "", ""),
		})
		if err == nil {
			return s
		}
	}
	t.Fatalf("connect: %v", err)
	return nil
}

// checkVersions asserts that every secret of d exists once, is not
// scheduled for deletion and holds exactly want[name] versions (1 when
// absent from want), and returns a digest of each AWSCURRENT payload so
// that a caller can check that generated values are kept. Payloads are
// hashed at once and never printed.
func checkVersions(t *testing.T, cfg aws.Config, d *spec.Desired, want map[string]int) map[string][32]byte {
	t.Helper()
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(cfg)
	listed := map[string]smtypes.SecretListEntry{}
	for _, e := range allSecrets(t, sm) {
		if !strings.HasPrefix(aws.ToString(e.Name), d.NamePrefix) {
			continue
		}
		if _, dup := listed[aws.ToString(e.Name)]; dup {
			t.Errorf("secret %s listed twice", aws.ToString(e.Name))
		}
		listed[aws.ToString(e.Name)] = e
	}
	wantNames := []string{provision.StageKeyName(d)}
	for _, s := range d.Secrets {
		wantNames = append(wantNames, s.Name)
	}
	slices.Sort(wantNames)
	gotNames := slices.Sorted(func(yield func(string) bool) {
		for n := range listed {
			if !yield(n) {
				return
			}
		}
	})
	if !slices.Equal(gotNames, wantNames) {
		t.Errorf("secrets in the account differ from the spec: got %d %v, want %d", len(gotNames), diffNames(gotNames, wantNames), len(wantNames))
	}
	digests := map[string][32]byte{}
	for _, name := range wantNames {
		e, ok := listed[name]
		if !ok {
			continue
		}
		if e.DeletedDate != nil {
			t.Errorf("secret %s is scheduled for deletion", name)
		}
		n := 1
		if w, ok := want[name]; ok {
			n = w
		}
		out, err := sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: e.ARN, IncludeDeprecated: aws.Bool(true)})
		if err != nil {
			t.Fatalf("listing versions of %s: %v", name, err)
		}
		if len(out.Versions) != n {
			t.Errorf("secret %s has %d versions, want %d", name, len(out.Versions), n)
		}
		v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: e.ARN})
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		digests[name] = sha256.Sum256(append([]byte(aws.ToString(v.SecretString)), v.SecretBinary...))
	}
	return digests
}

// valueDigests reads the current value of every secret of d by name,
// hashed at once.
func valueDigests(t *testing.T, cfg aws.Config, d *spec.Desired) map[string][32]byte {
	t.Helper()
	sm := secretsmanager.NewFromConfig(cfg)
	out := map[string][32]byte{}
	for _, s := range d.Secrets {
		v, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.Name)})
		if err != nil {
			t.Fatalf("reading %s: %v", s.Name, err)
		}
		out[s.Name] = sha256.Sum256(append([]byte(aws.ToString(v.SecretString)), v.SecretBinary...))
	}
	return out
}

// diffNames says which names are extra (+) or missing (-), briefly.
func diffNames(got, want []string) string {
	var out []string
	for _, g := range got {
		if !slices.Contains(want, g) {
			out = append(out, "+"+g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, "-"+w)
		}
	}
	if len(out) > 10 {
		out = append(out[:10], "…")
	}
	return strings.Join(out, " ")
}

// TestListSecretsLag runs apply while the sandbox's ListSecrets lags behind
// earlier writes, as AWS's eventually consistent listing does. Whatever
// apply does then — succeed, because every write is keyed by an idempotent
// version token, or fail with an error naming the secret — once the
// listing catches up the plan is empty, no secret gained a version that was
// not asked for, and no generated value changed.
func TestListSecretsLag(t *testing.T) {
	tests := []struct {
		name string
		// before is applied, then the listing starts lagging, then after is
		// applied twice: once while the lagging listing still matches the
		// state, and again once it shows the state from before the first.
		before, after func(*spec.Desired) *spec.Desired
		versions      func(*spec.Desired) map[string]int
	}{
		{
			name:   "new secrets not listed yet",
			before: func(d *spec.Desired) *spec.Desired { c := *d; c.Secrets = d.Secrets[:len(d.Secrets)/2]; return &c },
			after:  func(d *spec.Desired) *spec.Desired { return d },
		},
		{
			name:   "stale versions after a change of declared fields",
			before: func(d *spec.Desired) *spec.Desired { return d },
			after:  moveHosts,
			versions: func(d *spec.Desired) map[string]int {
				out := map[string]int{}
				for _, s := range movedSecrets(d) {
					out[s] = 2
				}
				return out
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := scale.Desired(24, 3, 13)
			if err != nil {
				t.Fatal(err)
			}
			// The sandbox's clock stands still until the test moves it, so
			// the listing shows the state from before the lag began until
			// the clock passes the lag.
			clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			env := sandboxtest.Start(t, sandbox.Options{Account: scale.Account, Now: clock.Now})
			ctx := context.Background()
			s := connect(t, env)
			first := tc.before(d)
			if _, err := provision.Apply(ctx, s, planOf(t, s, first), first, provision.ApplyOptions{}); err != nil {
				t.Fatalf("first apply: %v", err)
			}
			const lag = 5 * time.Minute
			env.Server.SetFaults(sandbox.Faults{ListingLag: lag})
			final := tc.after(d)
			if _, err := provision.Apply(ctx, s, planOf(t, s, final), final, provision.ApplyOptions{}); err != nil {
				t.Fatalf("apply of the new spec: %v", err)
			}
			// Values by name: reads by ID do not lag.
			before := valueDigests(t, env.Config, final)

			p := planOf(t, s, final)
			if p.Empty() {
				t.Fatal("the lagging listing shows the latest writes; the test needs it to lag")
			}
			t.Logf("with the lagging listing the plan has %d changes", len(p.Changes))
			if _, err := provision.Apply(ctx, s, p, final, provision.ApplyOptions{}); err != nil {
				t.Logf("apply under lag failed: %v", err)
				if !strings.Contains(err.Error(), final.NamePrefix) {
					t.Errorf("the error does not name the secrets it concerns: %v", err)
				}
			}

			clock.Advance(lag)
			if p := planOf(t, s, final); !p.Empty() {
				t.Fatalf("after the lag the plan has %d changes", len(p.Changes))
			}
			var want map[string]int
			if tc.versions != nil {
				want = tc.versions(d)
			}
			after := checkVersions(t, env.Config, final, want)
			for name, h := range before {
				if after[name] != h {
					t.Errorf("the value of %s changed while the listing lagged", name)
				}
			}
		})
	}
}

// moveHosts returns d with the declared host of every third object secret
// changed, which makes apply write a new version that keeps the generated
// password. The declared fields are canonical JSON; the test reads them to
// rewrite one field and never prints them.
func moveHosts(d *spec.Desired) *spec.Desired {
	c := *d
	c.SpecHash = d.SpecHash + "-moved"
	c.Secrets = nil
	moved := movedSecrets(d)
	for _, s := range d.Secrets {
		if slices.Contains(moved, s.Name) {
			var fields map[string]any
			if err := json.Unmarshal(s.Payload.Declared.Reveal(), &fields); err != nil {
				panic(err)
			}
			fields["host"] = "moved.db.internal"
			b, err := json.Marshal(fields) // sorted keys, no spaces: canonical
			if err != nil {
				panic(err)
			}
			cp := *s
			cp.Payload.Declared = spec.Seal(b)
			s = &cp
		}
		c.Secrets = append(c.Secrets, s)
	}
	return &c
}

func movedSecrets(d *spec.Desired) []string {
	var out []string
	for i, s := range d.Secrets {
		if s.Payload.Kind == spec.KindObject && i%3 == 0 {
			out = append(out, s.Name)
		}
	}
	return out
}
