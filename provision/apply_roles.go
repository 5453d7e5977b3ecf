package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/spec"
)

func (a *applier) desiredRole(name string) *spec.Role {
	for _, r := range a.d.Roles {
		if r.Name == name || !r.Managed() && roleNameFromARN(r.External) == name {
			return r
		}
	}
	return nil
}

func (a *applier) role(ctx context.Context, c Change) error {
	iamc := a.s.IAM
	if c.Action == ActionDelete {
		return a.deleteRole(ctx, c)
	}
	var r *spec.Role
	for _, sr := range a.d.Roles {
		if sr.Managed() && sr.Name == c.Name {
			r = sr
		}
	}
	if r == nil {
		return fmt.Errorf("role %s is in the plan but not in the spec", c.Name)
	}
	rd := a.in.role(r.Key)
	if rd.trustErr != nil {
		return rd.trustErr
	}
	trust := string(rd.Trust.Compact())
	if c.Action == ActionCreate {
		return a.createRole(ctx, r, trust)
	}
	if err := a.convergeRole(ctx, r.Name, c.Role); err != nil {
		return err
	}
	if c.Role.Description != nil {
		if _, err := iamc.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(r.Name), Description: aws.String(r.Description)}); err != nil {
			return wrap(err, "updating role", r.Name)
		}
	}
	if c.Role.Trust != nil {
		if _, err := iamc.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(r.Name), PolicyDocument: aws.String(trust)}); err != nil {
			return wrap(err, "updating trust policy of role", r.Name)
		}
	}
	return nil
}

// deleteRole deletes a managed role, once the drift IAM refuses to delete
// it with is gone.
func (a *applier) deleteRole(ctx context.Context, c Change) error {
	if err := a.detachForeign(ctx, c.Name, c.Role.Detach); err != nil {
		return err
	}
	if err := a.deleteOtherInline(ctx, c.Name, c.Role.DeleteInline); err != nil {
		return err
	}
	_, err := a.s.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(c.Name)})
	if isNotFound(err) {
		return nil
	}
	return wrap(err, "deleting role", c.Name)
}

// createRole creates a managed role with the intent's trust policy and the
// stage's boundary.
func (a *applier) createRole(ctx context.Context, r *spec.Role, trust string) error {
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(r.Name),
		Path:                     aws.String(RolePath(a.d)),
		AssumeRolePolicyDocument: aws.String(trust),
	}
	if r.Description != "" {
		in.Description = aws.String(r.Description)
	}
	// Every managed role carries the stage's boundary, which the
	// deployer policy makes a condition of creating it.
	in.PermissionsBoundary = aws.String(a.in.Boundary)
	tags := ownerTags(a.d)
	for k, v := range r.Tags {
		tags[k] = v
	}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := a.s.IAM.CreateRole(ctx, in)
	if apiCode(err) == "EntityAlreadyExists" {
		return a.roleCreatedMeanwhile(ctx, r.Name, err)
	}
	return wrap(err, "creating role", r.Name)
}

func (a *applier) profile(ctx context.Context, c Change) error {
	iamc := a.s.IAM
	name := aws.String(c.Name)
	remove := []string{c.Profile.RemoveRole}
	if c.Action == ActionCreate {
		tags := ownerTags(a.d)
		in := &iam.CreateInstanceProfileInput{InstanceProfileName: name, Path: aws.String(RolePath(a.d))}
		for _, k := range sortedKeys(tags) {
			in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		}
		_, err := iamc.CreateInstanceProfile(ctx, in)
		if apiCode(err) == "EntityAlreadyExists" {
			roles, perr := a.profileCreatedMeanwhile(ctx, c.Name, err)
			if perr != nil {
				return perr
			}
			if contains(roles, c.Profile.AddRole) {
				return nil
			}
			remove = roles // a profile holds one role: make room
		} else if err != nil {
			return wrap(err, "creating instance profile", c.Name)
		}
	}
	for _, rr := range remove {
		if rr == "" {
			continue
		}
		_, err := iamc.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: name, RoleName: aws.String(rr)})
		if err != nil && !isNotFound(err) {
			return wrap(err, "removing role "+rr+" from instance profile", c.Name)
		}
	}
	if c.Action == ActionDelete {
		_, err := iamc.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: name})
		if isNotFound(err) {
			return nil
		}
		return wrap(err, "deleting instance profile", c.Name)
	}
	if ar := c.Profile.AddRole; ar != "" {
		return a.propagating(ctx, "adding role "+ar+" to instance profile "+c.Name, func() error {
			_, err := iamc.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: name, RoleName: aws.String(ar)})
			return err
		})
	}
	return nil
}

// roleCreatedMeanwhile handles CreateRole's EntityAlreadyExists, which
// only a race explains: plan saw no role of the name in the account (the
// account-wide listing) or found none by name. A role under the stage's
// path that carries the stage's tags was created since by another apply,
// or a listing lagged, and is accepted: its trust policy and description
// are what the next plan compares. One elsewhere, or untagged, is not
// secretboot's and is not touched; nothing that depends on it is placed.
func (a *applier) roleCreatedMeanwhile(ctx context.Context, name string, createErr error) error {
	role, err := getRole(ctx, a.s.IAM, name)
	if err != nil {
		return wrap(err, "reading role (it exists although the plan said it did not)", name)
	}
	if path := aws.ToString(role.Path); path != RolePath(a.d) {
		return fmt.Errorf("creating role %s: a role of that name was created outside secretboot's path (%s) after the plan was made; it is not touched: %w", name, path, createErr)
	}
	tags := map[string]string{}
	for _, t := range role.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if !ownedBy(tags, a.d) {
		return fmt.Errorf("creating role %s: %w", name, &ClashError{Other: []string{unownedRole(a.d, name)}})
	}
	return nil
}

// profileCreatedMeanwhile accepts an instance profile that exists under the
// stage's path and returns the roles it holds.
func (a *applier) profileCreatedMeanwhile(ctx context.Context, name string, createErr error) ([]string, error) {
	ip, err := getInstanceProfile(ctx, a.s.IAM, name)
	if err != nil {
		return nil, wrap(err, "reading instance profile (it exists although the plan said it did not)", name)
	}
	if path := aws.ToString(ip.Path); path != RolePath(a.d) {
		return nil, fmt.Errorf("creating instance profile %s: one of that name was created outside secretboot's path (%s) after the plan was made; it is not touched: %w", name, path, createErr)
	}
	var roles []string
	for _, r := range ip.Roles {
		roles = append(roles, aws.ToString(r.RoleName))
	}
	return roles, nil
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

// ensureBoundary makes sure that the stage's boundary exists before apply
// creates a role that must carry it or sets it on an existing role: one
// GetPolicy, and a CreatePolicy when it is missing. The deployer policy forbids that CreatePolicy (a
// deployer that wrote the boundary could write it as "*:*"), so a deployer
// session needs the boundary installed by an administrator, which the
// error says; a session that may create it (an administrator's, the
// sandbox's) creates it here. An existing boundary is the administrator's
// and is not compared.
func ensureBoundary(ctx context.Context, s *Session, d *spec.Desired, account string, p *Plan) error {
	creates := false
	for _, c := range p.Changes {
		creates = creates || (c.Kind == KindRole && (c.Action == ActionCreate || c.Role != nil && c.Role.Boundary != nil))
	}
	if !creates {
		return nil
	}
	b := stageBoundary(d, account)
	_, err := s.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(b.ARN)})
	if !isNotFound(err) {
		return wrap(err, "reading the stage's permissions boundary", b.ARN)
	}
	_, err = s.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String(b.Name), Path: aws.String(b.Path), PolicyDocument: aws.String(string(b.Document.Compact())),
		Description: aws.String("secretboot permissions boundary of " + d.Project + "/" + d.Stage + ": every role of the stage carries it"),
	})
	switch {
	case isAccessDenied(err):
		return fmt.Errorf("the stage's permissions boundary %s is not installed, and these credentials may not create it (as the deployer policy intends); an administrator installs it once: secretboot policy -deployer -json prints it (docs/security.md): %w", b.ARN, err)
	case apiCode(err) == "EntityAlreadyExists":
		return nil // a concurrent apply created it
	}
	return wrap(err, "creating the stage's permissions boundary", b.ARN)
}
