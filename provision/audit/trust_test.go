package audit

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// TestOutsiders: who outside the account a trust policy lets in.
func TestOutsiders(t *testing.T) {
	const gh = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
	tests := []struct {
		name, trust string
		want        []string
	}{
		{"service", `{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`, nil},
		{"own account", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}`, nil},
		{"foreign account", `{"Effect":"Allow","Principal":{"AWS":["222222222222","arn:aws:iam::111111111111:role/x"]},"Action":"sts:AssumeRole"}`, []string{"222222222222"}},
		{"foreign role, any action", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:role/r"},"Action":"sts:*"}`, []string{"arn:aws:iam::333333333333:role/r"}},
		{"foreign account, tagging only", `{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sts:TagSession"}`, nil},
		{"anyone", `{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}`, []string{"anyone (*)"}},
		{"AWS star", `{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}`, []string{"anyone (*)"}},
		{"denied", `{"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"sts:AssumeRole"}`, nil},
		{"OIDC without sub", `{"Effect":"Allow","Principal":{"Federated":"` + gh + `"},"Action":"sts:AssumeRoleWithWebIdentity"}`, []string{"any identity of " + gh + " (no condition on its subject)"}},
		{"OIDC with sub", `{"Effect":"Allow","Principal":{"Federated":"` + gh + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:o/r:*"}}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[` + tt.trust + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, outsiders(d, "111111111111")); diff != "" {
				t.Errorf("outsiders (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResourcePolicyPrincipals: naming the own account in a resource
// policy delegates to identity policies and lets nobody in by itself;
// naming a user lets that user in; "*" lets everyone in, inside the
// account and out.
func TestResourcePolicyPrincipals(t *testing.T) {
	const (
		acct   = "111111111111"
		secret = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/a-AbCdEf"
		carol  = "arn:aws:iam::111111111111:user/carol"
	)
	tests := []struct {
		name, principal string
		readers         []string
		external        []string
	}{
		{"own account root", `{"AWS":"arn:aws:iam::111111111111:root"}`, nil, nil},
		{"own account ID", `{"AWS":"111111111111"}`, nil, nil},
		{"the user", `{"AWS":"` + carol + `"}`, []string{carol}, nil},
		{"anyone", `"*"`, []string{carol}, []string{"anyone (*)"}},
		{"foreign account", `{"AWS":"222222222222"}`, nil, []string{"222222222222"}},
		{"foreign role", `{"AWS":"arn:aws:iam::222222222222:role/other"}`, nil, []string{"arn:aws:iam::222222222222:role/other"}},
		// The spec's cross-account reader is expected, not a finding.
		{"cross-account reader", `{"AWS":"arn:aws:iam::222222222222:role/partner"}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + tt.principal + `,"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			s := Secret{Name: "dev/a", ARN: secret, Exists: true, Readers: []string{"arn:aws:iam::222222222222:role/partner"}}
			var readers []string
			if _, ok := decide(&Principal{Type: "user", Name: "carol", ARN: carol}, s, acct, accountGrantsOnly(rp), nil); ok {
				readers = append(readers, carol)
			}
			var external []string
			for _, f := range externalReaders(s, acct, rp) {
				external = append(external, f.Principal)
			}
			if diff := cmp.Diff(tt.readers, readers); diff != "" {
				t.Errorf("readers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.external, external); diff != "" {
				t.Errorf("external (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExpectedCrossAccountReaders: a cross-account reader, which has no
// role documents, is an expected reader of its secret at its spec ARN.
func TestExpectedCrossAccountReaders(t *testing.T) {
	const partner = "arn:aws:iam::222222222222:role/partner"
	d := &spec.Desired{Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: "111111111111", NamePrefix: "dev/", RolePrefix: "shop-dev-",
		CrossAccountRoles: []*spec.Role{{Key: "partner", Name: "partner", External: partner, CrossAccount: true}},
		Secrets: []*spec.Secret{
			{Key: "a", Name: "dev/a", KMSKeyARN: "arn:aws:kms:us-east-1:111111111111:key/k", ResourcePolicy: true, CrossAccountReaders: []string{partner}},
			{Key: "b", Name: "dev/b"},
		}}
	got := expectedReaders(d, nil)
	if diff := cmp.Diff(map[string][]string{"dev/a": {partner}}, got); diff != "" {
		t.Errorf("expected readers (-want +got):\n%s", diff)
	}
}
