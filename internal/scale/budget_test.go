package scale_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestPlanCallTarget asserts the plan call budget on generated stages, so
// that a regression (a per-secret or per-role read, a second listing)
// fails CI: 5 + ceil((N+1)/100) calls with account_iam_read (planBudget
// says why), whatever R, and 1 + 4R more without it, checked op by op, which
// catches a change of mix that happens to keep the total. N=1,000/R=50 is
// issue 18's regression size: its clean plan made 217 calls before the
// account-wide IAM read (one a throttled retry) and makes 16 now.
func TestPlanCallTarget(t *testing.T) {
	tests := []struct {
		n, r        int
		accountRead bool
	}{
		{1, 1, true}, {99, 4, true}, {250, 12, true}, {1000, 50, true},
		// Without it, 4R per-role reads; at R=50 their burst is throttled
		// once under IAM's read quota, which the budget does not count.
		{99, 4, false}, {250, 12, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("N=%d/R=%d/account_iam_read=%v", tc.n, tc.r, tc.accountRead), func(t *testing.T) {
			d, err := scale.Desired(tc.n, tc.r, 5)
			if err != nil {
				t.Fatal(err)
			}
			d.AccountIAMRead = tc.accountRead
			env := sandboxtest.Start(t, sandbox.Options{Account: scale.Account})
			populate(t, env, d)
			env.Server.SetFaults(sandbox.Faults{Quotas: true})
			env.Server.ResetStats()

			s := connect(t, env)
			if p := planOf(t, s, d); !p.Empty() {
				t.Fatalf("plan of a populated stage has %d changes", len(p.Changes))
			}
			c := callsOf(env.Server.Stats())
			if budget := planBudget(tc.n, tc.r, tc.accountRead); c.total != budget {
				t.Errorf("plan made %d calls, want the budget (5 + ceil((N+1)/100), + 1 + 4R without account_iam_read = %d): %v", c.total, budget, c.byOp)
			}
			want := map[string]int{
				"sts.GetCallerIdentity":         1,
				"secretsmanager.ListSecrets":    (tc.n + 1 + 99) / 100,
				"secretsmanager.GetSecretValue": 1,
				"iam.ListRoles":                 1,
				"iam.ListInstanceProfiles":      1,
			}
			if tc.accountRead {
				want["iam.GetAccountAuthorizationDetails"] = 1 // every role's policies, boundary and tags
			} else {
				want["iam.ListPolicies"] = 1
				want["iam.GetPolicyVersion"] = 1 // the stage's boundary, which apply installed
				for _, op := range []string{"iam.GetRole", "iam.ListRolePolicies", "iam.GetRolePolicy", "iam.ListAttachedRolePolicies"} {
					want[op] = tc.r
				}
			}
			if diff := cmp.Diff(want, c.byOp); diff != "" {
				t.Errorf("plan calls (-want +got):\n%s", diff)
			}
			if c.writes != 0 || c.throttled != 0 {
				t.Errorf("plan made %d writes and was throttled %d times", c.writes, c.throttled)
			}
		})
	}
}

// TestNoChangeApplyWritesNothing applies a generated stage, then applies
// again with the (empty) plan of the converged stage: the second apply
// reads the stage and writes nothing.
func TestNoChangeApplyWritesNothing(t *testing.T) {
	d, err := scale.Desired(120, 6, 9)
	if err != nil {
		t.Fatal(err)
	}
	env := sandboxtest.Start(t, sandbox.Options{Account: scale.Account})
	populate(t, env, d)
	env.Server.SetFaults(sandbox.Faults{Quotas: true})

	s := connect(t, env)
	p := planOf(t, s, d)
	env.Server.ResetStats()
	res, err := provision.Apply(context.Background(), s, p, d, provision.ApplyOptions{})
	if err != nil {
		t.Fatalf("no-change apply: %v", err)
	}
	if len(res.Done)+len(res.Failed)+len(res.NotDone) != 0 {
		t.Errorf("no-change apply reports changes: %+v", res)
	}
	if c := callsOf(env.Server.Stats()); c.writes != 0 {
		t.Errorf("no-change apply made %d writes: %v", c.writes, c.byOp)
	}
}

// TestApplyFromEmptyReadsNoRole: an apply from empty reads no role or
// instance profile by name, in its plan or its re-observation: the
// account-wide listings (the generated stage sets account_iam_read) show that none of the spec's names exists
// elsewhere, so a clash would have been found at plan without a call, and
// CreateRole answering EntityAlreadyExists is left for a race.
func TestApplyFromEmptyReadsNoRole(t *testing.T) {
	const r = 6
	d, err := scale.Desired(40, r, 3)
	if err != nil {
		t.Fatal(err)
	}
	env := sandboxtest.Start(t, sandbox.Options{Account: scale.Account})
	s := connect(t, env)
	p := planOf(t, s, d)
	if _, err := provision.Apply(context.Background(), s, p, d, provision.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	c := callsOf(env.Server.Stats())
	want := map[string]int{"iam.GetRole": 0, "iam.GetInstanceProfile": 0, "iam.CreateRole": r, "iam.CreateInstanceProfile": r, "iam.GetAccountAuthorizationDetails": 2}
	for op, n := range want {
		if c.byOp[op] != n {
			t.Errorf("%s called %d times, want %d: %v", op, c.byOp[op], n, c.byOp)
		}
	}
}
