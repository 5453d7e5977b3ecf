package iam

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRequestContext: the condition keys each request carries, as AWS
// sets them for those actions (docs/security.md lists them).
func TestRequestContext(t *testing.T) {
	s := New(Config{Account: "111111111111"})
	const boundary = "arn:aws:iam::111111111111:policy/b"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	for _, f := range []url.Values{
		{"Action": {"CreatePolicy"}, "PolicyName": {"b"}, "PolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`}},
		{"Action": {"CreateRole"}, "RoleName": {"web"}, "AssumeRolePolicyDocument": {trust}, "PermissionsBoundary": {boundary},
			"Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"web"}},
		{"Action": {"CreateRole"}, "RoleName": {"bare"}, "AssumeRolePolicyDocument": {trust}},
	} {
		s.mu.Lock()
		_, err := iamOps[f.Get("Action")](s, f, Principal{Admin: true})
		s.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		form url.Values
		want map[string][]string
	}{
		{"CreateRole: the requested boundary and tags", url.Values{"Action": {"CreateRole"}, "RoleName": {"new"}, "PermissionsBoundary": {"arn:aws:iam::111111111111:policy/other"},
			"Tags.member.1.Key": {"a"}, "Tags.member.1.Value": {"1"}, "Tags.member.2.Key": {"b"}, "Tags.member.2.Value": {"2"}},
			map[string][]string{"iam:PermissionsBoundary": {"arn:aws:iam::111111111111:policy/other"}, "aws:RequestTag/a": {"1"}, "aws:RequestTag/b": {"2"}, "aws:TagKeys": {"a", "b"}}},
		{"CreateRole without boundary or tags", url.Values{"Action": {"CreateRole"}, "RoleName": {"new"}}, map[string][]string{}},
		{"PutRolePolicy: the role's boundary and tags", url.Values{"Action": {"PutRolePolicy"}, "RoleName": {"web"}},
			map[string][]string{"iam:PermissionsBoundary": {boundary}, "aws:ResourceTag/team": {"web"}, "iam:ResourceTag/team": {"web"}}},
		{"PutRolePolicy on a role without boundary", url.Values{"Action": {"PutRolePolicy"}, "RoleName": {"bare"}}, map[string][]string{}},
		{"UpdateAssumeRolePolicy carries no boundary", url.Values{"Action": {"UpdateAssumeRolePolicy"}, "RoleName": {"web"}},
			map[string][]string{"aws:ResourceTag/team": {"web"}, "iam:ResourceTag/team": {"web"}}},
		{"AttachRolePolicy: the policy ARN", url.Values{"Action": {"AttachRolePolicy"}, "RoleName": {"web"}, "PolicyArn": {"arn:aws:iam::aws:policy/AdministratorAccess"}},
			map[string][]string{"iam:PermissionsBoundary": {boundary}, "iam:PolicyARN": {"arn:aws:iam::aws:policy/AdministratorAccess"}, "aws:ResourceTag/team": {"web"}, "iam:ResourceTag/team": {"web"}}},
		{"PutRolePermissionsBoundary: the requested boundary", url.Values{"Action": {"PutRolePermissionsBoundary"}, "RoleName": {"web"}, "PermissionsBoundary": {"arn:aws:iam::111111111111:policy/x"}},
			map[string][]string{"iam:PermissionsBoundary": {"arn:aws:iam::111111111111:policy/x"}, "aws:ResourceTag/team": {"web"}, "iam:ResourceTag/team": {"web"}}},
		{"UntagRole: the keys", url.Values{"Action": {"UntagRole"}, "RoleName": {"bare"}, "TagKeys.member.1": {"team"}}, map[string][]string{"aws:TagKeys": {"team"}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, s.RequestContext(tt.form)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if diff := cmp.Diff(map[string][]string{"iam:PassedToService": {"ec2.amazonaws.com"}, "aws:ResourceTag/team": {"web"}, "iam:ResourceTag/team": {"web"}},
		s.PassContext(url.Values{"Action": {"AddRoleToInstanceProfile"}, "RoleName": {"web"}})); diff != "" {
		t.Errorf("PassContext (-want +got):\n%s", diff)
	}
}
