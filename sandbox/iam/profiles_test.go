package iam

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
)

func TestInstanceProfiles(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	mustCreateRole(t, c, "web", "/secretboot/shop/dev/", ec2Trust)
	mustCreateRole(t, c, "worker", "/", ec2Trust)
	for _, p := range []struct{ name, path string }{{"web", "/secretboot/shop/dev/"}, {"batch", "/secretboot/shop/dev/"}, {"other", "/"}} {
		out, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
			InstanceProfileName: aws.String(p.name), Path: aws.String(p.path),
			Tags: []types.Tag{{Key: aws.String("secretboot:stage"), Value: aws.String("dev")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := "arn:aws:iam::000000000000:instance-profile" + p.path + p.name; aws.ToString(out.InstanceProfile.Arn) != want {
			t.Errorf("Arn = %s, want %s", aws.ToString(out.InstanceProfile.Arn), want)
		}
		if id := aws.ToString(out.InstanceProfile.InstanceProfileId); len(id) != 21 || id[:4] != "AIPA" {
			t.Errorf("InstanceProfileId = %s", id)
		}
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("WEB")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.InstanceProfile.Roles) != 1 || aws.ToString(got.InstanceProfile.Roles[0].RoleName) != "web" {
		t.Fatalf("profile roles = %+v", got.InstanceProfile.Roles)
	}
	if decode(t, got.InstanceProfile.Roles[0].AssumeRolePolicyDocument) != ec2Trust {
		t.Errorf("role trust policy inside the profile does not round-trip")
	}

	names := func(ps []types.InstanceProfile) []string {
		var out []string
		for _, p := range ps {
			out = append(out, aws.ToString(p.InstanceProfileName))
		}
		return out
	}
	var listed []string
	pg := iam.NewListInstanceProfilesPaginator(c, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/secretboot/"), MaxItems: aws.Int32(1)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, names(out.InstanceProfiles)...)
	}
	if diff := cmp.Diff([]string{"batch", "web"}, listed); diff != "" {
		t.Errorf("ListInstanceProfiles (-want +got):\n%s", diff)
	}
	forRole, err := c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web"}, names(forRole.InstanceProfiles)); diff != "" {
		t.Errorf("ListInstanceProfilesForRole (-want +got):\n%s", diff)
	}

	if _, err := c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("web"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("web"), TagKeys: []string{"secretboot:stage"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "a" {
		t.Errorf("tags = %+v", tags.Tags)
	}

	tests := []struct {
		name   string
		call   func() error
		code   string
		status int
		typed  func(error) bool
	}{
		{"second role", func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("worker")})
			return err
		}, "LimitExceeded", 409, isType[*types.LimitExceededException]},
		{"duplicate profile", func() error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("Web")})
			return err
		}, "EntityAlreadyExists", 409, isType[*types.EntityAlreadyExistsException]},
		{"delete with role", func() error {
			_, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")})
			return err
		}, "DeleteConflict", 409, isType[*types.DeleteConflictException]},
		{"add missing role", func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("batch"), RoleName: aws.String("nope")})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"remove role not in profile", func() error {
			_, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("batch"), RoleName: aws.String("web")})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"get missing", func() error {
			_, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nope")})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"for missing role", func() error {
			_, err := c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("nope")})
			return err
		}, "NoSuchEntity", 404, isType[*types.NoSuchEntityException]},
		{"name too long", func() error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(string(make([]byte, 129)))})
			return err
		}, "ValidationError", 400, nil},
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

	if _, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")})
	wantAPIError(t, err, "NoSuchEntity", 404)
}
