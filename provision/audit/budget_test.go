package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/audit"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/spec"
)

// awsLike is the measured setting: AWS-like latency (25–35 ms) and AWS's
// request-rate quotas.
var awsLike = sandbox.Faults{Latency: 25 * time.Millisecond, Jitter: 10 * time.Millisecond, Quotas: true}

// auditCalls runs one audit as the CLI does (observe, then audit) and
// returns the calls audit itself made per operation, how long it took and
// the result.
func auditCalls(t *testing.T, s *provision.Session, d *spec.Desired) (map[string]int, time.Duration, *audit.Result) {
	t.Helper()
	ctx := context.Background()
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		t.Fatal(err)
	}
	before := s.CallStats()
	start := time.Now()
	r, err := audit.Run(ctx, d, o, s.IAM.(audit.IAMReader), s.SecretsManager.(audit.PolicyReader), s.KMS)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	calls := map[string]int{}
	for _, op := range s.CallStats().Ops {
		calls[op.Operation] += op.Calls
	}
	for _, op := range before.Ops {
		calls[op.Operation] -= op.Calls
		if calls[op.Operation] == 0 {
			delete(calls, op.Operation)
		}
	}
	return calls, took, r
}

// TestCallBudget pins audit's calls to ⌈E/1000⌉ GetAccountAuthorizationDetails
// (E users, groups, roles and managed policies in the account) plus one
// GetResourcePolicy per existing secret of the stage, stage key included:
// on the webapp example, and on a generated stage of 100 secrets and 10
// roles in an account of 1,000 more users and 100 groups. It logs the time
// each audit took with AWS-like latency and quotas.
func TestCallBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an account of a thousand users; skipped with -short")
	}
	t.Run("webapp", func(t *testing.T) {
		d := load(t, "../../examples/webapp", "dev")
		env, s := applied(t, d)
		env.Server.SetFaults(awsLike)
		calls, took, r := auditCalls(t, s, d)
		want := map[string]int{"GetAccountAuthorizationDetails": 1, "GetResourcePolicy": 2}
		if fmt.Sprint(calls) != fmt.Sprint(want) {
			t.Errorf("calls = %v, want %v", calls, want)
		}
		t.Logf("webapp: %v in %v (%d roles, %d users)", calls, took, r.Roles, r.Users)
	})
	t.Run("generated", func(t *testing.T) {
		d, err := scale.Desired(100, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		env, s := applied(t, d)
		c := iam.NewFromConfig(env.Config)
		ctx := context.Background()
		for i := range 100 {
			if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("group%03d", i))}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 1000 {
			name := aws.String(fmt.Sprintf("user%04d", i))
			if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: name}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: name, GroupName: aws.String(fmt.Sprintf("group%03d", i%100))}); err != nil {
				t.Fatal(err)
			}
		}
		env.Server.SetFaults(awsLike)
		calls, took, r := auditCalls(t, s, d)
		entities := r.Users + r.Groups + r.Roles + r.Policies
		want := map[string]int{"GetAccountAuthorizationDetails": (entities + 999) / 1000, "GetResourcePolicy": len(d.Secrets) + 1}
		if fmt.Sprint(calls) != fmt.Sprint(want) {
			t.Errorf("calls = %v, want %v (%d entities)", calls, want, entities)
		}
		if want["GetAccountAuthorizationDetails"] < 2 {
			t.Errorf("%d entities fit one page; the test means to paginate", entities)
		}
		if !r.OK {
			t.Errorf("findings on a clean generated stage: %v", r.Findings[:min(3, len(r.Findings))])
		}
		t.Logf("generated: %v in %v (%d roles, %d users, %d groups, %d managed policies, %d secrets, %d readers)",
			calls, took, r.Roles, r.Users, r.Groups, r.Policies, len(r.Secrets), len(r.Access))
	})
}
