package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/sandbox"
)

// TestMultistageOnSandbox follows examples/multistage/README.md's sandbox
// recipe: the example's external reporting roles belong to Terraform, so
// apply refuses until they exist; seeded into the sandbox's state (the
// README does it with the AWS CLI against `sandbox serve`, here with the
// SDK), dev and staging apply and converge.
func TestMultistageOnSandbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "multistage")
	if err := os.CopyFS(dir, os.DirFS("../../examples/multistage")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, ".secretboot")); err != nil {
		t.Fatal(err)
	}
	// prod is another account (and region): a sandbox state of its own.
	shared, prod := filepath.Join(dir, ".secretboot", "sandbox"), filepath.Join(dir, ".secretboot", "sandbox-prod")
	const stripeKey = "sk_test_multistage_0a7e"
	env := func(k string) (string, bool) {
		if k == "STRIPE_KEY" {
			return stripeKey, true
		}
		return "", false
	}
	cli := func(wantCode int, want string, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := runWithEnv(context.Background(), append(args, "--spec", dir), IOStreams{Out: &out, Err: &errOut}, env)
		got := out.String() + errOut.String()
		if code != wantCode || !strings.Contains(got, want) {
			t.Fatalf("%q: exit code %d (want %d), want output containing %q:\n%s", args, code, wantCode, want, got)
		}
		if strings.Contains(got, stripeKey) {
			t.Fatalf("%q: the payload is in the output", args)
		}
	}

	cli(exitError, "external role reporting (arn:aws:iam::111111111111:role/tf-reporting-dev) does not exist",
		"apply", "--sandbox", "--stage", "dev", "-auto-approve")

	seedRoles(t, sandbox.Options{Account: "111111111111", Region: "us-east-1", StateDir: shared}, "tf-reporting-dev", "tf-reporting-staging")
	seedRoles(t, sandbox.Options{Account: "222222222222", Region: "eu-west-1", StateDir: prod}, "tf-reporting")
	for _, run := range []struct{ stage, sandbox string }{
		{"dev", "--sandbox"},
		{"staging", "--sandbox"},
		{"prod", "--sandbox=" + prod},
	} {
		cli(exitOK, "Apply complete", "apply", run.sandbox, "--stage", run.stage, "-auto-approve")
		cli(exitOK, "No changes", "plan", run.sandbox, "--stage", run.stage, "-detailed-exitcode")
	}
}

// seedRoles creates roles outside secretboot in a sandbox's saved state, as
// Terraform would in an account.
func seedRoles(t *testing.T, opts sandbox.Options, names ...string) {
	t.Helper()
	endpoint, stop, err := startSandbox(opts)
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(aws.Config{
		Region:       opts.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	})
	for _, name := range names {
		_, err := client.CreateRole(context.Background(), &iam.CreateRoleInput{
			RoleName:                 aws.String(name),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestLifecycleOnSandbox follows examples/lifecycle/README.md: apply turns
// rotation on (the sandbox's test rotator rotates at once) and replicates
// the secret to us-west-2, two more rotations leave the plan clean, a
// declared field's change keeps the rotated password and reaches the
// replica, a replica removed outside secretboot is planned and restored,
// and removing the rotation block cancels it and keeps the last password.
func TestLifecycleOnSandbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lifecycle")
	if err := os.CopyFS(dir, os.DirFS("../../examples/lifecycle")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, ".secretboot")); err != nil {
		t.Fatal(err)
	}
	opts := sandbox.Options{Account: "111111111111", Region: "us-east-1", Regions: []string{"us-west-2"}, StateDir: filepath.Join(dir, ".secretboot", "sandbox")}
	cli := func(want string, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := runWithEnv(context.Background(), append(args, "--spec", dir), IOStreams{Out: &out, Err: &errOut}, func(string) (string, bool) { return "", false })
		if got := out.String() + errOut.String(); code != exitOK || !strings.Contains(got, want) {
			t.Fatalf("%q: exit code %d, want output containing %q:\n%s", args, code, want, got)
		}
	}
	// withSecretsIn serves the saved state, as `sandbox serve -regions
	// us-west-2` does, to a client in region.
	withSecretsIn := func(region string, f func(*secretsmanager.Client)) {
		t.Helper()
		endpoint, stop, err := startSandbox(opts)
		if err != nil {
			t.Fatal(err)
		}
		f(secretsmanager.NewFromConfig(aws.Config{
			Region:       region,
			Credentials:  credentials.NewStaticCredentialsProvider(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, ""),
			BaseEndpoint: aws.String(endpoint),
		}))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	withSecrets := func(f func(*secretsmanager.Client)) { t.Helper(); withSecretsIn(opts.Region, f) }
	passwordIn := func(region string) (pw, host string) {
		t.Helper()
		withSecretsIn(region, func(sm *secretsmanager.Client) {
			out, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("dev/api/db")})
			if err != nil {
				t.Fatal(err)
			}
			var v struct{ Password, Host string }
			if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
				t.Fatal(err)
			}
			pw, host = v.Password, v.Host
		})
		return pw, host
	}
	password := func() (pw, host string) { t.Helper(); return passwordIn(opts.Region) }

	cli("rotation     enable", "apply", "--sandbox", "-auto-approve")
	cli("No changes", "plan", "--sandbox", "-detailed-exitcode")
	seen := map[string]bool{}
	first, _ := password()
	seen[first] = true
	if pw, _ := passwordIn("us-west-2"); pw != first {
		t.Fatal("the replica in us-west-2 does not hold the primary's value")
	}
	for range 2 {
		withSecrets(func(sm *secretsmanager.Client) {
			if _, err := sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String("dev/api/db")}); err != nil {
				t.Fatal(err)
			}
		})
		pw, _ := password()
		if seen[pw] {
			t.Fatal("RotateSecret did not rotate the password")
		}
		seen[pw] = true
		cli("No changes", "plan", "--sandbox", "-detailed-exitcode")
	}
	rotated, _ := password()

	cli("Apply complete", "apply", "--sandbox", "--var", "db_host=db2.dev.internal", "-auto-approve")
	if pw, host := password(); pw != rotated || host != "db2.dev.internal" {
		t.Fatalf("after the declared change: host %q, rotated password kept %v", host, pw == rotated)
	}
	cli("No changes", "plan", "--sandbox", "--var", "db_host=db2.dev.internal", "-detailed-exitcode")
	if pw, host := passwordIn("us-west-2"); pw != rotated || host != "db2.dev.internal" {
		t.Fatalf("the replica after the declared change: host %q, rotated password %v", host, pw == rotated)
	}

	// A replica removed outside secretboot is planned and restored.
	withSecrets(func(sm *secretsmanager.Client) {
		if _, err := sm.RemoveRegionsFromReplication(context.Background(), &secretsmanager.RemoveRegionsFromReplicationInput{
			SecretId: aws.String("dev/api/db"), RemoveReplicaRegions: []string{"us-west-2"}}); err != nil {
			t.Fatal(err)
		}
	})
	cli("us-west-2    add replica", "plan", "--sandbox", "--var", "db_host=db2.dev.internal")
	cli("Apply complete", "apply", "--sandbox", "--var", "db_host=db2.dev.internal", "-auto-approve")
	cli("No changes", "plan", "--sandbox", "--var", "db_host=db2.dev.internal", "-detailed-exitcode")
	if pw, host := passwordIn("us-west-2"); pw != rotated || host != "db2.dev.internal" {
		t.Fatalf("the restored replica: host %q, rotated password %v", host, pw == rotated)
	}

	main := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	start, end := bytes.Index(src, []byte("  rotation {")), bytes.LastIndex(src, []byte("  }\n}"))
	if start < 0 || end < start {
		t.Fatal("no rotation block in the example")
	}
	if err := os.WriteFile(main, append(src[:start:start], src[end+len("  }\n"):]...), 0o644); err != nil {
		t.Fatal(err)
	}
	cli("rotation     cancel", "apply", "--sandbox", "--var", "db_host=db2.dev.internal", "-auto-approve")
	cli("No changes", "plan", "--sandbox", "--var", "db_host=db2.dev.internal", "-detailed-exitcode")
	if pw, _ := password(); pw != rotated {
		t.Fatal("cancelling the rotation did not keep the rotated password")
	}
}
