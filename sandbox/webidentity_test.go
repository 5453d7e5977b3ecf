package sandbox_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/fakeclock"
	"github.com/secretboot/secretboot/sandbox"
	sbiam "github.com/secretboot/secretboot/sandbox/iam"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

const (
	ghIssuer = "https://token.actions.githubusercontent.com"
	ghARN    = "arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com"
	thumb    = "6938fd4d98bab03faadb97b34396831e3780aea1"
)

// TestOIDCProviders drives IAM's OIDC provider operations through the SDK:
// create, get, list, the errors of a duplicate, a bad URL, a bad thumbprint
// and a missing provider, and delete.
func TestOIDCProviders(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true})
	ctx := context.Background()
	c := iam.NewFromConfig(env.Config)
	out, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(ghIssuer), ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{thumb},
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("ci")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.OpenIDConnectProviderArn); got != ghARN {
		t.Errorf("ARN %s, want %s", got, ghARN)
	}
	got, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(ghARN)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Url) != "token.actions.githubusercontent.com" || !cmp.Equal(got.ClientIDList, []string{"sts.amazonaws.com"}) ||
		!cmp.Equal(got.ThumbprintList, []string{thumb}) || len(got.Tags) != 1 || got.CreateDate == nil {
		t.Errorf("GetOpenIDConnectProvider = %+v", got)
	}
	list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(list.OpenIDConnectProviderList) != 1 || aws.ToString(list.OpenIDConnectProviderList[0].Arn) != ghARN {
		t.Fatalf("ListOpenIDConnectProviders = %+v, %v", list, err)
	}

	errs := []struct {
		name string
		call func() error
		code string
	}{
		{"duplicate", func() error {
			_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(ghIssuer), ClientIDList: []string{"x"}})
			return err
		}, "EntityAlreadyExists"},
		{"not https", func() error {
			_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("http://issuer.example")})
			return err
		}, "InvalidInput"},
		{"short thumbprint", func() error {
			_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://issuer.example"), ThumbprintList: []string{"abc"}})
			return err
		}, "ValidationError"},
		{"six thumbprints", func() error {
			_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://issuer.example"),
				ThumbprintList: []string{thumb, thumb, thumb, thumb, thumb, thumb}})
			return err
		}, "LimitExceeded"},
		{"get missing", func() error {
			_, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::000000000000:oidc-provider/nope.example")})
			return err
		}, "NoSuchEntity"},
		{"get not a provider", func() error {
			_, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::000000000000:role/web")})
			return err
		}, "InvalidInput"},
	}
	for _, tt := range errs {
		if code := apiCode(tt.call()); code != tt.code {
			t.Errorf("%s: error code %q, want %s", tt.name, code, tt.code)
		}
	}

	if _, err := c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(ghARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(ghARN)})
	if code := apiCode(err); code != "NoSuchEntity" {
		t.Errorf("second delete: %q, want NoSuchEntity", code)
	}
}

// TestAssumeRoleWithWebIdentity: an unsigned request with a token from a
// registered provider assumes a role whose trust allows the token's
// claims; every other token is refused with AWS's error, and the session
// acts as the role.
func TestAssumeRoleWithWebIdentity(t *testing.T) {
	clk := fakeclock.New(time.Now().UTC())
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true, Now: clk.Now})
	ctx := context.Background()
	c := iam.NewFromConfig(env.Config)
	if _, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(ghIssuer), ClientIDList: []string{"sts.amazonaws.com"}}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + ghARN + `"},"Action":"sts:AssumeRoleWithWebIdentity",` +
		`"Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:octo-org/shop:environment:prod"}}}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	// No credentials at all: the SDK sends the request unsigned.
	anon := sts.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", aws.AnonymousCredentials{}))
	token := func(c sbiam.TokenClaims) string {
		t.Helper()
		if c.Issuer == "" {
			c.Issuer = ghIssuer
		}
		tok, err := env.Server.WebIdentityToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sbiam.TokenClaims{Subject: "repo:octo-org/shop:environment:prod", Audience: "sts.amazonaws.com"}
	assume := func(role, tok string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String("arn:aws:iam::000000000000:role/" + role), RoleSessionName: aws.String("run-42"), WebIdentityToken: aws.String(tok),
		})
	}

	out, err := assume("deploy", token(good))
	if err != nil {
		t.Fatalf("matching token: %v", err)
	}
	if aws.ToString(out.SubjectFromWebIdentityToken) != good.Subject || aws.ToString(out.Audience) != "sts.amazonaws.com" || aws.ToString(out.Provider) != ghIssuer {
		t.Errorf("result %+v", out)
	}
	who, err := sts.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", staticCreds(aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)))).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:sts::000000000000:assumed-role/deploy/run-42" {
		t.Fatalf("the session is %v, %v", who, err)
	}

	forged := token(good)
	forged = forged[:len(forged)-4] + "AAAA"
	if forged == token(good) {
		t.Fatal("forgery did not change the signature")
	}
	tests := []struct {
		name, role, token, code string
		typed                   func(error) bool
	}{
		{"wrong sub", "deploy", token(sbiam.TokenClaims{Subject: "repo:octo-org/shop:environment:dev", Audience: "sts.amazonaws.com"}), "AccessDenied", nil},
		{"wrong repository", "deploy", token(sbiam.TokenClaims{Subject: "repo:octo-org/fork:environment:prod", Audience: "sts.amazonaws.com"}), "AccessDenied", nil},
		{"wrong aud", "deploy", token(sbiam.TokenClaims{Subject: good.Subject, Audience: "api://other"}), "InvalidIdentityToken", isA[*ststypes.InvalidIdentityTokenException]},
		{"unregistered issuer", "deploy", token(sbiam.TokenClaims{Issuer: "https://oidc.eks.us-east-1.amazonaws.com/id/X", Subject: good.Subject, Audience: "sts.amazonaws.com"}), "InvalidIdentityToken", isA[*ststypes.InvalidIdentityTokenException]},
		{"expired", "deploy", token(sbiam.TokenClaims{Subject: good.Subject, Audience: "sts.amazonaws.com", Expires: clk.Now().Add(-time.Second)}), "ExpiredTokenException", isA[*ststypes.ExpiredTokenException]},
		{"forged signature", "deploy", forged, "InvalidIdentityToken", isA[*ststypes.InvalidIdentityTokenException]},
		{"not a JWT", "deploy", "not-a-token", "InvalidIdentityToken", nil},
		{"role trusting EC2 only", "web", token(good), "AccessDenied", nil},
		{"missing role", "nope", token(good), "AccessDenied", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := assume(tt.role, tt.token)
			if code := apiCode(err); code != tt.code {
				t.Fatalf("error %v, want code %s", err, tt.code)
			}
			if tt.typed != nil && !tt.typed(err) {
				t.Errorf("%v does not decode to the SDK's typed exception", err)
			}
		})
	}
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// TestAssumeRoleWithSessionTags plays EKS Pod Identity: the admin acts as
// pods.eks.amazonaws.com and tags the session with the pod's namespace and
// service account; the trust's conditions on aws:RequestTag decide, and
// tags need sts:TagSession in the trust.
func TestAssumeRoleWithSessionTags(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{EnforceAuth: true})
	ctx := context.Background()
	c := iam.NewFromConfig(env.Config)
	for name, actions := range map[string]string{"api": `["sts:AssumeRole","sts:TagSession"]`, "notag": `"sts:AssumeRole"`} {
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":` + actions +
			`,"Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"shop","aws:RequestTag/kubernetes-service-account":"api"}}}]}`
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
	}
	s := sts.NewFromConfig(env.Config)
	tags := func(ns, sa string) []ststypes.Tag {
		return []ststypes.Tag{
			{Key: aws.String("kubernetes-namespace"), Value: aws.String(ns)},
			{Key: aws.String("kubernetes-service-account"), Value: aws.String(sa)},
			{Key: aws.String("eks-cluster-arn"), Value: aws.String("arn:aws:eks:us-east-1:000000000000:cluster/prod")},
		}
	}
	tests := []struct {
		name, role string
		tags       []ststypes.Tag
		ok         bool
	}{
		{"matching pod", "api", tags("shop", "api"), true},
		{"other service account", "api", tags("shop", "web"), false},
		{"other namespace", "api", tags("kube-system", "api"), false},
		{"no tags", "api", nil, false},
		{"trust without TagSession", "notag", tags("shop", "api"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AssumeRole(ctx, &sts.AssumeRoleInput{
				RoleArn: aws.String("arn:aws:iam::000000000000:role/" + tt.role), RoleSessionName: aws.String("eks-prod-api-7d9f"), Tags: tt.tags,
			})
			if tt.ok && err != nil {
				t.Fatalf("want the role, got %v", err)
			}
			if !tt.ok && apiCode(err) != "AccessDenied" {
				t.Fatalf("want AccessDenied, got %v", err)
			}
		})
	}
	_, err := s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/api"), RoleSessionName: aws.String("x1"),
		Tags: []ststypes.Tag{{Key: aws.String("bad*key"), Value: aws.String("v")}}})
	if code := apiCode(err); !strings.Contains(code, "Validation") && code != "InvalidInput" {
		t.Errorf("a malformed tag key: %v", err)
	}
}

// TestOIDCProviderSurvivesRestart: providers are part of the saved state;
// the token key is not, so a token signed before a restart is refused
// after it, as documented.
func TestOIDCProviderSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ctx := context.Background()
	srv, err := sandbox.New(sandbox.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	env := startOn(t, srv)
	c := iam.NewFromConfig(env.Config)
	if _, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(ghIssuer), ClientIDList: []string{"sts.amazonaws.com"}}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + ghARN + `"},"Action":"sts:AssumeRoleWithWebIdentity",` +
		`"Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:o/r:ref:refs/heads/main"}}}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	tok, err := srv.WebIdentityToken(sbiam.TokenClaims{Issuer: ghIssuer, Subject: "repo:o/r:ref:refs/heads/main", Audience: "sts.amazonaws.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv2, err := sandbox.New(sandbox.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	env2 := startOn(t, srv2)
	if _, err := iam.NewFromConfig(env2.Config).GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(ghARN)}); err != nil {
		t.Fatalf("provider after restart: %v", err)
	}
	anon := sts.NewFromConfig(sandboxtest.Config(env2.URL, "us-east-1", aws.AnonymousCredentials{}))
	in := &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/deploy"), RoleSessionName: aws.String("run"), WebIdentityToken: aws.String(tok)}
	if _, err := anon.AssumeRoleWithWebIdentity(ctx, in); apiCode(err) != "InvalidIdentityToken" {
		t.Errorf("a token from before the restart: %v, want InvalidIdentityToken", err)
	}
	tok2, err := srv2.WebIdentityToken(sbiam.TokenClaims{Issuer: ghIssuer, Subject: "repo:o/r:ref:refs/heads/main", Audience: "sts.amazonaws.com"})
	if err != nil {
		t.Fatal(err)
	}
	in.WebIdentityToken = aws.String(tok2)
	if _, err := anon.AssumeRoleWithWebIdentity(ctx, in); err != nil {
		t.Errorf("a new token after the restart: %v", err)
	}
}
