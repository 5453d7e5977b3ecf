package provision_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/policy"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestRolesCarryTheStageBoundary: apply creates the stage's boundary when
// the session may (an administrator's), every role it creates carries it,
// and a spec role may name no other boundary.
func TestRolesCarryTheStageBoundary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := sandboxBackend(sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})).mustConnect(t)
	d := testDesired("dev", sandboxAccount, canary)
	want := provision.BoundaryARN(d, sandboxAccount)

	d.Roles[0].PermissionsBoundary = "arn:aws:iam::" + sandboxAccount + ":policy/secretboot/shop/dev/mine"
	if _, err := planOf(ctx, s, d, false); err == nil || !strings.Contains(err.Error(), "role web: permissions_boundary") || !strings.Contains(err.Error(), want) {
		t.Fatalf("plan with a boundary of the role's own = %v, want an error naming the role and the stage's boundary", err)
	}
	d.Roles[0].PermissionsBoundary = want // naming the stage's boundary is allowed
	if err := converge1(ctx, s, d, false); err != nil {
		t.Fatal(err)
	}
	role, err := s.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(d.Roles[0].Name)})
	if err != nil {
		t.Fatal(err)
	}
	if pb := role.Role.PermissionsBoundary; pb == nil || aws.ToString(pb.PermissionsBoundaryArn) != want {
		t.Errorf("role's boundary = %+v, want %s", pb, want)
	}
	b, err := provision.StageBoundary(d)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := s.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(want)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(want), VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		t.Fatal(err)
	}
	if got := policyText(t, aws.ToString(v.PolicyVersion.Document)); got != string(b.Document.Canonical()) {
		t.Errorf("installed boundary:\n%s\nwant:\n%s", got, b.Document.Canonical())
	}
	// Destroy leaves the boundary, which is the administrator's.
	if err := converge1(ctx, s, d, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(want)}); err != nil {
		t.Errorf("the boundary after destroy: %v", err)
	}
}

// policyText is the canonical form of a document as IAM returns it,
// URL-encoded.
func policyText(t *testing.T, encoded string) string {
	t.Helper()
	raw, err := url.PathUnescape(encoded)
	if err != nil {
		t.Fatal(err)
	}
	d, err := policy.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return string(d.Canonical())
}
