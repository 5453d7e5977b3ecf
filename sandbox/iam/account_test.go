package iam

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestAccountSummary reads GetAccountSummary through the SDK: AWS's default
// quotas, the configured quota of managed policies per role, which
// AttachRolePolicy enforces, and the real counts of what exists.
func TestAccountSummary(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	e.svc.cfg.AttachedPoliciesPerRoleQuota = 12 // before any request
	c := e.iam()

	summary := func() map[string]int32 {
		t.Helper()
		out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.SummaryMap
	}
	empty := summary()
	for _, k := range types.SummaryKeyType("").Values() {
		if _, ok := empty[string(k)]; !ok {
			t.Errorf("SummaryMap lacks %s", k)
		}
	}
	if len(empty) != len(types.SummaryKeyType("").Values()) {
		t.Errorf("SummaryMap has %d keys, want the model's %d", len(empty), len(types.SummaryKeyType("").Values()))
	}
	for k, want := range map[string]int32{
		"AttachedPoliciesPerRoleQuota": 12, "RolePolicySizeQuota": 10240, "PolicySizeQuota": 6144,
		"AssumeRolePolicySizeQuota": 2048, "VersionsPerPolicyQuota": 5, "RolesQuota": 1000,
		"Roles": 0, "Policies": 0, "InstanceProfiles": 0, "PolicyVersionsInUse": 0, "Users": 0,
	} {
		if empty[k] != want {
			t.Errorf("empty account: %s = %d, want %d", k, empty[k], want)
		}
	}

	mustCreateRole(t, c, "web", "/", ec2Trust)
	mustCreateRole(t, c, "worker", "/", ec2Trust)
	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	var arns []*string
	for i := range 13 {
		out, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%02d", i)), PolicyDocument: aws.String(allowDoc("s3:GetObject", "*"))})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, out.Policy.Arn)
	}
	// The raised quota holds 12 attachments, not 13.
	for _, arn := range arns[:12] {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: arn}); err != nil {
			t.Fatalf("attaching within a quota of 12: %v", err)
		}
	}
	_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: arns[12]})
	wantAPIError(t, err, "LimitExceeded", 409)
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: arns[0]}); err != nil {
		t.Fatal(err)
	}

	got := summary()
	for k, want := range map[string]int32{"Roles": 2, "InstanceProfiles": 1, "Policies": 13, "PolicyVersionsInUse": 13, "AttachedPoliciesPerRoleQuota": 12} {
		if got[k] != want {
			t.Errorf("%s = %d, want %d", k, got[k], want)
		}
	}
}
