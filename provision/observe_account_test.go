package provision_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/secretboot/secretboot/provision"
)

// TestAccountReadObservesTheSame: the account-wide read
// (GetAccountAuthorizationDetails) and the per-role reads observe the same
// state, so plan and apply may take either: roles and an instance profile
// of the spec's names elsewhere (clashes), external roles, a read policy
// split into managed parts, and the drift of a role under the path (an
// inline policy put by hand, a tag, a policy attached by hand, an untagged
// role at the path, a role below it). The account-wide read (the stage
// sets account_iam_read) makes no per-role call; without the attribute,
// observe makes no GetAccountAuthorizationDetails call.
func TestAccountReadObservesTheSame(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newDeployerFixture(t)
	d := deployerSpec(deployerVersion{})
	withRead := *d
	withRead.AccountIAMRead = true
	same := func(what string) {
		t.Helper()
		f.env.Server.ResetStats()
		byAccount, err := provision.Observe(ctx, f.admin, &withRead)
		if err != nil {
			t.Fatal(err)
		}
		calls := f.env.Server.Stats().Calls
		f.env.Server.ResetStats()
		byRole, err := provision.Observe(ctx, f.admin, d)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.env.Server.Stats().Calls["iam.GetAccountAuthorizationDetails"]; n != 0 {
			t.Errorf("%s: without account_iam_read observe made %d GetAccountAuthorizationDetails calls", what, n)
		}
		// External roles are read by name either way (GAAD has no
		// description, and they may be in another account); nothing else
		// is.
		external := 0
		for _, r := range d.Roles {
			if !r.Managed() {
				external++
			}
		}
		want := map[string]int{"GetAccountAuthorizationDetails": 1, "GetRole": external, "ListRolePolicies": external, "GetInstanceProfile": 0, "ListPolicies": 0}
		for op, n := range want {
			if calls["iam."+op] != n {
				t.Errorf("%s: the account-wide read made %d %s, want %d: %v", what, calls["iam."+op], op, n, calls)
			}
		}
		if total(calls) >= total(f.env.Server.Stats().Calls) {
			t.Errorf("%s: the account-wide read made %v, the per-role reads %v", what, calls, f.env.Server.Stats().Calls)
		}
		if diff := cmp.Diff(byRole, byAccount, cmpopts.IgnoreUnexported(provision.Observed{}, provision.ObservedSecret{})); diff != "" {
			t.Errorf("%s: observed state differs (-per role +account-wide):\n%s", what, diff)
		}
	}
	same("clashes")
	// Plan and apply let the account-wide read go; audit keeps it.
	for _, keep := range []bool{false, true} {
		o, err := provision.ObserveWith(ctx, f.admin, &withRead, provision.ObserveOptions{KeepAccountRead: keep})
		if err != nil {
			t.Fatal(err)
		}
		if roles, _, kept := o.AccountRead(); kept != keep || kept && len(roles) == 0 {
			t.Errorf("KeepAccountRead %v: the account-wide read kept: %v, with %d roles", keep, kept, len(roles))
		}
	}
	if o, err := provision.Observe(ctx, f.admin, &withRead); err != nil {
		t.Fatal(err)
	} else if _, _, kept := o.AccountRead(); kept {
		t.Error("Observe kept the account-wide read")
	}
	for _, name := range []string{"shop-dev-web", "shop-dev-batch"} {
		if _, err := f.admin.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.admin.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("shop-dev-web")}); err != nil {
		t.Fatal(err)
	}
	// IAM names are unique ignoring case: a role elsewhere named like a
	// spec role but for case takes its name, in both modes.
	if _, err := f.admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Shop-Dev-Web"), Path: aws.String("/elsewhere/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if o, err := provision.Observe(ctx, f.admin, &withRead); err != nil || o.RoleClashes["shop-dev-web"] == "" {
		t.Errorf("a role named like shop-dev-web but for case, elsewhere: clashes %v (%v), want shop-dev-web's", o.RoleClashes, err)
	}
	same("a clash that differs in case")
	if _, err := f.admin.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Shop-Dev-Web")}); err != nil {
		t.Fatal(err)
	}
	if err := converge1(ctx, f.admin, d, false); err != nil {
		t.Fatal(err)
	}
	same("converged")
	trust := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	anything := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.admin.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("shop-dev-batch"), PolicyName: aws.String("handmade"), PolicyDocument: anything}))
	must(f.admin.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("shop-dev-batch"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("x")}}}))
	out, err := f.admin.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("admin-ish"), Path: aws.String("/ops/"), PolicyDocument: anything})
	if err != nil {
		t.Fatal(err)
	}
	must(f.admin.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("shop-dev-batch"), PolicyArn: out.Policy.Arn}))
	must(f.admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("rogue-deep"), Path: aws.String(provision.RolePath(d) + "deeper/"), AssumeRolePolicyDocument: trust}))
	must(f.admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("stray"), Path: aws.String(provision.RolePath(d)), AssumeRolePolicyDocument: trust}))
	same("drift")
}

func total(calls map[string]int) int {
	n := 0
	for _, c := range calls {
		n += c
	}
	return n
}
