package provision_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// TestAccountIAMReadStatement: the deployer and plan role policies grant
// iam:GetAccountAuthorizationDetails, in the ListIAM statement on "*" (it
// has no resource type), exactly when the stage sets account_iam_read, and
// nothing else changes with the attribute.
func TestAccountIAMReadStatement(t *testing.T) {
	const gaad = "iam:GetAccountAuthorizationDetails"
	grants := func(doc *policy.Document) (sids []string) {
		for _, st := range doc.Statement {
			if slices.ContainsFunc(st.Action, func(a string) bool { return strings.EqualFold(a, gaad) }) {
				sids = append(sids, st.Sid)
				if st.Effect != policy.Allow || !slices.Equal(st.Resource, policy.StringList{"*"}) || st.Condition != nil {
					t.Errorf("%s: %+v, want an unconditional Allow on *", st.Sid, st)
				}
			}
		}
		return sids
	}
	for _, tt := range []struct {
		name  string
		build func(*spec.Desired) (*policy.Document, error)
	}{{"deployer", provision.DeployerPolicy}, {"reviewer", provision.ReviewerPolicy}} {
		for _, on := range []bool{false, true} {
			d := deployerSpec(deployerVersion{})
			off, err := tt.build(d)
			if err != nil {
				t.Fatal(err)
			}
			d.AccountIAMRead = on
			doc, err := tt.build(d)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if on {
				want = []string{provision.SidDeployerListIAM}
			}
			if got := grants(doc); !slices.Equal(got, want) {
				t.Errorf("%s, account_iam_read=%v: %s granted by %v, want %v", tt.name, on, gaad, got, want)
			}
			rest := &policy.Document{Version: doc.Version}
			for _, st := range doc.Statement {
				st.Action = slices.DeleteFunc(slices.Clone(st.Action), func(a string) bool { return a == gaad })
				rest.Statement = append(rest.Statement, st)
			}
			if !slices.Equal(rest.Canonical(), off.Canonical()) {
				t.Errorf("%s, account_iam_read=%v: without %s the policy differs from the one without the attribute", tt.name, on, gaad)
			}
		}
	}
}

// TestDeployerAccountIAMRead runs plan and apply from empty as a deployer
// holding only DeployerPolicy on a sandbox that authorizes as AWS does:
// with account_iam_read it reads the account at once and reads no managed
// role or profile by name (GetRole in apply only for the external roles);
// without it, it reads role by role and never
// asks for GetAccountAuthorizationDetails, so no call is denied. A stage
// that sets the attribute under a deployer policy written before it (no
// ReadAccountIAM) is denied once and falls back to the per-role reads.
func TestDeployerAccountIAMRead(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name              string
		policyOn, stageOn bool
		gaad, denied      int
		applyGetRole      bool
	}{
		{name: "with account_iam_read", policyOn: true, stageOn: true, gaad: 3},
		{name: "without", applyGetRole: true},
		{name: "stale policy", stageOn: true, gaad: 1, denied: 1, applyGetRole: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newDeployerFixture(t)
			// No clashes: this is a stage's first apply.
			for _, name := range []string{"shop-dev-web", "shop-dev-batch"} {
				if _, err := f.admin.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.admin.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("shop-dev-web")}); err != nil {
				t.Fatal(err)
			}
			d := deployerSpec(deployerVersion{})
			d.AccountIAMRead = tt.policyOn
			doc, err := provision.DeployerPolicy(d)
			if err != nil {
				t.Fatal(err)
			}
			d.AccountIAMRead = tt.stageOn
			deployer := f.connect(t, doc)
			f.env.Server.ResetStats()
			before := deployer.CallStats()
			p, err := planOf(ctx, deployer, d, false)
			if err != nil {
				t.Fatal(err)
			}
			mid := deployer.CallStats()
			if _, err := provision.Apply(ctx, deployer, p, d, provision.ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := emptyPlan(ctx, deployer, d, false); err != nil {
				t.Fatal(err)
			}
			// ops sums each operation's calls and errors.
			ops := func(st provision.CallStats) (calls, errs map[string]int) {
				calls, errs = map[string]int{}, map[string]int{}
				for _, op := range st.Ops {
					calls[op.Operation] += op.Calls
					errs[op.Operation] += op.Errors
				}
				return calls, errs
			}
			all, failed := ops(deployer.CallStats().Since(before))
			applied, _ := ops(deployer.CallStats().Since(mid))
			if all["GetAccountAuthorizationDetails"] != tt.gaad {
				t.Errorf("%d GetAccountAuthorizationDetails calls in plan, apply and plan, want %d", all["GetAccountAuthorizationDetails"], tt.gaad)
			}
			if n := f.env.Server.Stats().Calls["iam.GetAccountAuthorizationDetails"]; n != tt.gaad {
				t.Errorf("the sandbox saw %d GetAccountAuthorizationDetails calls, want %d", n, tt.gaad)
			}
			if n := failed["GetAccountAuthorizationDetails"]; n != tt.denied {
				t.Errorf("GetAccountAuthorizationDetails failed %d times, want %d", n, tt.denied)
			}
			// The external roles are read by name either way (GAAD has no
			// description); with the account-wide read nothing else is, in
			// apply's re-observation and the plan after it.
			external := 0
			for _, r := range d.Roles {
				if !r.Managed() {
					external++
				}
			}
			if got := applied["GetRole"]; tt.applyGetRole != (got > 2*external) || got < 2*external {
				t.Errorf("apply from empty and the plan after it made %d GetRole calls (%d external roles, observed twice): %v", got, external, applied)
			}
			if got := applied["GetInstanceProfile"]; tt.applyGetRole != (got > 0) {
				t.Errorf("apply from empty and the plan after it made %d GetInstanceProfile calls: %v", got, applied)
			}
		})
	}
}
