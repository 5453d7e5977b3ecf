package provision_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// TestMissingOIDCProvider: with the GitHub Actions provider missing from
// the account, plan refuses before any change, naming the provider, the
// role and block that trust it (file:line) and how to create it; once it
// exists, the deployer converges, and a clean plan reads each provider
// once. A stage without OIDC readers reads none, and destroy needs none.
func TestMissingOIDCProvider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, file := principalsDesired(t)
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	admin := sandboxBackend(env).mustConnect(t)
	adminIAM := iam.NewFromConfig(env.Config)
	provider := func(url string) {
		t.Helper()
		if _, err := adminIAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(url), ClientIDList: []string{"sts.amazonaws.com"}}); err != nil {
			t.Fatal(err)
		}
	}
	provider("https://oidc.eks.us-east-1.amazonaws.com/id/DEV")
	deployer := stageDeployer(t, env, admin, d)

	before := env.Server.Stats().Calls
	_, err := planOf(ctx, deployer, d, false)
	var missing *provision.MissingOIDCProviderError
	if !errors.As(err, &missing) {
		t.Fatalf("plan without the GitHub provider: %v, want a MissingOIDCProviderError", err)
	}
	const gh = "arn:aws:iam::" + sandboxAccount + ":oidc-provider/token.actions.githubusercontent.com"
	if len(missing.Providers) != 1 || missing.Providers[0].ARN != gh {
		t.Fatalf("missing providers %+v, want only %s", missing.Providers, gh)
	}
	for _, want := range []string{gh, `github_actions block of role "deploy" at ` + file + ":",
		"aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	for op, n := range env.Server.Stats().Calls {
		if n > before[op] && !strings.Contains(op, ".Get") && !strings.Contains(op, ".List") && !strings.HasSuffix(op, "AssumeRole") {
			t.Errorf("the refused plan called %s", op)
		}
	}

	provider("https://token.actions.githubusercontent.com")
	if err := converge1(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}
	before = env.Server.Stats().Calls
	if err := emptyPlan(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}
	if got := env.Server.Stats().Calls["iam.GetOpenIDConnectProvider"] - before["iam.GetOpenIDConnectProvider"]; got != 2 {
		t.Errorf("a clean plan read %d OIDC providers, want 2 (one per provider)", got)
	}
	// The providers go; destroy does not need them.
	for _, arn := range []string{gh, "arn:aws:iam::" + sandboxAccount + ":oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/DEV"} {
		if _, err := adminIAM.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := converge1(ctx, deployer, d, true); err != nil {
		t.Fatalf("destroy without the providers: %v", err)
	}
	// Only web, which trusts EC2, and the secret it reads.
	d.Roles = slices.DeleteFunc(d.Roles, func(r *spec.Role) bool { return r.Key != "web" })
	d.Secrets = slices.DeleteFunc(d.Secrets, func(s *spec.Secret) bool { return s.Key != "app/admin" })
	before = env.Server.Stats().Calls
	if _, err := planOf(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}
	if got := env.Server.Stats().Calls["iam.GetOpenIDConnectProvider"] - before["iam.GetOpenIDConnectProvider"]; got != 0 {
		t.Errorf("a stage without OIDC readers read %d OIDC providers", got)
	}
}
