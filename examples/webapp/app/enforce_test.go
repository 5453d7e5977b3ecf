package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// The enforcement proof (issue 5): with the sandbox authorizing every
// request through the caller's IAM policies, the app — run with its role's
// credentials through the SDK's default credential chain, as on EC2 —
// reads its secret and nothing else, and a role that is not a reader gets
// an AccessDenied that the app reports as such.

const (
	// workerToken is the payload of a secret only the worker role reads;
	// it must never reach the web role's output.
	workerToken = `{"host":"worker.internal","token":"worker-canary-51d7"}`
	ec2Trust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

// stage is the example's dev stage plus a second reader, worker, with a
// secret of its own, so that "a secret of another reader" exists.
func stage(t *testing.T) *spec.Desired {
	t.Helper()
	cfg, diags := spec.Load("..")
	if diags.HasErrors() {
		t.Fatalf("loading the example spec: %v", diags)
	}
	d, diags := cfg.Evaluate("dev", spec.EvalOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatalf("evaluating the example spec: %v", diags)
	}
	d.Roles = append(d.Roles, &spec.Role{Key: "worker", Name: "shop-dev-worker", Services: []string{"ec2.amazonaws.com"}})
	d.Secrets = append(d.Secrets, &spec.Secret{
		Key: "app/worker-token", Name: "dev/app/worker-token", Readers: []spec.Reader{{Role: "worker"}}, RecoveryWindowDays: 7,
		Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString(workerToken)},
	})
	return d
}

// applyStage applies d to the sandbox through the engine with the admin
// credentials, and returns the observed state afterwards.
func applyStage(t *testing.T, env *sandboxtest.Env, d *spec.Desired) *provision.Observed {
	t.Helper()
	ctx := context.Background()
	id, secret := env.Server.AdminCredentials()
	s, err := provision.Connect(ctx, provision.ConnectOptions{
		Stage: d.Stage, Region: d.Region, AccountID: d.AccountID, Endpoint: env.URL,
		Credentials: provision.StaticCredentials(id, secret, "", ""),
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
	if o, err = provision.Observe(ctx, s, d); err != nil {
		t.Fatal(err)
	}
	return o
}

// assume returns credentials of a session of the role, from STS.
func assume(t *testing.T, env *sandboxtest.Env, roleARN string) aws.Credentials {
	t.Helper()
	out, err := sts.NewFromConfig(env.Config).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("i-0123456789abcdef0"),
	})
	if err != nil {
		t.Fatalf("assuming %s: %v", roleARN, err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
}

// runAs runs the app with only these credentials in its environment, so
// that config.LoadDefaultConfig's real credential chain finds them (and no
// profile, no IMDS), and returns its exit code and output.
func runAs(t *testing.T, env *sandboxtest.Env, c aws.Credentials, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":                c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":            c.SecretAccessKey,
		"AWS_SESSION_TOKEN":                c.SessionToken,
		"AWS_ENDPOINT_URL":                 env.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "",
		"AWS_REGION":                       "us-east-1",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_CONFIG_FILE":                  "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":      "/dev/null",
		"AWS_PROFILE":                      "",
		"AWS_ROLE_ARN":                     "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":      "",
		"SECRET_ID":                        "",
	} {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestEnforcementProof(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true})
	d := stage(t)
	o := applyStage(t, env, d)

	// A role that exists, is trusted by EC2 and has no read policy.
	ctx := context.Background()
	other, err := iam.NewFromConfig(env.Config).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("shop-dev-batch"), AssumeRolePolicyDocument: aws.String(ec2Trust),
	})
	if err != nil {
		t.Fatal(err)
	}
	web := assume(t, env, o.Roles["shop-dev-web"].ARN)
	worker := assume(t, env, o.Roles["shop-dev-worker"].ARN)
	batch := assume(t, env, aws.ToString(other.Role.Arn))

	tests := []struct {
		name       string
		creds      aws.Credentials
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name: "web reads its secret", creds: web,
			wantStdout: "database host: db.dev.internal\n",
		},
		{
			name: "web is denied the worker's secret", creds: web, args: []string{"-secret-id", "dev/app/worker-token"},
			wantCode:   1,
			wantStderr: "app: access denied reading dev/app/worker-token: this instance's role is not a reader of the secret",
		},
		{
			name: "web is denied the stage key", creds: web, args: []string{"-secret-id", "dev/.secretboot/stage-key"},
			wantCode:   1,
			wantStderr: "app: access denied reading dev/.secretboot/stage-key",
		},
		{
			name: "worker reads its own secret", creds: worker, args: []string{"-secret-id", "dev/app/worker-token"},
			wantStdout: "database host: worker.internal\n",
		},
		{
			name: "worker is denied the web's secret", creds: worker,
			wantCode:   1,
			wantStderr: "app: access denied reading dev/app/db/credentials",
		},
		{
			name: "a role without a read policy is denied", creds: batch,
			wantCode:   1,
			wantStderr: "app: access denied reading dev/app/db/credentials: this instance's role is not a reader of the secret; add the role to the secret's readers in the spec and apply",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runAs(t, env, tt.creds, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			if stdout != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout, tt.wantStdout)
			}
			if !strings.HasPrefix(stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to start with %q", stderr, tt.wantStderr)
			}
			// Denied is never reported as missing, and no payload leaks.
			for _, bad := range []string{"does not exist", "worker-canary", "password"} {
				if strings.Contains(stdout+stderr, bad) {
					t.Errorf("output contains %q:\n%s%s", bad, stdout, stderr)
				}
			}
		})
	}
}

// The app's error mapping, against the sandbox's real error responses
// (admin credentials, so that authorization is not what fails).
func TestErrorMapping(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{})
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(env.Config)
	for name, value := range map[string]string{
		"dev/app/retired":  `{"host":"old.internal"}`,
		"dev/app/not-json": "plain-canary-9e2f",
		"dev/app/no-host":  `{"username":"app","password":"json-canary-0b3c"}`,
	} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("dev/app/retired"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("dev/app/empty")}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		id   string
		want string
	}{
		{"dev/app/missing", "secret dev/app/missing does not exist in this account and region (or has no value yet)"},
		{"dev/app/empty", "secret dev/app/empty does not exist in this account and region (or has no value yet)"},
		{"dev/app/retired", "secret dev/app/retired cannot be read now ("},
		{"dev/app/not-json", "secret dev/app/not-json is not a JSON object with a host field"},
		{"dev/app/no-host", "secret dev/app/no-host has no host field"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, err := readHost(ctx, sm, tt.id)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to start with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "canary") {
				t.Errorf("error quotes the payload: %q", err)
			}
		})
	}
	t.Run("scheduled for deletion says so", func(t *testing.T) {
		_, err := readHost(ctx, sm, "dev/app/retired")
		if err == nil || !strings.Contains(err.Error(), "scheduled for deletion; secretboot apply restores") {
			t.Errorf("error = %v", err)
		}
	})
}
