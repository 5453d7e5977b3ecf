package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/sandbox"
	sbiam "github.com/secretboot/secretboot/sandbox/iam"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// githubRepository is the repository the test installs the deployer for.
const githubRepository = "octo-org/ci-demo"

// ciStages are the stages of the example spec, as its main.hcl has them.
var ciStages = []struct{ stage, account, region string }{
	{"dev", "111111111111", "us-east-1"},
	{"prod", "222222222222", "eu-west-1"},
}

// TestInstallAndDeployOnSandbox is the administrator's and CI's path end to
// end, per stage, on a sandbox of the stage's account that enforces IAM
// authorization: the Terraform module of `policy -deployer -format
// terraform` is validated and applied by the real terraform binary; the
// boundary, the deployer role's only policy and the plan role's are then
// exactly the documents of `policy -deployer -json` and `-reviewer`, a
// second plan is empty, STS gives the deployer role to a GitHub token of
// the stage's environment and the plan role to one of the repository's
// pull requests, and to no other. Then the example workflows' secretboot
// steps run with the credentials those tokens get (workflows_test.go): the
// pull request's review fails on the first deploy's broadening grants
// until the label is on it, the deploy applies, and the next pull request
// finds nothing to change.
func TestInstallAndDeployOnSandbox(t *testing.T) {
	t.Parallel() // beside TestScripts
	tf := newTerraform(t)
	repo := exampleRepo(t)
	stages := ciStages
	if os.Getenv("SECRETBOOT_LONG_TESTS") != "1" {
		// Terraform's AWS provider costs about a minute of the 2-core
		// machine per stage; prod alone takes every check dev does and the
		// plan role's refusal. .ci/run sets SECRETBOOT_LONG_TESTS=1.
		stages = ciStages[1:]
	}
	for _, st := range stages {
		t.Run(st.stage, func(t *testing.T) {
			env := sandboxtest.Start(t, sandbox.Options{Account: st.account, Region: st.region, EnforceAuth: true})
			out := tf.install(t, repo, st.stage, env)
			checkInstalled(t, repo, st.stage, env, out)
			gh := githubEnv{
				Endpoint: env.URL, Repository: githubRepository,
				Environments: map[string]environment{st.stage: {
					Vars:    map[string]string{"SECRETBOOT_ROLE_ARN": out.RoleARN, "AWS_REGION": st.region},
					Secrets: map[string]string{"API_TOKEN": "tok-" + st.stage + "-0123456789abcdef"},
				}},
				Token: func(t *testing.T, roleARN, subject string) (aws.Credentials, error) {
					return githubToken(t, env, roleARN, subject, githubOIDCAudience)
				},
			}
			deployer := asEnvironment(t, env, out.RoleARN, st.stage)
			plan := asPullRequest(t, env, out.PlanRoleARN)
			// The developer writes the reviewer files into the pull
			// request (with the deployer's role: prod's is only reached so).
			gh.run(t, repo, st.stage, deployer, "secretboot policy --spec secrets")
			// The first deploy broadens access: the review fails (exit 3,
			// the plan is commented all the same) until a reviewer puts
			// the label on the pull request.
			wantFailures(t, runWorkflow(t, repo, "secretboot-pr.yml", st.stage, gh), map[string]int{"review/Plan without payloads": 3})
			checkPlanComment(t, repo, gh, "➕ create")
			gh.Labels = []string{"secretboot:broadening-ok"}
			wantFailures(t, runWorkflow(t, repo, "secretboot-pr.yml", st.stage, gh), nil)
			if st.stage == "prod" {
				// Without --no-assume-role, secretboot would assume the
				// deployer role on top of the plan role's credentials,
				// which its trust refuses.
				err := gh.runAs(t, repo, st.stage, plan, "unset API_TOKEN; secretboot plan --spec secrets -no-payloads")
				if err == nil || !strings.Contains(err.Error(), "AssumeRole") {
					t.Errorf("a plan with the plan role that assumes the deployer: %v, want AssumeRole refused", err)
				}
			}
			gh.Labels = nil
			wantFailures(t, runWorkflow(t, repo, "secretboot-deploy.yml", st.stage, gh), nil)
			// After the deploy, the stage is what the spec says: a plan by
			// the same role is empty, and the payload is the environment's
			// secret.
			gh.run(t, repo, st.stage, deployer, "secretboot plan --spec secrets -detailed-exitcode")
			// The next pull request finds the secrets' exact ARNs, and
			// nothing to change: no label needed.
			gh.run(t, repo, st.stage, deployer, "secretboot policy --spec secrets")
			wantFailures(t, runWorkflow(t, repo, "secretboot-pr.yml", st.stage, gh), nil)
			checkPlanComment(t, repo, gh, "No changes")
			v, err := secretsmanager.NewFromConfig(env.Config).GetSecretValue(context.Background(),
				&secretsmanager.GetSecretValueInput{SecretId: aws.String(st.stage + "/api/token")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(v.SecretString) != gh.Environments[st.stage].Secrets["API_TOKEN"] {
				t.Error("api/token does not hold the environment's API_TOKEN")
			}
			// The plan role reads no secret value: not the stage key, not a
			// secret.
			sm := secretsmanager.NewFromConfig(sandboxtest.Config(env.URL, st.region, credentials.StaticCredentialsProvider{Value: plan}))
			for _, id := range []string{st.stage + "/.secretboot/stage-key", st.stage + "/api/token"} {
				var api smithy.APIError
				if _, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}); !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
					t.Errorf("the plan role reading %s: %v, want AccessDeniedException", id, err)
				}
			}
		})
	}
}

// wantFailures compares the steps of a workflow run that failed with want.
func wantFailures(t *testing.T, got, want map[string]int) {
	t.Helper()
	if len(got) != len(want) || len(want) > 0 && !reflect.DeepEqual(got, want) {
		t.Fatalf("failed steps %v, want %v", got, want)
	}
}

// checkPlanComment checks the Markdown the review job comments: the plan
// without payloads, which holds no payload.
func checkPlanComment(t *testing.T, repo string, gh githubEnv, want string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "plan.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"### secretboot plan", want} {
		if !strings.Contains(string(b), s) {
			t.Errorf("plan.md lacks %q:\n%s", s, b)
		}
	}
	for _, e := range gh.Environments {
		for _, v := range e.Secrets {
			if strings.Contains(string(b), v) {
				t.Error("plan.md holds a payload")
			}
		}
	}
}

// terraform runs the terraform binary with the AWS provider from a local
// filesystem mirror, since the registry is not reachable.
type terraform struct {
	bin string
	env []string
}

// providerMirrors are where a filesystem mirror of hashicorp/aws may be:
// $SECRETBOOT_TF_PROVIDER_MIRROR, then this image's.
func providerMirrors() []string {
	return []string{os.Getenv("SECRETBOOT_TF_PROVIDER_MIRROR"), "/opt/tf-plugins", "/usr/share/terraform/plugins"}
}

func newTerraform(t *testing.T) *terraform {
	t.Helper()
	bin, err := exec.LookPath("terraform")
	if err != nil {
		requireTool(t, "terraform validates and applies the Terraform installer")
	}
	mirror := ""
	for _, m := range providerMirrors() {
		if m == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(m, "registry.terraform.io", "hashicorp", "aws")); err == nil {
			mirror = m
			break
		}
	}
	if mirror == "" {
		requireTool(t, "no filesystem mirror of the hashicorp/aws provider (set SECRETBOOT_TF_PROVIDER_MIRROR)")
	}
	home := t.TempDir()
	rc := filepath.Join(home, "terraform.rc")
	config := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
`, mirror)
	if err := os.WriteFile(rc, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return &terraform{bin: bin, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TF_CLI_CONFIG_FILE=" + rc,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "AWS_EC2_METADATA_DISABLED=true",
	}}
}

// run runs terraform in dir and returns its stdout; want is the exit code.
func (tf *terraform) run(t *testing.T, dir string, want int, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(tf.bin, append(args, "-no-color")...)
	cmd.Dir, cmd.Env = dir, tf.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("terraform %s: %v", args[0], err)
	}
	if code != want {
		t.Fatalf("terraform %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, out, stderr.String())
	}
	return out
}

// installed is what the module's outputs say.
type installed struct {
	RoleARN, DeployerRoleARN, PlanRoleARN, BoundaryARN string
}

// install writes the stage's module into the repository (as the
// administrator commits it), and applies it from a root module whose
// provider points at the sandbox as its administrator.
func (tf *terraform) install(t *testing.T, repo, stage string, env *sandboxtest.Env) installed {
	t.Helper()
	module := filepath.Join(repo, "infra", "secretboot-"+stage)
	runCLI(t, "policy", "--spec", filepath.Join(repo, "secrets"), "--stage", stage, "-deployer", "-format", "terraform", "-dir", module)
	root := t.TempDir()
	id, secret := env.Server.AdminCredentials()
	main := fmt.Sprintf(`provider "aws" {
  region                      = %q
  access_key                  = %q
  secret_key                  = %q
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
  endpoints {
    iam = %q
    sts = %q
  }
}

module "deployer" {
  source                      = %q
  github_repository           = %q
  create_github_oidc_provider = true # the sandbox is the account: it has none yet
}

output "role_arn" {
  value = module.deployer.role_arn
}

output "deployer_role_arn" {
  value = module.deployer.deployer_role_arn
}

output "plan_role_arn" {
  value = module.deployer.plan_role_arn
}

output "boundary_policy_arn" {
  value = module.deployer.boundary_policy_arn
}
`, env.Config.Region, id, secret, env.URL, env.URL, module, githubRepository)
	if err := os.WriteFile(filepath.Join(root, "main.tf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	tf.run(t, root, 0, "init", "-input=false")
	tf.run(t, root, 0, "validate")
	tf.run(t, root, 0, "fmt", "-check", "-diff", module)
	tf.run(t, root, 0, "apply", "-auto-approve", "-input=false")
	// What was applied reads back as applied: no drift from the sandbox's
	// answers, so the module converges.
	tf.run(t, root, 0, "plan", "-detailed-exitcode", "-input=false")
	var outputs map[string]struct{ Value string }
	if err := json.Unmarshal(tf.run(t, root, 0, "output", "-json"), &outputs); err != nil {
		t.Fatal(err)
	}
	return installed{outputs["role_arn"].Value, outputs["deployer_role_arn"].Value, outputs["plan_role_arn"].Value, outputs["boundary_policy_arn"].Value}
}

// checkInstalled compares what the module created with
// `policy -deployer -json`, and evaluates the trust it installed.
func checkInstalled(t *testing.T, repo, stage string, env *sandboxtest.Env, out installed) {
	t.Helper()
	ctx := context.Background()
	docs := deployerJSON(t, filepath.Join(repo, "secrets"), stage)
	c := iam.NewFromConfig(env.Config)
	name := func(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

	deployer := name(out.DeployerRoleARN)
	inline, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(deployer)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(inline.PolicyNames, []string{"secretboot-deployer"}) {
		t.Errorf("deployer role's inline policies %v, want only secretboot-deployer", inline.PolicyNames)
	}
	attached, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(deployer)})
	if err != nil {
		t.Fatal(err)
	}
	if len(attached.AttachedPolicies) > 0 {
		t.Errorf("deployer role has attached policies %v, want none", attached.AttachedPolicies)
	}
	rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(deployer), PolicyName: aws.String("secretboot-deployer")})
	if err != nil {
		t.Fatal(err)
	}
	sameDocument(t, "installed deployer policy", aws.ToString(rp.PolicyDocument), docs.Deployer)

	// The plan role holds the -reviewer policy and nothing else.
	plan := name(out.PlanRoleARN)
	inline, err = c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(plan)})
	if err != nil {
		t.Fatal(err)
	}
	attached, err = c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(plan)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(inline.PolicyNames, []string{"secretboot-plan"}) || len(attached.AttachedPolicies) > 0 {
		t.Errorf("plan role's policies: inline %v, attached %v; want only secretboot-plan", inline.PolicyNames, attached.AttachedPolicies)
	}
	rp, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(plan), PolicyName: aws.String("secretboot-plan")})
	if err != nil {
		t.Fatal(err)
	}
	sameDocument(t, "installed plan role policy", aws.ToString(rp.PolicyDocument), reviewerJSON(t, filepath.Join(repo, "secrets"), stage))

	if want := "/" + docs.Boundary.Name; !strings.HasSuffix(out.BoundaryARN, docs.Boundary.Path[:len(docs.Boundary.Path)-1]+want) {
		t.Errorf("boundary ARN %s, want path %s and name %s", out.BoundaryARN, docs.Boundary.Path, docs.Boundary.Name)
	}
	p, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(out.BoundaryARN)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(out.BoundaryARN), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		t.Fatal(err)
	}
	sameDocument(t, "installed boundary", aws.ToString(v.PolicyVersion.Document), docs.Boundary.Document)

	// The trust, through STS as configure-aws-credentials calls it:
	// GitHub's token for the stage's environment of the repository, with
	// STS's audience, and no other.
	// The plan role: the repository's pull requests only.
	for _, c := range []struct{ role, sub, aud, code string }{
		{out.RoleARN, "repo:" + githubRepository + ":environment:" + stage, "sts.amazonaws.com", ""},
		{out.RoleARN, "repo:" + githubRepository + ":environment:" + stage + "-review", "sts.amazonaws.com", "AccessDenied"},
		{out.RoleARN, "repo:" + githubRepository + ":environment:other", "sts.amazonaws.com", "AccessDenied"},
		{out.RoleARN, "repo:" + githubRepository + ":pull_request", "sts.amazonaws.com", "AccessDenied"},
		{out.RoleARN, "repo:" + githubRepository + ":ref:refs/heads/main", "sts.amazonaws.com", "AccessDenied"},
		{out.RoleARN, "repo:octo-org/fork:environment:" + stage, "sts.amazonaws.com", "AccessDenied"},
		{out.RoleARN, "repo:" + githubRepository + ":environment:" + stage, "https://github.com/octo-org", "InvalidIdentityToken"},
		{out.PlanRoleARN, "repo:" + githubRepository + ":pull_request", "sts.amazonaws.com", ""},
		{out.PlanRoleARN, "repo:" + githubRepository + ":environment:" + stage, "sts.amazonaws.com", "AccessDenied"},
		{out.PlanRoleARN, "repo:" + githubRepository + ":ref:refs/heads/main", "sts.amazonaws.com", "AccessDenied"},
		{out.PlanRoleARN, "repo:octo-org/fork:pull_request", "sts.amazonaws.com", "AccessDenied"},
		{out.PlanRoleARN, "repo:" + githubRepository + ":pull_request", "https://github.com/octo-org", "InvalidIdentityToken"},
	} {
		_, err := githubToken(t, env, c.role, c.sub, c.aud)
		var code string
		var api smithy.APIError
		if errors.As(err, &api) {
			code = api.ErrorCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code {
			t.Errorf("%s, token sub %s aud %s: STS says %q (%v), want %q", c.role, c.sub, c.aud, code, err, c.code)
		}
	}
}

// sameDocument compares a document IAM returned with one of -json, as
// JSON values: IAM keeps the document as it was sent.
func sameDocument(t *testing.T, what, encoded string, want json.RawMessage) {
	t.Helper()
	s, err := url.QueryUnescape(encoded)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal([]byte(s), &g); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s is not the document of policy -deployer -json:\n%s", what, s)
	}
}

// githubToken does what aws-actions/configure-aws-credentials does with a
// job's OIDC token: AssumeRoleWithWebIdentity, unsigned, the token being
// the credential. The sandbox plays GitHub's issuer and signs the token.
func githubToken(t *testing.T, env *sandboxtest.Env, roleARN, subject, audience string) (aws.Credentials, error) {
	t.Helper()
	tok, err := env.Server.WebIdentityToken(sbiam.TokenClaims{Issuer: "https://token.actions.githubusercontent.com", Subject: subject, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	anon := sts.NewFromConfig(sandboxtest.Config(env.URL, env.Config.Region, aws.AnonymousCredentials{}))
	out, err := anon.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("GitHubActions"), WebIdentityToken: aws.String(tok),
	})
	if err != nil {
		return aws.Credentials{}, err
	}
	return aws.Credentials{
		AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(out.Credentials.SessionToken),
	}, nil
}

// asPullRequest returns the credentials a job of a pull request of the
// repository (no GitHub environment) gets for roleARN.
func asPullRequest(t *testing.T, env *sandboxtest.Env, roleARN string) aws.Credentials {
	t.Helper()
	c, err := githubToken(t, env, roleARN, "repo:"+githubRepository+":pull_request", githubOIDCAudience)
	if err != nil {
		t.Fatalf("a pull request assuming %s: %v", roleARN, err)
	}
	return c
}

// asEnvironment returns the credentials a job in GitHub environment envName
// of the repository gets for roleARN.
func asEnvironment(t *testing.T, env *sandboxtest.Env, roleARN, envName string) aws.Credentials {
	t.Helper()
	c, err := githubToken(t, env, roleARN, "repo:"+githubRepository+":environment:"+envName, "sts.amazonaws.com")
	if err != nil {
		t.Fatalf("environment %s assuming %s: %v", envName, roleARN, err)
	}
	return c
}

// exampleRepo lays out a git repository as the example expects: the spec
// in secrets/, the workflows in .github/workflows/ and each stage's
// Terraform installer in infra/secretboot-<stage>/, committed.
func exampleRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	for src, dst := range map[string]string{
		"../../examples/ci/github/secrets":   "secrets",
		"../../examples/ci/github/workflows": ".github/workflows",
	} {
		if err := os.CopyFS(filepath.Join(repo, dst), os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range ciStages {
		runCLI(t, "policy", "--spec", filepath.Join(repo, "secrets"), "--stage", st.stage, "-deployer", "-format", "terraform", "-dir", filepath.Join(repo, "infra", "secretboot-"+st.stage))
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "spec"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	return repo
}
