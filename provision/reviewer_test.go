package provision_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/internal/golden"
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/spec"
)

// TestReviewerPolicyGolden pins the plan role's policy of the deployer
// fixture's stage, which has every kind of read: external roles, managed
// roles with and without instance profile, split read policies.
func TestReviewerPolicyGolden(t *testing.T) {
	doc, err := provision.ReviewerPolicy(deployerSpec(deployerVersion{}))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/reviewer/shop-dev.json", doc.Canonical())
	if _, err := provision.ReviewerPolicy(&spec.Desired{Project: "p", Stage: "s", Region: "us-east-1"}); err == nil {
		t.Error("a stage without account_id: want an error, the policy names ARNs")
	}

	// A stage with a resource policy: its plan reads the policy, and the
	// plan role may read it, owned secrets only, and never write it.
	locked := deployerSpec(deployerVersion{})
	locked.Secrets[0].ResourcePolicy = true
	locked.DeployerARN = "arn:aws:iam::" + sandboxAccount + ":role/ci/deployer"
	doc, err = provision.ReviewerPolicy(locked)
	if err != nil {
		t.Fatal(err)
	}
	var read *policy.Statement
	for i, st := range doc.Statement {
		for _, a := range st.Action {
			if strings.HasSuffix(a, "ResourcePolicy") {
				if a != "secretsmanager:GetResourcePolicy" {
					t.Errorf("the plan role may %s", a)
				}
				read = &doc.Statement[i]
			}
		}
	}
	if read == nil || read.Sid != "ReadOwnedResourcePolicies" || read.Condition == nil {
		t.Errorf("plan role's resource policy read: %+v, want GetResourcePolicy on owned secrets", read)
	}
}

// TestReviewerPolicy is the proof that ReviewerPolicy is enough for a plan
// without payloads and for the reviewer files' check, and that it reads no
// secret: a role holding nothing else plans the deployer fixture's stage
// (clashes, first apply, a split read policy, external roles without
// room, changes of every kind, a removed secret) on a sandbox that
// authorizes every call as AWS does, and is refused the stage key, every
// secret value and a plan with payloads. The policy's actions are exactly
// the operations those plans called.
func TestReviewerPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newDeployerFixture(t)
	base := deployerSpec(deployerVersion{})
	doc, err := provision.ReviewerPolicy(base)
	if err != nil {
		t.Fatal(err)
	}
	reviewer := f.connectAs(t, "reviewer", doc)
	review := func(v deployerVersion) (*provision.Plan, error) {
		d := deployerSpec(v)
		d.PayloadsSkipped = true
		for _, s := range d.Secrets {
			s.Payload.Declared = spec.Sealed{}
		}
		o, err := provision.ObserveStructure(ctx, reviewer, d)
		if err != nil {
			return nil, err
		}
		if _, err := provision.RoleDocumentsOf(d, o); err != nil { // policy -check
			return nil, err
		}
		return provision.Diff(d, o, provision.DiffOptions{NoPayloads: true})
	}
	denied := func(what string, err error) {
		t.Helper()
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" && api.ErrorCode() != "AccessDenied" {
			t.Errorf("%s as the plan role: %v, want AccessDenied", what, err)
		}
	}

	// Before the first apply: the names the spec wants are taken elsewhere.
	var clash *provision.ClashError
	if _, err := review(deployerVersion{}); !errors.As(err, &clash) || len(clash.Roles) != 2 {
		t.Fatalf("plan without payloads before the clashes are gone: %v, want a ClashError on 2 roles", err)
	}
	for _, name := range []string{"shop-dev-web", "shop-dev-batch"} {
		if _, err := f.admin.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.admin.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("shop-dev-web")}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		apply deployerVersion // what the administrator applies before the plan
		plan  deployerVersion
	}{
		{"before the first apply", deployerVersion{}, deployerVersion{}},
		{"every kind of change", deployerVersion{}, deployerVersion{changed: true}},
		{"a secret removed", deployerVersion{changed: true}, deployerVersion{changed: true, noStripe: true}},
		{"converged", deployerVersion{changed: true, noStripe: true}, deployerVersion{changed: true, noStripe: true}},
	}
	for i, st := range steps {
		if i > 0 {
			if err := converge1(ctx, f.admin, deployerSpec(st.apply), false); err != nil {
				t.Fatalf("%s: applying as the administrator: %v", st.name, err)
			}
		}
		p, err := review(st.plan)
		if err != nil {
			t.Fatalf("%s: plan without payloads as the plan role: %v", st.name, err)
		}
		if want := st.name != "converged"; p.Empty() == want {
			t.Errorf("%s: plan without payloads is empty: %v, want %v (%v)", st.name, p.Empty(), !want, summary(p))
		}
	}

	// The plan role reads no secret value and cannot plan with payloads.
	_, err = reviewer.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(provision.StageKeyName(base))})
	denied("reading the stage key", err)
	_, err = reviewer.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("dev/app/db/credentials")})
	denied("reading a secret", err)
	_, err = provision.Observe(ctx, reviewer, base)
	denied("a plan with payloads", err)

	prefix := map[string]string{"Secrets Manager": "secretsmanager:", "IAM": "iam:", "STS": "sts:"}
	var called []string
	for _, op := range reviewer.CallStats().Ops {
		if a := prefix[op.Service] + op.Operation; a != "sts:GetCallerIdentity" && a != "secretsmanager:GetSecretValue" {
			called = append(called, a)
		}
	}
	var granted []string
	for _, st := range doc.Statement {
		if st.Effect == policy.Allow {
			granted = append(granted, st.Action...)
		}
	}
	slices.Sort(called)
	slices.Sort(granted)
	if granted = slices.Compact(granted); !slices.Equal(called, granted) {
		t.Errorf("the plans called %v;\nthe policy grants %v", called, granted)
	}
}

// connectAs creates the role name at /ci/, whose only policy is doc, and
// opens a session that assumes it. The SDK retries transport errors as it
// does by default; AccessDenied is never retried.
func (f *deployerFixture) connectAs(t *testing.T, name string, doc *policy.Document) *provision.Session {
	t.Helper()
	ctx := context.Background()
	if _, err := f.admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(name), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + sandboxAccount + `:root"},"Action":"sts:AssumeRole"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("secretboot-" + name), PolicyDocument: aws.String(string(doc.Compact()))}); err != nil {
		t.Fatal(err)
	}
	s, err := provision.Connect(ctx, provision.ConnectOptions{
		Stage: "dev", Region: "us-east-1", AccountID: sandboxAccount, Endpoint: f.env.URL,
		Credentials:   provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
		AssumeRoleARN: "arn:aws:iam::" + sandboxAccount + ":role/ci/" + name,
		MaxAttempts:   3,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
