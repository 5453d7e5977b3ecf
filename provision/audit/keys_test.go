package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/audit"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

const keyARN = "arn:aws:kms:us-east-1:" + acct + ":key/3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9"

// keySpec has a secret under a customer managed key and one under the
// AWS managed key, both read by web.
const keySpec = `
project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "` + acct + `"
}

role "web" {}

secret "app/db" {
  readers     = [role.web]
  value       = "CANARY-audit-key-db"
  kms_key_arn = "` + keyARN + `"
}

secret "app/plain" {
  readers = [role.web]
  value   = "CANARY-audit-key-plain"
}
`

// TestKeyPolicies: audit reads the key policy of the stage's customer
// managed key (one GetKeyPolicy) and decides readers through it: a
// principal with secretsmanager:GetSecretValue but no kms:Decrypt does
// not read the secret under the key; one the key policy names, or lets
// in with "*", does; a key-policy grant beyond the spec's readers is a
// key-policy finding; and a key policy that does not delegate to the
// account's IAM policies stops even the spec's reader.
func TestKeyPolicies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(keySpec), 0o600); err != nil {
		t.Fatal(err)
	}
	d := load(t, dir, "dev")
	env := sandboxtest.Start(t, sandbox.Options{Account: acct, KMSKeys: []string{keyARN}})
	s, err := provision.Connect(ctx, provision.ConnectOptions{
		Stage: "dev", Region: "us-east-1", AccountID: acct, Endpoint: env.URL,
		Credentials: provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
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
	type view struct {
		Access   []string // "name secret decrypt"
		Findings []string
	}
	var last *audit.Result
	audited := func() view {
		t.Helper()
		calls, _, r := auditCalls(t, s, d)
		last = r
		if calls["GetKeyPolicy"] != 1 {
			t.Errorf("audit made %d GetKeyPolicy calls, want 1", calls["GetKeyPolicy"])
		}
		if len(r.Keys) != 1 || r.Keys[0].ARN != keyARN || !r.Keys[0].Read || !slices.Equal(r.Keys[0].Secrets, []string{"dev/app/db"}) {
			t.Errorf("keys %+v", r.Keys)
		}
		var v view
		for _, a := range r.Access {
			v.Access = append(v.Access, a.Name+" "+a.Secret+" "+a.Decrypt)
		}
		v.Findings = short(r.Findings)
		return v
	}
	const delegated = "IAM policies, which the key policy delegates to"
	if diff := cmp.Diff(view{Access: []string{"shop-dev-web dev/app/db " + delegated, "shop-dev-web dev/app/plain "}}, audited()); diff != "" {
		t.Errorf("clean stage (-want +got):\n%s", diff)
	}

	c := iam.NewFromConfig(env.Config)
	role := func(name, identity string) {
		t.Helper()
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(ec2Trust)}); err != nil {
			t.Fatal(err)
		}
		if identity != "" {
			if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(identity)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Both read the app's secrets, not the stage key.
	const app = "arn:aws:secretsmanager:us-east-1:" + acct + ":secret:dev/app/*"
	role("sm-only", allow("secretsmanager:GetSecretValue", app))
	role("kms-too", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+app+`"},`+
		`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`)
	role("key-user", "")
	want := view{
		Access: []string{
			"kms-too dev/app/db " + delegated, "shop-dev-web dev/app/db " + delegated,
			"kms-too dev/app/plain ", "shop-dev-web dev/app/plain ", "sm-only dev/app/plain ",
		},
		Findings: []string{
			"reader arn:aws:iam::" + acct + ":role/kms-too dev/app/db",
			"reader arn:aws:iam::" + acct + ":role/kms-too dev/app/plain",
			"reader arn:aws:iam::" + acct + ":role/sm-only dev/app/plain",
		},
	}
	if diff := cmp.Diff(want, audited()); diff != "" {
		t.Errorf("readers without and with kms:Decrypt (-want +got):\n%s", diff)
	}

	keys := kms.NewFromConfig(env.Config)
	putKeyPolicy := func(statements string) {
		t.Helper()
		if _, err := keys.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(keyARN), PolicyName: aws.String("default"),
			Policy: aws.String(`{"Version":"2012-10-17","Statement":[` + statements + `]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	const (
		admin    = `{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/sandbox-admin"},"Action":"kms:*","Resource":"*"}`
		root     = `{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}`
		keyUser  = `{"Sid":"KeyUser","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:role/key-user"},"Action":"kms:Decrypt","Resource":"*"}`
		everyone = `{"Sid":"AccountViaSM","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*",` +
			`"Condition":{"StringEquals":{"kms:CallerAccount":"` + acct + `","kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}`
	)
	putKeyPolicy(root + "," + keyUser + "," + everyone)
	want = view{
		Access: []string{
			"kms-too dev/app/db key policy", "shop-dev-web dev/app/db key policy", "sm-only dev/app/db key policy",
			"kms-too dev/app/plain ", "shop-dev-web dev/app/plain ", "sm-only dev/app/plain ",
		},
		Findings: []string{
			"key-policy anyone in account " + acct + " (*) dev/app/db",
			"key-policy arn:aws:iam::" + acct + ":role/key-user dev/app/db",
			"reader arn:aws:iam::" + acct + ":role/kms-too dev/app/db",
			"reader arn:aws:iam::" + acct + ":role/sm-only dev/app/db",
			"reader arn:aws:iam::" + acct + ":role/kms-too dev/app/plain",
			"reader arn:aws:iam::" + acct + ":role/sm-only dev/app/plain",
		},
	}
	if diff := cmp.Diff(want, audited()); diff != "" {
		t.Errorf("a key policy granting a role and everyone in the account (-want +got):\n%s", diff)
	}
	if got, want := last.Findings[1].String(), "the key policy of "+keyARN+" (statement KeyUser) lets arn:aws:iam::"+acct+
		":role/key-user decrypt dev/app/db, which the spec does not grant"; got != want {
		t.Errorf("finding %q, want %q", got, want)
	}

	// Without the account's statement, IAM policies grant nothing on the
	// key: not even the spec's reader decrypts. The administrator the key
	// policy names may.
	putKeyPolicy(admin)
	want = view{
		Access: []string{"kms-too dev/app/plain ", "shop-dev-web dev/app/plain ", "sm-only dev/app/plain "},
		Findings: []string{
			"key-policy arn:aws:iam::" + acct + ":user/sandbox-admin dev/app/db",
			"reader arn:aws:iam::" + acct + ":role/kms-too dev/app/plain",
			"reader arn:aws:iam::" + acct + ":role/sm-only dev/app/plain",
		},
	}
	if diff := cmp.Diff(want, audited()); diff != "" {
		t.Errorf("a key policy that does not delegate to the account (-want +got):\n%s", diff)
	}
}
