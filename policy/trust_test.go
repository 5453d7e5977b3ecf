package policy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/golden"
)

const (
	eksProvider    = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	eksIssuer      = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	githubProvider = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
	clusterARN     = "arn:aws:eks:us-east-1:111111111111:cluster/prod"
)

func TestTrustPolicyFor(t *testing.T) {
	tests := []struct {
		name    string
		trust   Trust
		golden  string
		wantErr string
	}{
		{name: "services only", trust: Trust{Services: []string{"ec2.amazonaws.com"}}, golden: "trust_ec2"},
		{name: "pod identity", golden: "trust_pod_identity", trust: Trust{PodIdentity: []PodIdentity{
			{ClusterARN: clusterARN, Namespace: "shop", ServiceAccount: "api"},
			{Namespace: "batch"},
			{ClusterARN: clusterARN, Namespace: "shop", ServiceAccount: "api"}, // a duplicate is dropped
		}}},
		{name: "pod identity without conditions", golden: "trust_pod_identity_open", trust: Trust{PodIdentity: []PodIdentity{{}}}},
		{name: "irsa", golden: "trust_irsa", trust: Trust{WebIdentity: []WebIdentity{
			{ProviderARN: eksProvider, Subject: "system:serviceaccount:shop:worker", Audience: "sts.amazonaws.com"},
			{ProviderARN: eksProvider, Subject: "system:serviceaccount:shop:api", Audience: "sts.amazonaws.com"},
		}}},
		{name: "github actions", golden: "trust_github", trust: Trust{WebIdentity: []WebIdentity{
			{ProviderARN: githubProvider, Subject: "repo:octo-org/shop:ref:refs/tags/v*", Audience: "sts.amazonaws.com"},
			{ProviderARN: githubProvider, Subject: "repo:octo-org/shop:environment:prod", Audience: "sts.amazonaws.com"},
		}}},
		{name: "everything", golden: "trust_mixed", trust: Trust{
			Services:    []string{"ecs-tasks.amazonaws.com"},
			PodIdentity: []PodIdentity{{Namespace: "shop", ServiceAccount: "api"}},
			WebIdentity: []WebIdentity{
				{ProviderARN: githubProvider, Subject: "repo:octo-org/shop:environment:prod", Audience: "sts.amazonaws.com"},
				{ProviderARN: eksProvider, Subject: "system:serviceaccount:shop:api", Audience: "sts.amazonaws.com"},
			},
		}},
		{name: "nobody", wantErr: "nobody may assume the role"},
		{name: "no subject", trust: Trust{WebIdentity: []WebIdentity{{ProviderARN: eksProvider, Audience: "sts.amazonaws.com"}}}, wantErr: "without a subject"},
		{name: "no audience", trust: Trust{WebIdentity: []WebIdentity{{ProviderARN: eksProvider, Subject: "system:serviceaccount:a:b"}}}, wantErr: "without an audience"},
		{name: "not a provider", trust: Trust{WebIdentity: []WebIdentity{{ProviderARN: "arn:aws:iam::111111111111:role/x", Subject: "s", Audience: "a"}}}, wantErr: "not an IAM OIDC provider ARN"},
		{name: "unknown service", trust: Trust{Services: []string{"s3.amazonaws.com"}}, wantErr: "no template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := TrustPolicyFor(tt.trust)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("TrustPolicyFor() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.golden+".golden"), d.Canonical())
			back, err := Parse(d.Canonical())
			if err != nil {
				t.Fatalf("the trust policy does not parse back: %v", err)
			}
			if diff := cmp.Diff(string(d.Canonical()), string(back.Canonical())); diff != "" {
				t.Errorf("parsed back differently (-built +parsed):\n%s", diff)
			}
			// The order of the inputs does not matter.
			rev := Trust{Services: tt.trust.Services}
			for i := len(tt.trust.PodIdentity) - 1; i >= 0; i-- {
				rev.PodIdentity = append(rev.PodIdentity, tt.trust.PodIdentity[i])
			}
			for i := len(tt.trust.WebIdentity) - 1; i >= 0; i-- {
				rev.WebIdentity = append(rev.WebIdentity, tt.trust.WebIdentity[i])
			}
			d2, err := TrustPolicyFor(rev)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(d.Canonical()), string(d2.Canonical())); diff != "" {
				t.Errorf("input order changed the document (-given +reversed):\n%s", diff)
			}
		})
	}
}

// TestWorkloadTrustDecisions evaluates the synthesized statements as STS
// does: the caller is the service or the provider, and the request context
// holds the session tags or the token's claims.
func TestWorkloadTrustDecisions(t *testing.T) {
	d, err := TrustPolicyFor(Trust{
		PodIdentity: []PodIdentity{{ClusterARN: clusterARN, Namespace: "shop", ServiceAccount: "api"}},
		WebIdentity: []WebIdentity{
			{ProviderARN: eksProvider, Subject: "system:serviceaccount:shop:worker", Audience: "sts.amazonaws.com"},
			{ProviderARN: githubProvider, Subject: "repo:octo-org/shop:ref:refs/tags/v*", Audience: "sts.amazonaws.com"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	pod := func(cluster, ns, sa string) map[string][]string {
		return map[string][]string{
			"aws:RequestTag/" + TagEKSClusterARN: {cluster}, "aws:RequestTag/" + TagKubernetesNamespace: {ns},
			"aws:RequestTag/" + TagKubernetesServiceAccount: {sa},
		}
	}
	token := func(issuer, sub, aud string) map[string][]string {
		return map[string][]string{issuer + ":sub": {sub}, issuer + ":aud": {aud}}
	}
	const gh = "token.actions.githubusercontent.com"
	tests := []struct {
		name      string
		principal string
		action    string
		context   map[string][]string
		want      Decision
	}{
		{"pod of the service account", PodIdentityService, actionAssumeRole, pod(clusterARN, "shop", "api"), Allowed},
		{"pod tags its session", PodIdentityService, actionTagSession, pod(clusterARN, "shop", "api"), Allowed},
		{"pod of another service account", PodIdentityService, actionAssumeRole, pod(clusterARN, "shop", "web"), ImplicitDeny},
		{"pod of another namespace", PodIdentityService, actionAssumeRole, pod(clusterARN, "other", "api"), ImplicitDeny},
		{"pod of another cluster", PodIdentityService, actionAssumeRole, pod("arn:aws:eks:us-east-1:111111111111:cluster/dev", "shop", "api"), ImplicitDeny},
		{"session without tags", PodIdentityService, actionAssumeRole, nil, ImplicitDeny},
		{"irsa service account", eksProvider, actionAssumeRoleWebIdentity, token(eksIssuer, "system:serviceaccount:shop:worker", "sts.amazonaws.com"), Allowed},
		{"irsa other service account", eksProvider, actionAssumeRoleWebIdentity, token(eksIssuer, "system:serviceaccount:shop:api", "sts.amazonaws.com"), ImplicitDeny},
		{"irsa wrong audience", eksProvider, actionAssumeRoleWebIdentity, token(eksIssuer, "system:serviceaccount:shop:worker", "other"), ImplicitDeny},
		{"irsa subject under another provider", githubProvider, actionAssumeRoleWebIdentity, token(gh, "system:serviceaccount:shop:worker", "sts.amazonaws.com"), ImplicitDeny},
		{"github tag", githubProvider, actionAssumeRoleWebIdentity, token(gh, "repo:octo-org/shop:ref:refs/tags/v1.2.0", "sts.amazonaws.com"), Allowed},
		{"github branch", githubProvider, actionAssumeRoleWebIdentity, token(gh, "repo:octo-org/shop:ref:refs/heads/main", "sts.amazonaws.com"), ImplicitDeny},
		{"github other repository", githubProvider, actionAssumeRoleWebIdentity, token(gh, "repo:octo-org/fork:ref:refs/tags/v1", "sts.amazonaws.com"), ImplicitDeny},
		{"web identity through AssumeRole", githubProvider, actionAssumeRole, token(gh, "repo:octo-org/shop:ref:refs/tags/v1", "sts.amazonaws.com"), ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(PolicySet{Resource: d}, Request{Principal: tt.principal, Action: tt.action, Context: tt.context}).Decision
			if got != tt.want {
				t.Errorf("Evaluate() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseOIDCProviderARN(t *testing.T) {
	tests := []struct {
		arn, account, issuer string
		ok                   bool
	}{
		{eksProvider, "111111111111", eksIssuer, true},
		{githubProvider, "111111111111", "token.actions.githubusercontent.com", true},
		{"arn:aws:iam::111111111111:role/oidc-provider/x", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/", "", "", false},
		{"arn:aws:iam::11111111111:oidc-provider/token.actions.githubusercontent.com", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/https://token.actions.githubusercontent.com", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/*", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE?", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/*", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/oidc.example.com/${aws:username}", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/oidc.example.com/a$b", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/oidc.example.com/a{b", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/oidc.example.com/a}b", "", "", false},
		{"arn:aws:iam::111111111111:oidc-provider/oidc.example.com/tenant-1_a~b|c", "111111111111", "oidc.example.com/tenant-1_a~b|c", true},
	}
	for _, tt := range tests {
		account, issuer, ok := ParseOIDCProviderARN(tt.arn)
		if account != tt.account || issuer != tt.issuer || ok != tt.ok {
			t.Errorf("ParseOIDCProviderARN(%q) = %q, %q, %v; want %q, %q, %v", tt.arn, account, issuer, ok, tt.account, tt.issuer, tt.ok)
		}
	}
}
