package provision

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/spec"
)

// Role convergence beyond the description and trust that ListRoles shows:
// a managed role's permissions boundary and tags, which only GetRole
// returns. Observing them costs one GetRole per existing managed role of
// the spec per plan (IAM has no batch read by path: GetAccountAuthorization
// Details lists the whole account); roles the spec drops are deleted and
// not read.

// roleDetails fills in or's boundary and tags from a GetRole answer.
func roleDetails(or *ObservedRole, r *iamtypes.Role) {
	or.Detailed = true
	or.Boundary = ""
	if r.PermissionsBoundary != nil {
		or.Boundary = aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn)
	}
	or.Tags = map[string]string{}
	for _, t := range r.Tags {
		or.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
}

// observeRoleDetails reads the boundary and tags of a managed role that
// the listing showed.
func observeRoleDetails(ctx context.Context, s *Session, or *ObservedRole) error {
	if or.Detailed {
		return nil
	}
	r, err := getRole(ctx, s.IAM, or.Name)
	if err != nil {
		return wrap(err, "reading role", or.Name)
	}
	roleDetails(or, r)
	return nil
}

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

// convergeRole sets a managed role's boundary and tags as the plan says.
// The boundary comes first: the deployer may write a role's policies only
// once it carries the stage's boundary.
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
	return nil
}
