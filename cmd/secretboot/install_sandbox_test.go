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
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
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
// boundary and the deployer role's only policy are then exactly the
// documents of `policy -deployer -json`, a second plan is empty, and STS
// gives the role to a GitHub token of the stage's environment and to no
// other. Then the example workflows' secretboot steps run with the
// credentials that token gets (workflows_test.go).
func TestInstallAndDeployOnSandbox(t *testing.T) {
	tf := newTerraform(t)
	repo := exampleRepo(t)
	for _, st := range ciStages {
		t.Run(st.stage, func(t *testing.T) {
			env := sandboxtest.Start(t, sandbox.Options{Account: st.account, Region: st.region, EnforceAuth: true})
			out := tf.install(t, repo, st.stage, env)
			checkInstalled(t, repo, st.stage, env, out)
			gh := githubEnv{Endpoint: env.URL, Environments: map[string]environment{
				st.stage: {
					Vars:    map[string]string{"SECRETBOOT_ROLE_ARN": out.RoleARN, "AWS_REGION": st.region},
					Secrets: map[string]string{"API_TOKEN": "tok-" + st.stage + "-0123456789abcdef"},
					Creds:   asEnvironment(t, env, out.RoleARN, st.stage),
				},
			}}
			if st.stage == "dev" { // the policy-files job's matrix
				review := reviewRole(t, env, repo, st.stage, st.account)
				gh.Environments[st.stage+"-review"] = environment{
					Vars:  map[string]string{"SECRETBOOT_ROLE_ARN": review, "AWS_REGION": st.region},
					Creds: asEnvironment(t, env, review, st.stage+"-review"),
				}
			}
			// The developer writes the reviewer files into the pull
			// request (with the same role: prod's is only reached so).
			gh.run(t, repo, st.stage, "secretboot policy --spec secrets")
			runWorkflow(t, repo, "secretboot-pr.yml", st.stage, gh)
			runWorkflow(t, repo, "secretboot-deploy.yml", st.stage, gh)
			// After the deploy, the stage is what the spec says: a plan by
			// the same role is empty, and the payload is the environment's
			// secret.
			gh.run(t, repo, st.stage, "secretboot plan --spec secrets -detailed-exitcode")
			// The next pull request finds the stage key and the secrets'
			// exact ARNs, which the review role may read.
			gh.run(t, repo, st.stage, "secretboot policy --spec secrets")
			runWorkflow(t, repo, "secretboot-pr.yml", st.stage, gh)
			v, err := secretsmanager.NewFromConfig(env.Config).GetSecretValue(context.Background(),
				&secretsmanager.GetSecretValueInput{SecretId: aws.String(st.stage + "/api/token")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(v.SecretString) != gh.Environments[st.stage].Secrets["API_TOKEN"] {
				t.Error("api/token does not hold the environment's API_TOKEN")
			}
		})
	}
}

// reviewReads are the actions of the deployer policy that the pull
// request's policy-files job may use (docs/ci.md), on the deployer
// policy's resources; GetSecretValue only on the stage key.
var reviewReads = []string{
	"secretsmanager:ListSecrets", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds", "secretsmanager:GetSecretValue",
	"iam:ListRoles", "iam:ListInstanceProfiles", "iam:ListPolicies", "iam:GetAccountSummary",
	"iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
	"iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:GetInstanceProfile",
}

// reviewRole creates, as the administrator would by hand, the read role of
// the stage's -review environment: the deployer policy cut down to
// reviewReads, so that the test proves docs/ci.md's list sufficient.
func reviewRole(t *testing.T, env *sandboxtest.Env, repo, stage, account string) string {
	t.Helper()
	ctx := context.Background()
	deployer, err := policy.Parse(deployerJSON(t, filepath.Join(repo, "secrets"), stage).Deployer)
	if err != nil {
		t.Fatal(err)
	}
	doc := &policy.Document{Version: deployer.Version}
	for _, st := range deployer.Statement {
		if st.Effect == policy.Allow {
			var actions policy.StringList
			for _, a := range st.Action {
				if slices.Contains(reviewReads, a) {
					actions = append(actions, a)
				}
			}
			if len(actions) == 0 {
				continue
			}
			st.Action = actions
		}
		if st.Sid == provision.SidDeployerReadSecrets {
			st.Resource = slices.DeleteFunc(slices.Clone(st.Resource), func(r string) bool { return !strings.Contains(r, "/.secretboot/stage-key-") })
		}
		doc.Statement = append(doc.Statement, st)
	}
	c := iam.NewFromConfig(env.Config)
	name := "secretboot-" + stage + "-review"
	// Trusted as docs/ci.md says: GitHub's token for the -review environment.
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:%s:environment:%s-review"}}}]}`,
		account, githubRepository, stage)
	r, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("secretboot-review"),
		PolicyDocument: aws.String(string(doc.Compact()))}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(r.Role.Arn)
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
	RoleARN, DeployerRoleARN, BoundaryARN string
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
	return installed{outputs["role_arn"].Value, outputs["deployer_role_arn"].Value, outputs["boundary_policy_arn"].Value}
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
	for _, c := range []struct{ sub, aud, code string }{
		{"repo:" + githubRepository + ":environment:" + stage, "sts.amazonaws.com", ""},
		{"repo:" + githubRepository + ":environment:" + stage + "-review", "sts.amazonaws.com", "AccessDenied"},
		{"repo:" + githubRepository + ":environment:other", "sts.amazonaws.com", "AccessDenied"},
		{"repo:" + githubRepository + ":pull_request", "sts.amazonaws.com", "AccessDenied"},
		{"repo:" + githubRepository + ":ref:refs/heads/main", "sts.amazonaws.com", "AccessDenied"},
		{"repo:octo-org/fork:environment:" + stage, "sts.amazonaws.com", "AccessDenied"},
		{"repo:" + githubRepository + ":environment:" + stage, "https://github.com/octo-org", "InvalidIdentityToken"},
	} {
		_, err := githubToken(t, env, out.RoleARN, c.sub, c.aud)
		var code string
		var api smithy.APIError
		if errors.As(err, &api) {
			code = api.ErrorCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code {
			t.Errorf("token sub %s aud %s: STS says %q (%v), want %q", c.sub, c.aud, code, err, c.code)
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
