package provision_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestAccessDeniedIsNotMissing observes as a role that may not list
// secrets: the result is an AccessDeniedError, never an empty stage that
// would plan to create everything.
func TestAccessDeniedIsNotMissing(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	ctx := context.Background()
	iamc := iam.NewFromConfig(env.Config)
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("limited"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String("limited"), PolicyName: aws.String("iam-read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:List*","iam:Get*"],"Resource":"*"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + sandboxAccount + ":role/limited"), RoleSessionName: aws.String("test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	s, err := provision.Connect(ctx, provision.ConnectOptions{
		Stage: "ad", Region: "us-east-1", AccountID: sandboxAccount, Endpoint: env.URL,
		Credentials: provision.StaticCredentials(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken), ""),
		MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Identity.LongTermKey {
		t.Error("temporary credentials flagged as a long-term key")
	}

	// The stage's assume_role_arn is assumed on top of the loaded
	// credentials, with a session named after the stage.
	viaRole, err := provision.Connect(ctx, provision.ConnectOptions{
		Stage: "ad", Region: "us-east-1", AccountID: sandboxAccount, Endpoint: env.URL,
		Credentials:   provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
		AssumeRoleARN: "arn:aws:iam::" + sandboxAccount + ":role/limited",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:sts::" + sandboxAccount + ":assumed-role/limited/secretboot-ad"; viaRole.Identity.ARN != want {
		t.Errorf("caller %s, want %s", viaRole.Identity.ARN, want)
	}
	if viaRole.Identity.CredentialSource == "" {
		t.Error("credential source not recorded")
	}
	_, err = provision.Observe(ctx, s, testDesired("ad", sandboxAccount, canary))
	var denied *provision.AccessDeniedError
	if !errors.As(err, &denied) || denied.Operation != "listing secrets" {
		t.Fatalf("want an AccessDeniedError for listing secrets, got %v", err)
	}
}

// TestCredentialSourceAndLongTermKey: an AKIA key found by the default
// chain earns the long-term-key warning; credentials the caller passes
// explicitly (the sandbox's admin pair) do not, and carry their own source.
func TestCredentialSourceAndLongTermKey(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	connect := func(creds aws.CredentialsProvider) *provision.Session {
		t.Helper()
		s, err := provision.Connect(context.Background(), provision.ConnectOptions{
			Stage: "test", Region: "us-east-1", AccountID: sandboxAccount, Endpoint: env.URL, Credentials: creds,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Setenv("AWS_ACCESS_KEY_ID", sandbox.AdminAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sandbox.AdminSecretAccessKey)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	fromChain := connect(nil).Identity
	if !fromChain.LongTermKey || fromChain.CredentialSource != "EnvConfigCredentials" {
		t.Errorf("AKIA key from the environment: LongTermKey=%v source=%q, want the warning and EnvConfigCredentials", fromChain.LongTermKey, fromChain.CredentialSource)
	}

	explicit := connect(provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", "the test's key")).Identity
	if explicit.LongTermKey || explicit.CredentialSource != "the test's key" {
		t.Errorf("explicit credentials: LongTermKey=%v source=%q, want no warning and the given source", explicit.LongTermKey, explicit.CredentialSource)
	}
}
