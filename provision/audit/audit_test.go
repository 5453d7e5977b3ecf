package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/audit"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// load evaluates one stage of an example spec.
func load(t *testing.T, dir, stage string) *spec.Desired {
	t.Helper()
	cfg, diags := spec.Load(dir)
	if diags.HasErrors() {
		t.Fatalf("loading %s: %v", dir, diags)
	}
	d, diags := cfg.Evaluate(stage, spec.EvalOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatalf("evaluating %s/%s: %v", dir, stage, diags)
	}
	return d
}

// applied starts a sandbox in the stage's account and applies the stage.
func applied(t *testing.T, d *spec.Desired) (*sandboxtest.Env, *provision.Session) {
	t.Helper()
	return appliedOn(t, d, sandbox.Options{})
}

// appliedOn starts a sandbox with opts (its account and home region the
// stage's) and applies the stage.
func appliedOn(t *testing.T, d *spec.Desired, opts sandbox.Options) (*sandboxtest.Env, *provision.Session) {
	t.Helper()
	ctx := context.Background()
	opts.Account, opts.Region = d.AccountID, d.Region
	env := sandboxtest.Start(t, opts)
	s, err := provision.Connect(ctx, provision.ConnectOptions{
		Stage: d.Stage, Region: d.Region, AccountID: d.AccountID, Endpoint: env.URL,
		Credentials: provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		t.Fatal(err)
	}
	p, err := provision.Diff(d, o, provision.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	return env, s
}

// run audits the stage through the session's clients.
func run(t *testing.T, s *provision.Session, d *spec.Desired) *audit.Result {
	t.Helper()
	ctx := context.Background()
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		t.Fatal(err)
	}
	r, err := audit.Run(ctx, d, o, s.IAM.(audit.IAMReader), s.SecretsManager.(audit.PolicyReader), s.KMS)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// short lists findings as "kind principal secret".
func short(fs []audit.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, strings.TrimSpace(string(f.Kind)+" "+f.Principal+" "+f.Secret))
	}
	return out
}

const (
	acct     = "000000000000"
	ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

func allow(action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

// TestCleanStage: the webapp example, applied and untouched, has exactly
// its spec's reader and nothing else.
func TestCleanStage(t *testing.T) {
	d := load(t, "../../examples/webapp", "dev")
	_, s := applied(t, d)
	r := run(t, s, d)
	if !r.OK || len(r.Findings) != 0 {
		t.Fatalf("findings on a clean stage: %v", r.Findings)
	}
	var readers []string
	for _, a := range r.Access {
		readers = append(readers, a.Name+" "+a.Secret+" "+strings.Join(a.Sources, ","))
	}
	want := []string{"shop-dev-web dev/app/db/credentials inline secretboot-read"}
	if diff := cmp.Diff(want, readers); diff != "" {
		t.Errorf("readers (-want +got):\n%s", diff)
	}
	if r.Roles != 1 || r.Users != 0 {
		t.Errorf("counted %d roles and %d users, want 1 and 0", r.Roles, r.Users)
	}
}

// TestPlantedReaders plants one over-reader of each kind next to the
// webapp stage and expects each to be found, named by the policy that
// lets it in.
func TestPlantedReaders(t *testing.T) {
	ctx := context.Background()
	d := load(t, "../../examples/webapp", "dev")
	env, s := applied(t, d)
	c := iam.NewFromConfig(env.Config)
	sm := secretsmanager.NewFromConfig(env.Config)
	secretARN := ""
	if out, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("dev/app/db/credentials")}); err != nil {
		t.Fatal(err)
	} else {
		secretARN = aws.ToString(out.ARN)
	}
	steps := []func() error{
		// An administrator role: AdministratorAccess reads everything.
		func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("admin"), AssumeRolePolicyDocument: aws.String(ec2Trust)})
			return err
		},
		func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("admin"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
			return err
		},
		// A user with an inline secretsmanager:*.
		func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
			return err
		},
		func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("sm-all"), PolicyDocument: aws.String(allow("secretsmanager:*", "*"))})
			return err
		},
		// A user reading through its group's policy.
		func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
			return err
		},
		func() error {
			_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("dev-readers")})
			return err
		},
		func() error {
			_, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("dev-readers"), PolicyName: aws.String("read-dev"),
				PolicyDocument: aws.String(allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:"+acct+":secret:dev/*"))})
			return err
		},
		func() error {
			_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("bob"), GroupName: aws.String("dev-readers")})
			return err
		},
		// A user with no policy, let in by the secret's resource policy,
		// which also lets a foreign account in.
		func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")})
			return err
		},
		func() error {
			_, err := sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String(secretARN), ResourcePolicy: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Sid":"carol","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/carol"},"Action":"secretsmanager:GetSecretValue","Resource":"*"},` +
					`{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)})
			return err
		},
		// A role that reads and trusts a foreign account.
		func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("vendor"), AssumeRolePolicyDocument: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::888888888888:root"},"Action":"sts:AssumeRole"}]}`)})
			return err
		},
		func() error {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("vendor"), PolicyName: aws.String("read"), PolicyDocument: aws.String(allow("secretsmanager:GetSecretValue", secretARN))})
			return err
		},
		// A user whose read holds only from some network.
		func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")})
			return err
		},
		func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dave"), PolicyName: aws.String("office"), PolicyDocument: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)})
			return err
		},
		// A user whose boundary stops its secretsmanager:*: not a reader.
		func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("s3-only"), PolicyDocument: aws.String(allow("s3:*", "*"))})
			return err
		},
		func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("erin"), PermissionsBoundary: aws.String("arn:aws:iam::" + acct + ":policy/s3-only")})
			return err
		},
		func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("erin"), PolicyName: aws.String("sm-all"), PolicyDocument: aws.String(allow("secretsmanager:*", "*"))})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("planting, step %d: %v", i, err)
		}
	}
	r := run(t, s, d)
	const (
		db  = "dev/app/db/credentials"
		key = "dev/.secretboot/stage-key"
		a   = "arn:aws:iam::" + acct + ":"
	)
	want := []string{
		"reader " + a + "role/admin " + key,
		"reader " + a + "user/alice " + key,
		"reader " + a + "user/bob " + key, // the group's dev/* covers the stage key too
		"conditional-reader " + a + "user/dave " + key,
		"reader " + a + "role/admin " + db,
		"reader " + a + "role/vendor " + db,
		"trust " + a + "role/vendor " + db,
		"reader " + a + "user/alice " + db,
		"reader " + a + "user/bob " + db,
		"reader " + a + "user/carol " + db,
		"conditional-reader " + a + "user/dave " + db,
		"external arn:aws:iam::999999999999:root " + db,
	}
	if diff := cmp.Diff(want, short(r.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if r.OK {
		t.Error("OK with findings")
	}
	sources := map[string]string{}
	for _, acc := range r.Access {
		if acc.Secret == db {
			sources[acc.Name] = strings.Join(acc.Sources, ",")
		}
	}
	wantSources := map[string]string{
		"admin": "managed AdministratorAccess", "alice": "inline sm-all", "bob": "group dev-readers: inline read-dev",
		"carol": "resource policy", "dave": "inline office", "shop-dev-web": "inline secretboot-read", "vendor": "inline read",
	}
	if diff := cmp.Diff(wantSources, sources); diff != "" {
		t.Errorf("sources of the readers of %s (-want +got):\n%s", db, diff)
	}
}

// TestReplicaReaders: each replica is audited as a secret of its own. A
// reader limited to us-west-2 is expected on the replica there only, and
// a user granted the replica's region alone is found reading the replica
// and not the primary.
func TestReplicaReaders(t *testing.T) {
	ctx := context.Background()
	d := load(t, "../../examples/webapp", "dev")
	d.Secrets[0].Replicas = []spec.Replica{{Region: "us-west-2"}}
	d.Roles[0].Regions = []string{"us-west-2"}
	env, s := appliedOn(t, d, sandbox.Options{Regions: []string{"us-west-2"}})
	c := iam.NewFromConfig(env.Config)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("west")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("west"), PolicyName: aws.String("read-west"),
		PolicyDocument: aws.String(allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-west-2:"+acct+":secret:dev/*"))}); err != nil {
		t.Fatal(err)
	}
	r := run(t, s, d)
	var readers []string
	for _, a := range r.Access {
		readers = append(readers, a.Name+" "+a.Secret)
	}
	want := []string{"shop-dev-web dev/app/db/credentials@us-west-2", "west dev/app/db/credentials@us-west-2"}
	if diff := cmp.Diff(want, readers); diff != "" {
		t.Errorf("readers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"reader arn:aws:iam::" + acct + ":user/west dev/app/db/credentials@us-west-2"}, short(r.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
