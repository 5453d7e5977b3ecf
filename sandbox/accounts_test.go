package sandbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

const (
	homeAccount  = "111111111111"
	otherAccount = "222222222222"
	homeKey      = "arn:aws:kms:us-east-1:" + homeAccount + ":key/0b6f5c1e-8a2d-4f3b-9c7e-5d4a3b2c1d0e"
)

// accountsEnv is an enforcing sandbox with a second account.
type accountsEnv struct {
	env         *sandboxtest.Env
	home, other aws.Config // each account's admin
}

func startAccounts(t *testing.T, opts sandbox.Options) *accountsEnv {
	t.Helper()
	opts.Account, opts.Accounts, opts.EnforceAuth = homeAccount, []string{otherAccount}, true
	opts.KMSKeys = []string{homeKey}
	env := sandboxtest.Start(t, opts)
	id, secret, ok := env.Server.AdminCredentialsFor(otherAccount)
	if !ok {
		t.Fatalf("no admin credentials for %s", otherAccount)
	}
	return &accountsEnv{env: env, home: env.Config, other: sandboxtest.Config(env.URL, "us-east-1", staticCreds(id, secret, ""))}
}

// role creates a role through cfg's account with the given trust and,
// when identity is not empty, an inline policy, and returns its ARN.
func role(t *testing.T, cfg aws.Config, name, path, trust, identity string) string {
	t.Helper()
	ctx := context.Background()
	c := iam.NewFromConfig(cfg)
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	if identity != "" {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(identity)}); err != nil {
			t.Fatal(err)
		}
	}
	return aws.ToString(out.Role.Arn)
}

// assume returns a configuration acting as a session of roleARN, assumed
// with cfg's credentials.
func assume(t *testing.T, url string, cfg aws.Config, roleARN string) (aws.Config, error) {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("session")})
	if err != nil {
		return aws.Config{}, err
	}
	c := out.Credentials
	return sandboxtest.Config(url, "us-east-1", staticCreds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)), nil
}

// roleSession creates a role of env's home account that EC2 may assume,
// with one inline policy (none when doc is ""), and returns SDK
// configuration for a session of it.
func roleSession(t *testing.T, env *sandboxtest.Env, name, doc string) aws.Config {
	t.Helper()
	cfg, err := assume(t, env.URL, env.Config, role(t, env.Config, name, "/", trustEC2, doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func trustingAccount(account string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
}

func allowDoc(action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

// TestSecondAccountIAM: each account has its own IAM, admin and callers;
// a bad Accounts option is refused.
func TestSecondAccountIAM(t *testing.T) {
	a := startAccounts(t, sandbox.Options{})
	ctx := context.Background()
	who, err := sts.NewFromConfig(a.other).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != otherAccount || aws.ToString(who.Arn) != "arn:aws:iam::"+otherAccount+":user/sandbox-admin" {
		t.Errorf("the second admin is %s in %s", aws.ToString(who.Arn), aws.ToString(who.Account))
	}
	arn := role(t, a.other, "reporting", "/team/", trustingAccount(otherAccount), "")
	if arn != "arn:aws:iam::"+otherAccount+":role/team/reporting" {
		t.Errorf("role ARN %s", arn)
	}
	if _, err := iam.NewFromConfig(a.home).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("reporting")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("the home account sees the other account's role: %v", err)
	}
	session, err := assume(t, a.env.URL, a.other, arn)
	if err != nil {
		t.Fatal(err)
	}
	who, err = sts.NewFromConfig(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Arn) != "arn:aws:sts::"+otherAccount+":assumed-role/reporting/session" {
		t.Errorf("session ARN %s", aws.ToString(who.Arn))
	}
	// The home account's Secrets Manager and KMS state is not the other
	// account's: a listing or a name is refused, not answered from home.
	if _, err := sm.NewFromConfig(a.other).ListSecrets(ctx, &sm.ListSecretsInput{}); apiCode(err) != "InvalidRequestException" {
		t.Errorf("ListSecrets from the other account: %v", err)
	}
	if _, err := kms.NewFromConfig(a.other).CreateKey(ctx, &kms.CreateKeyInput{}); apiCode(err) != "UnsupportedOperationException" {
		t.Errorf("CreateKey from the other account: %v", err)
	}

	for name, accounts := range map[string][]string{
		"not an account": {"2222"}, "the home account": {homeAccount}, "twice": {otherAccount, otherAccount},
	} {
		if _, err := sandbox.New(sandbox.Options{Account: homeAccount, Accounts: accounts}); err == nil {
			t.Errorf("%s: Accounts %v accepted", name, accounts)
		}
	}
	if _, _, ok := a.env.Server.AdminCredentialsFor("333333333333"); ok {
		t.Error("admin credentials for an account the sandbox does not have")
	}
}

// TestCrossAccountAssumeRole: a session of account B gets a role of
// account A only when A's trust names it (or B) and B's identity policy
// allows sts:AssumeRole on the role; B's admin may not play a service
// principal of A's roles.
func TestCrossAccountAssumeRole(t *testing.T) {
	a := startAccounts(t, sandbox.Options{})
	ctx := context.Background()
	callerARN := role(t, a.other, "caller", "/", trustingAccount(otherAccount), "")
	caller, err := assume(t, a.env.URL, a.other, callerARN)
	if err != nil {
		t.Fatal(err)
	}
	trustCaller := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + callerARN + `"},"Action":"sts:AssumeRole"}]}`
	target := role(t, a.home, "target", "/x/", trustCaller, "")
	homeOnly := role(t, a.home, "home-only", "/", trustingAccount(homeAccount), "")
	ec2 := role(t, a.home, "instance", "/", trustEC2, "")

	if _, err := assume(t, a.env.URL, caller, target); apiCode(err) != "AccessDenied" {
		t.Fatalf("without an identity grant: %v, want AccessDenied", err)
	}
	if _, err := iam.NewFromConfig(a.other).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("caller"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(allowDoc("sts:AssumeRole", "*"))}); err != nil {
		t.Fatal(err)
	}
	in, err := assume(t, a.env.URL, caller, target)
	if err != nil {
		t.Fatalf("with the trust and the identity grant: %v", err)
	}
	who, err := sts.NewFromConfig(in).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != homeAccount {
		t.Errorf("the assumed session is in %s, want %s", aws.ToString(who.Account), homeAccount)
	}
	for name, arn := range map[string]string{
		"a trust of the home account only": homeOnly,
		"a role of no account":             "arn:aws:iam::333333333333:role/target",
	} {
		if _, err := assume(t, a.env.URL, caller, arn); apiCode(err) != "AccessDenied" {
			t.Errorf("%s: %v, want AccessDenied", name, err)
		}
	}
	if _, err := assume(t, a.env.URL, a.other, ec2); apiCode(err) != "AccessDenied" {
		t.Errorf("the other admin as ec2.amazonaws.com: %v, want AccessDenied", err)
	}
	if _, err := assume(t, a.env.URL, a.home, ec2); err != nil {
		t.Errorf("the home admin as ec2.amazonaws.com: %v", err)
	}
}

// TestCrossAccountSecretRead decides a read of account A's secret,
// encrypted with A's customer managed key, by a role of account B as AWS
// does: B's identity policy, the secret's resource policy and the key
// policy must each allow it.
func TestCrossAccountSecretRead(t *testing.T) {
	a := startAccounts(t, sandbox.Options{})
	ctx := context.Background()
	admin := sm.NewFromConfig(a.home)
	secret, err := admin.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("dev/db"), KmsKeyId: aws.String(homeKey), SecretString: aws.String("value-cross")})
	if err != nil {
		t.Fatal(err)
	}
	secretARN := aws.ToString(secret.ARN)
	reader := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + secretARN + `"},` +
		`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + homeKey + `"}]}`
	named := role(t, a.other, "reporting", "/team/", trustingAccount(otherAccount), reader)
	bare := role(t, a.other, "bare", "/", trustingAccount(otherAccount), "")
	unnamed := role(t, a.other, "unnamed", "/", trustingAccount(otherAccount), reader)
	read := func(cfg aws.Config, id string) error {
		_, err := sm.NewFromConfig(cfg).GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)})
		return err
	}
	sessions := map[string]aws.Config{}
	for name, arn := range map[string]string{"named": named, "bare": bare, "unnamed": unnamed} {
		if sessions[name], err = assume(t, a.env.URL, a.other, arn); err != nil {
			t.Fatal(err)
		}
	}
	if err := read(sessions["named"], secretARN); !strings.Contains(errText(err), "no resource-based policy allows") {
		t.Errorf("without a resource policy: %v", err)
	}
	resource := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["` + named + `","` + bare + `"]},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	if _, err := admin.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String(secretARN), ResourcePolicy: aws.String(resource)}); err != nil {
		t.Fatal(err)
	}
	if err := read(sessions["named"], secretARN); !strings.Contains(errText(err), "Access to KMS is not allowed") {
		t.Errorf("without the key grant: %v", err)
	}
	keyPolicy := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + homeAccount + `:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Sid":"Reader","Effect":"Allow","Principal":{"AWS":["` + named + `","` + bare + `","` + unnamed + `"]},"Action":"kms:Decrypt","Resource":"*",` +
		`"Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com","kms:CallerAccount":"` + otherAccount + `"}}}]}`
	if _, err := kms.NewFromConfig(a.home).PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(homeKey), PolicyName: aws.String("default"), Policy: aws.String(keyPolicy)}); err != nil {
		t.Fatal(err)
	}
	if err := read(sessions["named"], secretARN); err != nil {
		t.Fatalf("with all three grants: %v", err)
	}
	for _, c := range []struct {
		name, session, id, want string
	}{
		{"by name, not ARN", "named", "dev/db", "InvalidRequestException"},
		{"no identity grant", "bare", secretARN, "no identity-based policy allows"},
		{"not in the resource policy", "unnamed", secretARN, "no resource-based policy allows"},
	} {
		if err := read(sessions[c.session], c.id); !strings.Contains(errText(err), c.want) {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	if err := read(a.other, secretARN); !strings.Contains(errText(err), "no resource-based policy allows") {
		t.Errorf("the other account's admin, not named: %v", err)
	}
	// A Deny in the resource policy wins over the grants.
	deny := strings.Replace(resource, `"Effect":"Allow"`, `"Effect":"Deny"`, 1)
	if _, err := admin.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String(secretARN), ResourcePolicy: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	if err := read(sessions["named"], secretARN); !strings.Contains(errText(err), "explicit deny") {
		t.Errorf("denied by the resource policy: %v", err)
	}
}

// TestSecondAccountPersists: the other account's IAM survives a restart.
func TestSecondAccountPersists(t *testing.T) {
	dir := t.TempDir()
	opts := sandbox.Options{Account: homeAccount, Accounts: []string{otherAccount}, StateDir: dir}
	first := startAccounts(t, opts)
	role(t, first.other, "reporting", "/", trustingAccount(otherAccount), "")
	if err := first.env.Server.Close(); err != nil {
		t.Fatal(err)
	}
	second := startAccounts(t, opts)
	if _, err := iam.NewFromConfig(second.other).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("reporting")}); err != nil {
		t.Errorf("after a restart: %v", err)
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
