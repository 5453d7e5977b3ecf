package leaktest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// crossAccount is the account of the cross-account reader, served by
// `sandbox serve --accounts`.
const crossAccount = "222222222222"

// crossAccountSpec has a locked secret, under a customer managed key and
// replicated under another, read by a role of another account; a second
// secret of the stage it may not read has a generated value. The CLI
// assumes the stage's deployer role, which the locks let in.
const crossAccountSpec = `project = "leak"

stage "dev" {
  region          = "us-east-1"
  account_id      = "000000000000"
  resource_policy = true
  assume_role_arn = "arn:aws:iam::000000000000:role/ci/deployer"
}

role "web" {}

role "reporting" {
  external = "arn:aws:iam::` + crossAccount + `:role/reporting"
}

secret "app/shared" {
  readers     = [role.web, role.reporting]
  kms_key_arn = "` + mainKey + `"
  replicas    = { "us-west-2" = { kms_key_arn = "` + replicaKey + `" } }
  value = {
    username = "app"
    api_key  = env("LEAK_ENV")
  }
}

secret "app/own" {
  readers = [role.web]
  generate {}
}
`

// reviewPolicy lets the deployer role run audit and verify too, which
// assume the stage's role as well: reads of the account's IAM, the key
// policies and the simulator; no secret value.
const reviewPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:Simulate*",` +
	`"kms:GetKeyPolicy","kms:DescribeKey","secretsmanager:DescribeSecret","secretsmanager:GetResourcePolicy","secretsmanager:ListSecrets"],"Resource":"*"}]}`

// crossAdminRe is the line `sandbox serve --accounts` prints on stderr for
// each extra account.
var crossAdminRe = regexp.MustCompile(`Account ` + crossAccount + `: AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)`)

// TestNoLeakCrossAccount runs a stage with a reader in another account
// against `sandbox serve --accounts`, enforcing authorization, as the
// stage's deployer role (assume_role_arn) holding the policy `policy
// -deployer -json` prints, and as the credentials are (--no-assume-role,
// for plan -no-payloads and policy -check): apply is
// refused while the reader does not exist (the resource policy names it),
// then applies once the other account's administrator has created it;
// policy writes the other account's identity policy and the key policy
// grant; plan, audit and verify read the locked, replicated secret under
// its customer managed keys, and the stage is destroyed. Every stream,
// file and the server's request log are scanned, with the output masker
// disabled (the first layer alone) and, with SECRETBOOT_LONG_TESTS=1, as
// shipped too.
func TestNoLeakCrossAccount(t *testing.T) {
	t.Run("unmasked", func(t *testing.T) { runCrossAccount(t, true) })
	if os.Getenv("SECRETBOOT_LONG_TESTS") == "1" {
		t.Run("masked", func(t *testing.T) { runCrossAccount(t, false) })
	}
}

func runCrossAccount(t *testing.T, unmasked bool) {
	s := newScanner()
	w := newWorkspace(t, s)
	if unmasked {
		w.bin = secretbootWithFaults(t)
		w.setenv("SECRETBOOT_LEAKTEST_UNMASKED=1")
	}
	env := newCanary("env-field")
	s.add(env)
	w.write("main.hcl", []byte(crossAccountSpec))
	w.setenv("LEAK_ENV=" + string(env.value))
	srv := w.serve("--account", account, "--region", region, "--accounts", crossAccount, "--enforce-auth", "--attached-policies-quota", "20",
		"--debug", "--state", "serve-state")
	w.setenv(srv.env()...)
	spec := []string{"--spec", "spec"}
	ctx := context.Background()

	// The deployer role the CLI assumes, installed as docs/security.md
	// says: its boundary and the policy `policy -deployer -json` prints.
	// No run can succeed before.
	w.run(1, append(spec, "plan")...)
	var install struct {
		Deployer json.RawMessage `json:"deployer_policy"`
		Boundary struct {
			Name, Path string
			Document   json.RawMessage
		} `json:"boundary_policy"`
	}
	if err := json.Unmarshal(w.run(0, append(spec, "policy", "-deployer", "-json")...).stdout, &install); err != nil {
		t.Fatal(err)
	}
	admin := iam.NewFromConfig(srv.config())
	if _, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(install.Boundary.Name), Path: aws.String(install.Boundary.Path),
		PolicyDocument: aws.String(string(install.Boundary.Document))}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trustRoot(account))}); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{"secretboot-deployer": string(install.Deployer), "review": reviewPolicy} {
		if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String(name),
			PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}

	// Before the reader exists, AWS refuses a resource policy naming it.
	w.run(1, append(spec, "--debug", "apply", "-auto-approve")...)

	m := crossAdminRe.FindStringSubmatch(string(srv.stderr.Bytes()))
	if m == nil {
		t.Fatalf("`%s` printed no admin key for account %s:\n%s", srv.label, crossAccount, srv.stderr.Bytes())
	}
	other := iam.NewFromConfig(sandboxtest.Config(srv.url, region, credentials.NewStaticCredentialsProvider(m[1], m[2], "")))
	if _, err := other.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("reporting"), AssumeRolePolicyDocument: aws.String(trustRoot(crossAccount))}); err != nil {
		t.Fatal(err)
	}

	r := w.run(0, append(spec, "--debug", "apply", "-auto-approve")...)
	checkDebugLog(t, r.label, r.stderr)
	withSM(t, srv, func(sm *secretsmanager.Client) {
		s.add(canary{"generated", readBack(t, sm, "dev/app/own")}, canary{"stage-key", readBack(t, sm, "dev/.secretboot/stage-key")})
		checkKeys(t, sm, "dev/app/shared")
	})
	w.run(0, append(spec, "plan", "-detailed-exitcode")...)
	w.run(0, append(spec, "plan", "-json")...)
	w.run(0, append(spec, "--debug", "policy")...)
	for _, f := range []string{crossAccount + "~reporting.cross-account.json", keyID(mainKey) + ".key-policy.json", keyID(replicaKey) + ".key-policy.json"} {
		if _, err := os.Stat(filepath.Join(w.spec, "policies", "dev", f)); err != nil {
			t.Errorf("policy did not write the other account's document %s: %v", f, err)
		}
	}
	w.run(0, append(spec, "policy", "-check")...)
	w.run(0, append(spec, "policy", "-reviewer")...)
	// A review's plan role holds its credentials as they are: here the
	// admin's, whom the locks keep from every secret value.
	w.run(0, append(spec, "--debug", "plan", "-no-payloads", "--no-assume-role")...)
	w.run(0, append(spec, "policy", "-check", "--no-assume-role")...)
	w.run(0, append(spec, "--debug", "audit")...)
	w.run(0, append(spec, "audit", "-json")...)
	w.run(0, append(spec, "audit", "--no-assume-role")...) // an auditor's own credentials
	r = w.run(0, append(spec, "--debug", "verify")...)
	checkDebugLog(t, r.label, r.stderr)
	w.run(0, append(spec, "verify", "-markdown")...)
	w.run(0, append(spec, "verify", "--offline", "-json")...)
	w.run(0, append(spec, "verify", "--no-assume-role")...)
	w.run(0, append(spec, "output")...)
	w.run(0, append(spec, "--debug", "destroy", "-auto-approve")...)
	srv.stop()
	checkPayloadsReachedSandbox(t, s, filepath.Join(w.root, "serve-state", "state.json"), "env-field", "generated", "stage-key")
	checkFilesAtRest(t, w)
	s.report(t)
}

// trustRoot is a trust policy that lets any principal of account assume
// the role its identity policies allow.
func trustRoot(account string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
}

// keyID is the key ID of a key ARN.
func keyID(arn string) string { return arn[len(arn)-36:] }

// checkKeys checks that each secret is encrypted under mainKey and its
// replica under replicaKey: the harness's KMS paths are real.
func checkKeys(t *testing.T, sm *secretsmanager.Client, names ...string) {
	t.Helper()
	for _, name := range names {
		out, err := sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.KmsKeyId); got != mainKey {
			t.Errorf("%s is encrypted under %q, want %s", name, got, mainKey)
		}
		if len(out.ReplicationStatus) != 1 || aws.ToString(out.ReplicationStatus[0].KmsKeyId) != replicaKey {
			t.Errorf("%s's replicas: %+v, want one under %s", name, out.ReplicationStatus, replicaKey)
		}
	}
}
