package sandbox_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestEnforcementResourcePolicyDeny evaluates a secret's resource policy
// together with the caller's identity policies and boundary, as AWS does
// in one account: an Allow from either suffices, an explicit Deny in any
// wins, and a boundary still caps what identity policies allow. The Deny
// is keyed on aws:PrincipalArn, which for a session is its role's ARN,
// path included.
func TestEnforcementResourcePolicyDeny(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true})
	ctx := context.Background()
	admin := sm.NewFromConfig(env.Config)
	secret := create(t, admin, "dev/locked", "value-locked")
	ic := iam.NewFromConfig(env.Config)
	everything := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`
	readOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:DescribeSecret","Resource":"*"}]}`
	boundary, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("describe-only"), PolicyDocument: aws.String(readOnly)})
	if err != nil {
		t.Fatal(err)
	}
	session := func(name, path, identity string, bounded bool) *sm.Client {
		t.Helper()
		in := &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trustEC2)}
		if bounded {
			in.PermissionsBoundary = boundary.Policy.Arn
		}
		role, err := ic.CreateRole(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if identity != "" {
			if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(identity)}); err != nil {
				t.Fatal(err)
			}
		}
		out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("session")})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		return sm.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", staticCreds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)))
	}
	readerIdentity := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + *secret.ARN + `"}]}`
	reader := session("web", "/secretboot/shop/dev/", readerIdentity, false)
	admin2 := session("admin-everything", "/", everything, false)
	// The same name as the reader on another path is another principal.
	impostor := session("web-impostor", "/", everything, false)
	deployer := session("deployer", "/ops/", everything, false)
	bounded := session("bounded-reader", "/", everything, true)
	noGrant := session("no-grant", "/", "", false)

	rp := policy.ResourcePolicy(
		[]string{"arn:aws:iam::000000000000:role/secretboot/shop/dev/web", "arn:aws:iam::000000000000:role/bounded-reader", "arn:aws:iam::000000000000:role/no-grant"},
		[]string{"arn:aws:iam::000000000000:role/ops/deployer"})
	read := func(c *sm.Client) error {
		_, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: secret.ARN})
		return err
	}
	// Without the lock, a broad identity policy reads.
	if err := read(admin2); err != nil {
		t.Fatalf("secretsmanager:* before the lock: %v", err)
	}
	if _, err := deployer.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: secret.ARN, ResourcePolicy: aws.String(string(rp.Canonical())), BlockPublicPolicy: aws.Bool(true)}); err != nil {
		t.Fatalf("the deployer puts the lock: %v", err)
	}
	tests := []struct {
		name   string
		call   func() error
		denied bool
	}{
		{"reader reads", func() error { return read(reader) }, false},
		{"deployer reads", func() error { return read(deployer) }, false},
		{"secretsmanager:* is denied", func() error { return read(admin2) }, true},
		{"a role on another path is denied", func() error { return read(impostor) }, true},
		{"an exempt role without an identity grant is not allowed by the lock", func() error { return read(noGrant) }, true},
		{"an exempt role's boundary still caps its secretsmanager:*", func() error { return read(bounded) }, true},
		{"secretsmanager:* still describes", func() error {
			_, err := admin2.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: secret.ARN})
			return err
		}, false},
		{"secretsmanager:* cannot lift the lock", func() error {
			_, err := admin2.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: secret.ARN})
			return err
		}, true},
		{"the reader cannot lift the lock", func() error {
			_, err := reader.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: secret.ARN})
			return err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			switch {
			case tt.denied && apiCode(err) != "AccessDeniedException":
				t.Errorf("error = %v, want AccessDeniedException", err)
			case !tt.denied && err != nil:
				t.Errorf("error = %v, want success", err)
			}
		})
	}
	if _, err := deployer.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: secret.ARN}); err != nil {
		t.Fatalf("the deployer lifts the lock: %v", err)
	}
	if err := read(admin2); err != nil {
		t.Errorf("secretsmanager:* after the lock is gone: %v", err)
	}
}
