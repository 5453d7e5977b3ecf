package provision

import (
	"fmt"

	"github.com/secretboot/secretboot/spec"
)

// roles compares each managed role with its intent, and lists the roles
// under the stage's path that are going away.
func (df *differ) roles() {
	d, o := df.d, df.o
	want := map[string]bool{}
	for _, r := range d.Roles {
		if !r.Managed() {
			if o.External[r.Key] == nil && !df.opts.Destroy {
				df.clash.Other = append(df.clash.Other, fmt.Sprintf("external role %s (%s) does not exist or cannot be read", r.Key, r.External))
			}
			continue
		}
		want[r.Name] = true
		if arn, ok := o.RoleClashes[r.Name]; ok {
			df.clash.Roles = append(df.clash.Roles, r.Name+" ("+arn+")")
			continue
		}
		if df.opts.Destroy {
			continue
		}
		or := o.Roles[r.Name]
		if or != nil && or.Detailed && !ownedBy(or.Tags, d) {
			df.clash.Other = append(df.clash.Other, unownedRole(d, r.Name)+"; an administrator tags it so for secretboot to manage it, or deletes it")
			continue
		}
		rd := df.in.role(r.Key)
		if rd.trustErr != nil {
			df.errs = append(df.errs, rd.trustErr)
			continue
		}
		if c, ok := df.roleChange(r, or, string(rd.Trust.Canonical())); ok {
			df.add(c)
		}
	}
	// Deletions are added in profiles(), once policy and profile removals
	// they depend on are known.
	df.staleRoles = nil
	for _, name := range sortedKeys(o.Roles) {
		if want[name] && !df.opts.Destroy {
			continue
		}
		if or := o.Roles[name]; or.Detailed && !ownedBy(or.Tags, d) {
			df.warnings = append(df.warnings, unownedRole(d, name)+"; it is not deleted: an administrator deletes it, or tags it so for secretboot to delete it")
			continue
		}
		df.staleRoles = append(df.staleRoles, name)
	}
	// Below the stage's path the deployer policy denies every IAM call,
	// so the role is reported, never touched, by any session: telling an
	// administrator's role there from a forgotten one is the
	// administrator's call.
	for _, name := range sortedKeys(o.Deeper) {
		df.warnings = append(df.warnings, fmt.Sprintf("role %s (%s) lies below the stage's path %s, where secretboot's deployer may not touch anything: only an administrator can remove it, and secretboot never does",
			name, o.Deeper[name], RolePath(d)))
	}
}

// roleChange compares a managed role the spec keeps with what exists (or,
// nil when it does not) and the trust policy it should have; false when
// they match.
func (df *differ) roleChange(r *spec.Role, or *ObservedRole, trust string) (Change, bool) {
	if or == nil {
		return Change{Kind: KindRole, Name: r.Name, Action: ActionCreate, Role: &RoleChange{
			Services: servicesOf(r), Description: nonEmpty(r.Description), Trust: &ValueChange{New: trust}, InstanceProfile: r.InstanceProfile,
		}}, true
	}
	rc := &RoleChange{ARN: or.ARN, Services: servicesOf(r), InstanceProfile: r.InstanceProfile}
	changed := false
	if or.Description != r.Description {
		rc.Description = &ValueChange{Old: or.Description, New: r.Description}
		changed = true
	}
	if live := df.o.canonical(or.Trust); live != trust {
		rc.Trust = &ValueChange{Old: live, New: trust}
		changed = true
	}
	if or.Detailed {
		rc.Boundary, rc.Tags = roleDrift(df.d, r, or, df.in.Boundary)
		changed = changed || rc.Boundary != nil || len(rc.Tags) > 0
	}
	if len(or.ForeignARNs) > 0 {
		rc.Detach = or.ForeignARNs
		changed = true
	}
	if len(or.OtherInline) > 0 {
		rc.DeleteInline = or.OtherInline
		changed = true
	}
	return Change{Kind: KindRole, Name: r.Name, Action: ActionUpdate, Role: rc}, changed
}

// unownedRole describes a role at the stage's path without the stage's
// ownership tags, which every role secretboot creates carries.
func unownedRole(d *spec.Desired, name string) string {
	return fmt.Sprintf("role %s is at the stage's path but not tagged as part of this stage (%s=%s, %s=%s), so secretboot did not create it and neither changes nor deletes it",
		name, TagProject, d.Project, TagStage, d.Stage)
}

func servicesOf(r *spec.Role) []string {
	if len(r.Services) == 0 && len(r.Workloads) == 0 {
		return []string{"ec2.amazonaws.com"}
	}
	return r.Services
}

func nonEmpty(s string) *ValueChange {
	if s == "" {
		return nil
	}
	return &ValueChange{New: s}
}

func (df *differ) profiles() {
	d, o := df.d, df.o
	want := map[string]bool{}
	if !df.opts.Destroy {
		for _, r := range d.Roles {
			if !r.Managed() || !r.InstanceProfile || o.RoleClashes[r.Name] != "" {
				continue
			}
			if arn, ok := o.ProfileClashes[r.Name]; ok {
				df.clash.Other = append(df.clash.Other, fmt.Sprintf(
					"instance profile %s exists outside secretboot's path (%s); rename the role in the spec, or delete the existing instance profile", r.Name, arn))
				continue
			}
			want[r.Name] = true
			p := o.Profiles[r.Name]
			switch {
			case p == nil:
				df.add(Change{Kind: KindInstanceProfile, Name: r.Name, Action: ActionCreate, DependsOn: df.dep(KindRole, r.Name),
					Profile: &ProfileChange{AddRole: r.Name}})
			case !contains(p.Roles, r.Name):
				pc := &ProfileChange{AddRole: r.Name}
				if len(p.Roles) > 0 {
					pc.RemoveRole = p.Roles[0] // a profile holds at most one role
				}
				df.add(Change{Kind: KindInstanceProfile, Name: r.Name, Action: ActionUpdate, DependsOn: df.dep(KindRole, r.Name), Profile: pc})
			}
		}
	}
	for _, name := range sortedKeys(o.Profiles) {
		if want[name] {
			continue
		}
		pc := &ProfileChange{}
		if p := o.Profiles[name]; len(p.Roles) > 0 {
			pc.RemoveRole = p.Roles[0]
		}
		df.add(Change{Kind: KindInstanceProfile, Name: name, Action: ActionDelete, Profile: pc})
	}
	for _, name := range df.staleRoles {
		or := o.Roles[name]
		c := Change{Kind: KindRole, Name: name, Action: ActionDelete, Role: &RoleChange{ARN: or.ARN, Detach: or.ForeignARNs, DeleteInline: or.OtherInline}}
		c.DependsOn = append(c.DependsOn, df.dep(KindRolePolicy, name+"/"+ReadPolicyName)...)
		for _, pn := range sortedKeys(o.Profiles) {
			if contains(o.Profiles[pn].Roles, name) {
				c.DependsOn = append(c.DependsOn, df.dep(KindInstanceProfile, pn)...)
			}
		}
		df.add(c)
	}
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
func roleDrift(d *spec.Desired, r *spec.Role, or *ObservedRole, want string) (*ValueChange, []TagChange) {
	var boundary *ValueChange
	if or.Boundary != want {
		boundary = &ValueChange{Old: or.Boundary, New: want}
	}
	return boundary, tagChanges(or.Tags, desiredRoleTags(d, r))
}

// checkRoleBoundaries refuses a spec role whose permissions_boundary is
// not the stage's: a role has one boundary, every managed role carries the
// stage's, and the deployer may set no other (a boundary it could write
// itself would bound nothing). Naming the stage's boundary is allowed and
// changes nothing.
func checkRoleBoundaries(d *spec.Desired, want string) error {
	for _, r := range d.Roles {
		if r.Managed() && r.PermissionsBoundary != "" && r.PermissionsBoundary != want {
			return fmt.Errorf("role %s: permissions_boundary %s is not the stage's boundary %s; every role of the stage carries the stage's boundary (docs/security.md), so remove permissions_boundary or set it to that ARN",
				r.Key, r.PermissionsBoundary, want)
		}
	}
	return nil
}
