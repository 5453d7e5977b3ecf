package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/internal/golden"
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/audit"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/spec"
)

// auditFixture is a stage whose account holds one over-reader of each
// kind next to the spec's reader, decided by audit.Analyze from an
// account as GetAccountAuthorizationDetails would describe it.
func auditFixture(t *testing.T) *audit.Result {
	t.Helper()
	const (
		acct = "111111111111"
		db   = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/db-AbCdEf"
		key  = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/.secretboot/stage-key-GhIjKl"
		web  = "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web"
	)
	doc := func(s string) *policy.Document {
		d, err := policy.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	allow := func(action, resource string) *policy.Document {
		return doc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`)
	}
	trust := func(principal string) *policy.Document {
		return doc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}]}`)
	}
	d := &spec.Desired{
		Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: acct, NamePrefix: "dev/",
		Roles:   []*spec.Role{{Key: "web", Name: "shop-dev-web"}},
		Secrets: []*spec.Secret{{Key: "app/db", Name: "dev/app/db", Readers: []spec.Reader{{Role: "web"}}}, {Key: "app/new", Name: "dev/app/new", Readers: []spec.Reader{{Role: "web"}}}},
	}
	docs := []provision.RoleDocuments{{Key: "web", Name: "shop-dev-web", ARN: web, Exists: true}}
	refs := []provision.SecretRef{
		{Key: "app/db", Name: "dev/app/db", ARN: db, Exists: true},
		{Key: "app/new", Name: "dev/app/new", ARN: "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/new-??????"},
		{Name: "dev/.secretboot/stage-key", ARN: key, Exists: true},
	}
	a := &audit.Account{Groups: 1, Policies: 1, Pages: 1, Principals: []*audit.Principal{
		{Type: "role", Name: "admin", ARN: "arn:aws:iam::111111111111:role/admin", Identity: []*policy.Document{allow("*", "*")}, Labels: []string{"managed AdministratorAccess"}, Trust: trust(`{"Service":"ec2.amazonaws.com"}`)},
		{Type: "role", Name: "shop-dev-web", ARN: web, Identity: []*policy.Document{allow("secretsmanager:GetSecretValue", db)}, Labels: []string{"inline secretboot-read"}, Trust: trust(`{"Service":"ec2.amazonaws.com"}`)},
		{Type: "role", Name: "ci", ARN: "arn:aws:iam::111111111111:role/ci", Identity: []*policy.Document{allow("secretsmanager:GetSecretValue", db)}, Labels: []string{"inline deploy"},
			Trust: doc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}`)},
		{Type: "role", Name: "vendor", ARN: "arn:aws:iam::111111111111:role/vendor", Identity: []*policy.Document{allow("secretsmanager:GetSecretValue", db)}, Labels: []string{"inline read"}, Trust: trust(`{"AWS":"arn:aws:iam::888888888888:root"}`)},
		{Type: "user", Name: "alice", ARN: "arn:aws:iam::111111111111:user/alice", Identity: []*policy.Document{allow("secretsmanager:*", "*")}, Labels: []string{"inline sm-all"}},
		{Type: "user", Name: "bob", ARN: "arn:aws:iam::111111111111:user/bob", Identity: []*policy.Document{allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/*")}, Labels: []string{"group dev-readers: inline read-dev"}},
		{Type: "user", Name: "carol", ARN: "arn:aws:iam::111111111111:user/carol"},
		{Type: "user", Name: "dave", ARN: "arn:aws:iam::111111111111:user/dave", Identity: []*policy.Document{doc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)}, Labels: []string{"inline office"}},
		{Type: "user", Name: "erin", ARN: "arn:aws:iam::111111111111:user/erin", Unreadable: []string{"inline legacy (policy: statement 1: unknown condition operator \"StringFuzzy\")"}},
	}}
	resource := map[string]*policy.Document{db: doc(`{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"carol","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/carol"},"Action":"secretsmanager:GetSecretValue","Resource":"*"},` +
		`{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)}
	return audit.Analyze(d, acct, docs, refs, a, resource, nil, nil)
}

func TestRenderAudit(t *testing.T) {
	r := auditFixture(t)
	var text, md bytes.Buffer
	if err := views.Audit(&text, r, views.Colors{}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "audit", "exposed.golden"), text.Bytes())
	if err := views.AuditMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "audit", "exposed.md.golden"), md.Bytes())
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "audit", "exposed.json.golden"), append(b, '\n'))
}

// TestAuditExitCode: a clean stage audits with exit 0; a user planted with
// secretsmanager:* on everything makes audit exit 1 and name it.
func TestAuditExitCode(t *testing.T) {
	dir := writeSpec(t, applySpec)
	stateDir := filepath.Join(t.TempDir(), "sandbox")
	sb := "--sandbox=" + stateDir
	if code, out, errOut := cliRun(t, IOStreams{}, "apply", sb, "--spec", dir, "-auto-approve"); code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := cliRun(t, IOStreams{}, "audit", sb, "--spec", dir); code != exitOK {
		t.Fatalf("audit of a clean stage: exit %d\n%s\n%s", code, out, errOut)
	}

	endpoint, stop, err := startSandbox(sandbox.Options{StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	c := iam.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	})
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("sm-all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	code, out, _ := cliRun(t, IOStreams{}, "audit", sb, "--spec", dir)
	if code != exitError {
		t.Errorf("audit with a planted reader: exit %d, want %d", code, exitError)
	}
	for _, want := range []string{
		"  ✗ user alice         inline sm-all\n",
		"  reader: arn:aws:iam::000000000000:user/alice may read dev/app/db, which the spec does not grant (inline sm-all)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("audit output lacks %q:\n%s", want, out)
		}
	}
}
