package iam

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
)

func TestRoleLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	boundary, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("boundary"), PolicyDocument: aws.String(allowDoc("secretsmanager:*", "*")),
	})
	if err != nil {
		t.Fatal(err)
	}
	trust := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": \"ec2.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]\n}\n"
	created, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("shop-dev-web"),
		Path:                     aws.String("/secretboot/shop/dev/"),
		AssumeRolePolicyDocument: aws.String(trust),
		Description:              aws.String("web tier"),
		PermissionsBoundary:      boundary.Policy.Arn,
		Tags:                     []types.Tag{{Key: aws.String("secretboot:stage"), Value: aws.String("dev")}, {Key: aws.String("secretboot:project"), Value: aws.String("shop")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := created.Role
	if got, want := aws.ToString(r.Arn), "arn:aws:iam::000000000000:role/secretboot/shop/dev/shop-dev-web"; got != want {
		t.Errorf("Arn = %s, want %s", got, want)
	}
	if id := aws.ToString(r.RoleId); len(id) != 21 || !strings.HasPrefix(id, "AROA") || strings.ToUpper(id) != id {
		t.Errorf("RoleId = %s, want AROA + 17 uppercase alphanumerics", id)
	}
	if got := decode(t, r.AssumeRolePolicyDocument); got != trust {
		t.Errorf("trust policy round trip = %q, want %q", got, trust)
	}
	if !r.CreateDate.Equal(e.clock.Now()) {
		t.Errorf("CreateDate = %v, want %v", r.CreateDate, e.clock.Now())
	}

	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("SHOP-DEV-WEB")})
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Name, Path, Description, Boundary string
		MaxSession                        int32
		Tags                              []string
	}
	viewOf := func(r *types.Role) view {
		v := view{Name: aws.ToString(r.RoleName), Path: aws.ToString(r.Path), Description: aws.ToString(r.Description), MaxSession: aws.ToInt32(r.MaxSessionDuration)}
		if r.PermissionsBoundary != nil {
			v.Boundary = aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn)
		}
		for _, tg := range r.Tags {
			v.Tags = append(v.Tags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return v
	}
	want := view{Name: "shop-dev-web", Path: "/secretboot/shop/dev/", Description: "web tier", Boundary: aws.ToString(boundary.Policy.Arn),
		MaxSession: 3600, Tags: []string{"secretboot:project=shop", "secretboot:stage=dev"}}
	if diff := cmp.Diff(want, viewOf(got.Role)); diff != "" {
		t.Errorf("GetRole (-want +got):\n%s", diff)
	}

	if _, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("shop-dev-web"), Description: aws.String("new"), MaxSessionDuration: aws.Int32(7200)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("shop-dev-web"), PolicyDocument: aws.String(accountTrust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("shop-dev-web"), Tags: []types.Tag{{Key: aws.String("SECRETBOOT:STAGE"), Value: aws.String("prod")}, {Key: aws.String("team"), Value: aws.String("a")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("shop-dev-web"), TagKeys: []string{"Team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("shop-dev-web")}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("shop-dev-web")})
	if err != nil {
		t.Fatal(err)
	}
	want = view{Name: "shop-dev-web", Path: "/secretboot/shop/dev/", Description: "new", MaxSession: 7200,
		Tags: []string{"secretboot:project=shop", "SECRETBOOT:STAGE=prod"}}
	if diff := cmp.Diff(want, viewOf(got.Role)); diff != "" {
		t.Errorf("GetRole after updates (-want +got):\n%s", diff)
	}
	if doc := decode(t, got.Role.AssumeRolePolicyDocument); doc != accountTrust {
		t.Errorf("trust after update = %s", doc)
	}
	tags, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("shop-dev-web")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 2 || tags.IsTruncated || tags.Marker != nil {
		t.Errorf("ListRoleTags = %d tags, truncated %v, marker %v", len(tags.Tags), tags.IsTruncated, tags.Marker)
	}

	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("shop-dev-web")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("shop-dev-web")})
	wantAPIError(t, err, "NoSuchEntity", http.StatusNotFound)
	if !isType[*types.NoSuchEntityException](err) {
		t.Errorf("error %T is not *types.NoSuchEntityException", err)
	}
}

func tagsN(n int) []types.Tag {
	var out []types.Tag
	for i := range n {
		out = append(out, types.Tag{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String("v")})
	}
	return out
}

func TestRoleErrors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	mustCreateRole(t, c, "existing", "/", ec2Trust)
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("existing"), Tags: tagsN(50)}); err != nil {
		t.Fatal(err)
	}
	create := func(mod func(*iam.CreateRoleInput)) func() error {
		return func() error {
			in := &iam.CreateRoleInput{RoleName: aws.String("new-role"), AssumeRolePolicyDocument: aws.String(ec2Trust)}
			mod(in)
			_, err := c.CreateRole(ctx, in)
			return err
		}
	}
	bigTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[` +
		strings.TrimSuffix(strings.Repeat(`"arn:aws:iam::000000000000:role/r0123456789",`, 50), ",") + `]},"Action":"sts:AssumeRole"}]}`
	tests := []struct {
		name   string
		call   func() error
		code   string
		status int
		typed  func(error) bool
	}{
		{"duplicate ignoring case", create(func(in *iam.CreateRoleInput) { in.RoleName = aws.String("EXISTING") }),
			"EntityAlreadyExists", 409, isType[*types.EntityAlreadyExistsException]},
		{"name with space", create(func(in *iam.CreateRoleInput) { in.RoleName = aws.String("a b") }), "ValidationError", 400, nil},
		{"name too long", create(func(in *iam.CreateRoleInput) { in.RoleName = aws.String(strings.Repeat("a", 65)) }), "ValidationError", 400, nil},
		{"bad path", create(func(in *iam.CreateRoleInput) { in.Path = aws.String("no-slashes") }), "ValidationError", 400, nil},
		{"description too long", create(func(in *iam.CreateRoleInput) { in.Description = aws.String(strings.Repeat("d", 1001)) }), "ValidationError", 400, nil},
		{"51 tags", create(func(in *iam.CreateRoleInput) { in.Tags = tagsN(51) }), "ValidationError", 400, nil},
		{"aws: tag prefix", create(func(in *iam.CreateRoleInput) {
			in.Tags = []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}
		}), "InvalidInput", 400, isType[*types.InvalidInputException]},
		{"duplicate tag keys", create(func(in *iam.CreateRoleInput) {
			in.Tags = []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("K"), Value: aws.String("2")}}
		}), "InvalidInput", 400, isType[*types.InvalidInputException]},
		{"malformed trust JSON", create(func(in *iam.CreateRoleInput) { in.AssumeRolePolicyDocument = aws.String(`{"Version":`) }),
			"MalformedPolicyDocument", 400, isType[*types.MalformedPolicyDocumentException]},
		{"trust with Resource", create(func(in *iam.CreateRoleInput) {
			in.AssumeRolePolicyDocument = aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`)
		}), "MalformedPolicyDocument", 400, isType[*types.MalformedPolicyDocumentException]},
		{"trust over 2048", create(func(in *iam.CreateRoleInput) { in.AssumeRolePolicyDocument = aws.String(bigTrust) }),
			"LimitExceeded", 409, isType[*types.LimitExceededException]},
		{"unknown boundary", create(func(in *iam.CreateRoleInput) {
			in.PermissionsBoundary = aws.String("arn:aws:iam::000000000000:policy/none")
		}),
			"InvalidInput", 400, isType[*types.InvalidInputException]},
		{"max session out of range", create(func(in *iam.CreateRoleInput) { in.MaxSessionDuration = aws.Int32(100) }), "ValidationError", 400, nil},
		{"get missing", func() error {
			_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("missing")})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"update trust missing role", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("missing"), PolicyDocument: aws.String(ec2Trust)})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"update trust malformed", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("existing"), PolicyDocument: aws.String("[]")})
			return err
		}, "MalformedPolicyDocument", 400, isType[*types.MalformedPolicyDocumentException]},
		{"update trust too large", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("existing"), PolicyDocument: aws.String(bigTrust)})
			return err
		}, "LimitExceeded", 409, isType[*types.LimitExceededException]},
		{"51st tag", func() error {
			_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("existing"), Tags: []types.Tag{{Key: aws.String("one-more"), Value: aws.String("v")}}})
			return err
		}, "LimitExceeded", 409, isType[*types.LimitExceededException]},
		{"tag missing role", func() error {
			_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("missing"), Tags: tagsN(1)})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"delete missing", func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("missing")})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantAPIError(t, err, tt.code, tt.status)
			if tt.typed != nil && !tt.typed(err) {
				t.Errorf("error %v does not have the SDK's typed exception", err)
			}
		})
	}
}

func TestListRolesPaginator(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	for _, n := range []string{"e", "B", "a", "d", "c"} {
		mustCreateRole(t, c, n, "/app/", ec2Trust)
	}
	mustCreateRole(t, c, "other", "/elsewhere/", ec2Trust)
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("a"), Tags: tagsN(1)}); err != nil {
		t.Fatal(err)
	}

	var pages [][]string
	p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{PathPrefix: aws.String("/app/"), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range out.Roles {
			names = append(names, aws.ToString(r.RoleName))
			if r.Tags != nil || r.PermissionsBoundary != nil {
				t.Errorf("ListRoles returned Tags or PermissionsBoundary for %s", aws.ToString(r.RoleName))
			}
		}
		if !out.IsTruncated && out.Marker != nil {
			t.Errorf("last page has Marker %q", aws.ToString(out.Marker))
		}
		pages = append(pages, names)
	}
	want := [][]string{{"a", "B"}, {"c", "d"}, {"e"}}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}

	all, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Roles) != 6 || all.IsTruncated || all.Marker != nil {
		t.Errorf("ListRoles without prefix: %d roles, truncated %v", len(all.Roles), all.IsTruncated)
	}
	_, err = c.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1001)})
	wantAPIError(t, err, "ValidationError", 400)
	_, err = c.ListRoles(ctx, &iam.ListRolesInput{Marker: aws.String("%%%")})
	wantAPIError(t, err, "ValidationError", 400)
}

func TestInlinePolicies(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	mustCreateRole(t, c, "web", "/", ec2Trust)
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"secretsmanager:GetSecretValue\",\n    \"Resource\": \"arn:aws:secretsmanager:us-east-1:000000000000:secret:dev/app+db=1@x-??????\"}]\n}\n"
	for _, name := range []string{"secretboot-read", "another"} {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("secretboot-read")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(doc, decode(t, got.PolicyDocument)); diff != "" {
		t.Errorf("document round trip (-want +got):\n%s", diff)
	}
	list, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"another", "secretboot-read"}, list.PolicyNames); diff != "" {
		t.Errorf("ListRolePolicies (-want +got):\n%s", diff)
	}
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("another")}); err != nil {
		t.Fatal(err)
	}

	// A document of n non-whitespace characters: whitespace padding must
	// not count, as in IAM.
	sized := func(n int) string {
		base := allowDoc("s3:GetObject", "arn:aws:s3:::")
		d := allowDoc("s3:GetObject", "arn:aws:s3:::"+strings.Repeat("x", n-len(base)))
		return strings.Replace(d, ",", ",      \n", -1)
	}
	used := len(strings.Join(strings.Fields(doc), ""))
	put := func(name, d string) error {
		_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String(name), PolicyDocument: aws.String(d)})
		return err
	}
	if err := put("fits", sized(10240-used)); err != nil {
		t.Fatalf("policy that exactly fills the 10,240 aggregate: %v", err)
	}
	err = put("over", allowDoc("s3:GetObject", "*"))
	wantAPIError(t, err, "LimitExceeded", 409)
	if err == nil || !strings.Contains(err.Error(), "Maximum policy size of 10240 bytes exceeded for role web") {
		t.Errorf("error %v lacks IAM's message", err)
	}
	if !isType[*types.LimitExceededException](err) {
		t.Errorf("error %T is not *types.LimitExceededException", err)
	}
	// Replacing a policy counts the new version only.
	if err := put("fits", sized(10240-used)); err != nil {
		t.Errorf("replacing a policy with one of the same size: %v", err)
	}

	tests := []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"malformed", func() error { return put("bad", `{"Statement":[{"Effect":"Maybe"}]}`) }, "MalformedPolicyDocument", 400},
		{"principal in identity policy", func() error {
			return put("bad", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)
		}, "MalformedPolicyDocument", 400},
		{"no resource", func() error {
			return put("bad", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`)
		}, "MalformedPolicyDocument", 400},
		{"policy name too long", func() error { return put(strings.Repeat("p", 129), doc) }, "ValidationError", 400},
		{"get missing policy", func() error {
			_, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("nope")})
			return err
		}, "NoSuchEntity", 404},
		{"delete missing policy", func() error {
			_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("nope")})
			return err
		}, "NoSuchEntity", 404},
		{"put on missing role", func() error {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("nope"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
			return err
		}, "NoSuchEntity", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, tt.call(), tt.code, tt.status)
		})
	}
}

func TestDeleteRoleConflicts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	mustCreateRole(t, c, "web", "/", ec2Trust)
	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(allowDoc("s3:GetObject", "*"))})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		setup func() error
		undo  func() error
	}{
		{"inline policy",
			func() error {
				_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowDoc("s3:*", "*"))})
				return err
			},
			func() error {
				_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("p")})
				return err
			}},
		{"attached policy",
			func() error {
				_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: pol.Policy.Arn})
				return err
			},
			func() error {
				_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: pol.Policy.Arn})
				return err
			}},
		{"instance profile",
			func() error {
				if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}); err != nil {
					return err
				}
				_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})
				return err
			},
			func() error {
				_, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})
				return err
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.setup(); err != nil {
				t.Fatal(err)
			}
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
			wantAPIError(t, err, "DeleteConflict", 409)
			if !isType[*types.DeleteConflictException](err) {
				t.Errorf("error %T is not *types.DeleteConflictException", err)
			}
			if err := st.undo(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")}); err != nil {
		t.Fatalf("DeleteRole after clean-up: %v", err)
	}
}
