package main

import (
	"encoding/json"
	"errors"
	"github.com/secretboot/secretboot/internal/motoserver"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCloudFormationOnMoto deploys the CloudFormation installer of each
// stage as a stack on moto's CloudFormation (the sandbox has none) with
// the AWS CLI: the template's conditions, intrinsic functions and outputs
// resolve, and the boundary and trust IAM then holds are the expected
// ones. What moto cannot show is left to TestCloudFormationTemplate
// (cfn-lint) and the Terraform test: moto's CloudFormation has no
// AWS::IAM::OIDCProvider (so CreateGitHubOIDCProvider stays false here)
// and stores a stack's inline role policies in a form of its own, not
// JSON (so the deployer policy is not read back).
func TestCloudFormationOnMoto(t *testing.T) {
	aws := motoCLI(t)
	stages := ciStages
	if os.Getenv("SECRETBOOT_LONG_TESTS") != "1" {
		stages = ciStages[1:] // prod only; .ci/run sets SECRETBOOT_LONG_TESTS=1 for both
	}
	for _, st := range stages {
		t.Run(st.stage, func(t *testing.T) {
			docs := deployerJSON(t, ciSpec, st.stage)
			tmpl := filepath.Join(t.TempDir(), "secretboot-deployer.yaml")
			if err := os.WriteFile(tmpl, runCLI(t, "policy", "--spec", ciSpec, "--stage", st.stage, "-deployer", "-format", "cloudformation"), 0o644); err != nil {
				t.Fatal(err)
			}
			stack := "secretboot-ci-demo-" + st.stage
			aws(t, nil, "cloudformation", "create-stack", "--stack-name", stack, "--template-body", "file://"+tmpl,
				"--capabilities", "CAPABILITY_NAMED_IAM", "--parameters",
				"ParameterKey=GitHubRepository,ParameterValue="+githubRepository)
			aws(t, nil, "cloudformation", "wait", "stack-create-complete", "--stack-name", stack)
			var stacks struct {
				Stacks []struct {
					Outputs []struct{ OutputKey, OutputValue string }
				}
			}
			aws(t, &stacks, "cloudformation", "describe-stacks", "--stack-name", stack)
			out := map[string]string{}
			for _, o := range stacks.Stacks[0].Outputs {
				out[o.OutputKey] = o.OutputValue
			}
			const account = "123456789012" // moto's
			wantRole := "arn:aws:iam::" + account + ":role/secretboot-ci-demo-" + st.stage + "-deployer"
			if st.stage == "prod" {
				wantRole = "arn:aws:iam::" + account + ":role/secretboot-ci-demo-prod-github"
			}
			for k, want := range map[string]string{
				"RoleArn":           wantRole,
				"PlanRoleArn":       "arn:aws:iam::" + account + ":role/secretboot-ci-demo-" + st.stage + "-plan",
				"BoundaryPolicyArn": "arn:aws:iam::" + account + ":policy" + docs.Boundary.Path + docs.Boundary.Name,
			} {
				if out[k] != want {
					t.Errorf("output %s = %q, want %q", k, out[k], want)
				}
			}

			var pol struct {
				Policy struct{ DefaultVersionId string }
			}
			aws(t, &pol, "iam", "get-policy", "--policy-arn", out["BoundaryPolicyArn"])
			var ver struct{ PolicyVersion struct{ Document any } }
			aws(t, &ver, "iam", "get-policy-version", "--policy-arn", out["BoundaryPolicyArn"], "--version-id", pol.Policy.DefaultVersionId)
			var want any
			if err := json.Unmarshal(docs.Boundary.Document, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ver.PolicyVersion.Document, want) {
				t.Errorf("installed boundary %v, want %v", ver.PolicyVersion.Document, want)
			}

			var role struct {
				Role struct {
					AssumeRolePolicyDocument struct {
						Statement []struct {
							Principal struct{ Federated string }
							Condition map[string]map[string]string
						}
					}
				}
			}
			// The stage's environment opens the role of RoleArn; the
			// repository's pull requests open the plan role.
			for output, sub := range map[string]string{"RoleArn": "environment:" + st.stage, "PlanRoleArn": "pull_request"} {
				aws(t, &role, "iam", "get-role", "--role-name", out[output][strings.LastIndex(out[output], "/")+1:])
				trust := role.Role.AssumeRolePolicyDocument.Statement
				provider := "arn:aws:iam::" + st.account + ":oidc-provider/token.actions.githubusercontent.com"
				if len(trust) != 1 || trust[0].Principal.Federated != provider ||
					trust[0].Condition["StringEquals"]["token.actions.githubusercontent.com:sub"] != "repo:"+githubRepository+":"+sub ||
					trust[0].Condition["StringEquals"]["token.actions.githubusercontent.com:aud"] != "sts.amazonaws.com" {
					t.Errorf("trust of %s: %+v", out[output], trust)
				}
			}
		})
	}
}

// motoCLI starts a moto server for the test and returns a function that
// runs the AWS CLI against it, decoding its JSON output into v (when not
// nil). It skips where python3 with moto or the AWS CLI is missing.
func motoCLI(t *testing.T) func(t *testing.T, v any, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		requireTool(t, "the AWS CLI deploys the CloudFormation installer on moto")
	}
	url, stop, err := motoserver.Start()
	if errors.Is(err, motoserver.ErrUnavailable) {
		requireTool(t, "python3 with moto[server] serves CloudFormation for the installer")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_ENDPOINT_URL=" + url, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
	}
	return func(t *testing.T, v any, args ...string) {
		t.Helper()
		cmd := exec.Command("aws", append(args, "--output", "json")...)
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		if v != nil {
			if err := json.Unmarshal(out, v); err != nil {
				t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	}
}
