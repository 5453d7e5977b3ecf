package iam

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
)

func TestManagedPolicies(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	mustCreateRole(t, c, "web", "/", ec2Trust)
	doc := allowDoc("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:000000000000:secret:a-??????")
	created, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("web-read-1"), Path: aws.String("/secretboot/shop/dev/"), PolicyDocument: aws.String(doc),
		Description: aws.String("split read policy"),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := created.Policy.Arn
	if want := "arn:aws:iam::000000000000:policy/secretboot/shop/dev/web-read-1"; aws.ToString(arn) != want {
		t.Errorf("Arn = %s, want %s", aws.ToString(arn), want)
	}
	if id := aws.ToString(created.Policy.PolicyId); len(id) != 21 || id[:4] != "ANPA" {
		t.Errorf("PolicyId = %s", id)
	}
	if aws.ToString(created.Policy.DefaultVersionId) != "v1" {
		t.Errorf("DefaultVersionId = %s", aws.ToString(created.Policy.DefaultVersionId))
	}

	for i := 2; i <= 5; i++ {
		v, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
			PolicyArn: arn, PolicyDocument: aws.String(allowDoc("s3:GetObject", fmt.Sprintf("arn:aws:s3:::b%d/*", i))), SetAsDefault: i == 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(v.PolicyVersion.VersionId); got != fmt.Sprintf("v%d", i) {
			t.Errorf("VersionId = %s, want v%d", got, i)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(doc)})
	wantAPIError(t, err, "LimitExceeded", 409)

	var versions []string
	pg := iam.NewListPolicyVersionsPaginator(c, &iam.ListPolicyVersionsInput{PolicyArn: arn, MaxItems: aws.Int32(2)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			versions = append(versions, fmt.Sprintf("%s:%v", aws.ToString(v.VersionId), v.IsDefaultVersion))
		}
	}
	if diff := cmp.Diff([]string{"v5:false", "v4:false", "v3:true", "v2:false", "v1:false"}, versions); diff != "" {
		t.Errorf("ListPolicyVersions (-want +got):\n%s", diff)
	}
	v1, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(doc, decode(t, v1.PolicyVersion.Document)); diff != "" {
		t.Errorf("version document round trip (-want +got):\n%s", diff)
	}
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v3")})
	wantAPIError(t, err, "DeleteConflict", 409)
	if _, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v5")}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		if _, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String(v)}); err != nil {
			t.Fatalf("DeletePolicyVersion %s: %v", v, err)
		}
	}
	v6, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(doc)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v6.PolicyVersion.VersionId) != "v6" {
		t.Errorf("version numbers are reused: got %s, want v6", aws.ToString(v6.PolicyVersion.VersionId))
	}

	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: arn}); err != nil {
		t.Fatalf("attaching twice: %v", err)
	}
	got, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(got.Policy.AttachmentCount) != 1 || aws.ToString(got.Policy.DefaultVersionId) != "v5" || aws.ToString(got.Policy.Description) != "split read policy" {
		t.Errorf("GetPolicy = count %d default %s description %q", aws.ToInt32(got.Policy.AttachmentCount), aws.ToString(got.Policy.DefaultVersionId), aws.ToString(got.Policy.Description))
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn})
	wantAPIError(t, err, "DeleteConflict", 409)

	attached, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if len(attached.AttachedPolicies) != 1 || aws.ToString(attached.AttachedPolicies[0].PolicyName) != "web-read-1" {
		t.Errorf("ListAttachedRolePolicies = %+v", attached.AttachedPolicies)
	}
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn})
	wantAPIError(t, err, "DeleteConflict", 409) // v5 and v6 remain
	if _, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v6")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
	wantAPIError(t, err, "NoSuchEntity", 404)
}

func TestPolicyErrors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	mustCreateRole(t, c, "web", "/", ec2Trust)
	var arns []*string
	for i := range 11 {
		out, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%02d", i)), PolicyDocument: aws.String(allowDoc("s3:GetObject", "*"))})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, out.Policy.Arn)
	}
	for _, arn := range arns[:10] {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: arn}); err != nil {
			t.Fatal(err)
		}
	}
	// 6,145 non-whitespace characters.
	base := allowDoc("s3:GetObject", "arn:aws:s3:::")
	tooBig := allowDoc("s3:GetObject", "arn:aws:s3:::"+strings.Repeat("x", 6145-len(base)))
	const admin = "arn:aws:iam::aws:policy/AdministratorAccess"
	tests := []struct {
		name   string
		call   func() error
		code   string
		status int
		typed  func(error) bool
	}{
		{"11th attachment", func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: arns[10]})
			return err
		}, "LimitExceeded", 409, isType[*types.LimitExceededException]},
		{"managed policy over 6144", func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(tooBig)})
			return err
		}, "LimitExceeded", 409, isType[*types.LimitExceededException]},
		{"version over 6144", func() error {
			_, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arns[0], PolicyDocument: aws.String(tooBig)})
			return err
		}, "LimitExceeded", 409, isType[*types.LimitExceededException]},
		{"duplicate name", func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("P00"), PolicyDocument: aws.String(allowDoc("s3:*", "*"))})
			return err
		}, "EntityAlreadyExists", 409, isType[*types.EntityAlreadyExistsException]},
		{"malformed", func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("m"), PolicyDocument: aws.String("not json")})
			return err
		}, "MalformedPolicyDocument", 400, isType[*types.MalformedPolicyDocumentException]},
		{"attach missing policy", func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String("arn:aws:iam::000000000000:policy/nope")})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"detach not attached", func() error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: arns[10]})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"missing version", func() error {
			_, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arns[0], VersionId: aws.String("v9")})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"wrong path in ARN", func() error {
			_, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::000000000000:policy/x/p00")})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"delete AWS managed", func() error {
			_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(admin)})
			return err
		}, "AccessDenied", 403, nil},
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

	// The AWS managed administrator policy can be read and attached.
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: arns[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String(admin)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(admin)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(got.Policy.AttachmentCount) != 1 {
		t.Errorf("AdministratorAccess AttachmentCount = %d, want 1", aws.ToInt32(got.Policy.AttachmentCount))
	}
}
