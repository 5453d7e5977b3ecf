package provision_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// ownerDocument is an inline policy of about n characters (whitespace not
// counted) that an external role's owner might hold.
func ownerDocument(t *testing.T, n int) string {
	t.Helper()
	var res []string
	doc := func() string {
		return `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["` + strings.Join(res, `", "`) + `"]}]}`
	}
	for policy.RawSize([]byte(doc())) < n {
		res = append(res, fmt.Sprintf("arn:aws:s3:::owner-reports/%04d/*", len(res)))
	}
	return doc()
}

// TestExternalRoleInlineRoom: IAM's 10,240 inline characters cover all
// the inline policies of a role, so an external role whose owner holds a
// 6,000-character inline policy has no room for a read policy of 60
// secrets (about 5,000 characters): plan puts it in a managed part
// instead, apply succeeds, and the next plan is empty. Without the owner's
// policy the same spec stays inline; the owner's policy appearing between
// plan and apply makes apply refuse the plan as stale, before any write.
// Measuring costs one ListRolePolicies per external role and one
// GetRolePolicy per policy of the owner's, and never GetAccountSummary.
func TestExternalRoleInlineRoom(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	b := sandboxBackend(env)
	s := b.mustConnect(t)
	stage := uniqueStage("room")
	role := "tf-" + stage + "-reporting"
	out, err := s.IAM.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(role), Path: aws.String("/tf/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := testDesired(stage, sandboxAccount, canary)
	d.Roles = append(d.Roles, &spec.Role{Key: "reporting", Name: "shop-" + stage + "-reporting", External: aws.ToString(out.Role.Arn)})
	d = withReaders(d, "reporting", 60)
	owner := ownerDocument(t, 6000)

	// planCalls plans and returns the plan with the calls it made.
	planCalls := func() (*provision.Plan, map[string]int) {
		t.Helper()
		before := snapshot(b)
		p := plan(t, s, d, provision.DiffOptions{})
		after := snapshot(b)
		calls := map[string]int{}
		for _, op := range []string{"ListRolePolicies", "GetRolePolicy", "ListAttachedRolePolicies", "GetAccountSummary"} {
			calls[op] = after["iam."+op] - before["iam."+op]
		}
		return p, calls
	}
	checkCalls := func(step string, got map[string]int, getRolePolicy int) {
		t.Helper()
		// GetRolePolicy: the read policy of the external role, plus the
		// owner's policies.
		want := map[string]int{"ListRolePolicies": 1, "GetRolePolicy": getRolePolicy, "ListAttachedRolePolicies": got["ListAttachedRolePolicies"], "GetAccountSummary": 0}
		for op, n := range want {
			if got[op] != n {
				t.Errorf("%s: %d %s calls, want %d", step, got[op], op, n)
			}
		}
	}

	// No policy of the owner's: the read policy fits inline.
	p, calls := planCalls()
	if pc := readPolicyChangeOf(t, p, role); pc.Layout != provision.LayoutInline {
		t.Fatalf("without the owner's policy the read policy is not inline:\n%s", textOf(t, p))
	}
	checkCalls("no owner's policy", calls, 1)

	// The owner's policy appears after the plan: apply plans again, finds
	// the layout changed, and refuses before its first write.
	if _, err := s.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("owner-reports"), PolicyDocument: aws.String(owner)}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(b)
	_, err = provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 10e9})
	var stale *provision.StalePlanError
	if !errors.As(err, &stale) {
		t.Fatalf("apply of a plan made before the owner's policy: want a stale-plan error, got %v", err)
	}
	if m := mutating(before, snapshot(b)); len(m) != 0 {
		t.Errorf("a refused apply made writes: %v", m)
	}

	// Planned again, the read policy goes to a managed part.
	p, calls = planCalls()
	pc := readPolicyChangeOf(t, p, role)
	if pc.Layout != provision.LayoutManaged || len(pc.Managed) != 1 || pc.DeletesInline {
		t.Fatalf("with 6,000 characters of the owner's inline, the read policy is not one managed part:\n%s", textOf(t, p))
	}
	if n := policy.RawSize([]byte(pc.Document)); n+policy.RawSize([]byte(owner)) <= 10240 || n > 10240-1000 {
		t.Fatalf("read policy of %d characters: the test needs one that fits inline alone but not next to the owner's", n)
	}
	checkCalls("owner's policy", calls, 2)
	apply(t, s, p, d)
	if p2 := plan(t, s, d, provision.DiffOptions{}); !p2.Empty() {
		t.Fatalf("plan after apply is not empty:\n%s", textOf(t, p2))
	}
	names, err := s.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "owner-reports" {
		t.Errorf("inline policies of the role after apply: %v, want only the owner's", names.PolicyNames)
	}
	if got := attachedCount(t, s, role); got != 1 {
		t.Errorf("role has %d managed policies attached, want the one part", got)
	}

	// The owner's policy gone, the read policy moves back inline.
	if _, err := s.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("owner-reports")}); err != nil {
		t.Fatal(err)
	}
	p = converge(t, s, d, provision.DiffOptions{})
	if pc := readPolicyChangeOf(t, p, role); pc.Layout != provision.LayoutInline || len(pc.Managed) != 1 || pc.Managed[0].Action != provision.ActionDelete {
		t.Errorf("without the owner's policy the read policy does not move back inline:\n%s", textOf(t, p))
	}
	if got := attachedCount(t, s, role); got != 0 {
		t.Errorf("role has %d managed policies attached, want none", got)
	}
}
