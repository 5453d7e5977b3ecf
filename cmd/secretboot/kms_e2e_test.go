package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestMultistageProdKMSEndToEnd applies the multistage example's prod stage,
// whose api/stripe-key is encrypted with a customer managed KMS key, on a
// sandbox that enforces authentication and IAM/KMS authorization, exactly
// as on AWS: the CLI finds the admin's key in the environment, assumes the
// stage's secretboot-deployer role (installed as docs/security.md says:
// `policy -deployer -json`'s deployer policy and boundary) and applies. Then
// each reader of the secret, acting as its role, reads the CMK-encrypted
// value, and a role allowed GetSecretValue on it but given no kms:Decrypt
// gets Secrets Manager's AccessDeniedException "Access to KMS is not
// allowed", as AWS answers. verify then finds the grants as the spec says.
func TestMultistageProdKMSEndToEnd(t *testing.T) {
	const (
		account   = "222222222222"
		region    = "eu-west-1"
		keyARN    = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		stripeKey = "sk_test_kms_e2e_5c1d"
	)
	dir := filepath.Join(t.TempDir(), "multistage")
	if err := os.CopyFS(dir, os.DirFS("../../examples/multistage")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, ".secretboot")); err != nil {
		t.Fatal(err)
	}
	env := sandboxtest.Start(t, sandbox.Options{Account: account, Region: region, EnforceAuth: true, KMSKeys: []string{keyARN}})
	ctx := context.Background()
	admin := iam.NewFromConfig(env.Config)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	trustEC2 := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)

	lookup := func(k string) (string, bool) {
		if k == "STRIPE_KEY" {
			return stripeKey, true
		}
		return "", false
	}
	cli := func(wantCode int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		code := runWithEnv(ctx, append(args, "--spec", dir, "--stage", "prod"), IOStreams{Out: &out, Err: &errOut}, lookup)
		if code != wantCode {
			t.Fatalf("%q: exit code %d, want %d:\n%s%s", args, code, wantCode, out.String(), errOut.String())
		}
		if strings.Contains(out.String()+errOut.String(), stripeKey) {
			t.Fatalf("%q: the payload is in the output", args)
		}
		return out.String()
	}

	// What Terraform and the administrator set up once: the external
	// reporting role, the stage's boundary and the deployer role.
	must(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("tf-reporting"), AssumeRolePolicyDocument: trustEC2}))
	var install struct {
		Deployer json.RawMessage `json:"deployer_policy"`
		Boundary struct {
			Name, Path string
			Document   json.RawMessage
		} `json:"boundary_policy"`
	}
	if err := json.Unmarshal([]byte(cli(exitOK, "policy", "-deployer", "-json")), &install); err != nil {
		t.Fatal(err)
	}
	must(admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(install.Boundary.Name), Path: aws.String(install.Boundary.Path),
		PolicyDocument: aws.String(string(install.Boundary.Document))}))
	must(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("secretboot-deployer"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`)}))
	must(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("secretboot-deployer"), PolicyName: aws.String("secretboot-deployer"),
		PolicyDocument: aws.String(string(install.Deployer))}))

	// The CLI as a user runs it: the default credential chain, pointed at
	// the sandbox.
	id, secret := env.Server.AdminCredentials()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": env.URL, "AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": secret,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	cli(exitOK, "apply", "-auto-approve")
	cli(exitOK, "plan", "-detailed-exitcode")
	cli(exitOK, "verify")

	adminSM := sm.NewFromConfig(env.Config)
	var stripe *sm.DescribeSecretOutput
	list, err := adminSM.ListSecrets(ctx, &sm.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list.SecretList {
		if strings.HasSuffix(aws.ToString(s.Name), "api/stripe-key") {
			if stripe, err = adminSM.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: s.ARN}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if stripe == nil || aws.ToString(stripe.KmsKeyId) != keyARN {
		t.Fatalf("api/stripe-key is not under the customer key: %+v", stripe)
	}

	as := func(t *testing.T, roleARN string) *sm.Client {
		t.Helper()
		out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("e2e")})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		return sm.NewFromConfig(sandboxtest.Config(env.URL, region, credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)))
	}
	roles, err := admin.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/secretboot/")})
	if err != nil {
		t.Fatal(err)
	}
	readers := []string{"arn:aws:iam::" + account + ":role/tf-reporting"}
	for _, r := range roles.Roles {
		if n := aws.ToString(r.RoleName); strings.HasSuffix(n, "-api") || strings.HasSuffix(n, "-worker") {
			readers = append(readers, aws.ToString(r.Arn))
		}
	}
	if len(readers) != 3 {
		t.Fatalf("readers of api/stripe-key: %v, want api, worker and reporting", readers)
	}
	for _, r := range readers {
		t.Run("reader "+r[strings.LastIndex(r, "/")+1:], func(t *testing.T) {
			v, err := as(t, r).GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: stripe.ARN})
			if err != nil || aws.ToString(v.SecretString) != stripeKey {
				t.Fatalf("reading the CMK-encrypted secret as its reader: %v", err)
			}
		})
	}

	t.Run("GetSecretValue without the KMS grant", func(t *testing.T) {
		must(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("no-kms"), AssumeRolePolicyDocument: trustEC2}))
		must(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("no-kms"), PolicyName: aws.String("read"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + aws.ToString(stripe.ARN) + `"}]}`)}))
		_, err := as(t, "arn:aws:iam::"+account+":role/no-kms").GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: stripe.ARN})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || ae.ErrorMessage() != "Access to KMS is not allowed" {
			t.Fatalf("err = %v, want AccessDeniedException: Access to KMS is not allowed", err)
		}
	})
}
