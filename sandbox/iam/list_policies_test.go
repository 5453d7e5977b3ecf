package iam

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
)

func TestListPolicies(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	mustCreateRole(t, c, "web", "/", ec2Trust)
	doc := allowDoc("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:000000000000:secret:a-??????")
	for _, p := range []struct{ name, path string }{
		{"web-read-2", "/secretboot/shop/dev/"},
		{"web-read-1", "/secretboot/shop/dev/"},
		{"web-read-3", "/secretboot/shop/dev/"},
		{"other", "/teams/"},
	} {
		if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(p.name), Path: aws.String(p.path), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String("arn:aws:iam::000000000000:policy/secretboot/shop/dev/web-read-2")}); err != nil {
		t.Fatal(err)
	}

	list := func(in *iam.ListPoliciesInput) []string {
		t.Helper()
		var names []string
		pg := iam.NewListPoliciesPaginator(c, in)
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out.Policies {
				names = append(names, aws.ToString(p.PolicyName)+"@"+aws.ToString(p.DefaultVersionId))
			}
		}
		return names
	}
	tests := []struct {
		name string
		in   iam.ListPoliciesInput
		want []string
	}{
		{"local under a path, paged", iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, PathPrefix: aws.String("/secretboot/shop/dev/"), MaxItems: aws.Int32(2)},
			[]string{"web-read-1@v1", "web-read-2@v1", "web-read-3@v1"}},
		{"local everywhere", iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal},
			[]string{"other@v1", "web-read-1@v1", "web-read-2@v1", "web-read-3@v1"}},
		{"aws managed only", iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws},
			[]string{"AdministratorAccess@v1"}},
		{"all, attached only", iam.ListPoliciesInput{OnlyAttached: true},
			[]string{"web-read-2@v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, list(&tt.in)); diff != "" {
				t.Errorf("ListPolicies (-want +got):\n%s", diff)
			}
		})
	}
}
