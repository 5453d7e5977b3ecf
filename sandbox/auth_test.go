package sandbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/secretboot/secretboot/internal/fakeclock"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestEnforcement is the end-to-end proof of least privilege: a role allowed
// GetSecretValue on secret A, assumed through STS as an EC2 instance would,
// reads A and is denied B, through the real SDK clients.
func TestEnforcement(t *testing.T) {
	clk := fakeclock.New(time.Now().UTC())
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true, PropagationDelay: 10 * time.Second, Now: clk.Now})
	ctx := context.Background()
	admin := sm.NewFromConfig(env.Config)
	a := create(t, admin, "dev/a", "value-a")
	b := create(t, admin, "dev/b", "value-b")

	ic := iam.NewFromConfig(env.Config)
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String("web"),
		PolicyName:     aws.String("secretboot-read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + *a.ARN + `"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}

	stsc := sts.NewFromConfig(env.Config)
	assume := func() (*sts.AssumeRoleOutput, error) {
		return stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("i-0123456789")})
	}
	if _, err := assume(); apiCode(err) != "AccessDenied" {
		t.Fatalf("AssumeRole before propagation = %v, want AccessDenied", err)
	}
	clk.Advance(11 * time.Second)
	out, err := assume()
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	asRole := sandboxtest.Config(env.URL, "us-east-1", staticCreds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken))
	rc := sm.NewFromConfig(asRole)

	id, err := sts.NewFromConfig(asRole).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:sts::000000000000:assumed-role/web/i-0123456789" {
		t.Errorf("GetCallerIdentity as the role = %v, %v", id, err)
	}
	v, err := rc.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: a.ARN})
	if err != nil || aws.ToString(v.SecretString) != "value-a" {
		t.Fatalf("reading A as the role: %v, %v", v, err)
	}
	denied := []struct {
		name string
		call func() error
	}{
		{"GetSecretValue B", func() error {
			_, err := rc.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: b.ARN})
			return err
		}},
		{"GetSecretValue missing", func() error {
			_, err := rc.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("dev/none")})
			return err
		}},
		{"PutSecretValue A", func() error {
			_, err := rc.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: a.ARN, SecretString: aws.String("x")})
			return err
		}},
		{"DescribeSecret A", func() error {
			_, err := rc.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: a.ARN})
			return err
		}},
		{"ListSecrets", func() error {
			_, err := rc.ListSecrets(ctx, &sm.ListSecretsInput{})
			return err
		}},
	}
	for _, tt := range denied {
		t.Run("denied/"+tt.name, func(t *testing.T) {
			err := tt.call()
			if apiCode(err) != "AccessDeniedException" || httpStatus(err) != 400 {
				t.Fatalf("error = %v, want AccessDeniedException (400)", err)
			}
			if !strings.Contains(err.Error(), "assumed-role/web/i-0123456789 is not authorized") {
				t.Errorf("message = %v", err)
			}
		})
	}
	_, err = iam.NewFromConfig(asRole).ListRoles(ctx, &iam.ListRolesInput{})
	if apiCode(err) != "AccessDenied" || httpStatus(err) != 403 {
		t.Errorf("IAM ListRoles as the role = %v, want AccessDenied (403)", err)
	}

	// A resource policy on B can grant what the identity policy does not.
	_, err = admin.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: b.ARN, ResourcePolicy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + *role.Role.Arn + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: b.ARN}); err != nil {
		t.Errorf("reading B through its resource policy: %v", err)
	}

	// Temporary credentials expire.
	clk.Advance(2 * time.Hour)
	if _, err := rc.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: a.ARN}); apiCode(err) != "ExpiredTokenException" {
		t.Errorf("after expiry: %v, want ExpiredTokenException", err)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true})
	ctx := context.Background()
	id, _ := env.Server.AdminCredentials()
	tests := []struct {
		name          string
		creds         aws.CredentialsProvider
		smCode, qCode string
	}{
		{"wrong secret key", staticCreds(id, "not-the-secret", ""), "InvalidSignatureException", "SignatureDoesNotMatch"},
		{"unknown key", staticCreds("AKIAUNKNOWN000000000", "x", ""), "UnrecognizedClientException", "InvalidClientTokenId"},
		{"admin key with a bogus session token", staticCreds(id, "x", "token"), "UnrecognizedClientException", "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sandboxtest.Config(env.URL, "us-east-1", tt.creds)
			cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
			_, err := sm.NewFromConfig(cfg).ListSecrets(ctx, &sm.ListSecretsInput{})
			if apiCode(err) != tt.smCode || httpStatus(err) != 400 {
				t.Errorf("Secrets Manager: %v, want %s (400)", err, tt.smCode)
			}
			_, err = iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
			if apiCode(err) != tt.qCode || httpStatus(err) != 403 {
				t.Errorf("IAM: %v, want %s (403)", err, tt.qCode)
			}
		})
	}
	resp, body := post(t, env.URL, smHeaders("ListSecrets"), `{}`)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "MissingAuthenticationTokenException") {
		t.Errorf("unsigned request: %d %s", resp.StatusCode, body)
	}
	// The admin's signed requests pass.
	if _, err := sm.NewFromConfig(env.Config).ListSecrets(ctx, &sm.ListSecretsInput{}); err != nil {
		t.Errorf("admin: %v", err)
	}
}

func create(t *testing.T, c *sm.Client, name, value string) *sm.CreateSecretOutput {
	t.Helper()
	out, err := c.CreateSecret(context.Background(), &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
	return out
}

// TestEnforcementPathScopedIAMGrant: a role's ARN includes its path, so a
// grant on arn:…:role/secretboot/shop/dev/web must match GetRole on "web".
func TestEnforcementPathScopedIAMGrant(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true})
	ctx := context.Background()
	ic := iam.NewFromConfig(env.Config)
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), Path: aws.String("/secretboot/shop/dev/"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("other"), Path: aws.String("/secretboot/shop/dev/"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}
	_, err = ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String("web"), PolicyName: aws.String("self"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"` + *role.Role.Arn + `"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("i-1")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	asRole := iam.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", staticCreds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)))
	if _, err := asRole.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")}); err != nil {
		t.Errorf("GetRole on its own path-scoped ARN: %v", err)
	}
	if _, err := asRole.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("other")}); apiCode(err) != "AccessDenied" {
		t.Errorf("GetRole on another role = %v, want AccessDenied", err)
	}
}

// TestEnforcementPassRole: AWS authorizes AddRoleToInstanceProfile as the
// action on the instance profile and as iam:PassRole on the role, since
// every instance launched with the profile acts as the role. The admin is
// not checked.
func TestEnforcementPassRole(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true})
	ctx := context.Background()
	ic := iam.NewFromConfig(env.Config)
	for _, name := range []string{"web", "other"} {
		if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String("/app/"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
			t.Fatal(err)
		}
		if _, err := ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Path: aws.String("/app/")}); err != nil {
			t.Fatal(err)
		}
	}
	deployer, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String("deployer"), PolicyName: aws.String("deploy"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"iam:AddRoleToInstanceProfile","Resource":"arn:aws:iam::000000000000:instance-profile/app/*"},
			{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::000000000000:role/app/web"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: deployer.Role.Arn, RoleSessionName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	asDeployer := iam.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", staticCreds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)))
	add := func(c *iam.Client, profile, role string) error {
		_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(profile), RoleName: aws.String(role)})
		return err
	}
	if err := add(asDeployer, "web", "web"); err != nil {
		t.Errorf("with AddRoleToInstanceProfile and PassRole on the role: %v", err)
	}
	err = add(asDeployer, "other", "other")
	if apiCode(err) != "AccessDenied" || httpStatus(err) != 403 ||
		!strings.Contains(err.Error(), "not authorized to perform: iam:PassRole on resource: arn:aws:iam::000000000000:role/app/other") {
		t.Errorf("without PassRole on the role = %v, want AccessDenied (403) for iam:PassRole on the role", err)
	}
	if err := add(ic, "other", "other"); err != nil {
		t.Errorf("admin: %v", err)
	}
}

// TestResourcePolicyNamingUnpropagatedRole mirrors Secrets Manager's
// "unsupported principal" answer while IAM propagates a new role.
func TestResourcePolicyNamingUnpropagatedRole(t *testing.T) {
	clk := fakeclock.New(time.Now().UTC())
	env := sandboxtest.Start(t, sandbox.Options{PropagationDelay: 10 * time.Second, Now: clk.Now})
	ctx := context.Background()
	admin := sm.NewFromConfig(env.Config)
	secret := create(t, admin, "dev/a", "value-a")
	role, err := iam.NewFromConfig(env.Config).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	if err != nil {
		t.Fatal(err)
	}
	put := func() error {
		_, err := admin.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: secret.ARN, ResourcePolicy: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + *role.Role.Arn + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)})
		return err
	}
	if err := put(); apiCode(err) != "MalformedPolicyDocumentException" {
		t.Fatalf("PutResourcePolicy while the role propagates = %v, want MalformedPolicyDocumentException", err)
	}
	clk.Advance(11 * time.Second)
	if err := put(); err != nil {
		t.Fatalf("PutResourcePolicy after propagation: %v", err)
	}
}

// TestSessionPolicies: a session assumed with session policies may do only
// what both its role and they allow (IAM guide, "Session policies"): an
// inline Policy or a managed policy of PolicyArns narrows a role granted
// iam:GetRole on every role to one; a malformed session policy or an
// unknown policy ARN is MalformedPolicyDocument.
func TestSessionPolicies(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true})
	ctx := context.Background()
	ic := iam.NewFromConfig(env.Config)
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	if err != nil {
		t.Fatal(err)
	}
	other, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("other"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	onlyWeb := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"` + *role.Role.Arn + `"}]}`
	managed, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("only-other"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"` + *other.Role.Arn + `"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	stsc := sts.NewFromConfig(env.Config)
	session := func(in *sts.AssumeRoleInput) *iam.Client {
		t.Helper()
		in.RoleArn, in.RoleSessionName = role.Role.Arn, aws.String("i-1")
		out, err := stsc.AssumeRole(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		return iam.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", staticCreds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)))
	}
	for _, tc := range []struct {
		name      string
		in        *sts.AssumeRoleInput
		may, mayN string // a role the session may read, one it may not ("" for none)
	}{
		{"no session policy", &sts.AssumeRoleInput{}, "other", ""},
		{"inline Policy", &sts.AssumeRoleInput{Policy: aws.String(onlyWeb)}, "web", "other"},
		{"PolicyArns", &sts.AssumeRoleInput{PolicyArns: []ststypes.PolicyDescriptorType{{Arn: managed.Policy.Arn}}}, "other", "web"},
	} {
		c := session(tc.in)
		if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(tc.may)}); err != nil {
			t.Errorf("%s: GetRole %s: %v", tc.name, tc.may, err)
		}
		if tc.mayN == "" {
			continue
		}
		if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(tc.mayN)}); apiCode(err) != "AccessDenied" {
			t.Errorf("%s: GetRole %s = %v, want AccessDenied", tc.name, tc.mayN, err)
		}
	}
	for name, in := range map[string]*sts.AssumeRoleInput{
		"malformed Policy": {Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`)},
		"unknown ARN":      {PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::000000000000:policy/nope")}}},
	} {
		in.RoleArn, in.RoleSessionName = role.Role.Arn, aws.String("i-2")
		if _, err := stsc.AssumeRole(ctx, in); apiCode(err) != "MalformedPolicyDocument" {
			t.Errorf("%s: %v, want MalformedPolicyDocument", name, err)
		}
	}
}

// TestSessionPolicyNarrowsKMS: a session policy narrows what Secrets
// Manager may do with a customer managed key on the session's behalf, as
// it narrows everything else: the role may kms:Decrypt, but a session
// allowed only secretsmanager:GetSecretValue cannot read a secret under
// that key, while the role's own session can.
func TestSessionPolicyNarrowsKMS(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:000000000000:key/4d1f3a2e-6c1b-4f0e-9a57-0b8e2c7d1a34"
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true, KMSKeys: []string{key}})
	ctx := context.Background()
	if _, err := sm.NewFromConfig(env.Config).CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("app/db"), KmsKeyId: aws.String(key),
		SecretString: aws.String("session-policy-kms-0123")}); err != nil {
		t.Fatal(err)
	}
	ic := iam.NewFromConfig(env.Config)
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"},` +
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key + `"}]}`)}); err != nil {
		t.Fatal(err)
	}
	read := func(policy *string) error {
		t.Helper()
		out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("i-1"), Policy: policy})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		_, err = sm.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", staticCreds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken))).
			GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("app/db")})
		return err
	}
	if err := read(nil); err != nil {
		t.Fatalf("the role's session: %v", err)
	}
	onlySM := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	if err := read(aws.String(onlySM)); apiCode(err) != "AccessDeniedException" {
		t.Errorf("a session without kms:Decrypt: %v, want AccessDeniedException", err)
	}
}
