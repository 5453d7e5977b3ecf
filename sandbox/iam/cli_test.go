package iam

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestAWSCLICompatibility drives the service with the AWS CLI, an
// independent client (botocore's own serialisers and parsers), and checks
// what it prints.
func TestAWSCLICompatibility(t *testing.T) {
	t.Parallel() // the CLI takes seconds to start; overlap it with the other tests
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("SECRETBOOT_REQUIRE_TOOLS") == "1" {
			t.Fatal("the AWS CLI (aws) is required (SECRETBOOT_REQUIRE_TOOLS=1) but not on PATH")
		}
		t.Skip("skipping: the AWS CLI (aws) is not on PATH; set SECRETBOOT_REQUIRE_TOOLS=1 to make this a failure")
	}
	e := newEnv(t, 0)
	home := t.TempDir()
	run := func(t *testing.T, args ...string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(args, "--endpoint-url", e.url, "--output", "json")...)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + home,
			"AWS_ACCESS_KEY_ID=" + adminKey,
			"AWS_SECRET_ACCESS_KEY=secret",
			"AWS_DEFAULT_REGION=us-east-1",
			"AWS_REGION=us-east-1",
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_PAGER=",
		}
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("aws %v: %v\n%s", args, err, stderr)
		}
		if len(out) == 0 {
			return nil
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws %v printed non-JSON %q: %v", args, out, err)
		}
		return v
	}
	field := func(v map[string]any, path ...string) any {
		var cur any = v
		for _, p := range path {
			m, _ := cur.(map[string]any)
			cur = m[p]
		}
		return cur
	}

	created := run(t, "iam", "create-role", "--role-name", "cli-web", "--path", "/cli/", "--assume-role-policy-document", ec2Trust)
	if got := field(created, "Role", "Arn"); got != "arn:aws:iam::000000000000:role/cli/cli-web" {
		t.Errorf("create-role Arn = %v", got)
	}
	// botocore URL-decodes and parses policy documents itself.
	wantTrust := map[string]any{}
	if err := json.Unmarshal([]byte(ec2Trust), &wantTrust); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantTrust, field(created, "Role", "AssumeRolePolicyDocument")); diff != "" {
		t.Errorf("create-role trust policy (-want +got):\n%s", diff)
	}

	doc := allowDoc("secretsmanager:GetSecretValue", secretA)
	run(t, "iam", "put-role-policy", "--role-name", "cli-web", "--policy-name", "secretboot-read", "--policy-document", doc)
	got := run(t, "iam", "get-role-policy", "--role-name", "cli-web", "--policy-name", "secretboot-read")
	wantDoc := map[string]any{}
	if err := json.Unmarshal([]byte(doc), &wantDoc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantDoc, field(got, "PolicyDocument")); diff != "" {
		t.Errorf("get-role-policy document (-want +got):\n%s", diff)
	}
	if field(got, "RoleName") != "cli-web" || field(got, "PolicyName") != "secretboot-read" {
		t.Errorf("get-role-policy = %v", got)
	}

	profile := run(t, "iam", "create-instance-profile", "--instance-profile-name", "cli-web", "--path", "/cli/")
	if got := field(profile, "InstanceProfile", "Arn"); got != "arn:aws:iam::000000000000:instance-profile/cli/cli-web" {
		t.Errorf("create-instance-profile Arn = %v", got)
	}
	run(t, "iam", "add-role-to-instance-profile", "--instance-profile-name", "cli-web", "--role-name", "cli-web")
	got = run(t, "iam", "get-instance-profile", "--instance-profile-name", "cli-web")
	roles, _ := field(got, "InstanceProfile", "Roles").([]any)
	if len(roles) != 1 || field(roles[0].(map[string]any), "RoleName") != "cli-web" {
		t.Errorf("get-instance-profile roles = %v", roles)
	}

	// botocore parses SummaryMap's entry/key/value elements into a map.
	summary := run(t, "iam", "get-account-summary")
	for k, want := range map[string]float64{"AttachedPoliciesPerRoleQuota": 10, "Roles": 1, "InstanceProfiles": 1, "RolePolicySizeQuota": 10240} {
		if got := field(summary, "SummaryMap", k); got != want {
			t.Errorf("get-account-summary %s = %v, want %v", k, got, want)
		}
	}

	who := run(t, "sts", "get-caller-identity")
	if diff := cmp.Diff(map[string]any{"UserId": adminUserID, "Account": testAccount, "Arn": adminARN}, who); diff != "" {
		t.Errorf("sts get-caller-identity (-want +got):\n%s", diff)
	}
}
