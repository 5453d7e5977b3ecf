package provision_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/golden"
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// TestDeployerPolicyGolden pins the deployer policies of the examples:
// webapp's dev stage (one EC2 role, a generated value) and multistage's
// prod stage (an external role, a customer managed key, an ECS role
// without instance profile). The canonical file parses back to the same
// document and fits one customer managed policy.
func TestDeployerPolicyGolden(t *testing.T) {
	env := map[string]string{"STRIPE_KEY": "sk_test_not_a_secret"}
	tests := []struct{ dir, stage, golden string }{
		{"../examples/webapp", "dev", "webapp-dev.json"},
		{"../examples/webapp", "prod", "webapp-prod.json"},
		{"../examples/multistage", "prod", "multistage-prod.json"},
		{"../examples/access", "dev", "access-dev.json"}, // resource policies
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			cfg, diags := spec.Load(tt.dir)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			d, diags := cfg.Evaluate(tt.stage, spec.EvalOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			doc, err := provision.DeployerPolicy(d)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "deployer", tt.golden), doc.Canonical())
			b, err := provision.StageBoundary(d)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "deployer", strings.TrimSuffix(tt.golden, ".json")+".boundary.json"), b.Document.Canonical())
			if want := "arn:aws:iam::" + d.AccountID + ":policy" + b.Path + b.Name; b.ARN != want || b.ARN != provision.BoundaryARN(d, d.AccountID) {
				t.Errorf("boundary ARN %s, want %s", b.ARN, want)
			}
			back, err := policy.Parse(doc.Canonical())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(doc, back); diff != "" {
				t.Errorf("the canonical file parses to another document (-built +parsed):\n%s", diff)
			}
			if n := policy.Size(doc); n > policy.DefaultLimits.ManagedMax {
				t.Errorf("%d characters, over the %d of a managed policy", n, policy.DefaultLimits.ManagedMax)
			}
			// account_iam_read adds a statement, which must fit too.
			d.AccountIAMRead = true
			if doc, err = provision.DeployerPolicy(d); err != nil {
				t.Fatal(err)
			}
			if n := policy.Size(doc); n > policy.DefaultLimits.ManagedMax {
				t.Errorf("with account_iam_read: %d characters, over the %d of a managed policy", n, policy.DefaultLimits.ManagedMax)
			}
		})
	}
	t.Run("needs an account", func(t *testing.T) {
		d := testDesired("dev", "", canary)
		if _, err := provision.DeployerPolicy(d); err == nil || !strings.Contains(err.Error(), "account_id") {
			t.Errorf("DeployerPolicy without account_id = %v, want an error naming account_id", err)
		}
	})
}

// TestDeployerPolicyScope asks the evaluator the questions a reviewer
// would: what the deployer of one stage may and may not do outside the
// engine's calls.
func TestDeployerPolicyScope(t *testing.T) {
	d := deployerSpec(deployerVersion{})
	doc, err := provision.DeployerPolicy(d)
	if err != nil {
		t.Fatal(err)
	}
	const sm = "arn:aws:secretsmanager:us-east-1:" + sandboxAccount + ":secret:"
	const iamARN = "arn:aws:iam::" + sandboxAccount + ":"
	boundary := provision.BoundaryARN(d, sandboxAccount)
	type ctx = map[string][]string
	owned := ctx{"aws:ResourceTag/secretboot:project": {"shop"}, "aws:ResourceTag/secretboot:stage": {"dev"}}
	plus := func(a, b ctx) ctx {
		out := ctx{}
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out
	}
	create := ctx{"aws:RequestTag/secretboot:project": {"shop"}, "aws:RequestTag/secretboot:stage": {"dev"}, "aws:TagKeys": {"secretboot:project", "secretboot:stage"}}
	createSecret := plus(create, owned) // a secret being created has its request's tags
	bounded := ctx{"iam:PermissionsBoundary": {boundary}}
	part := iamARN + "policy/secretboot/shop/dev/shop-dev-batch-read-1"
	tests := []struct {
		action, resource string
		context          ctx
		want             bool
	}{
		{"secretsmanager:CreateSecret", sm + "dev/app/other-AbCdEf", createSecret, true},
		{"secretsmanager:CreateSecret", sm + "dev/app/other-AbCdEf", nil, false}, // without the ownership tags
		{"secretsmanager:DeleteSecret", sm + "dev/removed/long/ago-AbCdEf", owned, true},
		{"secretsmanager:DeleteSecret", sm + "dev/not/ours-AbCdEf", nil, false},
		{"secretsmanager:DeleteSecret", sm + "dev/other/stage-AbCdEf", ctx{"aws:ResourceTag/secretboot:project": {"shop"}, "aws:ResourceTag/secretboot:stage": {"prod"}}, false},
		{"secretsmanager:PutSecretValue", sm + "dev/not/ours-AbCdEf", nil, false},
		{"secretsmanager:UpdateSecret", sm + "dev/not/ours-AbCdEf", nil, false},
		{"secretsmanager:TagResource", sm + "dev/not/ours-AbCdEf", create, false}, // claiming
		{"secretsmanager:TagResource", sm + "dev/app/db/credentials-AbCdEf", plus(owned, ctx{"aws:RequestTag/secretboot:generation": {"2"}, "aws:TagKeys": {"secretboot:generation"}}), true},
		{"secretsmanager:TagResource", sm + "dev/app/db/credentials-AbCdEf", plus(owned, ctx{"aws:RequestTag/secretboot:project": {"other"}}), false},
		{"secretsmanager:UntagResource", sm + "dev/not/ours-AbCdEf", ctx{"aws:TagKeys": {"team"}}, false},
		{"secretsmanager:CreateSecret", sm + "prod/app/db/credentials-AbCdEf", createSecret, false},
		{"secretsmanager:PutSecretValue", sm + "devx/app-AbCdEf", owned, false},
		{"secretsmanager:GetSecretValue", sm + "dev/.secretboot/stage-key-AbCdEf", owned, true},
		{"secretsmanager:GetSecretValue", sm + "dev/app/db/credentials-AbCdEf", owned, true},
		{"secretsmanager:GetSecretValue", sm + "dev/app/db/credentials-AbCdEf", nil, false}, // a foreign secret of that name
		{"secretsmanager:GetSecretValue", sm + "dev/app/stripe-key-AbCdEf", owned, false},   // no generated value to keep
		{"secretsmanager:GetSecretValue", sm + "dev/app/db/credentials/extra-AbCdEf", owned, false},
		{"secretsmanager:DescribeSecret", sm + "dev/not/ours-AbCdEf", nil, true},
		{"secretsmanager:PutResourcePolicy", sm + "dev/app/stripe-key-AbCdEf", owned, false},
		{"secretsmanager:BatchGetSecretValue", "*", nil, false},
		{"iam:CreateRole", iamARN + "role/secretboot/shop/dev/shop-dev-api", plus(create, bounded), true},
		{"iam:CreateRole", iamARN + "role/secretboot/shop/dev/shop-dev-api", create, false},                                                                                  // no boundary
		{"iam:CreateRole", iamARN + "role/secretboot/shop/dev/shop-dev-api", plus(create, ctx{"iam:PermissionsBoundary": {iamARN + "policy/secretboot/shop/dev/x"}}), false}, // another boundary
		{"iam:CreateRole", iamARN + "role/secretboot/shop/dev/shop-dev-api", bounded, false},                                                                                 // no ownership tags
		{"iam:CreateRole", iamARN + "role/secretboot/shop/dev/deeper/shop-dev-api", plus(create, bounded), false},
		{"iam:CreateRole", iamARN + "role/shop-dev-api", plus(create, bounded), false},
		{"iam:CreateRole", iamARN + "role/secretboot/shop/prod/shop-prod-web", plus(create, bounded), false},
		{"iam:PutRolePolicy", iamARN + "role/secretboot/shop/dev/shop-dev-web", bounded, true},
		{"iam:PutRolePolicy", iamARN + "role/secretboot/shop/dev/unbounded", owned, false},
		{"iam:AttachRolePolicy", iamARN + "role/secretboot/shop/dev/shop-dev-batch", plus(bounded, ctx{"iam:PolicyARN": {part}}), true},
		{"iam:AttachRolePolicy", iamARN + "role/secretboot/shop/dev/shop-dev-batch", plus(bounded, ctx{"iam:PolicyARN": {"arn:aws:iam::aws:policy/AdministratorAccess"}}), false},
		{"iam:AttachRolePolicy", iamARN + "role/secretboot/shop/dev/shop-dev-batch", plus(bounded, ctx{"iam:PolicyARN": {boundary}}), false},
		{"iam:AttachRolePolicy", iamARN + "role/tf/tf-analytics", ctx{"iam:PolicyARN": {iamARN + "policy/admin"}}, false},
		{"iam:PutRolePermissionsBoundary", iamARN + "role/secretboot/shop/dev/shop-dev-web", bounded, true}, // only the stage's
		{"iam:PutRolePermissionsBoundary", iamARN + "role/secretboot/shop/dev/shop-dev-web", ctx{"iam:PermissionsBoundary": {part}}, false},
		{"iam:DeleteRolePermissionsBoundary", iamARN + "role/secretboot/shop/dev/shop-dev-web", bounded, false},
		{"iam:UpdateAssumeRolePolicy", iamARN + "role/secretboot/shop/dev/shop-dev-web", owned, true},
		{"iam:UpdateAssumeRolePolicy", iamARN + "role/secretboot/shop/dev/admins-role", nil, false},
		{"iam:PassRole", iamARN + "role/secretboot/shop/dev/shop-dev-web", ctx{"iam:PassedToService": {"ec2.amazonaws.com"}}, true},
		{"iam:PassRole", iamARN + "role/secretboot/shop/dev/shop-dev-web", ctx{"iam:PassedToService": {"lambda.amazonaws.com"}}, false},
		{"iam:PassRole", iamARN + "role/ci/deployer", ctx{"iam:PassedToService": {"ec2.amazonaws.com"}}, false},
		{"iam:GetRole", iamARN + "role/elsewhere/shop-dev-web", nil, true},
		{"iam:GetRole", iamARN + "role/elsewhere/shop-dev-webx", nil, false},
		{"iam:DeleteRole", iamARN + "role/elsewhere/shop-dev-web", owned, false},
		{"iam:DetachRolePolicy", iamARN + "role/secretboot/shop/dev/shop-dev-web", plus(owned, ctx{"iam:PolicyARN": {"arn:aws:iam::aws:policy/AdministratorAccess"}}), true},
		{"iam:DetachRolePolicy", iamARN + "role/secretboot/shop/dev/admins-role", ctx{"iam:PolicyARN": {"arn:aws:iam::aws:policy/AdministratorAccess"}}, false},
		{"iam:PutRolePolicy", iamARN + "role/tf/tf-reporting", nil, true},
		{"iam:PutRolePolicy", iamARN + "role/tf/tf-other", nil, false},
		{"iam:UpdateAssumeRolePolicy", iamARN + "role/tf/tf-reporting", owned, false},
		{"iam:DeleteRole", iamARN + "role/tf/tf-reporting", owned, false},
		{"iam:CreatePolicy", iamARN + "policy/secretboot/shop/dev/shop-dev-web-read-1", nil, true},
		{"iam:CreatePolicy", iamARN + "policy/secretboot/shop/dev/deeper/shop-dev-web-read-1", nil, false},
		{"iam:CreatePolicy", boundary, nil, false},
		{"iam:CreatePolicyVersion", boundary, nil, false},
		{"iam:SetDefaultPolicyVersion", boundary, nil, false},
		{"iam:DeletePolicy", boundary, nil, false},
		{"iam:GetPolicy", boundary, nil, true},
		{"iam:SetDefaultPolicyVersion", part, nil, false},
		{"iam:CreatePolicy", iamARN + "policy/admin", nil, false},
		{"iam:CreateUser", iamARN + "user/x", nil, false},
		{"iam:CreateAccessKey", iamARN + "user/x", nil, false},
		{"iam:SimulatePrincipalPolicy", iamARN + "role/tf/tf-analytics", nil, true},
		{"sts:AssumeRole", iamARN + "role/secretboot/shop/dev/shop-dev-web", nil, false},
		{"kms:Decrypt", "arn:aws:kms:us-east-1:" + sandboxAccount + ":key/any", nil, false},
	}
	for _, tt := range tests {
		got := policy.Evaluate(policy.PolicySet{Identity: []*policy.Document{doc}}, policy.Request{Action: tt.action, Resource: tt.resource, Context: tt.context}).Decision == policy.Allowed
		if got != tt.want {
			t.Errorf("%s on %s with %v: allowed %v, want %v", tt.action, tt.resource, tt.context, got, tt.want)
		}
	}
}

// deployerVersion selects a step of the spec's history in the lifecycle.
type deployerVersion struct {
	changed  bool // descriptions, trust, a payload, tags and a reader changed
	noStripe bool // app/stripe-key removed from the spec
	newer    int  // app/new added, with the n-th value (0: not added)
	legacy   bool // legacy/api-key, which existed before secretboot, added
}

// batchSecrets are secrets with long names: 20 of them make the read
// policy of role batch larger than the inline limit, so it is split.
const batchSecrets = 20

// deployerSpec is a webapp-like stage of project shop: web (EC2, instance
// profile) reads generated database credentials and a Stripe key that the
// external role reporting reads too; batch reads secrets enough to split
// its read policy; the external role analytics reads a feed, and its owner's
// own inline policy leaves no inline room and its attachments no free slot
// under IAM's default quota.
func deployerSpec(v deployerVersion) *spec.Desired {
	d := &spec.Desired{
		Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: sandboxAccount,
		NamePrefix: "dev/", RolePrefix: "shop-dev-", SpecHash: fmt.Sprintf("%+v", v),
		Roles: []*spec.Role{
			{Key: "analytics", Name: "tf-analytics", External: "arn:aws:iam::" + sandboxAccount + ":role/tf/tf-analytics"},
			{Key: "batch", Name: "shop-dev-batch", Description: "batch jobs", Services: []string{"lambda.amazonaws.com"}},
			{Key: "reporting", Name: "tf-reporting", External: "arn:aws:iam::" + sandboxAccount + ":role/tf/tf-reporting"},
			{Key: "web", Name: "shop-dev-web", Description: "web tier instances", Services: []string{"ec2.amazonaws.com"}, InstanceProfile: true},
		},
	}
	str := func(key, desc string, readers ...string) *spec.Secret {
		s := &spec.Secret{Key: key, Name: "dev/" + key, Description: desc, RecoveryWindowDays: 7,
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString(canary + "-" + key)}}
		for _, r := range readers {
			s.Readers = append(s.Readers, spec.Reader{Role: r})
		}
		return s
	}
	db := &spec.Secret{Key: "app/db/credentials", Name: "dev/app/db/credentials", Description: "primary database",
		Readers: []spec.Reader{{Role: "web", Describe: true}}, RecoveryWindowDays: 7,
		Payload: dbPayload("db.internal"), Tags: map[string]string{"team": "web"}}
	stripe := str("app/stripe-key", "Stripe API key", "reporting", "web")
	d.Secrets = []*spec.Secret{db, str("reports/feed", "", "analytics")}
	for i := range batchSecrets {
		d.Secrets = append(d.Secrets, str(fmt.Sprintf("batch/%s-%02d", strings.Repeat("x", 480), i), "", "batch"))
	}
	if v.changed {
		d.Roles[1].Services = []string{"ecs-tasks.amazonaws.com"}
		d.Roles[3].Description = "web tier instances, v2"
		d.Roles[3].Tags = map[string]string{"tier": "web"}
		db.Payload, db.Tags = dbPayload("db2.internal"), nil
		stripe.Description = "Stripe API key, rotated"
		d.Secrets = append(d.Secrets, str("reports/feed2", "", "analytics"))
	}
	if !v.noStripe {
		d.Secrets = append(d.Secrets, stripe)
	}
	if v.newer > 0 {
		n := str("app/new", "", "web")
		n.Payload.Declared = spec.SealString(fmt.Sprintf("%s-new-%d", canary, v.newer))
		d.Secrets = append(d.Secrets, n)
	}
	if v.legacy {
		d.Secrets = append(d.Secrets, str("legacy/api-key", "", "web"))
	}
	slices.SortFunc(d.Secrets, func(a, b *spec.Secret) int { return strings.Compare(a.Name, b.Name) })
	return d
}

// deployerFixture is a sandbox that enforces authorization, with what
// exists before secretboot runs: the two external roles (analytics with
// its owner's inline policy and ten attached managed policies), a secret
// to import, and roles and an instance profile whose names clash with the
// stage's, deleted once plan has reported them.
type deployerFixture struct {
	env   *sandboxtest.Env
	admin *provision.Session
}

const (
	clashPath = "/elsewhere/"
	legacyKey = "legacy/api-key"
)

func newDeployerFixture(t *testing.T) *deployerFixture {
	t.Helper()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true, AttachedPoliciesPerRoleQuota: 20})
	admin := sandboxBackend(env).mustConnect(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	trust := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	for _, name := range []string{"tf-reporting", "tf-analytics"} {
		must(admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String("/tf/"), AssumeRolePolicyDocument: trust}))
	}
	// The owner's grants touch no secret, so verify still finds exactly
	// what the spec grants. Its inline policy leaves less room than the
	// read policy needs.
	var buckets []string
	owner := func() string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":[` + strings.Join(buckets, ",") + `]}]}`
	}
	for i := 0; policy.RawSize([]byte(owner())) < policy.DefaultLimits.InlineMax-100; i++ {
		buckets = append(buckets, fmt.Sprintf(`"arn:aws:s3:::analytics-owner-bucket-%03d/*"`, i))
	}
	must(admin.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("tf-analytics"), PolicyName: aws.String("owner"), PolicyDocument: aws.String(owner())}))
	for i := range 10 {
		out, err := admin.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("owner-%d", i)), Path: aws.String("/tf/"),
			PolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::owner-%d"}]}`, i))})
		must(out, err)
		must(admin.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("tf-analytics"), PolicyArn: out.Policy.Arn}))
	}
	must(admin.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("dev/" + legacyKey), SecretString: aws.String(canary + "-before")}))
	for _, name := range []string{"shop-dev-web", "shop-dev-batch"} {
		must(admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(clashPath), AssumeRolePolicyDocument: trust}))
	}
	must(admin.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("shop-dev-web"), Path: aws.String(clashPath)}))
	installBoundary(t, admin, deployerSpec(deployerVersion{}))
	return &deployerFixture{env: env, admin: admin}
}

// installBoundary creates the stage's permissions boundary as an
// administrator does, once, before the deployer's first apply.
func installBoundary(t *testing.T, admin *provision.Session, d *spec.Desired) {
	t.Helper()
	b, err := provision.StageBoundary(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.IAM.CreatePolicy(context.Background(), &iam.CreatePolicyInput{
		PolicyName: aws.String(b.Name), Path: aws.String(b.Path), PolicyDocument: aws.String(string(b.Document.Compact())),
	}); err != nil {
		t.Fatal(err)
	}
}

// withImport is the deployer policy with the import grant, which the
// lifecycle's import step needs.
func withImport(t *testing.T, doc *policy.Document, d *spec.Desired) *policy.Document {
	t.Helper()
	imp, err := provision.ImportPolicy(d)
	if err != nil {
		t.Fatal(err)
	}
	out := &policy.Document{Version: doc.Version, Statement: slices.Concat(doc.Statement, imp.Statement)}
	return out
}

// connect creates the role deployer under /ci/, whose only policy is doc, and
// opens a session that assumes it, as a stage with assume_role_arn does.
func (f *deployerFixture) connect(t *testing.T, doc *policy.Document) *provision.Session {
	t.Helper()
	return f.connectAs(t, "deployer", doc)
}

// stageDeployer installs d's boundary as an administrator does and
// connects, through env's URL, as the deployer whose only policy is d's
// deployer policy.
func stageDeployer(t *testing.T, env *sandboxtest.Env, admin *provision.Session, d *spec.Desired) *provision.Session {
	t.Helper()
	installBoundary(t, admin, d)
	doc, err := provision.DeployerPolicy(d)
	if err != nil {
		t.Fatal(err)
	}
	return (&deployerFixture{env: env, admin: admin}).connect(t, doc)
}

// step is one step of the deployer's lifecycle; it returns an error when
// the step does not end as it should.
type step struct {
	name string
	run  func(ctx context.Context) error
}

// lifecycle runs, as deployer, plan, apply, a second plan (empty), output,
// verify, updates of every kind, an out-of-band write repaired, a secret
// removed and restored, an apply that finds a secret created meanwhile, an
// import, and destroy. It stops at the first step that fails and returns
// its error, named.
func (f *deployerFixture) lifecycle(deployer *provision.Session) error {
	ctx := context.Background()
	admin := f.admin
	base := deployerSpec(deployerVersion{})
	changed := deployerVersion{changed: true}
	withoutStripe := deployerVersion{changed: true, noStripe: true}
	legacy := deployerVersion{changed: true, newer: 2, legacy: true}
	steps := []step{
		{"plan reports clashes", func(ctx context.Context) error {
			_, err := planOf(ctx, deployer, base, false)
			var clash *provision.ClashError
			if !errors.As(err, &clash) {
				return fmt.Errorf("want a ClashError, got %v", err)
			}
			if want := []string{"shop-dev-batch", "shop-dev-web"}; len(clash.Roles) != 2 || !strings.HasPrefix(clash.Roles[0], want[0]) || !strings.HasPrefix(clash.Roles[1], want[1]) {
				return fmt.Errorf("clashing roles %v, want %v", clash.Roles, want)
			}
			for _, name := range []string{"shop-dev-web", "shop-dev-batch"} {
				if _, err := admin.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
					return err
				}
			}
			_, err = admin.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("shop-dev-web")})
			return err
		}},
		{"plan, apply, plan again", func(ctx context.Context) error { return converge1(ctx, deployer, base, false) }},
		{"output", func(ctx context.Context) error {
			o, err := provision.Observe(ctx, deployer, base)
			if err != nil {
				return err
			}
			out := provision.OutputsOf(base, o)
			if len(out.SecretARNs) != len(base.Secrets) || len(out.RoleARNs) != len(base.Roles) || out.InstanceProfiles["web"] != "shop-dev-web" {
				return fmt.Errorf("outputs incomplete: %d secrets, %d roles, profiles %v", len(out.SecretARNs), len(out.RoleARNs), out.InstanceProfiles)
			}
			return nil
		}},
		{"verify", func(ctx context.Context) error { return verifyOnline(ctx, deployer, base) }},
		{"update descriptions, trust, payload, tags and readers", func(ctx context.Context) error {
			return converge1(ctx, deployer, deployerSpec(changed), false)
		}},
		{"repair an out-of-band write", func(ctx context.Context) error {
			if _, err := admin.SecretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("dev/app/stripe-key"), SecretString: aws.String("written outside")}); err != nil {
				return err
			}
			return converge1(ctx, deployer, deployerSpec(changed), false)
		}},
		{"repair a role's boundary, tags and attachments changed outside", func(ctx context.Context) error {
			d := deployerSpec(changed)
			const adminAccess = "arn:aws:iam::aws:policy/AdministratorAccess"
			if _, err := admin.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("shop-dev-web"), PolicyArn: aws.String(adminAccess)}); err != nil {
				return err
			}
			if _, err := admin.IAM.(*iam.Client).DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("shop-dev-web")}); err != nil {
				return err
			}
			if _, err := admin.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("shop-dev-web"), Tags: []iamtypes.Tag{
				{Key: aws.String("tier"), Value: aws.String("db")}, {Key: aws.String("added"), Value: aws.String("outside")}}}); err != nil {
				return err
			}
			p, err := planOf(ctx, deployer, d, false)
			if err != nil {
				return err
			}
			var rc *provision.RoleChange
			for _, c := range p.Changes {
				if c.Kind == provision.KindRole && c.Name == "shop-dev-web" {
					rc = c.Role
				}
			}
			want := []provision.TagChange{{Key: "added", Old: "outside", Removed: true}, {Key: "tier", Old: "db", New: "web"}}
			if rc == nil || rc.Boundary == nil || rc.Boundary.Old != "" || rc.Boundary.New != provision.BoundaryARN(d, sandboxAccount) || !slices.Equal(rc.Tags, want) ||
				!slices.Equal(rc.Detach, []string{adminAccess}) {
				return fmt.Errorf("plan shows role change %+v, want the boundary set, tags %+v and %s detached", rc, want, adminAccess)
			}
			return converge1(ctx, deployer, d, false)
		}},
		{"schedule a removed secret for deletion", func(ctx context.Context) error {
			return converge1(ctx, deployer, deployerSpec(withoutStripe), false)
		}},
		{"restore it", func(ctx context.Context) error { return converge1(ctx, deployer, deployerSpec(changed), false) }},
		{"apply while ListSecrets lags", func(ctx context.Context) error {
			// A secret created moments ago is missing from the listing, so
			// the next apply, for a new value, creates it again, finds it
			// there and writes the value.
			f.env.Server.SetFaults(sandbox.Faults{ListingLag: time.Hour})
			defer f.env.Server.SetFaults(sandbox.Faults{})
			var d *spec.Desired
			for n := 1; n <= 2; n++ {
				d = deployerSpec(deployerVersion{changed: true, newer: n})
				p, err := planOf(ctx, deployer, d, false)
				if err != nil {
					return err
				}
				if _, err := provision.Apply(ctx, deployer, p, d, provision.ApplyOptions{PropagationTimeout: 5 * time.Second}); err != nil {
					return err
				}
			}
			f.env.Server.SetFaults(sandbox.Faults{})
			return emptyPlan(ctx, deployer, d, false)
		}},
		{"import", func(ctx context.Context) error {
			d := deployerSpec(legacy)
			_, err := planOf(ctx, deployer, d, false)
			var clash *provision.ClashError
			if !errors.As(err, &clash) || !slices.Equal(clash.Secrets, []string{"dev/" + legacyKey}) {
				return fmt.Errorf("plan before import: want a clash on dev/%s, got %v", legacyKey, err)
			}
			if _, err := provision.Import(ctx, deployer, d, []string{legacyKey}); err != nil {
				return err
			}
			return converge1(ctx, deployer, d, false)
		}},
		{"destroy", func(ctx context.Context) error { return converge1(ctx, deployer, deployerSpec(legacy), true) }},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("step %q: %w", s.name, err)
		}
	}
	return nil
}

func planOf(ctx context.Context, s *provision.Session, d *spec.Desired, destroy bool) (*provision.Plan, error) {
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		return nil, err
	}
	return provision.Diff(d, o, provision.DiffOptions{Destroy: destroy})
}

// converge1 plans and applies changes, then plans again, which must find
// nothing to do.
func converge1(ctx context.Context, s *provision.Session, d *spec.Desired, destroy bool) error {
	p, err := planOf(ctx, s, d, destroy)
	if err != nil {
		return err
	}
	if p.Empty() {
		return errors.New("the plan is empty; the step expected changes")
	}
	// A narrowing step waits only a moment: TestNarrowingSettles tests
	// the wait.
	if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 5 * time.Second, Settle: 50 * time.Millisecond}); err != nil {
		return err
	}
	return emptyPlan(ctx, s, d, destroy)
}

func emptyPlan(ctx context.Context, s *provision.Session, d *spec.Desired, destroy bool) error {
	p, err := planOf(ctx, s, d, destroy)
	if err != nil {
		return err
	}
	if !p.Empty() {
		return fmt.Errorf("the plan after apply is not empty: %v", summary(p))
	}
	return nil
}

// verifyOnline runs `secretboot verify`'s online check: the simulator's
// matrix must equal what the spec grants.
func verifyOnline(ctx context.Context, s *provision.Session, d *spec.Desired) error {
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		return err
	}
	in := provision.Resolve(d, o)
	docs, err := in.Documents()
	if err != nil {
		return err
	}
	roles, secrets := verify.Targets(d, docs, in.Secrets)
	roles = append(roles, verify.Unlisted(d, o)...)
	if secrets, err = verify.LiveResourcePolicies(secrets, o); err != nil {
		return err
	}
	m, err := verify.Online(ctx, s.Simulator, roles, secrets)
	if err != nil {
		return err
	}
	if r := verify.NewResult(d, verify.Simulated, m); !r.OK {
		return fmt.Errorf("verify found differences: %+v", r.Differences)
	}
	return nil
}

// TestDeployerLifecycle is the proof that DeployerPolicy is enough: a role
// holding nothing else runs the whole lifecycle of a stage through the
// engine, against a sandbox that authorizes every call as AWS does.
func TestDeployerLifecycle(t *testing.T) {
	t.Parallel()
	f := newDeployerFixture(t)
	doc, err := provision.DeployerPolicy(deployerSpec(deployerVersion{}))
	if err != nil {
		t.Fatal(err)
	}
	// The policy holds for every version of the spec the lifecycle
	// applies: none adds an external role, a key or a generated value.
	for _, v := range []deployerVersion{{changed: true}, {changed: true, noStripe: true}, {changed: true, newer: 2, legacy: true}} {
		other, err := provision.DeployerPolicy(deployerSpec(v))
		if err != nil || !slices.Equal(other.Canonical(), doc.Canonical()) {
			t.Fatalf("the deployer policy of spec version %+v differs (%v)", v, err)
		}
	}
	doc = withImport(t, doc, deployerSpec(deployerVersion{}))
	deployer := f.connect(t, doc)
	start := time.Now()
	if err := f.lifecycle(deployer); err != nil {
		t.Fatal(err)
	}
	t.Logf("lifecycle as deployer: %d calls in %v", deployer.CallStats().Total().Calls, time.Since(start).Round(time.Millisecond))

	// The policy's actions are the operations the lifecycle called: none
	// missing (the lifecycle passed), none granted and never called but
	// those the sandbox cannot prove. PassRole is asked for on
	// AddRoleToInstanceProfile; GetCallerIdentity needs no permission.
	prefix := map[string]string{"Secrets Manager": "secretsmanager:", "IAM": "iam:", "STS": "sts:"}
	called := map[string]bool{}
	for _, op := range deployer.CallStats().Ops {
		called[prefix[op.Service]+op.Operation] = true
	}
	if called["iam:AddRoleToInstanceProfile"] {
		called["iam:PassRole"] = true
	}
	granted := map[string]bool{"sts:GetCallerIdentity": true}
	for _, st := range doc.Statement {
		if st.Effect == policy.Deny {
			continue
		}
		for _, a := range st.Action {
			granted[a] = true
			if !called[a] && unproven[st.Sid+" "+a] == "" {
				t.Errorf("%s grants %s, which the lifecycle never called", st.Sid, a)
			}
		}
	}
	for op := range called {
		if !granted[op] {
			t.Errorf("the lifecycle called %s, which the policy does not grant", op)
		}
	}

	// Destroy left nothing of the stage on the external roles.
	ctx := context.Background()
	for _, role := range []string{"tf-reporting", "tf-analytics"} {
		names, err := f.admin.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
		if err != nil {
			t.Fatal(err)
		}
		attached, err := f.admin.IAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names.PolicyNames {
			if strings.HasPrefix(n, "secretboot-") {
				t.Errorf("%s still holds inline policy %s", role, n)
			}
		}
		for _, p := range attached.AttachedPolicies {
			if strings.Contains(aws.ToString(p.PolicyArn), "/secretboot/") {
				t.Errorf("%s still has %s attached", role, aws.ToString(p.PolicyArn))
			}
		}
	}
}

// TestDeployerDeniedOutsideItsStage: the deployer of dev cannot apply
// another stage of the same spec, nor touch a secret or a role outside its
// prefix, its path and its external roles; every denial surfaces as
// AccessDenied, never as a missing resource.
func TestDeployerDeniedOutsideItsStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newDeployerFixture(t)
	dev := deployerSpec(deployerVersion{})
	doc, err := provision.DeployerPolicy(dev)
	if err != nil {
		t.Fatal(err)
	}
	deployer := f.connect(t, doc)

	// prod: same spec, its own prefix, path and external roles.
	prod := deployerSpec(deployerVersion{})
	prod.Stage, prod.NamePrefix, prod.RolePrefix = "prod", "prod/", "shop-prod-"
	for _, r := range prod.Roles {
		r.Name = strings.Replace(r.Name, "shop-dev-", "shop-prod-", 1)
	}
	for _, s := range prod.Secrets {
		s.Name = "prod/" + s.Key
	}
	if _, err := f.admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("tf-prod-reporting"), Path: aws.String("/tf/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	prod.Roles[2].External = "arn:aws:iam::" + sandboxAccount + ":role/tf/tf-prod-reporting"
	adminPlan, err := planOf(ctx, f.admin, prod, false)
	var clash *provision.ClashError
	if errors.As(err, &clash) {
		t.Fatalf("prod plan as admin: %v", err) // the fixture's clashes are dev's
	}
	if err != nil {
		t.Fatal(err)
	}
	_, err = provision.Apply(ctx, deployer, adminPlan, prod, provision.ApplyOptions{})
	var denied *provision.AccessDeniedError
	if !errors.As(err, &denied) {
		t.Errorf("dev's deployer applying prod: %v, want an AccessDeniedError", err)
	}
	if _, err := planOf(ctx, deployer, prod, false); !errors.As(err, &denied) {
		t.Errorf("dev's deployer planning prod: %v, want an AccessDeniedError", err)
	}

	// Its own stage is reachable: the denials below are about scope.
	for _, name := range []string{"shop-dev-web", "shop-dev-batch"} {
		if _, err := f.admin.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.admin.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("shop-dev-web")}); err != nil {
		t.Fatal(err)
	}
	if err := converge1(ctx, deployer, dev, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("shop-dev-spare"), Path: aws.String(provision.RolePath(dev))}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("outsider"), Path: aws.String("/app/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	sm, ic := deployer.SecretsManager.(*secretsmanager.Client), deployer.IAM
	calls := []struct {
		name string
		call func() error
	}{
		{"CreateSecret under another prefix", func() error {
			_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/app/x"), SecretString: aws.String("x")})
			return err
		}},
		{"PutSecretValue under a prefix that only starts like dev/", func() error {
			_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("devx/app"), SecretString: aws.String("x")})
			return err
		}},
		{"GetSecretValue of a secret without generated values", func() error {
			_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("dev/app/stripe-key")})
			return err
		}},
		{"PutResourcePolicy on its own secret", func() error {
			_, err := sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("dev/app/stripe-key"), ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		}},
		{"CreateRole outside the path", func() error {
			_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("shop-dev-evil"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		}},
		{"CreateRole under prod's path", func() error {
			_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("shop-prod-evil"), Path: aws.String("/secretboot/shop/prod/"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		}},
		{"PutRolePolicy on a role the spec does not name", func() error {
			_, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("tf-prod-reporting"), PolicyName: aws.String("x"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		}},
		{"UpdateAssumeRolePolicy on an external role", func() error {
			_, err := ic.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("tf-reporting"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		}},
		{"DeleteRole of an external role", func() error {
			_, err := ic.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("tf-reporting")})
			return err
		}},
		{"PutRolePolicy on itself", func() error {
			_, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("more"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		}},
		{"AddRoleToInstanceProfile of a role outside the path (PassRole)", func() error {
			_, err := ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("shop-dev-spare"), RoleName: aws.String("outsider")})
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || (ae.ErrorCode() != "AccessDenied" && ae.ErrorCode() != "AccessDeniedException") {
				t.Errorf("error = %v, want AccessDenied", err)
			}
		})
	}
}

// unproven are the grants of DeployerPolicy that the lifecycle does not
// need in the sandbox, with why they are there all the same. Run per
// action, the test checks that the lifecycle passes without each, so that a
// grant the sandbox learns to require moves out of this list.
var unproven = map[string]string{
	provision.SidDeployerRoles + " iam:TagRole":                                                      "AWS authorizes a CreateRole with tags as iam:TagRole too; the sandbox checks one action per request",
	provision.SidDeployerProfiles + " iam:TagInstanceProfile":                                        "AWS authorizes a CreateInstanceProfile with tags as iam:TagInstanceProfile too; the sandbox checks one action per request",
	provision.SidDeployerPolicies + " iam:TagPolicy":                                                 "AWS authorizes a CreatePolicy with tags as iam:TagPolicy too; the sandbox checks one action per request",
	provision.SidDeployerExternalParts + " arn:aws:iam::" + sandboxAccount + ":role/tf/tf-reporting": "whether an external role's read policy is split depends on its owner's inline policies, which the policy cannot know; the lifecycle splits tf-analytics's only",
	provision.SidDeployerPolicies + " iam:GetPolicy":                                                 "apply reads a part that a concurrent apply created between its observation and its CreatePolicy: a race the lifecycle cannot provoke",
	provision.SidDeployerManageSecrets + " secretsmanager:RotateSecret":                              "the lifecycle declares no rotation; TestRotationEndToEnd enables one as the deployer",
	provision.SidDeployerManageSecrets + " secretsmanager:CancelRotateSecret":                        "the lifecycle declares no rotation; TestRotationEndToEnd cancels one as the deployer",
}

var perAction = flag.Bool("deployer-per-action", false, "TestDeployerPolicyIsMinimal: remove each action of each statement, not each statement (about a minute under -race)")

// TestDeployerPolicyIsMinimal removes one grant at a time and runs the
// lifecycle again in a fresh sandbox: some step must fail, denied a call
// that needed the grant. A grant is each statement, and each resource of a
// statement with several; with -deployer-per-action, each action of each
// statement instead of each statement, which proves that no action is
// superfluous but runs the lifecycle three times as often. Both pass
// except for the actions listed in unproven, which the sandbox cannot
// tell apart.
func TestDeployerPolicyIsMinimal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the lifecycle once per grant")
	}
	t.Parallel()
	doc, err := provision.DeployerPolicy(deployerSpec(deployerVersion{}))
	if err != nil {
		t.Fatal(err)
	}
	doc = withImport(t, doc, deployerSpec(deployerVersion{}))
	// A removal takes one action, one resource or a whole statement out;
	// the call denied then is one of the actions it names.
	type removal struct {
		name, sid, action, resource string
		denied                      []string
	}
	var removals []removal
	for _, st := range doc.Statement {
		if st.Effect == policy.Deny {
			continue // not a grant: TestDeployerCannotEscalate shows what each denies
		}
		if *perAction {
			for _, a := range st.Action {
				removals = append(removals, removal{name: st.Sid + " " + a, sid: st.Sid, action: a, denied: []string{a}})
			}
		} else {
			removals = append(removals, removal{name: st.Sid, sid: st.Sid, denied: st.Action})
		}
		if len(st.Resource) > 1 {
			for _, r := range st.Resource {
				removals = append(removals, removal{name: st.Sid + " " + r, sid: st.Sid, resource: r, denied: st.Action})
			}
		}
	}
	var runs atomic.Int64
	start := time.Now()
	t.Cleanup(func() {
		t.Logf("%d lifecycles without one grant each, in %v", runs.Load(), time.Since(start).Round(time.Millisecond))
	})
	for i, rm := range removals {
		if i%3 != 0 && os.Getenv("SECRETBOOT_LONG_TESTS") != "1" {
			continue // short: every third grant; .ci/run sets SECRETBOOT_LONG_TESTS=1 for all
		}
		t.Run(rm.name, func(t *testing.T) {
			t.Parallel()
			runs.Add(1)
			f := newDeployerFixture(t)
			err := f.lifecycle(f.connect(t, without(doc, rm.sid, rm.action, rm.resource)))
			if why, ok := unproven[rm.name]; ok {
				if err != nil {
					t.Fatalf("listed as unproven (%s), yet the lifecycle needs it: %v", why, err)
				}
				return
			}
			if err == nil {
				t.Fatal("the lifecycle passed without it: it is superfluous")
			}
			if !slices.ContainsFunc(rm.denied, func(a string) bool { return strings.Contains(err.Error(), a) }) {
				t.Errorf("the lifecycle failed, but not for want of %s:\n%v", strings.Join(rm.denied, " or "), err)
			}
		})
	}
}

// without is doc with one action or one resource removed from statement
// sid, or the whole statement when both are "".
func without(doc *policy.Document, sid, action, resource string) *policy.Document {
	out := &policy.Document{Version: doc.Version}
	for _, st := range doc.Statement {
		if st.Sid == sid {
			st.Action = slices.DeleteFunc(slices.Clone(st.Action), func(a string) bool { return a == action || action+resource == "" })
			st.Resource = slices.DeleteFunc(slices.Clone(st.Resource), func(r string) bool { return r == resource })
			if len(st.Action) == 0 || len(st.Resource) == 0 {
				continue
			}
		}
		out.Statement = append(out.Statement, st)
	}
	return out
}
