package iam

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestTarget(t *testing.T) {
	e := newEnv(t, 0)
	c := e.iam()
	mustCreateRole(t, c, "web", "/secretboot/shop/dev/", ec2Trust)
	if _, err := c.CreateInstanceProfile(context.Background(), &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web"), Path: aws.String("/p/")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, form       string
		sts              bool
		action, resource string
	}{
		{"existing role keeps its path", "Action=PutRolePolicy&RoleName=WEB&PolicyName=p", false, "iam:PutRolePolicy", "arn:aws:iam::000000000000:role/secretboot/shop/dev/web"},
		{"new role from Path", "Action=CreateRole&RoleName=new&Path=%2Fx%2F", false, "iam:CreateRole", "arn:aws:iam::000000000000:role/x/new"},
		{"profile before role", "Action=AddRoleToInstanceProfile&RoleName=web&InstanceProfileName=web", false, "iam:AddRoleToInstanceProfile", "arn:aws:iam::000000000000:instance-profile/p/web"},
		{"policy ARN", "Action=GetPolicy&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess", false, "iam:GetPolicy", "arn:aws:iam::aws:policy/AdministratorAccess"},
		{"new policy", "Action=CreatePolicy&PolicyName=read", false, "iam:CreatePolicy", "arn:aws:iam::000000000000:policy/read"},
		{"OIDC provider", "Action=GetOpenIDConnectProvider&OpenIDConnectProviderArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Aoidc-provider%2Ftoken.actions.githubusercontent.com", false, "iam:GetOpenIDConnectProvider", "arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com"},
		{"simulation source", "Action=SimulatePrincipalPolicy&PolicySourceArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fweb", false, "iam:SimulatePrincipalPolicy", "arn:aws:iam::000000000000:role/web"},
		{"list", "Action=ListRoles", false, "iam:ListRoles", "*"},
		{"account summary", "Action=GetAccountSummary", false, "iam:GetAccountSummary", "*"},
		{"assume role", "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fweb", true, "sts:AssumeRole", "arn:aws:iam::000000000000:role/web"},
		{"caller identity", "Action=GetCallerIdentity", true, "sts:GetCallerIdentity", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form, err := url.ParseQuery(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			action, resource := e.svc.Target(form, tt.sts)
			if action != tt.action || resource != tt.resource {
				t.Errorf("Target = %s %s, want %s %s", action, resource, tt.action, tt.resource)
			}
		})
	}
}

func TestPassedRole(t *testing.T) {
	e := newEnv(t, 0)
	mustCreateRole(t, e.iam(), "web", "/secretboot/shop/dev/", ec2Trust)
	tests := []struct{ name, form, want string }{
		{"existing role keeps its path", "Action=AddRoleToInstanceProfile&RoleName=WEB&InstanceProfileName=web", "arn:aws:iam::000000000000:role/secretboot/shop/dev/web"},
		{"unknown role at the root path", "Action=AddRoleToInstanceProfile&RoleName=nope&InstanceProfileName=web", "arn:aws:iam::000000000000:role/nope"},
		{"removing passes nothing", "Action=RemoveRoleFromInstanceProfile&RoleName=web&InstanceProfileName=web", ""},
		{"other role operations pass nothing", "Action=PutRolePolicy&RoleName=web&PolicyName=p", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form, err := url.ParseQuery(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.svc.PassedRole(form); got != tt.want {
				t.Errorf("PassedRole = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRoleUsable(t *testing.T) {
	e := newEnv(t, 30*time.Second)
	mustCreateRole(t, e.iam(), "web", "/app/", ec2Trust)
	arn := "arn:aws:iam::000000000000:role/app/web"
	tests := []struct {
		name    string
		advance time.Duration
		arn     string
		want    bool
	}{
		{"just created", 0, arn, false},
		{"still propagating", 29 * time.Second, arn, false},
		{"propagated", time.Second, arn, true},
		{"wrong path", 0, "arn:aws:iam::000000000000:role/web", false},
		{"unknown", 0, "arn:aws:iam::000000000000:role/app/nope", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			if got := e.svc.RoleUsable(tt.arn); got != tt.want {
				t.Errorf("RoleUsable(%s) = %v, want %v", tt.arn, got, tt.want)
			}
		})
	}
}
