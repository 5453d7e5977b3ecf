package provision

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/spec"
)

// desiredRoleTags are the tags a managed role carries: the spec's and
// the ownership tags, which the spec cannot override.
func desiredRoleTags(d *spec.Desired, r *spec.Role) map[string]string {
	tags := map[string]string{}
	for k, v := range r.Tags {
		tags[k] = v
	}
	for k, v := range ownerTags(d) {
		tags[k] = v
	}
	return tags
}

// roleDrift compares the boundary and tags of an existing managed role with
// what it should carry; nil and nil when they match.
func roleDrift(d *spec.Desired, r *spec.Role, or *ObservedRole, account string) (*ValueChange, []TagChange) {
	var boundary *ValueChange
	if want := BoundaryARN(d, account); or.Boundary != want {
		boundary = &ValueChange{Old: or.Boundary, New: want}
	}
	return boundary, tagChanges(or.Tags, desiredRoleTags(d, r))
}

// detachForeign detaches the managed policies that the plan found attached
// to a managed role besides its parts: as drift, and before the role is
// deleted, which IAM refuses while any is attached (DeleteConflict).
func (a *applier) detachForeign(ctx context.Context, name string, arns []string) error {
	for _, arn := range arns {
		_, err := a.s.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)})
		if err != nil && !isNotFound(err) {
			return wrap(err, "detaching "+arn+" from role", name)
		}
	}
	return nil
}

// convergeRole sets a managed role's boundary and tags as the plan says
// and detaches foreign managed policies. The boundary comes first: the
// deployer may write a role's policies only once it carries the stage's
// boundary.
func (a *applier) convergeRole(ctx context.Context, name string, rc *RoleChange) error {
	iamc := a.s.IAM
	if rc.Boundary != nil {
		if _, err := iamc.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(name), PermissionsBoundary: aws.String(rc.Boundary.New)}); err != nil {
			return wrap(err, "setting the permissions boundary of role", name)
		}
	}
	var tags []iamtypes.Tag
	var untag []string
	for _, t := range rc.Tags {
		if t.Removed {
			untag = append(untag, t.Key)
		} else {
			tags = append(tags, iamtypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.New)})
		}
	}
	if len(tags) > 0 {
		if _, err := iamc.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(name), Tags: tags}); err != nil {
			return wrap(err, "tagging role", name)
		}
	}
	if len(untag) > 0 {
		if _, err := iamc.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String(name), TagKeys: untag}); err != nil {
			return wrap(err, "untagging role", name)
		}
	}
	if err := a.deleteOtherInline(ctx, name, rc.DeleteInline); err != nil {
		return err
	}
	return a.detachForeign(ctx, name, rc.Detach)
}

// deleteOtherInline deletes inline policies that the plan found on a
// managed role besides its read policy: as drift, and before the role is
// deleted, which IAM refuses while any is there (DeleteConflict). The
// deployer may, on a role that carries the stage's boundary.
func (a *applier) deleteOtherInline(ctx context.Context, name string, policies []string) error {
	for _, pn := range policies {
		_, err := a.s.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil && !isNotFound(err) {
			return wrap(err, "deleting inline policy "+pn+" of role", name)
		}
	}
	return nil
}
