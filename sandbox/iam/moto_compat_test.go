package iam

import (
	"context"
	"fmt"
	"github.com/secretboot/secretboot/internal/motoserver"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"
)

// startMoto serves moto (python3 -m moto.server) on a free loopback port
// for the test and returns an IAM client for it; it skips the test when
// moto is missing, unless SECRETBOOT_REQUIRE_TOOLS=1.
func startMoto(t *testing.T) *iam.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("moto comparison starts an external process; skipped with -short")
	}
	skip := func(format string, a ...any) {
		t.Helper()
		if os.Getenv("SECRETBOOT_REQUIRE_TOOLS") == "1" {
			t.Fatalf(format, a...)
		}
		t.Skipf(format, a...)
	}
	url, stop, err := motoserver.Start()
	if err != nil {
		skip("%v", err)
	}
	t.Cleanup(stop)
	return iam.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	})
}

// authorizationScenario plants users, a group, a role and a customer
// managed policy through c and reads them back with
// GetAccountAuthorizationDetails, summarised without IDs, dates or the
// account: what an access audit relies on.
func authorizationScenario(t *testing.T, c *iam.Client) []string {
	t.Helper()
	ctx := context.Background()
	var acct string
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read-dev"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(allowDoc("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:secret:dev/+*"))})
	step("CreatePolicy", err)
	acct = strings.Split(aws.ToString(p.Policy.Arn), ":")[4]
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/people/")})
	step("CreateUser alice", err)
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	step("CreateUser bob", err)
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("sm"), PolicyDocument: aws.String(allowDoc("secretsmanager:*", "*"))})
	step("PutUserPolicy", err)
	_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")})
	step("CreateGroup", err)
	_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("bob"), GroupName: aws.String("ops")})
	step("AddUserToGroup", err)
	_, err = c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("g"), PolicyDocument: aws.String(allowDoc("s3:GetObject", "*"))})
	step("PutGroupPolicy", err)
	_, err = c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: p.Policy.Arn})
	step("AttachGroupPolicy", err)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(ec2Trust)})
	step("CreateRole", err)
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("read"), PolicyDocument: aws.String(allowDoc("secretsmanager:GetSecretValue", "*"))})
	step("PutRolePolicy", err)
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: p.Policy.Arn})
	step("AttachRolePolicy", err)

	var out []string
	unacct := func(s string) string { return strings.ReplaceAll(s, acct, "ACCOUNT") }
	pg := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		step("GetAccountAuthorizationDetails", err)
		for _, u := range page.UserDetailList {
			s := fmt.Sprintf("user %s groups=%v", unacct(aws.ToString(u.Arn)), u.GroupList)
			for _, pd := range u.UserPolicyList {
				s += " inline " + aws.ToString(pd.PolicyName) + "=" + decode(t, pd.PolicyDocument)
			}
			out = append(out, s)
		}
		for _, g := range page.GroupDetailList {
			s := "group " + unacct(aws.ToString(g.Arn))
			for _, pd := range g.GroupPolicyList {
				s += " inline " + aws.ToString(pd.PolicyName) + "=" + decode(t, pd.PolicyDocument)
			}
			for _, ap := range g.AttachedManagedPolicies {
				s += " attached " + unacct(aws.ToString(ap.PolicyArn))
			}
			out = append(out, s)
		}
		for _, r := range page.RoleDetailList {
			s := "role " + unacct(aws.ToString(r.Arn)) + " trust=" + decode(t, r.AssumeRolePolicyDocument)
			for _, pd := range r.RolePolicyList {
				s += " inline " + aws.ToString(pd.PolicyName) + "=" + decode(t, pd.PolicyDocument)
			}
			for _, ap := range r.AttachedManagedPolicies {
				s += " attached " + unacct(aws.ToString(ap.PolicyArn))
			}
			out = append(out, s)
		}
		for _, mp := range page.Policies {
			if strings.HasPrefix(aws.ToString(mp.Arn), "arn:aws:iam::aws:") {
				continue // which AWS managed policies are listed is where moto and IAM differ
			}
			s := fmt.Sprintf("policy %s default=%s attachments=%d", unacct(aws.ToString(mp.Arn)), aws.ToString(mp.DefaultVersionId), aws.ToInt32(mp.AttachmentCount))
			for _, v := range mp.PolicyVersionList {
				if v.IsDefaultVersion {
					s += " document=" + decode(t, v.Document)
				}
			}
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// TestAuthorizationDetailsMatchMoto: the same users, group, role and
// policy, read back with GetAccountAuthorizationDetails from the sandbox
// and from moto, an independent emulator, describe the same account.
func TestAuthorizationDetailsMatchMoto(t *testing.T) {
	moto := startMoto(t)
	want := authorizationScenario(t, moto)
	got := authorizationScenario(t, newEnv(t, 0).iam())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sandbox differs from moto (-moto +sandbox):\n%s", diff)
	}
	if len(got) != 5 {
		t.Errorf("got %d entities, want 2 users, a group, a role and a policy:\n%s", len(got), strings.Join(got, "\n"))
	}
}
