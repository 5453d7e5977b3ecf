package scale_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestPlanCallTarget asserts the plan call budget on generated stages, so
// that a regression (a per-secret read, a second listing) fails CI: at most
// 5 + ceil((N+1)/100) + 4R calls (planBudget says why it is not issue 7's
// 4 + ceil(N/100) + R; issue 11 adds GetRole and ListAttachedRolePolicies
// and, for inline policies put by hand, ListRolePolicies per role). It also checks the calls one by one, which catches
// a change of mix that happens to keep the total.
func TestPlanCallTarget(t *testing.T) {
	tests := []struct{ n, r int }{{1, 1}, {99, 4}, {250, 12}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("N=%d/R=%d", tc.n, tc.r), func(t *testing.T) {
			d, err := scale.Desired(tc.n, tc.r, 5)
			if err != nil {
				t.Fatal(err)
			}
			env := sandboxtest.Start(t, sandbox.Options{Account: scale.Account})
			populate(t, env, d)
			env.Server.SetFaults(sandbox.Faults{Quotas: true})
			env.Server.ResetStats()

			s := connect(t, env)
			if p := planOf(t, s, d); !p.Empty() {
				t.Fatalf("plan of a populated stage has %d changes", len(p.Changes))
			}
			c := callsOf(env.Server.Stats())
			if budget := planBudget(tc.n, tc.r); c.total > budget {
				t.Errorf("plan made %d calls, over the budget (5 + ceil((N+1)/100) + 4R = %d): %v", c.total, budget, c.byOp)
			}
			want := map[string]int{
				"sts.GetCallerIdentity":         1,
				"secretsmanager.ListSecrets":    (tc.n + 1 + 99) / 100,
				"secretsmanager.GetSecretValue": 1,
				"iam.ListRoles":                 1,
				"iam.ListInstanceProfiles":      1,
				"iam.ListPolicies":              1,
				"iam.GetRolePolicy":             tc.r,
				"iam.GetRole":                   tc.r, // boundary and tags
				"iam.ListAttachedRolePolicies":  tc.r, // policies attached by hand
				"iam.ListRolePolicies":          tc.r, // inline policies put by hand
			}
			for op, n := range want {
				if c.byOp[op] != n {
					t.Errorf("%s called %d times, want %d", op, c.byOp[op], n)
				}
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
