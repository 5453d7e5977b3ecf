package leaktest

import (
	"context"
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
// secret of the stage it may not read has a generated value.
const crossAccountSpec = `project = "leak"

stage "dev" {
  region          = "us-east-1"
  account_id      = "000000000000"
  resource_policy = true
  deployer_arn    = "arn:aws:iam::000000000000:role/ci/deployer"
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

// crossAdminRe is the line `sandbox serve --accounts` prints on stderr for
// each extra account.
var crossAdminRe = regexp.MustCompile(`Account ` + crossAccount + `: AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)`)

// TestNoLeakCrossAccount runs a stage with a reader in another account
// against `sandbox serve --accounts`, enforcing authorization: apply is
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

	// Before the reader exists, AWS refuses a resource policy naming it.
	w.run(1, append(spec, "--debug", "apply", "-auto-approve")...)

	m := crossAdminRe.FindStringSubmatch(string(srv.stderr.Bytes()))
	if m == nil {
		t.Fatalf("`%s` printed no admin key for account %s:\n%s", srv.label, crossAccount, srv.stderr.Bytes())
	}
	other := iam.NewFromConfig(sandboxtest.Config(srv.url, region, credentials.NewStaticCredentialsProvider(m[1], m[2], "")))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + crossAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := other.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String("reporting"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
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
	w.run(0, append(spec, "--debug", "audit")...)
	w.run(0, append(spec, "audit", "-json")...)
	r = w.run(0, append(spec, "--debug", "verify")...)
	checkDebugLog(t, r.label, r.stderr)
	w.run(0, append(spec, "verify", "-markdown")...)
	w.run(0, append(spec, "verify", "--offline", "-json")...)
	w.run(0, append(spec, "output")...)
	w.run(0, append(spec, "--debug", "destroy", "-auto-approve")...)
	srv.stop()
	checkPayloadsReachedSandbox(t, s, filepath.Join(w.root, "serve-state", "state.json"), "env-field", "generated", "stage-key")
	checkFilesAtRest(t, w)
	s.report(t)
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
