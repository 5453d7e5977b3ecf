package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffGrants(t *testing.T) {
	a, b := secretARN("dev/a-AbCdEf"), secretARN("dev/b-GhIjKl")
	read := func(gs ...Grant) []*Document { return []*Document{ReadPolicy("us-east-1", gs)} }
	via := `"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"`
	kmsCond := func(arn string) string {
		return `{"StringEquals":{"kms:EncryptionContext:SecretARN":"` + arn + `",` + via + `}}`
	}
	get := func(arn string, added, broadens bool) GrantChange {
		return GrantChange{Effect: Allow, Action: actionGetSecretValue, Resource: arn, Added: added, Broadens: broadens}
	}
	tests := []struct {
		name     string
		old, new []*Document
		want     []GrantChange
	}{
		{
			name: "unchanged",
			old:  read(Grant{SecretARN: a}, Grant{SecretARN: b}),
			new:  read(Grant{SecretARN: b}, Grant{SecretARN: a}),
		},
		{
			name: "a new reader role broadens",
			new:  read(Grant{SecretARN: a}),
			want: []GrantChange{get(a, true, true)},
		},
		{
			name: "adding a secret broadens",
			old:  read(Grant{SecretARN: a}),
			new:  read(Grant{SecretARN: a}, Grant{SecretARN: b}),
			want: []GrantChange{get(b, true, true)},
		},
		{
			name: "removing a secret narrows",
			old:  read(Grant{SecretARN: a}, Grant{SecretARN: b}),
			new:  read(Grant{SecretARN: a}),
			want: []GrantChange{get(b, false, false)},
		},
		{
			name: "removing a reader role narrows",
			old:  read(Grant{SecretARN: a}),
			want: []GrantChange{get(a, false, false)},
		},
		{
			name: "adding DescribeSecret broadens",
			old:  read(Grant{SecretARN: a}),
			new:  read(Grant{SecretARN: a, Describe: true}),
			want: []GrantChange{{Effect: Allow, Action: actionDescribeSecret, Resource: a, Added: true, Broadens: true}},
		},
		{
			name: "a pending ARN becoming real is not broadening",
			old:  read(Grant{SecretARN: secretARN("dev/a-??????")}),
			new:  read(Grant{SecretARN: a}),
			want: []GrantChange{get(secretARN("dev/a-??????"), false, false), get(a, true, false)},
		},
		{
			name: "changing the KMS key broadens",
			old:  read(Grant{SecretARN: a, KMSKeyARN: keyA}),
			new:  read(Grant{SecretARN: a, KMSKeyARN: keyB}),
			want: []GrantChange{
				{Effect: Allow, Action: actionKMSDecrypt, Resource: keyA, Condition: kmsCond(a)},
				{Effect: Allow, Action: actionKMSDecrypt, Resource: keyB, Condition: kmsCond(a), Added: true, Broadens: true},
			},
		},
		{
			name: "another secret under the same key broadens, per secret",
			old:  read(Grant{SecretARN: a, KMSKeyARN: keyA}),
			new:  read(Grant{SecretARN: a, KMSKeyARN: keyA}, Grant{SecretARN: b, KMSKeyARN: keyA}),
			want: []GrantChange{
				{Effect: Allow, Action: actionKMSDecrypt, Resource: keyA, Condition: kmsCond(b), Added: true, Broadens: true},
				get(b, true, true),
			},
		},
		{
			name: "a wider old grant covers a new narrow one",
			old:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"secretsmanager:Get*","Resource":"arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/*"}]}`)},
			new:  read(Grant{SecretARN: a}),
			want: []GrantChange{
				{Effect: Allow, Action: "secretsmanager:Get*", Resource: "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/*"},
				get(a, true, false),
			},
		},
		{
			name: "a wildcard replacing exact ARNs broadens",
			old:  read(Grant{SecretARN: a}),
			new:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/?-*"}]}`)},
			want: []GrantChange{
				get("arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/?-*", true, true),
				get(a, false, false),
			},
		},
		{
			name: "adding a condition narrows",
			old:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"s:A","Resource":"r"}]}`)},
			new:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"s:A","Resource":"r","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`)},
			want: []GrantChange{
				{Effect: Allow, Action: "s:A", Resource: "r"},
				{Effect: Allow, Action: "s:A", Resource: "r", Condition: `{"Bool":{"aws:SecureTransport":"true"}}`, Added: true},
			},
		},
		{
			name: "removing a condition broadens",
			old:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"s:A","Resource":"r","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`)},
			new:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"s:A","Resource":"r"}]}`)},
			want: []GrantChange{
				{Effect: Allow, Action: "s:A", Resource: "r", Added: true, Broadens: true},
				{Effect: Allow, Action: "s:A", Resource: "r", Condition: `{"Bool":{"aws:SecureTransport":"true"}}`},
			},
		},
		{
			name: "more values in a negated condition narrow",
			old:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"s:A","Resource":"r","Condition":{"StringNotEquals":{"k":"x"}}}]}`)},
			new:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"s:A","Resource":"r","Condition":{"StringNotEquals":{"k":["x","y"]}}}]}`)},
			want: []GrantChange{
				{Effect: Allow, Action: "s:A", Resource: "r", Condition: `{"StringNotEquals":{"k":"x"}}`},
				{Effect: Allow, Action: "s:A", Resource: "r", Condition: `{"StringNotEquals":{"k":["x","y"]}}`, Added: true},
			},
		},
		{
			name: "removing a deny broadens, adding one narrows",
			old:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Deny","Action":"s:A","Resource":"r"}]}`)},
			new:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Deny","Action":"s:B","Resource":"r"}]}`)},
			want: []GrantChange{
				{Effect: Deny, Action: "s:A", Resource: "r", Broadens: true},
				{Effect: Deny, Action: "s:B", Resource: "r", Added: true},
			},
		},
		{
			name: "a removed deny still covered by a wider deny does not broaden",
			old:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Deny","Action":"s:A","Resource":"r"}]}`)},
			new:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Deny","Action":"s:*","Resource":"*"}]}`)},
			want: []GrantChange{
				{Effect: Deny, Action: "s:*", Resource: "*", Added: true},
				{Effect: Deny, Action: "s:A", Resource: "r"},
			},
		},
		{
			name: "NotAction grants only cover themselves",
			old:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`)},
			new:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","NotAction":["iam:*","kms:*"],"NotResource":"x"}]}`)},
			want: []GrantChange{
				{Effect: Allow, Action: `NotAction:["iam:*"]`, Resource: "*"},
				{Effect: Allow, Action: `NotAction:["iam:*","kms:*"]`, Resource: `NotResource:["x"]`, Added: true, Broadens: true},
			},
		},
		{
			name: "trusting another service broadens",
			old:  []*Document{mustTrust(t, "ec2.amazonaws.com")},
			new:  []*Document{mustTrust(t, "ec2.amazonaws.com", "lambda.amazonaws.com")},
			want: []GrantChange{{Effect: Allow, Principal: "Service:lambda.amazonaws.com", Action: "sts:AssumeRole", Added: true, Broadens: true}},
		},
		{
			name: "a resource policy opening to everyone broadens",
			old:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"`+webRole+`"},"Action":"s:A","Resource":"*"}]}`)},
			new:  []*Document{mustParse(t, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:A","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":"x"},"Action":"s:B","Resource":"*"}]}`)},
			want: []GrantChange{
				{Effect: Allow, Principal: "*", Action: "s:A", Resource: "*", Added: true, Broadens: true},
				{Effect: Allow, Principal: "AWS:" + webRole, Action: "s:A", Resource: "*"},
				{Effect: Deny, Principal: `NotPrincipal:{"AWS":"x"}`, Action: "s:B", Resource: "*", Added: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, DiffGrants(tt.old, tt.new)); diff != "" {
				t.Errorf("DiffGrants() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func mustTrust(t *testing.T, services ...string) *Document {
	t.Helper()
	d, err := TrustPolicy(services)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPatternCovers(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"*", "anything*?", true},
		{"s:Get*", "s:Get*Value", true},
		{"s:Get*Value", "s:Get*", false},
		{"s:G?t", "s:G*t", false},
		{"s:G?t", "s:G?t", true},
		{"s:G*t", "s:G?t", true},
		{"a", "a", true},
		{"a", "b", false},
		{"", "", true},
		{"a*", "", false},
		{"*", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.a+"⊇"+tt.b, func(t *testing.T) {
			if got := patternCovers(tt.a, tt.b, false); got != tt.want {
				t.Errorf("patternCovers(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestMatrix(t *testing.T) {
	a, b := secretARN("dev/a-AbCdEf"), secretARN("dev/b-GhIjKl")
	db := "arn:aws:iam::111111111111:role/shop-dev-db"
	admin := mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	roles := map[string]PolicySet{
		webRole: {Identity: []*Document{ReadPolicy("us-east-1", []Grant{{SecretARN: a, Describe: true}})}},
		db:      {Identity: []*Document{ReadPolicy("us-east-1", []Grant{{SecretARN: b}}), admin}},
	}
	actions := []string{actionGetSecretValue, actionDescribeSecret}
	got := Matrix(roles, []string{b, a}, actions)
	want := []Access{
		{webRole, a, actionDescribeSecret, Allowed},
		{webRole, a, actionGetSecretValue, Allowed},
		{webRole, b, actionDescribeSecret, ImplicitDeny},
		{webRole, b, actionGetSecretValue, ImplicitDeny},
		{db, a, actionDescribeSecret, Allowed}, // the admin policy grants extra access
		{db, a, actionGetSecretValue, Allowed},
		{db, b, actionDescribeSecret, Allowed},
		{db, b, actionGetSecretValue, Allowed},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Matrix() mismatch (-want +got):\n%s", diff)
	}
}
