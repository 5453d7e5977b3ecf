package provision_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// TestPlanCallBudget checks DESIGN §6: with N secrets and R roles, a plan
// (connect, observe, diff) makes at most 2 + ceil(N/100) + 2 + 4R + 2
// calls: per role its read policy and, since issue #11, one GetRole for its
// boundary and tags, which ListRoles does not show, and one
// ListAttachedRolePolicies for policies attached by hand and one
// ListRolePolicies for inline policies put by hand;
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

	env.Server.ResetStats()
	b := sandboxBackend(env)
	s := b.mustConnect(t)
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
	total := 0
	for _, c := range env.Server.Stats().Calls {
		total += c
	}
	budget := 2 + (n+99)/100 + 2 + 4*r + 2
	if total > budget {
		t.Errorf("plan made %d calls, budget %d: %v", total, budget, env.Server.Stats().Calls)
	}
	if got := env.Server.Stats().Calls["iam.GetRole"]; got != r {
		t.Errorf("GetRole called %d times, want one per role", got)
	}
	if got := env.Server.Stats().Calls["secretsmanager.ListSecrets"]; got != (n+1+99)/100 {
		t.Errorf("ListSecrets called %d times", got)
	}
	// Managed policies cost one listing per stage and one listing of each
	// role's attachments; versions are read only for split read policies.
	calls := env.Server.Stats().Calls
	if calls["secretsmanager.ListSecretVersionIds"] != 0 {
		t.Errorf("converged secrets had their history read: %v", calls)
	}
	if calls["iam.ListPolicies"] != 1 || calls["iam.ListAttachedRolePolicies"] != r || calls["iam.GetPolicyVersion"] != 0 {
		t.Errorf("managed policy calls: %v", calls)
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
