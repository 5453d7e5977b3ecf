package iam

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
)

func TestGetCallerIdentity(t *testing.T) {
	e := newEnv(t, 0)
	out, err := e.sts().GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId)}
	if diff := cmp.Diff([]string{testAccount, adminARN, adminUserID}, got); diff != "" {
		t.Errorf("GetCallerIdentity (-want +got):\n%s", diff)
	}
}

func TestAssumeRole(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 10*time.Second)
	c := e.iam()
	mustCreateRole(t, c, "web", "/secretboot/shop/dev/", ec2Trust)
	mustCreateRole(t, c, "deployer", "/", accountTrust)
	mustCreateRole(t, c, "foreign", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`)
	mustCreateRole(t, c, "chained", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/deployer"},"Action":"sts:AssumeRole"}]}`)
	mustCreateRole(t, c, "external", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"xyz"}}}]}`)
	webARN := "arn:aws:iam::000000000000:role/secretboot/shop/dev/web"
	s := e.sts()

	// Within the propagation delay the new role cannot be assumed.
	_, err := s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(webARN), RoleSessionName: aws.String("i-123")})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	e.clock.Advance(11 * time.Second)

	out, err := s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(webARN), RoleSessionName: aws.String("i-123"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("admin assuming an EC2-trusted role: %v", err)
	}
	sessionARN := "arn:aws:sts::000000000000:assumed-role/web/i-123"
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != sessionARN {
		t.Errorf("AssumedRoleUser.Arn = %s, want %s", got, sessionARN)
	}
	if id := aws.ToString(out.AssumedRoleUser.AssumedRoleId); !strings.HasPrefix(id, "AROA") || !strings.HasSuffix(id, ":i-123") {
		t.Errorf("AssumedRoleId = %s", id)
	}
	if want := e.clock.Now().Add(900 * time.Second); !out.Credentials.Expiration.Equal(want) {
		t.Errorf("Expiration = %v, want %v", out.Credentials.Expiration, want)
	}
	if k := aws.ToString(out.Credentials.AccessKeyId); !strings.HasPrefix(k, "ASIA") {
		t.Errorf("AccessKeyId = %s", k)
	}

	// The issued keys authenticate as the session.
	asWeb := sts.NewFromConfig(e.config(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)))
	who, err := asWeb.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Arn) != sessionARN || aws.ToString(who.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Errorf("GetCallerIdentity as the session = %s %s", aws.ToString(who.Arn), aws.ToString(who.UserId))
	}
	// Only the admin gets the service-principal convenience.
	_, err = asWeb.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(webARN), RoleSessionName: aws.String("again")})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)

	// Role chaining: deployer's session may assume a role that trusts deployer.
	dep, err := s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/deployer"), RoleSessionName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	asDeployer := sts.NewFromConfig(e.config(aws.ToString(dep.Credentials.AccessKeyId), aws.ToString(dep.Credentials.SecretAccessKey), aws.ToString(dep.Credentials.SessionToken)))
	if _, err := asDeployer.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/chained"), RoleSessionName: aws.String("ci")}); err != nil {
		t.Errorf("role chaining: %v", err)
	}

	tests := []struct {
		name   string
		in     sts.AssumeRoleInput
		code   string
		status int
	}{
		{"other account only", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/foreign")}, "AccessDenied", 403},
		{"chained role not trusting admin", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/chained")}, "AccessDenied", 403},
		{"missing role", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/nope")}, "AccessDenied", 403},
		{"wrong path", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/web")}, "AccessDenied", 403},
		{"external id missing", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/external")}, "AccessDenied", 403},
		{"session name too short", sts.AssumeRoleInput{RoleArn: aws.String(webARN), RoleSessionName: aws.String("x")}, "ValidationError", 400},
		{"session name bad character", sts.AssumeRoleInput{RoleArn: aws.String(webARN), RoleSessionName: aws.String("a b")}, "ValidationError", 400},
		{"duration below 900", sts.AssumeRoleInput{RoleArn: aws.String(webARN), DurationSeconds: aws.Int32(899)}, "ValidationError", 400},
		{"duration above role maximum", sts.AssumeRoleInput{RoleArn: aws.String(webARN), DurationSeconds: aws.Int32(7200)}, "ValidationError", 400},
		{"malformed session policy", sts.AssumeRoleInput{RoleArn: aws.String(webARN), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`)}, "MalformedPolicyDocument", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.RoleSessionName == nil {
				in.RoleSessionName = aws.String("test")
			}
			_, err := s.AssumeRole(ctx, &in)
			wantAPIError(t, err, tt.code, tt.status)
		})
	}
	if _, err := s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/external"), RoleSessionName: aws.String("x1"), ExternalId: aws.String("xyz")}); err != nil {
		t.Errorf("AssumeRole with the right ExternalId: %v", err)
	}
}

func TestPolicySetFor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	b, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("boundary"), PolicyDocument: aws.String(allowDoc("secretsmanager:*", "*"))})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("managed"), PolicyDocument: aws.String(allowDoc("kms:Decrypt", "*"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(ec2Trust), PermissionsBoundary: b.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"z-inline", "a-inline"} {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String(name), PolicyDocument: aws.String(allowDoc("secretsmanager:GetSecretValue", "arn:aws:s3:::"+name))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: m.Policy.Arn}); err != nil {
		t.Fatal(err)
	}

	set, ok := e.svc.PolicySetFor(Principal{ARN: "arn:aws:sts::000000000000:assumed-role/web/s", Account: testAccount, RoleName: "web"})
	if !ok {
		t.Fatal("PolicySetFor(web) not ok")
	}
	var got []string
	for _, d := range set.Identity {
		got = append(got, string(d.Compact()))
	}
	want := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:s3:::a-inline"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:s3:::z-inline"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("identity policies (-want +got):\n%s", diff)
	}
	if set.Boundary == nil || string(set.Boundary.Compact()) != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}` {
		t.Errorf("boundary = %v", set.Boundary)
	}
	if set, ok := e.svc.PolicySetFor(Principal{ARN: adminARN, Account: testAccount, Admin: true}); !ok || len(set.Identity) != 1 {
		t.Errorf("admin policy set = %v, %v", set, ok)
	}
	if _, ok := e.svc.PolicySetFor(Principal{ARN: "arn:aws:sts::000000000000:assumed-role/gone/s", RoleName: "gone"}); ok {
		t.Error("PolicySetFor of an unknown role is ok")
	}
}
