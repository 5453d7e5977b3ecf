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
