package provision_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/provision"
)

// TestRoleDriftAsDeployer: as a session holding only the deployer policy,
// an inline policy put by hand on a managed role, a managed policy attached
// by hand and a tag the spec does not set are planned and converged; a role below the stage's path and an untagged role at the
// stage's path are reported in every plan and never touched.
func TestRoleDriftAsDeployer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newDeployerFixture(t)
	d := deployerSpec(deployerVersion{})
	doc, err := provision.DeployerPolicy(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"shop-dev-web", "shop-dev-batch"} { // the fixture's clashes
		if _, err := f.admin.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.admin.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("shop-dev-web")}); err != nil {
		t.Fatal(err)
	}
	deployer := f.connect(t, doc)
	if err := converge1(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}
	trust := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	for _, err := range []error{
		func() error {
			_, err := f.admin.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("shop-dev-batch"), PolicyName: aws.String("handmade"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
			return err
		}(),
		func() error { // a tag the spec does not set
			_, err := f.admin.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("shop-dev-batch"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("x")}}})
			return err
		}(),
		func() error { // a managed policy attached by hand
			out, err := f.admin.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("admin-ish"), Path: aws.String("/ops/"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
			if err != nil {
				return err
			}
			_, err = f.admin.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("shop-dev-batch"), PolicyArn: out.Policy.Arn})
			return err
		}(),
		func() error {
			_, err := f.admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("rogue-deep"), Path: aws.String(provision.RolePath(d) + "deeper/"), AssumeRolePolicyDocument: trust})
			return err
		}(),
		func() error {
			_, err := f.admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("stray"), Path: aws.String(provision.RolePath(d)), AssumeRolePolicyDocument: trust})
			return err
		}(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	reported := func(p *provision.Plan) {
		t.Helper()
		w := strings.Join(p.Header.Warnings, "\n")
		if !strings.Contains(w, "role rogue-deep (arn:aws:iam::"+sandboxAccount+":role"+provision.RolePath(d)+"deeper/rogue-deep) lies below the stage's path") ||
			!strings.Contains(w, "only an administrator can remove it") {
			t.Errorf("the deeper role is not reported:\n%s", w)
		}
		if !strings.Contains(w, "role stray is at the stage's path but not tagged as part of this stage") || !strings.Contains(w, "it is not deleted") {
			t.Errorf("the untagged role is not reported:\n%s", w)
		}
		for _, c := range p.Changes {
			if c.Name == "rogue-deep" || c.Name == "stray" {
				t.Errorf("plan changes %s: %+v", c.ID, c)
			}
		}
	}
	p, err := planOf(ctx, deployer, d, false)
	if err != nil {
		t.Fatal(err)
	}
	reported(p)
	if len(p.Changes) != 1 || p.Changes[0].ID != "role:shop-dev-batch" {
		t.Fatalf("plan: %+v, want only shop-dev-batch converged", p.Changes)
	}
	if rc := p.Changes[0].Role; strings.Join(rc.DeleteInline, ",") != "handmade" || len(rc.Detach) != 1 || !strings.HasSuffix(rc.Detach[0], ":policy/ops/admin-ish") ||
		len(rc.Tags) != 1 || rc.Tags[0].Key != "team" || !rc.Tags[0].Removed {
		t.Fatalf("role change %+v, want the inline policy deleted, admin-ish detached and tag team removed", rc)
	}
	if txt := textOf(t, p); !strings.Contains(txt, "delete handmade (put outside secretboot)") {
		t.Errorf("plan text does not show the deletion:\n%s", txt)
	}
	if err := converge1(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}
	names, err := f.admin.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("shop-dev-batch")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(names.PolicyNames, ","), "handmade") {
		t.Errorf("inline policies after apply: %v", names.PolicyNames)
	}
	if p, err = planOf(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Errorf("plan after apply: %+v", p.Changes)
	}
	reported(p)

	// verify, as the deployer, checks the roles the spec does not name:
	// the deeper role's read of every secret is access the spec does not
	// grant; the stray role reads nothing, which is no difference.
	if err := verifyOnline(ctx, deployer, d); err != nil {
		t.Fatalf("verify with roles under the path that read nothing: %v", err)
	}
	rogueRead := &iam.PutRolePolicyInput{RoleName: aws.String("rogue-deep"), PolicyName: aws.String("reads"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)}
	if _, err := f.admin.IAM.PutRolePolicy(ctx, rogueRead); err != nil {
		t.Fatal(err)
	}
	err = verifyOnline(ctx, deployer, d)
	if want := "extra access: role " + provision.RolePath(d) + "deeper/rogue-deep may secretsmanager:GetSecretValue on dev/app/stripe-key"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("verify with a deeper role reading the stage's secrets: %.300v…, want %q", err, want)
	}
	// The deployer may simulate a role below the path, and nothing else.
	for name, call := range map[string]func() error{
		"PutRolePolicy": func() error { _, err := deployer.IAM.PutRolePolicy(ctx, rogueRead); return err },
		"DeleteRolePolicy": func() error {
			_, err := deployer.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("rogue-deep"), PolicyName: aws.String("reads")})
			return err
		},
		"DeleteRole": func() error {
			_, err := deployer.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("rogue-deep")})
			return err
		},
		"GetRole": func() error {
			_, err := deployer.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("rogue-deep")})
			return err
		},
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("deployer %s on the deeper role: %v, want AccessDenied", name, err)
		}
	}

	// Destroy as the deployer leaves both roles, and reports them.
	if err := converge1(ctx, deployer, d, true); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rogue-deep", "stray"} {
		if _, err := f.admin.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)}); err != nil {
			t.Errorf("%s after destroy: %v", name, err)
		}
	}
}
