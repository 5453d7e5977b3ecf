package provision_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// TestPlanCallBudget checks DESIGN §6 op by op: with N secrets and R
// roles, a plan (connect, observe, diff) makes 1 + ceil((N+1)/100) + 1 + 3
// calls when the stage sets account_iam_read (GetAccountAuthorizationDetails
// beside ListRoles and ListInstanceProfiles), and 1 + ceil((N+1)/100) + 1 +
// 3 + 4R when it reads role by role, without the attribute: per role
// its read policy and, since issue #11, one GetRole for its boundary and
// tags, which ListRoles does not show, and one ListAttachedRolePolicies for
// policies attached by hand and one ListRolePolicies for inline policies
// put by hand;
// TestSplitReadPolicy checks the budget of a stage with a split role.
// The stage is seeded straight through the SDK, which is much faster than
// an apply under the client-side rate limits.
func TestPlanCallBudget(t *testing.T) {
	const n, r = 300, 20
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	ctx := context.Background()
	d := &spec.Desired{Project: "big", Stage: "prod", Region: "us-east-1", AccountID: sandboxAccount, NamePrefix: "prod/", RolePrefix: "big-prod-", SpecHash: "h"}
	for i := range r {
		d.Roles = append(d.Roles, &spec.Role{Key: fmt.Sprintf("r%02d", i), Name: fmt.Sprintf("big-prod-r%02d", i), Services: []string{"ec2.amazonaws.com"}})
	}
	for i := range n {
		d.Secrets = append(d.Secrets, &spec.Secret{
			Key: fmt.Sprintf("s%03d", i), Name: fmt.Sprintf("prod/s%03d", i), RecoveryWindowDays: 30,
			Readers: []spec.Reader{{Role: fmt.Sprintf("r%02d", i%r)}},
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString("v")},
		})
	}
	sm, iamc := secretsmanager.NewFromConfig(env.Config), iam.NewFromConfig(env.Config)
	owner := []smtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String("big")}, {Key: aws.String(provision.TagStage), Value: aws.String("prod")}}
	var wg sync.WaitGroup
	errs := make(chan error, n+r+1)
	sem := make(chan struct{}, 16)
	for i := range n + 1 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			in := &secretsmanager.CreateSecretInput{Name: aws.String(provision.StageKeyName(d)), SecretBinary: make([]byte, 32), Tags: owner}
			if i < n {
				// Written as apply writes them, so the plan is clean.
				s := d.Secrets[i]
				in = &secretsmanager.CreateSecretInput{Name: aws.String(s.Name), SecretString: aws.String("v"), Tags: owner,
					ClientRequestToken: aws.String(provision.VersionToken(make([]byte, 32), d, s, 0))}
			}
			if _, err := sm.CreateSecret(ctx, in); err != nil {
				errs <- err
			}
		}()
	}
	for _, role := range d.Roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName: aws.String(role.Name), Path: aws.String(provision.RolePath(d)),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
				// Tagged as apply tags them: an untagged role is not ours.
				Tags: []iamtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String("big")}, {Key: aws.String(provision.TagStage), Value: aws.String("prod")}},
			}); err != nil {
				errs <- err
				return
			}
			if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
				RoleName: aws.String(role.Name), PolicyName: aws.String(provision.ReadPolicyName),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`),
			}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("seeding: %v", err)
	}

	for _, perRole := range []bool{false, true} {
		t.Run(map[bool]string{false: "account-wide", true: "per-role"}[perRole], func(t *testing.T) {
			s := sandboxBackend(env).mustConnect(t)
			d.AccountIAMRead = !perRole
			env.Server.ResetStats()
			o, err := provision.Observe(ctx, s, d)
			if err != nil {
				t.Fatal(err)
			}
			p, err := provision.Diff(d, o, provision.DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Changes {
				if c.Kind == provision.KindSecret {
					t.Errorf("converged secret in the plan: %s", c.ID)
				}
			}
			calls := env.Server.Stats().Calls
			// GetCallerIdentity was made by Connect, before the reset.
			want := map[string]int{
				"secretsmanager.ListSecrets":    (n + 1 + 99) / 100,
				"secretsmanager.GetSecretValue": 1,
				"iam.ListRoles":                 1,
				"iam.ListInstanceProfiles":      1,
			}
			if perRole {
				// Managed policies cost one listing per stage and one
				// listing of each role's attachments; versions are read
				// only for split read policies.
				for op, n := range map[string]int{"ListPolicies": 1, "GetRole": r, "GetRolePolicy": r, "ListRolePolicies": r, "ListAttachedRolePolicies": r} {
					want["iam."+op] = n
				}
			} else {
				want["iam.GetAccountAuthorizationDetails"] = 1
			}
			if diff := cmp.Diff(want, calls); diff != "" {
				t.Errorf("plan calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplyConvergesUnderFaults runs apply against a sandbox that enforces
// AWS's rate quotas and fails 5% of requests with a 5xx: reruns of apply
// reach the desired state.
func TestApplyConvergesUnderFaults(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, Quotas: true, FaultRate: 0.05})
	b := sandboxBackend(env)
	s := b.mustConnect(t)
	d := testDesired("faults", sandboxAccount, canary)
	for i := range 10 {
		d.Secrets = append(d.Secrets, &spec.Secret{
			Key: fmt.Sprintf("extra/%d", i), Name: fmt.Sprintf("faults/extra/%d", i), RecoveryWindowDays: 7,
			Readers: []spec.Reader{{Role: "web"}},
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString(canary)},
		})
	}
	ctx := context.Background()
	var lastErr error
	for range 4 {
		o, err := provision.Observe(ctx, s, d)
		if err != nil {
			lastErr = err
			continue
		}
		p, err := provision.Diff(d, o, provision.DiffOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Empty() {
			lastErr = nil
			break
		}
		_, lastErr = provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 5e9})
		if lastErr != nil {
			noCanary(t, "apply error", lastErr.Error())
			t.Logf("apply under faults (rerun follows): %v", lastErr)
		}
	}
	if lastErr != nil {
		t.Fatalf("no convergence: %v", lastErr)
	}
	env.Server.SetFaults(sandbox.Faults{})
	if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
		t.Fatalf("not converged:\n%s", textOf(t, p))
	}
	injected := 0
	for _, n := range env.Server.Stats().Faults {
		injected += n
	}
	t.Logf("%d faults injected", injected)
}

// TestPartitionedListing observes a stage large enough for the secret
// listing to be partitioned (observe_listing.go) beside secrets the
// partitions are not made for: one named like the stage's name prefix,
// like a partition's prefix, under the prefix in no partition, and
// outside the prefix. Observe sees every secret under the prefix exactly
// as one listing of it does, in parallel listings.
func TestPartitionedListing(t *testing.T) {
	t.Parallel()
	const n = 2100 // 22 pages: over listingMinPages
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	ctx := context.Background()
	d := &spec.Desired{Project: "big", Stage: "prod", Region: "us-east-1", AccountID: sandboxAccount, NamePrefix: "prod/", RolePrefix: "big-prod-", SpecHash: "h"}
	for i := range n {
		d.Secrets = append(d.Secrets, &spec.Secret{Key: fmt.Sprint(i), Name: fmt.Sprintf("prod/svc%d/s%04d", i*i%13, i), RecoveryWindowDays: 7,
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString("v")}})
	}
	names := []string{"prod/", "prod/svc1", "prod/svc1@", "prod/@stray", "prod/svc12/x", "other/x"}
	for _, s := range d.Secrets {
		names = append(names, s.Name)
	}
	sm := secretsmanager.NewFromConfig(env.Config)
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	sem := make(chan struct{}, 16)
	for _, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("seeding: %v", err)
	}
	// What one listing by the prefix shows.
	want := map[string]bool{}
	p := secretsmanager.NewListSecretsPaginator(sm, &secretsmanager.ListSecretsInput{
		IncludePlannedDeletion: aws.Bool(true), Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"prod/"}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.SecretList {
			want[aws.ToString(e.Name)] = true
		}
	}
	if len(want) != n+5 {
		t.Fatalf("one listing shows %d secrets, want %d", len(want), n+5)
	}

	s := sandboxBackend(env).mustConnect(t)
	env.Server.ResetStats()
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for name := range o.Secrets {
		got[name] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("observed secrets (-one listing +partitioned):\n%s", diff)
	}
	// 22 pages in one listing; the partitions add a partial page each.
	if calls := env.Server.Stats().Calls["secretsmanager.ListSecrets"]; calls <= 22 || calls > 40 {
		t.Errorf("ListSecrets called %d times, want more than one listing's 22 and at most 40", calls)
	}
}

// TestObserveWithoutNamePrefix: a stage without a name prefix lists the
// account's secrets in one listing without a filter.
func TestObserveWithoutNamePrefix(t *testing.T) {
	t.Parallel()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(env.Config)
	for _, name := range []string{"a/one", "b/two"} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")}); err != nil {
			t.Fatal(err)
		}
	}
	d := &spec.Desired{Project: "p", Stage: "s", Region: "us-east-1", AccountID: sandboxAccount, RolePrefix: "p-s-", SpecHash: "h"}
	o, err := provision.Observe(ctx, sandboxBackend(env).mustConnect(t), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Secrets) != 2 || o.Secrets["a/one"] == nil || o.Secrets["b/two"] == nil {
		t.Errorf("observed %v, want a/one and b/two", o.Secrets)
	}
}

// BenchmarkObserveIAM measures the two ways observe reads IAM (the
// account-wide GetAccountAuthorizationDetails, or role by role) for a
// stage of R roles with inline read policies in an account holding other
// roles too, at the sandbox's AWS-like latency and quotas: what the
// adaptive choice (accountPageBudget) trades. The stage has one secret,
// so the IAM reads are what is timed. The sandbox answers a GAAD page as
// fast as any call, which AWS need not.
func BenchmarkObserveIAM(b *testing.B) {
	for _, size := range [][2]int{{10, 0}, {10, 3000}, {200, 0}, {200, 3000}} {
		r, others := size[0], size[1]
		env := sandboxtest.Start(b, sandbox.Options{Account: sandboxAccount})
		ctx := context.Background()
		d := &spec.Desired{Project: "big", Stage: "prod", Region: "us-east-1", AccountID: sandboxAccount, NamePrefix: "prod/", RolePrefix: "big-prod-", SpecHash: "h"}
		d.Secrets = []*spec.Secret{{Key: "s", Name: "prod/s", RecoveryWindowDays: 7, Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString("v")}}}
		iamc := iam.NewFromConfig(env.Config)
		trust := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
		owner := []iamtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String("big")}, {Key: aws.String(provision.TagStage), Value: aws.String("prod")}}
		for i := range r {
			d.Roles = append(d.Roles, &spec.Role{Key: fmt.Sprintf("r%03d", i), Name: fmt.Sprintf("big-prod-r%03d", i), Services: []string{"ec2.amazonaws.com"}})
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range r + others {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if i >= r {
					if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("other-%05d", i)), AssumeRolePolicyDocument: trust}); err != nil {
						b.Error(err)
					}
					return
				}
				name := aws.String(d.Roles[i].Name)
				if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: name, Path: aws.String(provision.RolePath(d)), AssumeRolePolicyDocument: trust, Tags: owner}); err != nil {
					b.Error(err)
					return
				}
				if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(provision.ReadPolicyName),
					PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)}); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		env.Server.SetFaults(sandbox.Faults{Latency: 25 * time.Millisecond, Jitter: 10 * time.Millisecond, Quotas: true})
		for _, perRole := range []bool{false, true} {
			mode := map[bool]string{false: "account-wide", true: "per-role"}[perRole]
			b.Run(fmt.Sprintf("R=%d/others=%d/%s", r, others, mode), func(b *testing.B) {
				var calls, gaad int
				d.AccountIAMRead = !perRole
				for b.Loop() {
					s := sandboxBackend(env).mustConnect(b)
					env.Server.ResetStats()
					if _, err := provision.Observe(ctx, s, d); err != nil {
						b.Fatal(err)
					}
					calls = 0
					for _, n := range env.Server.Stats().Calls {
						calls += n
					}
					gaad = env.Server.Stats().Calls["iam.GetAccountAuthorizationDetails"]
				}
				b.ReportMetric(float64(calls), "calls")
				// 0: read role by role; 1 or more: pages read, and more
				// than accountPageBudget of them: given up for the
				// per-role reads.
				b.ReportMetric(float64(gaad), "gaad-calls")
			})
		}
	}
}
