package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/syncbuf"
)

// serveSandbox starts sandbox serve on a free loopback port and returns the
// exported environment, a stop function and the stderr buffer.
func serveSandbox(t *testing.T, stateDir string, with ...func(*sandboxServeOptions)) (env map[string]string, stop func() error, stderr *syncbuf.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	opts := sandboxServeOptions{
		IO:   IOStreams{Out: out, Err: errOut},
		Addr: "127.0.0.1:0", StateDir: stateDir, Account: "000000000000", Region: "us-east-1",
		Listen: net.Listen,
	}
	for _, f := range with {
		f(&opts)
	}
	done := make(chan error, 1)
	go func() { done <- runSandboxServe(ctx, opts) }()
	stop = func() error { cancel(); return <-done }

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "AWS_REGION=") {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("no exports printed; stderr: %s", errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	env = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		env[k] = v
	}
	return env, stop, errOut
}

func smClient(env map[string]string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(aws.Config{
		Region:       env["AWS_REGION"],
		Credentials:  credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL"]),
	})
}

// TestSandboxServe drives the served sandbox with the real SDK using only
// the printed exports, then checks that state survives a restart.
func TestSandboxServe(t *testing.T) {
	ctx := context.Background()
	stateDir := t.TempDir()

	env, stop, stderr := serveSandbox(t, stateDir)
	if got := env["AWS_ENDPOINT_URL"]; !strings.HasPrefix(got, "http://127.0.0.1:") {
		t.Errorf("AWS_ENDPOINT_URL = %q, want loopback", got)
	}
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if diff := cmp.Diff("us-east-1", env[name]); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
		}
	}
	_, err := smClient(env).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("dev/app/token"), SecretString: aws.String("canary-serve-41d0"),
	})
	if err != nil {
		t.Fatalf("CreateSecret through the printed endpoint: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if !strings.Contains(stderr.String(), "state saved in "+stateDir) {
		t.Errorf("stderr = %q, want the state directory", stderr.String())
	}
	if strings.Contains(stderr.String(), "canary-serve") {
		t.Fatalf("payload leaked to stderr: %q", stderr.String())
	}

	env, stop, _ = serveSandbox(t, stateDir)
	defer stop()
	got, err := smClient(env).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("dev/app/token")})
	if err != nil {
		t.Fatalf("GetSecretValue after restart: %v", err)
	}
	if diff := cmp.Diff("canary-serve-41d0", aws.ToString(got.SecretString)); diff != "" {
		t.Errorf("payload after restart mismatch (-want +got):\n%s", diff)
	}
}

func TestSandboxServeRejectsUnknownQuotas(t *testing.T) {
	err := runSandboxServe(context.Background(), sandboxServeOptions{
		IO: IOStreams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, Quotas: "gcp", Listen: net.Listen,
	})
	if err == nil || !strings.Contains(err.Error(), `the only quota set is "aws"`) {
		t.Fatalf("err = %v, want a quota error", err)
	}
}

// TestSandboxServeListingLag: with --listing-lag, a new secret is readable
// by name at once but missing from ListSecrets, as on AWS right after a
// write.
func TestSandboxServeListingLag(t *testing.T) {
	ctx := context.Background()
	env, stop, _ := serveSandbox(t, "", func(o *sandboxServeOptions) { o.ListingLag = time.Hour })
	defer stop()
	sm := smClient(env)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("dev/new"), SecretString: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("dev/new")}); err != nil {
		t.Errorf("DescribeSecret of the new secret: %v", err)
	}
	list, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.SecretList) != 0 {
		t.Errorf("ListSecrets shows %d secrets an instant after their creation, want 0 under a one-hour lag", len(list.SecretList))
	}
}

// TestSandboxServeAttachmentQuota: --attached-policies-quota is the quota
// the served IAM reports, as an account with a raised quota does.
func TestSandboxServeAttachmentQuota(t *testing.T) {
	env, stop, _ := serveSandbox(t, "", func(o *sandboxServeOptions) { o.AttachedPolicies = 12 })
	defer stop()
	out, err := iam.NewFromConfig(aws.Config{
		Region:       env["AWS_REGION"],
		Credentials:  credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL"]),
	}).GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.SummaryMap["AttachedPoliciesPerRoleQuota"]; got != 12 {
		t.Errorf("AttachedPoliciesPerRoleQuota = %d, want 12", got)
	}
}

// TestSandboxServeRegions: with --regions, the served sandbox answers in
// each region, and a secret created with a replica is read in the
// replica's region.
func TestSandboxServeRegions(t *testing.T) {
	ctx := context.Background()
	env, stop, _ := serveSandbox(t, "", func(o *sandboxServeOptions) { o.Regions = []string{"us-west-2", "eu-west-1"} })
	defer stop()
	if _, err := smClient(env).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("dev/app/token"), SecretString: aws.String("replicated-0123456789"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("eu-west-1")}},
	}); err != nil {
		t.Fatal(err)
	}
	env["AWS_REGION"] = "eu-west-1"
	got, err := smClient(env).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("dev/app/token")})
	if err != nil {
		t.Fatalf("reading the replica in eu-west-1: %v", err)
	}
	if aws.ToString(got.SecretString) != "replicated-0123456789" || !strings.Contains(aws.ToString(got.ARN), ":eu-west-1:") {
		t.Errorf("replica read: %s", aws.ToString(got.ARN))
	}
	env["AWS_REGION"] = "ap-south-1"
	if _, err := smClient(env).ListSecrets(ctx, &secretsmanager.ListSecretsInput{}); err == nil || !strings.Contains(err.Error(), "does not serve region ap-south-1") {
		t.Errorf("a region not served: %v", err)
	}
}

// TestSandboxServeAccounts: --accounts serves a second account whose admin
// key, printed on stderr, acts in that account.
func TestSandboxServeAccounts(t *testing.T) {
	env, stop, stderr := serveSandbox(t, "", func(o *sandboxServeOptions) { o.Accounts = []string{"222222222222"} })
	defer stop()
	var id, secret string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "Account 222222222222: "); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 {
				id, secret = strings.TrimPrefix(fields[0], "AWS_ACCESS_KEY_ID="), strings.TrimPrefix(fields[1], "AWS_SECRET_ACCESS_KEY=")
			}
		}
	}
	if id == "" {
		t.Fatalf("no key for the second account on stderr: %q", stderr.String())
	}
	out, err := sts.NewFromConfig(aws.Config{
		Region:       env["AWS_REGION"],
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
		BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL"]),
	}).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Account); got != "222222222222" {
		t.Errorf("the second admin key acts in %s", got)
	}
}
