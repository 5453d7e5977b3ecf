package iam

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestTrustNamingMissingOIDCProvider: IAM refuses CreateRole and
// UpdateAssumeRolePolicy when the trust's Federated principal is an OIDC
// provider the account does not have (MalformedPolicyDocument "Invalid
// principal in policy"), and accepts the same trust once the provider
// exists. Other federated principals are not looked up.
func TestTrustNamingMissingOIDCProvider(t *testing.T) {
	ctx := context.Background()
	c := newEnv(t, 0).iam()
	const provider = "arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com"
	trust := func(federated string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + federated +
			`"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`)
	}
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: trust(provider)})
	wantAPIError(t, err, "MalformedPolicyDocument", http.StatusBadRequest)
	if err == nil || !strings.Contains(err.Error(), `Invalid principal in policy: "Federated":"`+provider+`"`) {
		t.Errorf("CreateRole error %v does not name the provider", err)
	}
	mustCreateRole(t, c, "deploy", "/", *trust("accounts.google.com"))
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deploy"), PolicyDocument: trust(provider)})
	wantAPIError(t, err, "MalformedPolicyDocument", http.StatusBadRequest)

	if _, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://token.actions.githubusercontent.com"), ClientIDList: []string{"sts.amazonaws.com"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deploy"), PolicyDocument: trust(provider)}); err != nil {
		t.Errorf("with the provider: %v", err)
	}
	// A provider of another account is never this account's.
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("foreign"),
		AssumeRolePolicyDocument: trust("arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com")})
	wantAPIError(t, err, "MalformedPolicyDocument", http.StatusBadRequest)
}
