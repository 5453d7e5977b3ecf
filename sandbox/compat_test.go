package sandbox_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// The compatibility tests drive the sandbox with clients written
// independently of the Go SDK: the AWS CLI and boto3 (both botocore). They
// run with authentication enforced, so botocore's SigV4 signatures must
// verify too.

// requireTool skips the test when a tool is missing, unless
// SECRETBOOT_REQUIRE_TOOLS=1 (CI) makes that a failure.
func requireTool(t *testing.T, name string, check ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("compatibility tests start external processes; skipped with -short")
	}
	if err := exec.Command(name, check...).Run(); err != nil {
		if os.Getenv("SECRETBOOT_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (SECRETBOOT_REQUIRE_TOOLS=1) but unusable: %v", name, err)
		}
		t.Skipf("%s is not installed or not usable (%v); set SECRETBOOT_REQUIRE_TOOLS=1 to make this a failure", name, err)
	}
}

// toolEnv is a clean environment for AWS tools: the sandbox's admin keys,
// no shared config or credentials files and no instance metadata lookups.
func toolEnv(env *sandboxtest.Env) []string {
	id, secret := env.Server.AdminCredentials()
	vars := []string{
		"AWS_ACCESS_KEY_ID=" + id,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=",
		"SANDBOX_URL=" + env.URL,
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "PATH" || k == "HOME" || k == "PYENV_ROOT" || k == "PYENV_VERSION" {
			vars = append(vars, kv)
		}
	}
	return vars
}

func TestAWSCLI(t *testing.T) {
	t.Parallel() // each aws invocation starts a Python interpreter: slow, but idle
	requireTool(t, "aws", "--version")
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true})
	aws := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", env.URL, "--output", "json"}, args...)...)
		cmd.Env = toolEnv(env)
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		var m map[string]any
		if len(strings.TrimSpace(string(out))) == 0 {
			return nil
		}
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("aws %s printed %q: %v", strings.Join(args, " "), out, err)
		}
		return m
	}

	created := aws("secretsmanager", "create-secret", "--name", "cli/db", "--secret-string", "s3cret", "--description", "from the CLI")
	arn, _ := created["ARN"].(string)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:000000000000:secret:cli/db-") || created["Name"] != "cli/db" {
		t.Errorf("create-secret printed %v", created)
	}
	got := aws("secretsmanager", "get-secret-value", "--secret-id", "cli/db")
	if got["SecretString"] != "s3cret" || got["ARN"] != arn {
		t.Errorf("get-secret-value printed %v", got)
	}
	put := aws("secretsmanager", "put-secret-value", "--secret-id", arn, "--secret-string", "n3w")
	if diff := cmp.Diff([]any{"AWSCURRENT"}, put["VersionStages"]); diff != "" {
		t.Errorf("put-secret-value VersionStages: %s", diff)
	}
	list := aws("secretsmanager", "list-secrets", "--filters", "Key=name,Values=cli/")
	entries, _ := list["SecretList"].([]any)
	if len(entries) != 1 || entries[0].(map[string]any)["Name"] != "cli/db" {
		t.Errorf("list-secrets printed %v", list)
	}
	del := aws("secretsmanager", "delete-secret", "--secret-id", "cli/db", "--recovery-window-in-days", "7")
	if _, ok := del["DeletionDate"]; !ok || del["Name"] != "cli/db" {
		t.Errorf("delete-secret printed %v", del)
	}
	if r := aws("secretsmanager", "restore-secret", "--secret-id", "cli/db"); r["ARN"] != arn {
		t.Errorf("restore-secret printed %v", r)
	}
	if who := aws("sts", "get-caller-identity"); who["Arn"] != "arn:aws:iam::000000000000:user/sandbox-admin" {
		t.Errorf("sts get-caller-identity printed %v", who)
	}
}

const boto3Script = `
import json, os, boto3
from botocore.config import Config
c = boto3.client("secretsmanager", endpoint_url=os.environ["SANDBOX_URL"], config=Config(retries={"max_attempts": 1}))
out = {}
out["create"] = c.create_secret(Name="py/one", SecretString="alpha")["Name"]
c.create_secret(Name="py/two", SecretBinary=b"\x00\x01binary")
out["get"] = c.get_secret_value(SecretId="py/one")["SecretString"]
out["binary"] = list(c.get_secret_value(SecretId="py/two")["SecretBinary"])
out["put_stages"] = c.put_secret_value(SecretId="py/one", SecretString="beta")["VersionStages"]
pages = c.get_paginator("list_secrets").paginate(PaginationConfig={"PageSize": 1})
out["names"] = [s["Name"] for p in pages for s in p["SecretList"]]
out["deleted"] = "DeletionDate" in c.delete_secret(SecretId="py/one", RecoveryWindowInDays=7)
try:
    c.get_secret_value(SecretId="py/one")
except c.exceptions.InvalidRequestException as e:
    out["error"] = e.response["Error"]["Code"]
out["restored"] = c.restore_secret(SecretId="py/one")["Name"]
try:
    c.describe_secret(SecretId="py/none")
except c.exceptions.ResourceNotFoundException as e:
    out["missing"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out, sort_keys=True))
`

// runBoto3 runs a Python script against a fresh sandbox that enforces
// authentication, and returns the JSON object the script prints.
func runBoto3(t *testing.T, script string) map[string]any {
	t.Helper()
	return runBoto3With(t, sandbox.Options{}, script)
}

// runBoto3With is runBoto3 on a sandbox with opts (authentication enforced).
func runBoto3With(t *testing.T, opts sandbox.Options, script string) map[string]any {
	t.Helper()
	requireTool(t, "python3", "-c", "import boto3")
	opts.EnforceAuth = true
	env := sandboxtest.Start(t, opts)
	cmd := exec.Command("python3", "-c", script)
	cmd.Env = toolEnv(env)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, out)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("boto3 printed %q: %v", out, err)
	}
	return got
}

func TestBoto3(t *testing.T) {
	t.Parallel()
	got := runBoto3(t, boto3Script)
	want := map[string]any{
		"create":     "py/one",
		"get":        "alpha",
		"binary":     []any{0.0, 1.0, 98.0, 105.0, 110.0, 97.0, 114.0, 121.0},
		"put_stages": []any{"AWSCURRENT"},
		"names":      []any{"py/one", "py/two"},
		"deleted":    true,
		"error":      "InvalidRequestException",
		"restored":   "py/one",
		"missing":    []any{"ResourceNotFoundException", 400.0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("boto3 results (-want +got):\n%s", diff)
	}
}
