package provision_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	smsandbox "github.com/secretboot/secretboot/sandbox/secretsmanager"
	"github.com/secretboot/secretboot/spec"
)

// rotatedDesired is testDesired with app/db rotated by the sandbox's test
// rotator, which runs as the role "rotator": the generated password is
// the rotating field, host and username stay declared.
func rotatedDesired(stage, host string) *spec.Desired {
	d := testDesired(stage, sandboxAccount, canary)
	d.Roles = append(d.Roles, &spec.Role{Key: "rotator", Name: "shop-" + stage + "-rotator", Services: []string{"lambda.amazonaws.com"}})
	db := d.Secrets[0]
	db.Payload = dbPayload(host)
	db.ValueOwner = spec.ValueOwnerRotation
	db.Rotation = &spec.Rotation{
		LambdaARN: smsandbox.TestRotatorARN("us-east-1", sandboxAccount),
		Schedule:  "rate(30 days)", Window: "4h", Rotator: "rotator", Fields: []string{"password"},
	}
	return d
}

func fields(t *testing.T, value string) map[string]string {
	t.Helper()
	m := map[string]string{}
	if err := json.Unmarshal([]byte(value), &m); err != nil {
		t.Fatalf("the value is not a JSON object of strings: %v", err)
	}
	return m
}

// rotationOp is the rotation operation a plan has for secret name, "" for none.
func rotationOp(p *provision.Plan, name string) string {
	for _, c := range p.Changes {
		if c.Name == name && c.Secret != nil && c.Secret.Rotation != nil {
			return c.Secret.Rotation.Op
		}
	}
	return ""
}

// TestRotationEndToEnd: the deployer enables the declared rotation; the
// test rotator rotates twice and plan stays clean (no drift, no restore);
// a change of a declared field writes a version that keeps the rotated
// password, and plan stays clean across further rotations; removing the
// rotation block cancels the rotation and hands the value back with the
// rotator's last password; verify finds exactly the grants the spec
// intends, the rotator's included.
func TestRotationEndToEnd(t *testing.T) {
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	admin := sandboxBackend(env).mustConnect(t)
	d := rotatedDesired("dev", "db.internal")
	s := stageDeployer(t, env, admin, d)
	db := d.Secrets[0].Name

	p := plan(t, s, d, provision.DiffOptions{})
	if op := rotationOp(p, db); op != provision.RotationEnable {
		t.Fatalf("first plan: rotation %q, want enable", op)
	}
	apply(t, s, p, d)
	out, err := admin.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(db)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(out.RotationEnabled) || aws.ToString(out.RotationLambdaARN) != d.Secrets[0].Rotation.LambdaARN ||
		aws.ToString(out.RotationRules.ScheduleExpression) != "rate(30 days)" || aws.ToString(out.RotationRules.Duration) != "4h" || out.LastRotatedDate != nil {
		t.Fatalf("rotation after apply: %+v", out)
	}
	if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
		t.Fatalf("plan after enabling rotation:\n%s", textOf(t, p))
	}
	if err := verifyOnline(ctx, s, d); err != nil {
		t.Fatal(err)
	}

	first := fields(t, secretValue(t, admin, db))
	passwords := map[string]bool{first["password"]: true}
	rotate := func(what string) map[string]string {
		t.Helper()
		if err := env.Server.RotateNow(db); err != nil {
			t.Fatal(err)
		}
		v := fields(t, secretValue(t, admin, db))
		if passwords[v["password"]] {
			t.Fatalf("%s: the password did not change", what)
		}
		passwords[v["password"]] = true
		if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
			t.Fatalf("plan after %s:\n%s", what, textOf(t, p))
		}
		return v
	}
	rotate("the first rotation")
	rotated := rotate("the second rotation")
	// The call budget of a clean plan: the rotation metadata comes with
	// ListSecrets; once secretboot's version has no label left, the
	// declared fields cost one ListSecretVersionIds.
	before := versionListings(s)
	plan(t, s, d, provision.DiffOptions{})
	if n := versionListings(s) - before; n != 1 {
		t.Errorf("a clean plan after two rotations made %d ListSecretVersionIds, want 1", n)
	}
	if rotated["host"] != "db.internal" || rotated["username"] != "app" {
		t.Fatalf("the rotations changed declared fields: host %q, username %q", rotated["host"], rotated["username"])
	}

	// --regenerate leaves the rotator's field alone, and says so.
	p = plan(t, s, d, provision.DiffOptions{Regenerate: []string{"app/db.password"}})
	if c := payloadOf(p, db); c != nil || !slices.ContainsFunc(p.Header.Warnings, func(w string) bool { return strings.Contains(w, "not regenerated") }) {
		t.Errorf("--regenerate of the rotating field planned %+v, warnings %q", c, p.Header.Warnings)
	}

	// A declared field changes: the write keeps the rotated password.
	d2 := rotatedDesired("dev", "db2.internal")
	p = plan(t, s, d2, provision.DiffOptions{})
	if c := payloadOf(p, db); c == nil || c.Status != provision.PayloadChangedInSpec || !c.ReadsLive {
		t.Fatalf("declared change planned %+v, want changed-in-spec reading the live value", c)
	}
	apply(t, s, p, d2)
	v := fields(t, secretValue(t, admin, db))
	if v["host"] != "db2.internal" || v["password"] != rotated["password"] {
		t.Fatalf("after the declared change: host %q, password kept %v", v["host"], v["password"] == rotated["password"])
	}
	if p := plan(t, s, d2, provision.DiffOptions{}); !p.Empty() {
		t.Fatalf("plan after the declared change:\n%s", textOf(t, p))
	}
	// secretboot's version loses its labels: plan reads the history.
	rotate("a rotation after the declared change")
	last := rotate("another rotation")
	if last["host"] != "db2.internal" {
		t.Fatalf("host after rotations: %q", last["host"])
	}

	// The block goes: rotation is cancelled, the value is secretboot's
	// again with the rotator's last password.
	d3 := rotatedDesired("dev", "db2.internal")
	d3.Secrets[0].Rotation, d3.Secrets[0].ValueOwner = nil, ""
	p = plan(t, s, d3, provision.DiffOptions{})
	if op := rotationOp(p, db); op != provision.RotationCancel {
		t.Fatalf("plan without the block: rotation %q, want cancel", op)
	}
	apply(t, s, p, d3)
	if out, err := admin.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(db)}); err != nil || aws.ToBool(out.RotationEnabled) {
		t.Fatalf("rotation after cancelling: %v %v", out.RotationEnabled, err)
	}
	if v := fields(t, secretValue(t, admin, db)); v["password"] != last["password"] || v["host"] != "db2.internal" {
		t.Errorf("after cancelling: the rotator's last password kept %v, host %q", v["password"] == last["password"], v["host"])
	}
	if p := plan(t, s, d3, provision.DiffOptions{}); !p.Empty() {
		t.Fatalf("plan after cancelling:\n%s", textOf(t, p))
	}
}

// payloadOf is the payload change a plan has for secret name.
func payloadOf(p *provision.Plan, name string) *provision.PayloadChange {
	for _, c := range p.Changes {
		if c.Name == name && c.Secret != nil {
			return c.Secret.Payload
		}
	}
	return nil
}

// TestRotatorLeastPrivilege: the rotator role, on the enforcing sandbox,
// can play the rotation protocol on its secret and nothing else: not read
// or write the other secret, not administer its own.
func TestRotatorLeastPrivilege(t *testing.T) {
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	admin := sandboxBackend(env).mustConnect(t)
	d := rotatedDesired("dev", "db.internal")
	d.Secrets[0].Rotation.LambdaARN = "arn:aws:lambda:us-east-1:" + sandboxAccount + ":function:rotate-db" // played below
	converge(t, admin, d, provision.DiffOptions{})
	db, stripe := d.Secrets[0].Name, d.Secrets[1].Name

	out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + sandboxAccount + ":role/secretboot/shop/dev/shop-dev-rotator"), RoleSessionName: aws.String("rotation"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	sm := secretsmanager.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1",
		credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))))

	// The protocol, as a rotation function plays it.
	const token = "00000000-0000-4000-8000-0000000000f1"
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(db)})
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	cur, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: desc.ARN})
	if err != nil {
		t.Fatalf("read current: %v", err)
	}
	pw, err := sm.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{ExcludePunctuation: aws.Bool(true)})
	if err != nil {
		t.Fatalf("random password: %v", err)
	}
	next := fields(t, aws.ToString(cur.SecretString))
	next["password"] = aws.ToString(pw.RandomPassword)
	b, _ := json.Marshal(next)
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: desc.ARN, ClientRequestToken: aws.String(token),
		SecretString: aws.String(string(b)), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatalf("write pending: %v", err)
	}
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: desc.ARN, VersionStage: aws.String("AWSPENDING")}); err != nil {
		t.Fatalf("read pending: %v", err)
	}
	if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: desc.ARN, VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: aws.String(token), RemoveFromVersionId: cur.VersionId}); err != nil {
		t.Fatalf("finish: %v", err)
	}
	if p := plan(t, admin, d, provision.DiffOptions{}); !p.Empty() {
		t.Fatalf("plan after the role's rotation:\n%s", textOf(t, p))
	}

	denied := map[string]error{}
	_, denied["read the other secret"] = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(stripe)})
	_, denied["write the other secret"] = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(stripe),
		ClientRequestToken: aws.String("00000000-0000-4000-8000-0000000000f2"), SecretString: aws.String(canary)})
	_, denied["describe the other secret"] = sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(stripe)})
	_, denied["read the stage key"] = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(provision.StageKeyName(d))})
	_, denied["delete its secret"] = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(db)})
	_, denied["reconfigure its rotation"] = sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(db)})
	_, denied["retag its secret"] = sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(db), TagKeys: []string{provision.TagStage}})
	_, denied["create a secret"] = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("dev/new"), SecretString: aws.String(canary)})
	for what, err := range denied {
		if !isDenied(err) {
			t.Errorf("the rotator could %s: %v", what, err)
		}
	}
}

// versionListings counts the session's ListSecretVersionIds calls so far.
func versionListings(s *provision.Session) int {
	for _, op := range s.CallStats().Ops {
		if op.Operation == "ListSecretVersionIds" {
			return op.Calls
		}
	}
	return 0
}
