package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

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
	var r *audit.Result
	start := time.Now()
	calls := callsDuring(s, func() {
		r, err = audit.Run(ctx, d, o, s.IAM.(audit.IAMReader), s.SecretsManager.(audit.PolicyReader), s.KMS)
	})
	if err != nil {
		t.Fatal(err)
	}
	return calls, time.Since(start), r
}

// callsDuring returns the calls the session made per operation while f
// ran.
func callsDuring(s *provision.Session, f func()) map[string]int {
	before := s.CallStats()
	f()
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
	return calls
}

// entities counts the entities GetAccountAuthorizationDetails returns
// for filter (all of them when empty), read apart from the session.
func entities(t *testing.T, c *iam.Client, filter ...iamtypes.EntityType) int {
	t.Helper()
	n := 0
	p := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{Filter: filter, MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.UserDetailList) + len(out.GroupDetailList) + len(out.RoleDetailList) + len(out.Policies)
	}
	return n
}

// TestReusesObservedReads pins what observe and audit read together for
// a stage that sets account_iam_read and opts secrets in to resource
// policies (examples/access): each existing secret's resource policy
// once (observe reads the opted-in ones, audit the rest), and each IAM
// entity once: observe's account-wide read gives every role and customer
// managed policy, audit reads users, groups and AWS managed policies. The
// account holds exactly 1,000 of those, so that audit reads them in one
// page where the whole account would take two.
func TestReusesObservedReads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an account of a thousand users; skipped with -short")
	}
	ctx := context.Background()
	d := load(t, "../../examples/access", "dev")
	d.AccountIAMRead = true
	env, s := applied(t, d)
	c := iam.NewFromConfig(env.Config)
	rest := []iamtypes.EntityType{iamtypes.EntityTypeUser, iamtypes.EntityTypeGroup, iamtypes.EntityTypeAWSManagedPolicy}
	for i := range 1000 - entities(t, c, rest...) {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("user%04d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if n, all := entities(t, c, rest...), entities(t, c); n != 1000 || all <= 1000 {
		t.Fatalf("%d users, groups and AWS managed policies, %d entities in all: the test means 1,000 and more than 1,000", n, all)
	}
	env.Server.SetFaults(awsLike)
	var r *audit.Result
	start := time.Now()
	calls := callsDuring(s, func() {
		o, err := provision.ObserveWith(ctx, s, d, provision.ObserveOptions{KeepAccountRead: true})
		if err != nil {
			t.Fatal(err)
		}
		if r, err = audit.Run(ctx, d, o, s.IAM.(audit.IAMReader), s.SecretsManager.(audit.PolicyReader), s.KMS); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("observe and audit: %v in %v", calls, time.Since(start))
	existing := 0
	for _, sec := range r.Secrets {
		if sec.Exists {
			existing++
		}
	}
	locked := 0
	for _, sec := range d.Secrets {
		if sec.ResourcePolicy {
			locked++
		}
	}
	if existing != len(d.Secrets)+1 || locked == 0 || locked == len(d.Secrets) {
		t.Fatalf("%d secrets exist, %d of %d opt in to a resource policy: the test means all, and some but not all", existing, locked, len(d.Secrets))
	}
	// Observe's account-wide read is one page: the stage's roles and
	// policies are few.
	if got, want := calls["GetAccountAuthorizationDetails"], 2; got != want {
		t.Errorf("observe and audit made %d GetAccountAuthorizationDetails calls, want %d (one page each)", got, want)
	}
	if got := calls["GetResourcePolicy"]; got != existing {
		t.Errorf("observe and audit made %d GetResourcePolicy calls, want %d (one per existing secret)", got, existing)
	}
	if got, want := r.Users+r.Groups+r.Roles+r.Policies, entities(t, c); got != want || !r.OK {
		t.Errorf("audit saw %d of the account's %d entities; findings %v", got, want, r.Findings)
	}
}

// TestCallBudget pins audit's own calls to ⌈E/1000⌉
// GetAccountAuthorizationDetails (E users, groups, roles and managed
// policies in the account; only users, groups and AWS managed policies
// with account_iam_read, observe having read the rest) plus one
// GetResourcePolicy per existing secret of the stage, stage key included,
// whose policy observe did not read: on the webapp example, and on a
// generated stage (account_iam_read, no resource policies) of 100 secrets
// and 10 roles in an account of 1,000 more users and 100 groups. It logs
// the time each audit took with AWS-like latency and quotas.
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
		// The stage sets account_iam_read: observe read the roles and
		// customer managed policies, audit reads the rest.
		rest := entities(t, c, iamtypes.EntityTypeUser, iamtypes.EntityTypeGroup, iamtypes.EntityTypeAWSManagedPolicy)
		want := map[string]int{"GetAccountAuthorizationDetails": (rest + 999) / 1000, "GetResourcePolicy": len(d.Secrets) + 1}
		if fmt.Sprint(calls) != fmt.Sprint(want) {
			t.Errorf("calls = %v, want %v (%d users, groups and AWS managed policies)", calls, want, rest)
		}
		if want["GetAccountAuthorizationDetails"] < 2 {
			t.Errorf("%d users, groups and AWS managed policies fit one page; the test means to paginate", rest)
		}
		if !r.OK {
			t.Errorf("findings on a clean generated stage: %v", r.Findings[:min(3, len(r.Findings))])
		}
		t.Logf("generated: %v in %v (%d roles, %d users, %d groups, %d managed policies, %d secrets, %d readers)",
			calls, took, r.Roles, r.Users, r.Groups, r.Policies, len(r.Secrets), len(r.Access))
	})
}
