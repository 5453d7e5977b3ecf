package iam

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
)

// TestUsersAndGroups drives the user and group operations through the SDK:
// creation, inline and attached policies, membership, and the conflicts
// that keep a deletion from orphaning anything.
func TestUsersAndGroups(t *testing.T) {
	ctx := context.Background()
	c := newEnv(t, 0).iam()
	must := mustSucceed(t)
	u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/people/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(u.User.Arn), "arn:aws:iam::000000000000:user/people/alice"; got != want {
		t.Errorf("user ARN = %s, want %s", got, want)
	}
	if id := aws.ToString(u.User.UserId); !strings.HasPrefix(id, "AIDA") || len(id) != 21 {
		t.Errorf("user ID = %s, want AIDA and 17 characters", id)
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")})
	wantAPIError(t, err, "EntityAlreadyExists", http.StatusConflict)
	_, err = c.GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, err, "ValidationError", http.StatusBadRequest)

	g, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(g.Group.Arn), "arn:aws:iam::000000000000:group/admins"; got != want {
		t.Errorf("group ARN = %s, want %s", got, want)
	}
	doc := allowDoc("secretsmanager:*", "*")
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("sm"), PolicyDocument: aws.String(doc)}))
	must(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("admins"), PolicyName: aws.String("all"), PolicyDocument: aws.String(allowDoc("*", "*"))}))
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("alice"), GroupName: aws.String("admins")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("alice"), GroupName: aws.String("admins")}))

	up, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("sm")})
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, up.PolicyDocument); got != doc {
		t.Errorf("GetUserPolicy document = %s, want %s", got, doc)
	}
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("big"),
		PolicyDocument: aws.String(allowDoc("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:000000000000:secret:"+strings.Repeat("a", 2000)))})
	wantAPIError(t, err, "LimitExceeded", http.StatusConflict)

	gg, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("admins")})
	if err != nil {
		t.Fatal(err)
	}
	if len(gg.Users) != 1 || aws.ToString(gg.Users[0].UserName) != "alice" {
		t.Errorf("GetGroup users = %v, want alice", gg.Users)
	}
	gfu, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if len(gfu.Groups) != 1 || aws.ToString(gfu.Groups[0].GroupName) != "admins" {
		t.Errorf("ListGroupsForUser = %v, want admins", gfu.Groups)
	}
	lup, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"sm"}, lup.PolicyNames); diff != "" {
		t.Errorf("ListUserPolicies (-want +got):\n%s", diff)
	}
	lag, err := c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("admins")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lag.AttachedPolicies) != 1 || aws.ToString(lag.AttachedPolicies[0].PolicyName) != "AdministratorAccess" {
		t.Errorf("ListAttachedGroupPolicies = %v", lag.AttachedPolicies)
	}
	lu, err := c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/people/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lu.Users) != 1 || lu.Users[0].Tags != nil {
		t.Errorf("ListUsers = %v, want alice without tags", lu.Users)
	}

	sum, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]int32{"Users": 1, "Groups": 1, "PolicyVersionsInUse": 2} {
		if got := sum.SummaryMap[k]; got != want {
			t.Errorf("GetAccountSummary %s = %d, want %d", k, got, want)
		}
	}

	// Deletion in the wrong order is refused, one dependency at a time.
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("admins")})
	wantAPIError(t, err, "DeleteConflict", http.StatusConflict)
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantAPIError(t, err, "DeleteConflict", http.StatusConflict)
	must(c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("sm")}))
	must(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantAPIError(t, err, "DeleteConflict", http.StatusConflict)
	must(c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String("alice"), GroupName: aws.String("admins")}))
	_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String("alice"), GroupName: aws.String("admins")})
	wantAPIError(t, err, "NoSuchEntity", http.StatusNotFound)
	must(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}))
	must(c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("admins"), PolicyName: aws.String("all")}))
	must(c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	must(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("admins")}))
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	wantAPIError(t, err, "NoSuchEntity", http.StatusNotFound)
}

// TestDeletePolicyAttachedToUser: a managed policy attached to a user or a
// group counts as attached, so it cannot be deleted.
func TestDeletePolicyAttachedToUser(t *testing.T) {
	ctx := context.Background()
	c := newEnv(t, 0).iam()
	p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(allowDoc("s3:GetObject", "*"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: p.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Policy.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if n := aws.ToInt32(got.Policy.AttachmentCount); n != 1 {
		t.Errorf("AttachmentCount = %d, want 1", n)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Policy.Arn})
	wantAPIError(t, err, "DeleteConflict", http.StatusConflict)
}

// TestGetAccountAuthorizationDetails reads an account with a user in a
// group, a role with an instance profile and a boundary, and a customer
// managed policy with two versions, through the SDK's paginator at
// several page sizes: every page size gives the same account, documents
// come URL-encoded, and Filter selects lists.
func TestGetAccountAuthorizationDetails(t *testing.T) {
	ctx := context.Background()
	c := newEnv(t, 0).iam()
	must := mustSucceed(t)
	must(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bound"), PolicyDocument: aws.String(allowDoc("secretsmanager:*", "*"))}))
	must(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::000000000000:policy/bound"), PolicyDocument: aws.String(allowDoc("secretsmanager:Get*", "*")), SetAsDefault: true}))
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), Path: aws.String("/app/"), AssumeRolePolicyDocument: aws.String(ec2Trust),
		PermissionsBoundary: aws.String("arn:aws:iam::000000000000:policy/bound")}))
	must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("read"), PolicyDocument: aws.String(allowDoc("secretsmanager:GetSecretValue", secretA))}))
	must(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")}))
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("bob"), GroupName: aws.String("ops")}))
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("x"), PolicyDocument: aws.String(allowDoc("s3:Get+Object", "*"))}))
	must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))

	type account struct {
		Users, Groups, Roles, Policies []string
		Pages                          int
	}
	read := func(in *iam.GetAccountAuthorizationDetailsInput) account {
		t.Helper()
		var a account
		p := iam.NewGetAccountAuthorizationDetailsPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			a.Pages++
			for _, u := range out.UserDetailList {
				a.Users = append(a.Users, aws.ToString(u.UserName)+" groups="+strings.Join(u.GroupList, ",")+" inline="+decode(t, u.UserPolicyList[0].PolicyDocument))
			}
			for _, g := range out.GroupDetailList {
				a.Groups = append(a.Groups, aws.ToString(g.GroupName)+" attached="+aws.ToString(g.AttachedManagedPolicies[0].PolicyArn))
			}
			for _, r := range out.RoleDetailList {
				a.Roles = append(a.Roles, aws.ToString(r.RoleName)+" boundary="+aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn)+
					" profile="+aws.ToString(r.InstanceProfileList[0].InstanceProfileName)+" inline="+aws.ToString(r.RolePolicyList[0].PolicyName)+
					" trust="+decode(t, r.AssumeRolePolicyDocument))
			}
			for _, pd := range out.Policies {
				s := aws.ToString(pd.Arn) + " default=" + aws.ToString(pd.DefaultVersionId)
				for _, v := range pd.PolicyVersionList {
					s += " " + aws.ToString(v.VersionId)
					if v.IsDefaultVersion {
						s += "*=" + decode(t, v.Document)
					}
				}
				a.Policies = append(a.Policies, s)
			}
		}
		return a
	}
	want := account{
		Users:  []string{"bob groups=ops inline=" + allowDoc("s3:Get+Object", "*")},
		Groups: []string{"ops attached=arn:aws:iam::aws:policy/AdministratorAccess"},
		Roles:  []string{"web boundary=arn:aws:iam::000000000000:policy/bound profile=web inline=read trust=" + ec2Trust},
		Policies: []string{
			"arn:aws:iam::000000000000:policy/bound default=v2 v2*=" + allowDoc("secretsmanager:Get*", "*") + " v1",
			"arn:aws:iam::aws:policy/AdministratorAccess default=v1 v1*=" + `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		},
	}
	for _, size := range []int32{1, 2, 3, 100} {
		got := read(&iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(size)})
		w := want
		w.Pages = (5 + int(size) - 1) / int(size)
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("MaxItems %d (-want +got):\n%s", size, diff)
		}
	}
	got := read(&iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeRole, types.EntityTypeLocalManagedPolicy}})
	if diff := cmp.Diff(account{Roles: want.Roles, Policies: want.Policies[:1], Pages: 1}, got); diff != "" {
		t.Errorf("Filter Role, LocalManagedPolicy (-want +got):\n%s", diff)
	}
	_, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{"Users"}})
	wantAPIError(t, err, "ValidationError", http.StatusBadRequest)
}

// TestUsersSurviveRestore: users, groups, memberships and their parsed
// documents come back from a snapshot.
func TestUsersSurviveRestore(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("bob"), GroupName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowDoc("s3:*", "*"))}); err != nil {
		t.Fatal(err)
	}
	snap, err := e.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restored := New(Config{Account: testAccount})
	if err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	g := restored.st.Groups["ops"]
	if g == nil || g.Inline["p"].doc == nil || len(restored.st.members("ops")) != 1 {
		t.Fatalf("restored group = %+v, want ops with a parsed policy and one member", g)
	}
}
