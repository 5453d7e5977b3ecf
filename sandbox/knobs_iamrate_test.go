package sandbox_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestIAMWriteRate: the IAM write bucket holds Faults.IAMWriteRate
// requests (20 by default), and a change of the rate at run time makes it
// anew; IAM reads keep their own bucket.
func TestIAMWriteRate(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Quotas: true})
	ctx := context.Background()
	noRetry := env.Config.Copy()
	noRetry.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	ic := iam.NewFromConfig(noRetry)
	// burst also returns how long it took: the bucket refills at its rate
	// meanwhile, by however much a loaded machine lets it.
	burst := func() (passed int, took time.Duration) {
		start := time.Now()
		defer func() { took = time.Since(start) }()
		for range 60 {
			_, err := ic.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("missing")})
			if code, _ := errorOf(err); code != "Throttling" {
				passed++
			}
		}
		return passed, 0
	}
	for _, tt := range []struct {
		rate float64 // 0: the default
		want int
	}{{0, 20}, {50, 50}, {5, 5}} {
		if tt.rate != 0 {
			env.Server.SetFaults(sandbox.Faults{Quotas: true, IAMWriteRate: tt.rate})
		}
		got, took := burst()
		refilled := int(math.Ceil(float64(tt.want) * took.Seconds()))
		if got < tt.want || got > tt.want+refilled+1 {
			t.Errorf("IAMWriteRate %v: %d of 60 writes passed in %v, want %d (+%d refilled)", tt.rate, got, took, tt.want, refilled)
		}
	}
	if _, err := ic.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("a read after the write bucket ran dry: %v", err)
	}
}
