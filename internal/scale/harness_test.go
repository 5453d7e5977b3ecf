package scale_test

import (
	"context"
	"maps"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// awsLike is the measured setting: AWS-like latency (25–35 ms, 30 ms on
// average) and AWS's request-rate quotas, with the IAM write quota at
// iamWriteRate.
var awsLike = sandbox.Faults{Latency: 25 * time.Millisecond, Jitter: 10 * time.Millisecond, Quotas: true, IAMWriteRate: iamWriteRate()}

// iamWriteRate is the IAM write rate measured: SECRETBOOT_IAM_WRITE_RATE,
// which the engine's sessions read too (provision.ConnectOptions), else
// the engine's default.
func iamWriteRate() float64 {
	if r, err := strconv.ParseFloat(os.Getenv("SECRETBOOT_IAM_WRITE_RATE"), 64); err == nil {
		return r
	}
	return provision.DefaultIAMWriteRate
}

// connect opens a session the way the CLI does (default credential chain
// replaced by the sandbox's admin key, client-side rate limits, retries),
// including its GetCallerIdentity call.
func connect(tb testing.TB, env *sandboxtest.Env) *provision.Session {
	tb.Helper()
	id, key := env.Server.AdminCredentials()
	s, err := provision.Connect(context.Background(), provision.ConnectOptions{
		Stage: scale.Stage, Region: scale.Region, AccountID: scale.Account,
		Endpoint: env.URL, Credentials: provision.StaticCredentials(id, key, "", ""),
	})
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	return s
}

// populate brings the sandbox to the desired state fast: clients without
// the engine's client-side rate limits, wide parallelism, and (the caller's
// job) no latency or quotas on the server. It fails unless a plan is empty
// afterwards.
func populate(tb testing.TB, env *sandboxtest.Env, d *spec.Desired) {
	tb.Helper()
	ctx := context.Background()
	s := connect(tb, env)
	s.SecretsManager = secretsmanager.NewFromConfig(env.Config)
	s.IAM = iam.NewFromConfig(env.Config)
	p := planOf(tb, s, d)
	if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{Parallelism: 64, PropagationTimeout: 10 * time.Second}); err != nil {
		tb.Fatalf("populating the sandbox: %v", err)
	}
	if p := planOf(tb, s, d); !p.Empty() {
		tb.Fatalf("populated sandbox still has %d changes", len(p.Changes))
	}
}

// populatedStage is the benchmarks' stage of n secrets and r roles (seed 1),
// populated in a fresh sandbox.
func populatedStage(b *testing.B, n, r int) (*spec.Desired, *sandboxtest.Env) {
	b.Helper()
	d, err := scale.Desired(n, r, 1)
	if err != nil {
		b.Fatal(err)
	}
	env := sandboxtest.Start(b, sandbox.Options{Account: scale.Account})
	populate(b, env, d)
	return d, env
}

func planOf(tb testing.TB, s *provision.Session, d *spec.Desired) *provision.Plan {
	tb.Helper()
	o, err := provision.Observe(context.Background(), s, d)
	if err != nil {
		tb.Fatalf("observe: %v", err)
	}
	p, err := provision.Diff(d, o, provision.DiffOptions{})
	if err != nil {
		tb.Fatalf("diff: %v", err)
	}
	return p
}

// calls sums the sandbox's counters.
type calls struct {
	byOp      map[string]int
	total     int
	writes    int // every operation that is not a Get, List, Describe or Simulate
	throttled int
	faults    int
}

func callsOf(st sandbox.Stats) calls {
	c := calls{byOp: maps.Clone(st.Calls)}
	for op, n := range st.Calls {
		c.total += n
		if isWrite(op) {
			c.writes += n
		}
	}
	for _, n := range st.Throttled {
		c.throttled += n
	}
	for _, n := range st.Faults {
		c.faults += n
	}
	return c
}

func isWrite(op string) bool {
	_, name, _ := strings.Cut(op, ".")
	for _, p := range []string{"Get", "List", "Describe", "Simulate"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// ops lists the operations of c sorted, for stable reports.
func (c calls) ops() []string { return slices.Sorted(maps.Keys(c.byOp)) }

// heapSampler records the peak of live heap objects while it runs. The
// in-process sandbox shares the heap, so its state is part of the figure;
// base is the live heap after a GC before the measured run, which is
// mostly the sandbox's state and the generated spec.
type heapSampler struct {
	base, peak uint64
	stop       chan struct{}
	done       sync.WaitGroup
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	runtime.GC()
	h := &heapSampler{base: heapNow(), stop: make(chan struct{})}
	h.peak = h.base
	h.done.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.peak = max(h.peak, heapNow())
			}
		}
	})
	return h
}

// finish stops sampling and returns the peak and the base in MB.
func (h *heapSampler) finish() (peakMB, baseMB float64) {
	close(h.stop)
	h.done.Wait()
	h.peak = max(h.peak, heapNow())
	return float64(h.peak) / (1 << 20), float64(h.base) / (1 << 20)
}

// large reports whether the large benchmark sizes were asked for.
func large() bool { return os.Getenv("SECRETBOOT_BENCH_LARGE") == "1" && !testing.Short() }

// planBudget is the engine's plan: issue 7 asks for 4 + ceil(N/100) + R;
// the engine makes 5 + ceil((N+1)/100) calls: GetCallerIdentity, the
// stage-key read, ListRoles by path (role descriptions), the account-wide
// GetAccountAuthorizationDetails (every role's inline and attached
// policies, boundary and tags, and the parts of split read policies, in
// place of 4R per-role reads since issue 18) and ListInstanceProfiles, a
// page each per 1,000 entities of the account, and the secrets listed with
// the stage key, hence N+1. A stage of 20 pages or more lists its secrets
// in parallel partitions, which add up to a partial page each. A stage
// without account_iam_read, or an account too large for the stage's roles,
// reads ListPolicies in place of GAAD, GetPolicyVersion of the stage's
// installed boundary (GAAD holds it), and 4R per-role reads more. See
// docs/performance.md.
func planBudget(n, r int, accountRead bool) int {
	if accountRead {
		return 5 + (n+1+99)/100
	}
	// Role by role, the stage's boundary is one GetPolicyVersion more.
	return 6 + (n+1+99)/100 + 4*r
}

// terraformModel is the refresh cost of the same stage in Terraform:
// DescribeSecret, GetResourcePolicy and GetSecretValue per secret and seven
// calls per role.
func terraformModel(n, r int) int { return 3*n + 7*r }
