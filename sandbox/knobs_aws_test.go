package sandbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/internal/fakeclock"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestPropagateWrites: with PropagateWrites, the IAM writes that name a
// role answer NoSuchEntity until PropagationDelay has passed since its
// creation, then succeed; without it they succeed at once.
func TestPropagateWrites(t *testing.T) {
	for _, propagate := range []bool{true, false} {
		clk := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		env := sandboxtest.Start(t, sandbox.Options{PropagationDelay: 5 * time.Second, PropagateWrites: propagate, Now: clk.Now})
		ctx := context.Background()
		c := iam.NewFromConfig(env.Config)
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}); err != nil {
			t.Fatal(err)
		}
		p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		writes := map[string]func() error{
			"PutRolePolicy": func() error {
				_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("read"),
					PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)})
				return err
			},
			"AttachRolePolicy": func() error {
				_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: p.Policy.Arn})
				return err
			},
			"AddRoleToInstanceProfile": func() error {
				_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{RoleName: aws.String("web"), InstanceProfileName: aws.String("web")})
				return err
			},
		}
		for op, write := range writes {
			err := write()
			switch code, msg := errorOf(err); {
			case propagate && (code != "NoSuchEntity" || msg != "The role with name web cannot be found."):
				t.Errorf("%s while the role propagates: %v, want NoSuchEntity", op, err)
			case !propagate && err != nil:
				t.Errorf("%s without PropagateWrites: %v", op, err)
			}
		}
		if propagate {
			clk.Advance(5 * time.Second)
			for op, write := range writes {
				if err := write(); err != nil {
					t.Errorf("%s after propagation: %v", op, err)
				}
			}
		}
	}
}

// TestPropagationRefusals: a role created while the sandbox runs is
// refused at least PropagationRefusals times even when its first write
// comes after PropagationDelay (a slow caller), and Stats counts each
// refusal.
func TestPropagationRefusals(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	env := sandboxtest.Start(t, sandbox.Options{PropagationDelay: 5 * time.Second, PropagateWrites: true, PropagationRefusals: 2, Now: clk.Now})
	ctx := context.Background()
	c := iam.NewFromConfig(env.Config)
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute) // long after the delay
	put := func() error {
		_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("read"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)})
		return err
	}
	for i := range 2 {
		if code, _ := errorOf(put()); code != "NoSuchEntity" {
			t.Errorf("write %d of a role created while the sandbox runs: %q, want NoSuchEntity", i+1, code)
		}
	}
	if err := put(); err != nil {
		t.Errorf("third write: %v", err)
	}
	if got := env.Server.Stats().Propagating["iam.PutRolePolicy"]; got != 2 {
		t.Errorf("Stats.Propagating[iam.PutRolePolicy] = %d, want 2", got)
	}
}

// TestForceDeleteLag: with ForceDeleteLag, a secret deleted without
// recovery keeps its name for that long (CreateSecret is
// InvalidRequestException, the secret cannot be restored), then is gone.
func TestForceDeleteLag(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	env := sandboxtest.Start(t, sandbox.Options{ForceDeleteLag: 3 * time.Second, Now: clk.Now})
	ctx := context.Background()
	c := sm.NewFromConfig(env.Config)
	create := func() error {
		_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("v")})
		return err
	}
	if err := create(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("app/db"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if code, msg := errorOf(create()); code != "InvalidRequestException" || msg != "You can't create this secret because a secret with this name is already scheduled for deletion." {
		t.Errorf("CreateSecret during the lag: %s: %s", code, msg)
	}
	_, err := c.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: aws.String("app/db")})
	if code, _ := errorOf(err); code != "InvalidRequestException" {
		t.Errorf("RestoreSecret of a forced delete: %v, want InvalidRequestException", err)
	}
	clk.Advance(3 * time.Second)
	if err := create(); err != nil {
		t.Errorf("CreateSecret after the lag: %v", err)
	}
}

// TestKeyPolicyPrincipals: KMS refuses a key policy naming a role that does
// not exist or is still propagating, as it validates principals
// (MalformedPolicyDocumentException); once the role has propagated the
// policy is accepted.
func TestKeyPolicyPrincipals(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	env := sandboxtest.Start(t, sandbox.Options{PropagationDelay: 5 * time.Second, Now: clk.Now})
	ctx := context.Background()
	keys := kms.NewFromConfig(env.Config)
	k, err := keys.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(env.Config).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}
	pol := allow(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}`,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/app"},"Action":"kms:Decrypt","Resource":"*"}`)
	put := func() error {
		_, err := keys.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyMetadata.KeyId, Policy: aws.String(pol)})
		return err
	}
	if code, msg := errorOf(put()); code != "MalformedPolicyDocumentException" || msg != "Policy contains a statement with one or more invalid principals." {
		t.Errorf("PutKeyPolicy naming a propagating role: %s: %s", code, msg)
	}
	_, err = keys.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(pol)})
	if code, _ := errorOf(err); code != "MalformedPolicyDocumentException" {
		t.Errorf("CreateKey naming a propagating role: %v", err)
	}
	clk.Advance(5 * time.Second)
	if err := put(); err != nil {
		t.Errorf("PutKeyPolicy after propagation: %v", err)
	}
}

// TestPropagationPerAccount: with Options.Accounts, a role of an extra
// account propagates in that account's IAM: a write naming it is refused
// while it propagates there, whatever the home account holds, and
// refusals are counted per account's role, not per name.
func TestPropagationPerAccount(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	env := sandboxtest.Start(t, sandbox.Options{Account: homeAccount, Accounts: []string{otherAccount},
		PropagationDelay: 5 * time.Second, PropagateWrites: true, PropagationRefusals: 1, Now: clk.Now})
	ctx := context.Background()
	id, secret, _ := env.Server.AdminCredentialsFor(otherAccount)
	clients := map[string]*iam.Client{
		homeAccount:  iam.NewFromConfig(env.Config),
		otherAccount: iam.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", staticCreds(id, secret, ""))),
	}
	create := func(account string) {
		t.Helper()
		if _, err := clients[account].CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(account string) error {
		_, err := clients[account].PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("read"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)})
		return err
	}

	// The home account's "web" has propagated and had its refusal.
	create(homeAccount)
	clk.Advance(time.Minute)
	if code, _ := errorOf(put(homeAccount)); code != "NoSuchEntity" {
		t.Errorf("first write of the home account's role: %q, want NoSuchEntity", code)
	}
	if err := put(homeAccount); err != nil {
		t.Fatalf("home account's role after propagation: %v", err)
	}

	// The other account's "web" is its own role, still propagating.
	create(otherAccount)
	if code, msg := errorOf(put(otherAccount)); code != "NoSuchEntity" || msg != "The role with name web cannot be found." {
		t.Errorf("write of the other account's propagating role: %v %q, want NoSuchEntity", code, msg)
	}
	clk.Advance(5 * time.Second)
	if err := put(otherAccount); err != nil {
		t.Errorf("the other account's role after propagation: %v", err)
	}
	if got := env.Server.Stats().Propagating["iam.PutRolePolicy"]; got != 2 {
		t.Errorf("Stats.Propagating[iam.PutRolePolicy] = %d, want 2", got)
	}
}
