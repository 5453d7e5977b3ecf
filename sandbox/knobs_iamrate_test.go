package sandbox_test

import (
	"context"
	"testing"

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
	burst := func() (passed int) {
		for range 60 {
			_, err := ic.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("missing")})
			if code, _ := errorOf(err); code != "Throttling" {
				passed++
			}
		}
		return passed
	}
	// The bucket refills while the burst runs: allow a token or two.
	within := func(got, want int) bool { return got >= want && got <= want+2 }
	if got := burst(); !within(got, 20) {
		t.Errorf("default: %d of 60 writes passed, want 20", got)
	}
	env.Server.SetFaults(sandbox.Faults{Quotas: true, IAMWriteRate: 50})
	if got := burst(); !within(got, 50) {
		t.Errorf("IAMWriteRate 50: %d of 60 writes passed, want 50", got)
	}
	env.Server.SetFaults(sandbox.Faults{Quotas: true, IAMWriteRate: 5})
	if got := burst(); !within(got, 5) {
		t.Errorf("IAMWriteRate 5: %d of 60 writes passed, want 5", got)
	}
	if _, err := ic.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("a read after the write bucket ran dry: %v", err)
	}
}
