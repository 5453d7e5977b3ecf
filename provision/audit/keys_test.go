package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision/audit"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/spec"
)

const keyARN = "arn:aws:kms:us-east-1:" + acct + ":key/3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9"

// webStage is stage dev of project shop in acct, with the role web; the
// specs below add their secrets.
const webStage = `
project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "` + acct + `"
}

role "web" {}
`

// keySpec has a secret under a customer managed key and one under the
// AWS managed key, both read by web.
const keySpec = webStage + `
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
	d := loadText(t, keySpec)
	env, s := appliedOn(t, d, sandbox.Options{KMSKeys: []string{keyARN}})
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
		return view{Access: accessOf(r), Findings: short(r.Findings)}
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

// westKeyARN is a customer managed key in the replica's region.
const westKeyARN = "arn:aws:kms:us-west-2:" + acct + ":key/7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a"

// replicaKeySpec has a secret under the home region's key replicated to
// us-west-2 under a key of that region, read by web in both.
const replicaKeySpec = webStage + `
secret "app/db" {
  readers     = [role.web]
  value       = "CANARY-audit-replica-key"
  kms_key_arn = "` + keyARN + `"
  replicas    = { "us-west-2" = { kms_key_arn = "` + westKeyARN + `" } }
}
`

// TestReplicaKeyPolicy: audit reads the key policy of a replica's key in
// the replica's region (one GetKeyPolicy per key, each sent to its own
// region) and decides the replica's readers through it. A role whose IAM
// policies let it GetSecretValue both copies but decrypt neither reads
// only the replica, whose key policy names it: a key-policy finding and a
// reader finding on the replica, none on the primary.
func TestReplicaKeyPolicy(t *testing.T) {
	ctx := context.Background()
	d := loadText(t, replicaKeySpec)
	env, s := appliedOn(t, d, sandbox.Options{Regions: []string{"us-west-2"}, KMSKeys: []string{keyARN, westKeyARN}})
	const (
		replica  = "dev/app/db@us-west-2"
		intruder = "arn:aws:iam::" + acct + ":role/intruder"
	)
	c := iam.NewFromConfig(env.Config)
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("intruder"), AssumeRolePolicyDocument: aws.String(ec2Trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("intruder"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:"+acct+":secret:dev/app/*"))}); err != nil {
		t.Fatal(err)
	}
	west := kms.NewFromConfig(env.Config, func(o *kms.Options) { o.Region = "us-west-2" })
	if _, err := west.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(westKeyARN), PolicyName: aws.String("default"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"},` +
			`{"Sid":"Intruder","Effect":"Allow","Principal":{"AWS":"` + intruder + `"},"Action":"kms:Decrypt","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}

	calls, _, r := auditCalls(t, s, d)
	if calls["GetKeyPolicy"] != 2 {
		t.Errorf("audit made %d GetKeyPolicy calls, want 2 (one per key)", calls["GetKeyPolicy"])
	}
	want := []audit.Key{
		{ARN: keyARN, Secrets: []string{"dev/app/db"}, Read: true},
		{ARN: westKeyARN, Secrets: []string{replica}, Read: true},
	}
	if diff := cmp.Diff(want, r.Keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	const delegated = "IAM policies, which the key policy delegates to"
	wantAccess := []string{"shop-dev-web dev/app/db " + delegated, "intruder " + replica + " key policy", "shop-dev-web " + replica + " " + delegated}
	if diff := cmp.Diff(wantAccess, accessOf(r)); diff != "" {
		t.Errorf("access (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"key-policy " + intruder + " " + replica, "reader " + intruder + " " + replica}, short(r.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(r.Findings) > 0 {
		if got, want := r.Findings[0].String(), "the key policy of "+westKeyARN+" (statement Intruder) lets "+intruder+" decrypt "+replica+", which the spec does not grant"; got != want {
			t.Errorf("finding %q, want %q", got, want)
		}
	}
}

// loadText evaluates stage dev of the spec text.
func loadText(t *testing.T, text string) *spec.Desired {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return load(t, dir, "dev")
}

// accessOf lists who reads what as "name secret decrypt".
func accessOf(r *audit.Result) []string {
	var out []string
	for _, a := range r.Access {
		out = append(out, a.Name+" "+a.Secret+" "+a.Decrypt)
	}
	return out
}
