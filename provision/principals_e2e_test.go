package provision_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/sandbox"
	sbiam "github.com/secretboot/secretboot/sandbox/iam"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// principalsSpec has one reader of each workload kind and an EC2 role
// that reads another secret.
const principalsSpec = `
project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "111111111111"
}

role "api" {
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:111111111111:cluster/dev"
    namespace       = "shop"
    service_account = "api"
  }
}

role "worker" {
  irsa {
    provider_arn    = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/DEV"
    namespace       = "shop"
    service_account = "worker"
  }
}

role "deploy" {
  github_actions {
    repository  = "octo-org/shop"
    environment = "prod"
  }
}

role "web" {}

secret "app/db" {
  readers = [role.api, role.worker, role.deploy]
  value   = "CANARY-workload-db-value"
}

secret "app/admin" {
  readers = [role.web]
  value   = "CANARY-admin-only-value"
}
`

// principalsDesired is stage dev of principalsSpec, loaded from file.
func principalsDesired(t *testing.T) (d *spec.Desired, file string) {
	t.Helper()
	dir := t.TempDir()
	file = filepath.Join(dir, "main.hcl")
	if err := os.WriteFile(file, []byte(principalsSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := spec.Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d, diags = cfg.Evaluate("dev", spec.EvalOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return d, file
}

// TestWorkloadReadersEndToEnd applies, as the stage's deployer, a spec with
// a Pod Identity, an IRSA and a GitHub Actions reader on the enforcing
// sandbox (verify agrees), then plays each
// workload: with the identity its trust names it gets the role and reads
// its secret (and not the other); with a wrong service account,
// subject, repository or audience it gets no role at all.
func TestWorkloadReadersEndToEnd(t *testing.T) {
	ctx := context.Background()
	d, _ := principalsDesired(t)

	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	admin := sandboxBackend(env).mustConnect(t)
	const (
		eksIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/DEV"
		ghIssuer  = "https://token.actions.githubusercontent.com"
	)
	adminIAM := iam.NewFromConfig(env.Config)
	for _, u := range []string{eksIssuer, ghIssuer} {
		if _, err := adminIAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
			Url: aws.String(u), ClientIDList: []string{"sts.amazonaws.com"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The deployer's own policy is enough for workload roles.
	deployer := stageDeployer(t, env, admin, d)
	if err := converge1(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}
	if err := verifyOnline(ctx, deployer, d); err != nil {
		t.Fatal(err)
	}

	roleARN := func(key string) string {
		return "arn:aws:iam::" + sandboxAccount + ":role/secretboot/shop/dev/shop-dev-" + key
	}
	// reads checks what a session may read: app/db, never app/admin.
	reads := func(t *testing.T, c *ststypes.Credentials) {
		t.Helper()
		sm := secretsmanager.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1",
			credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))))
		got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("dev/app/db")})
		if err != nil {
			t.Fatalf("reading its secret: %v", err)
		}
		if aws.ToString(got.SecretString) != "CANARY-workload-db-value" {
			t.Error("read another value than the declared one")
		}
		if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("dev/app/admin")}); !isDenied(err) {
			t.Errorf("reading another role's secret: %v, want access denied", err)
		}
	}
	refused := func(t *testing.T, err error, code string) {
		t.Helper()
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != code {
			t.Fatalf("got %v, want %s", err, code)
		}
	}

	t.Run("pod identity", func(t *testing.T) {
		s := sts.NewFromConfig(env.Config)
		assume := func(cluster, ns, sa string) (*sts.AssumeRoleOutput, error) {
			return s.AssumeRole(ctx, &sts.AssumeRoleInput{
				RoleArn: aws.String(roleARN("api")), RoleSessionName: aws.String("eks-dev-api-5f7b9"),
				Tags: []ststypes.Tag{
					{Key: aws.String("eks-cluster-arn"), Value: aws.String(cluster)},
					{Key: aws.String("eks-cluster-name"), Value: aws.String("dev")},
					{Key: aws.String("kubernetes-namespace"), Value: aws.String(ns)},
					{Key: aws.String("kubernetes-service-account"), Value: aws.String(sa)},
					{Key: aws.String("kubernetes-pod-name"), Value: aws.String("api-5f7b9")},
				},
			})
		}
		const cluster = "arn:aws:eks:us-east-1:111111111111:cluster/dev"
		out, err := assume(cluster, "shop", "api")
		if err != nil {
			t.Fatalf("the pod of shop/api: %v", err)
		}
		reads(t, out.Credentials)
		for name, tags := range map[string][3]string{
			"wrong service account": {cluster, "shop", "web"},
			"wrong namespace":       {cluster, "default", "api"},
			"wrong cluster":         {"arn:aws:eks:us-east-1:111111111111:cluster/prod", "shop", "api"},
		} {
			_, err := assume(tags[0], tags[1], tags[2])
			t.Run(name, func(t *testing.T) { refused(t, err, "AccessDenied") })
		}
	})

	anon := sts.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", aws.AnonymousCredentials{}))
	webIdentity := func(t *testing.T, role string, claims sbiam.TokenClaims) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		t.Helper()
		tok, err := env.Server.WebIdentityToken(claims)
		if err != nil {
			t.Fatal(err)
		}
		return anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(roleARN(role)), RoleSessionName: aws.String("workload"), WebIdentityToken: aws.String(tok),
		})
	}
	tests := []struct {
		name, role string
		claims     sbiam.TokenClaims
		code       string // "" = assumes the role and reads
	}{
		{"irsa", "worker", sbiam.TokenClaims{Issuer: eksIssuer, Subject: "system:serviceaccount:shop:worker", Audience: "sts.amazonaws.com"}, ""},
		{"irsa wrong sub", "worker", sbiam.TokenClaims{Issuer: eksIssuer, Subject: "system:serviceaccount:shop:api", Audience: "sts.amazonaws.com"}, "AccessDenied"},
		{"irsa wrong aud", "worker", sbiam.TokenClaims{Issuer: eksIssuer, Subject: "system:serviceaccount:shop:worker", Audience: "https://kubernetes.default.svc"}, "InvalidIdentityToken"},
		{"irsa token of another provider", "worker", sbiam.TokenClaims{Issuer: ghIssuer, Subject: "system:serviceaccount:shop:worker", Audience: "sts.amazonaws.com"}, "AccessDenied"},
		{"github", "deploy", sbiam.TokenClaims{Issuer: ghIssuer, Subject: "repo:octo-org/shop:environment:prod", Audience: "sts.amazonaws.com"}, ""},
		{"github wrong repository", "deploy", sbiam.TokenClaims{Issuer: ghIssuer, Subject: "repo:octo-org/fork:environment:prod", Audience: "sts.amazonaws.com"}, "AccessDenied"},
		{"github wrong environment", "deploy", sbiam.TokenClaims{Issuer: ghIssuer, Subject: "repo:octo-org/shop:environment:dev", Audience: "sts.amazonaws.com"}, "AccessDenied"},
		{"github branch instead of environment", "deploy", sbiam.TokenClaims{Issuer: ghIssuer, Subject: "repo:octo-org/shop:ref:refs/heads/main", Audience: "sts.amazonaws.com"}, "AccessDenied"},
		{"github wrong aud", "deploy", sbiam.TokenClaims{Issuer: ghIssuer, Subject: "repo:octo-org/shop:environment:prod", Audience: "https://github.com/octo-org"}, "InvalidIdentityToken"},
		{"web identity on the EC2 role", "web", sbiam.TokenClaims{Issuer: ghIssuer, Subject: "repo:octo-org/shop:environment:prod", Audience: "sts.amazonaws.com"}, "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := webIdentity(t, tt.role, tt.claims)
			if tt.code != "" {
				refused(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatalf("assuming %s: %v", tt.role, err)
			}
			reads(t, out.Credentials)
		})
	}
}
