package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/sandbox"
)

// TestAccessExampleOnSandbox follows examples/access/README.md: dev is
// applied on the sandbox, after which, with authorization enforced, a role
// that another policy grants secretsmanager:* on * is denied the locked
// secrets and reads the one that opts out, while each reader reads its
// own.
func TestAccessExampleOnSandbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "access")
	if err := os.CopyFS(dir, os.DirFS("../../examples/access")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, ".secretboot")); err != nil {
		t.Fatal(err)
	}
	cli := func(wantCode int, want string, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := runWithEnv(context.Background(), append(args, "--spec", dir), IOStreams{Out: &out, Err: &errOut}, func(string) (string, bool) { return "", false })
		if got := out.String() + errOut.String(); code != wantCode || !strings.Contains(got, want) {
			t.Fatalf("%q: exit code %d (want %d), want output containing %q:\n%s", args, code, wantCode, want, got)
		}
	}
	cli(exitOK, "Apply complete", "apply", "--sandbox", "-auto-approve")
	cli(exitOK, "No changes", "plan", "--sandbox", "-detailed-exitcode")

	endpoint, stop, err := startSandbox(sandbox.Options{Account: "000000000000", Region: "us-east-1", StateDir: filepath.Join(dir, ".secretboot", "sandbox"), EnforceAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	ctx := context.Background()
	cfg := func(p aws.CredentialsProvider) aws.Config {
		return aws.Config{Region: "us-east-1", Credentials: p, BaseEndpoint: aws.String(endpoint)}
	}
	admin := cfg(credentials.NewStaticCredentialsProvider(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, ""))
	if _, err := iam.NewFromConfig(admin).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("admin-everything"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(admin).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("admin-everything"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	as := func(roleARN string) *secretsmanager.Client {
		out, err := sts.NewFromConfig(admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("example")})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		return secretsmanager.NewFromConfig(cfg(credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)))
	}
	broad := as("arn:aws:iam::000000000000:role/admin-everything")
	api := as("arn:aws:iam::000000000000:role/secretboot/access/dev/access-dev-api")
	worker := as("arn:aws:iam::000000000000:role/secretboot/access/dev/access-dev-worker")
	for _, tt := range []struct {
		who    string
		c      *secretsmanager.Client
		secret string
		reads  bool
	}{
		{"admin-everything", broad, "dev/api/signing-key", false},
		{"admin-everything", broad, "dev/worker/queue-token", false},
		{"admin-everything", broad, "dev/shared/build-cache-token", true},
		{"api", api, "dev/api/signing-key", true},
		{"api", api, "dev/worker/queue-token", false},
		{"worker", worker, "dev/worker/queue-token", true},
		{"worker", worker, "dev/shared/build-cache-token", true},
	} {
		_, err := tt.c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(tt.secret)})
		if (err == nil) != tt.reads || err != nil && !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("%s reading %s: %v, want read %v", tt.who, tt.secret, err, tt.reads)
		}
	}
}
