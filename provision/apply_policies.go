package provision

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/policy"
)

// policy applies a read policy change. An external role is recorded on
// the stage key before it gets the policy, and its record removed only
// after the policy is gone, so an apply that stops in between leaves a
// recorded role without a policy, never a policy nobody can find.
func (a *applier) policy(ctx context.Context, c Change) error {
	rec := c.Policy.Record
	if rec != nil && !rec.Removed {
		if err := a.tagStageKey(ctx, rec); err != nil {
			return err
		}
	}
	if err := a.applyPolicy(ctx, c); err != nil {
		return err
	}
	if rec != nil && rec.Removed {
		_, err := a.s.SecretsManager.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(a.stageKeyID()), TagKeys: []string{rec.Key}})
		return wrap(err, "removing the record of external role "+c.Policy.Role+" from the stage key", StageKeyName(a.d))
	}
	return nil
}

func (a *applier) tagStageKey(ctx context.Context, rec *TagChange) error {
	_, err := a.s.SecretsManager.TagResource(ctx, &secretsmanager.TagResourceInput{
		SecretId: aws.String(a.stageKeyID()), Tags: []smtypes.Tag{{Key: aws.String(rec.Key), Value: aws.String(rec.New)}},
	})
	return wrap(err, "recording an external role on the stage key", StageKeyName(a.d))
}

// stageKeyID names the stage key for a call: its ARN when it existed at
// observation, its name when this apply creates it.
func (a *applier) stageKeyID() string {
	if a.o.StageKey != nil {
		return a.o.StageKey.ARN
	}
	return StageKeyName(a.d)
}

func (a *applier) applyPolicy(ctx context.Context, c Change) error {
	pc := c.Policy
	if c.Action == ActionDelete {
		return a.removeReadPolicy(ctx, c)
	}
	if pc.recordOnly() {
		return nil
	}
	r := a.desiredRole(pc.Role)
	if r == nil {
		return fmt.Errorf("role %s is in the plan but not in the spec", pc.Role)
	}
	// The plan's intent, resolved again now that the secrets this apply
	// created have exact ARNs.
	a.mu.Lock()
	rd := resolveRole(a.d, a.o, a.in.Region, a.in.Account, a.arns, r, a.in.roleSecrets[r.Key])
	a.mu.Unlock()
	if len(rd.Pending) > 0 {
		return fmt.Errorf("role policy %s: the ARNs of %s are unknown", c.Name, strings.Join(rd.Pending, ", "))
	}
	return a.putReadPolicy(ctx, c, rd.Read, rd.place)
}

// liveRole is the observed role a policy change is about, nil for a role
// created by this apply.
func (a *applier) liveRole(pc *PolicyChange) *ObservedRole {
	if !pc.External {
		return a.o.Roles[pc.Role]
	}
	for _, r := range a.o.External {
		if r.Name == pc.Role {
			return r
		}
	}
	return a.o.Forgotten[pc.Role]
}

// putReadPolicy brings a role's read policy to doc, placed as place says.
// Order matters for a role in use: managed parts are created or versioned
// and attached before the inline policy goes, and the inline policy is
// written before surplus parts go, so the role is never without its
// grants mid-apply.
func (a *applier) putReadPolicy(ctx context.Context, c Change, doc *policy.Document, place placement) error {
	iamc := a.s.IAM
	pc := c.Policy
	live := a.liveRole(pc)
	var parts []*ObservedPolicy
	if live != nil {
		parts = live.Parts
	}
	// Exact ARNs are as long as the plan's pending "-??????" patterns, so
	// the policy goes inline or is split as planned; the slots are checked
	// again because exact ARNs can sort differently and so, rarely, change
	// the number of parts.
	if place.err != nil {
		return fmt.Errorf("role policy %s: %w", c.Name, place.err)
	}
	layout := place.layout
	if layout.Inline != nil {
		in := &iam.PutRolePolicyInput{RoleName: aws.String(pc.Role), PolicyName: aws.String(pc.PolicyName), PolicyDocument: aws.String(string(doc.Compact()))}
		if err := a.propagating(ctx, "putting role policy "+c.Name, func() error {
			_, err := iamc.PutRolePolicy(ctx, in)
			return err
		}); err != nil {
			return err
		}
		for _, p := range parts {
			if err := a.deletePart(ctx, pc.Role, p); err != nil {
				return err
			}
		}
		return nil
	}
	if err := a.putParts(ctx, pc, layout, parts); err != nil {
		return err
	}
	if live != nil && live.Policy != "" {
		_, err := iamc.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(pc.Role), PolicyName: aws.String(pc.PolicyName)})
		if err != nil && !isNotFound(err) {
			return wrap(err, "deleting role policy", c.Name)
		}
	}
	for _, p := range parts {
		if p.Part > len(layout.Managed) {
			if err := a.deletePart(ctx, pc.Role, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// putParts creates or versions each managed part of a split read policy
// and attaches those not attached yet.
func (a *applier) putParts(ctx context.Context, pc *PolicyChange, layout policy.Layout, parts []*ObservedPolicy) error {
	base := partBase(a.d, pc.Role, pc.External)
	byPart := map[int]*ObservedPolicy{}
	for _, p := range parts {
		byPart[p.Part] = p
	}
	for i, md := range layout.Managed {
		n := i + 1
		p := byPart[n]
		arn, err := a.putPart(ctx, base+"-"+strconv.Itoa(n), fmt.Sprintf("secretboot: part %d of %d of the read policy of role %s", n, len(layout.Managed), pc.Role), md, p)
		if err != nil {
			return err
		}
		if p != nil && p.Attached {
			continue
		}
		if err := a.propagating(ctx, "attaching managed policy "+arn+" to role "+pc.Role, func() error {
			_, err := a.s.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(pc.Role), PolicyArn: aws.String(arn)})
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// removeReadPolicy deletes a role's inline read policy and managed parts.
func (a *applier) removeReadPolicy(ctx context.Context, c Change) error {
	pc := c.Policy
	live := a.liveRole(pc)
	if live == nil || live.Policy != "" {
		_, err := a.s.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(pc.Role), PolicyName: aws.String(pc.PolicyName)})
		if err != nil && !isNotFound(err) {
			return wrap(err, "deleting role policy", c.Name)
		}
	}
	if live == nil {
		return nil
	}
	for _, p := range live.Parts {
		if err := a.deletePart(ctx, pc.Role, p); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) policyARN(name string) string {
	return "arn:" + partition(a.o.Region) + ":iam::" + a.o.Account + ":policy" + RolePath(a.d) + name
}

// putPart creates a managed part, or gives it a new default version when
// its document differs, and returns its ARN.
func (a *applier) putPart(ctx context.Context, name, description string, doc *policy.Document, live *ObservedPolicy) (string, error) {
	iamc := a.s.IAM
	body := string(doc.Compact())
	if live == nil {
		tags := ownerTags(a.d)
		in := &iam.CreatePolicyInput{
			PolicyName: aws.String(name), Path: aws.String(RolePath(a.d)),
			PolicyDocument: aws.String(body), Description: aws.String(description),
		}
		for _, k := range sortedKeys(tags) {
			in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		}
		out, err := iamc.CreatePolicy(ctx, in)
		if err == nil && out.Policy == nil {
			return "", wrap(errIncomplete, "creating managed policy", name)
		}
		if err == nil {
			return aws.ToString(out.Policy.Arn), nil
		}
		if apiCode(err) != "EntityAlreadyExists" {
			return "", wrap(err, "creating managed policy", name)
		}
		// An earlier, interrupted apply (or one running now) made it after
		// this one observed the stage. Policy names are unique per
		// account, so the ARN under our path says whether it is ours.
		arn := a.policyARN(name)
		got, gerr := iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if gerr == nil && got.Policy == nil {
			gerr = errIncomplete
		}
		if gerr != nil {
			if isNotFound(gerr) {
				return "", fmt.Errorf("creating managed policy %s: a policy of that name exists outside secretboot's path %s; delete or rename it: %w", name, RolePath(a.d), err)
			}
			return "", wrap(gerr, "reading managed policy", name)
		}
		live = &ObservedPolicy{Name: name, ARN: arn, DefaultVersion: aws.ToString(got.Policy.DefaultVersionId)}
	} else if canonicalOf(live.Document) == string(doc.Canonical()) {
		return live.ARN, nil
	}
	if err := a.makeRoomForVersion(ctx, live); err != nil {
		return "", err
	}
	_, err := iamc.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(live.ARN), PolicyDocument: aws.String(body), SetAsDefault: true})
	if err != nil {
		return "", wrap(err, "creating a version of managed policy", name)
	}
	return live.ARN, nil
}

// maxPolicyVersions is IAM's limit of versions per managed policy.
const maxPolicyVersions = 5

// policyVersions lists a managed policy's versions, oldest first.
func (a *applier) policyVersions(ctx context.Context, p *ObservedPolicy) ([]iamtypes.PolicyVersion, error) {
	var out []iamtypes.PolicyVersion
	pg := iam.NewListPolicyVersionsPaginator(a.s.IAM, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(p.ARN)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, wrap(err, "listing versions of managed policy", p.Name)
		}
		out = append(out, page.Versions...)
	}
	// Version ids are "v<n>" with n growing; creation dates can tie.
	num := func(v iamtypes.PolicyVersion) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(aws.ToString(v.VersionId), "v"))
		return n
	}
	sort.Slice(out, func(i, j int) bool { return num(out[i]) < num(out[j]) })
	return out, nil
}

// makeRoomForVersion deletes the oldest non-default version of a policy
// that has the maximum number of versions, so a new one can be created.
func (a *applier) makeRoomForVersion(ctx context.Context, p *ObservedPolicy) error {
	versions, err := a.policyVersions(ctx, p)
	if err != nil || len(versions) < maxPolicyVersions {
		return err
	}
	for _, v := range versions {
		if v.IsDefaultVersion {
			continue
		}
		_, err := a.s.IAM.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(p.ARN), VersionId: v.VersionId})
		if err != nil && !isNotFound(err) {
			return wrap(err, "deleting the oldest version of managed policy", p.Name)
		}
		return nil
	}
	return nil
}

// deletePart detaches a managed part from its role and deletes it, its
// non-default versions first as IAM requires.
func (a *applier) deletePart(ctx context.Context, role string, p *ObservedPolicy) error {
	iamc := a.s.IAM
	if p.Attached {
		_, err := iamc.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(p.ARN)})
		if err != nil && !isNotFound(err) {
			return wrap(err, "detaching managed policy "+p.Name+" from role", role)
		}
	}
	versions, err := a.policyVersions(ctx, p)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, v := range versions {
		if v.IsDefaultVersion {
			continue
		}
		_, err := iamc.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(p.ARN), VersionId: v.VersionId})
		if err != nil && !isNotFound(err) {
			return wrap(err, "deleting a version of managed policy", p.Name)
		}
	}
	_, err = iamc.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(p.ARN)})
	if err != nil && !isNotFound(err) {
		return wrap(err, "deleting managed policy", p.Name)
	}
	return nil
}
