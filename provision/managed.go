package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// A read policy over the role's inline limit is split (policy.Fit) into
// customer managed policies "<role>-read-<n>", n from 1, under the stage's
// path, attached to the role; the inline policy is then deleted. Policy
// names are unique per account, so an external role's parts also carry the
// project and stage: "<role>-<project>-<stage>-read-<n>".
const partSuffix = "-read"

// partBase is a role's part name without "-<n>".
func partBase(d *spec.Desired, roleName string, external bool) string {
	if external {
		return roleName + "-" + d.Project + "-" + d.Stage + partSuffix
	}
	return roleName + partSuffix
}

// ReadPolicyPartName names the n-th (from 1) customer managed policy that
// holds part of role r's read policy when it is split.
func ReadPolicyPartName(d *spec.Desired, r *spec.Role, n int) string {
	if r.Managed() {
		return partBase(d, r.Name, false) + "-" + strconv.Itoa(n)
	}
	return partBase(d, roleNameFromARN(r.External), true) + "-" + strconv.Itoa(n)
}

// maxAttachmentQuota is the highest quota of managed policies per role
// that AWS grants on request (AWS-FACTS §4).
const maxAttachmentQuota = 20

// readPolicyLimits are the limits a role's read policy is placed within:
// the inline characters the role's other inline policies leave
// (ObservedRole.ForeignInline; live is nil for a role not created yet) and
// the account's quota of managed policies per role.
func readPolicyLimits(live *ObservedRole, quota int) policy.Limits {
	limits := policy.DefaultLimits
	limits.MaxAttachments = quota
	if live != nil {
		// Fit reads a zero InlineMax as the default; no document is one
		// character long, so 1 leaves no room.
		limits.InlineMax = max(limits.InlineMax-live.ForeignInline, 1)
	}
	return limits
}

// fitReadPolicy places a role's read policy (policy.Fit) inline when it
// fits the room the role's other inline policies leave, else in managed
// parts within the attachment slots that the role's foreign attachments
// leave of the account's quota (Observed.AttachmentQuota). Plan and apply
// both place the policy with it, so a policy that cannot be put or
// attached is refused before anything is written, not by PutRolePolicy or
// AttachRolePolicy half-way through an apply. Fit's packing depends on
// neither the inline room nor the number of slots, so only the choice of
// layout and the refusal depend on the role.
func fitReadPolicy(doc *policy.Document, live *ObservedRole, o *Observed) (policy.Layout, error) {
	quota := o.attachmentQuota()
	limits := readPolicyLimits(live, quota)
	layout, err := policy.Fit(doc, limits)
	parts := len(layout.Managed)
	var tooLarge *policy.TooLargeError
	if errors.As(err, &tooLarge) && tooLarge.Documents > 0 {
		parts = tooLarge.Documents // more parts than the quota: refused below, naming the slots
	} else if err != nil || layout.Inline != nil {
		return layout, err
	}
	var foreign int
	if live != nil {
		foreign = live.Foreign
	}
	limits.MaxAttachments = max(quota-foreign, 0)
	if parts <= limits.MaxAttachments {
		return layout, nil
	}
	return policy.Layout{}, &SlotsError{
		Foreign: foreign, Quota: quota, QuotaDenied: o.AttachmentQuotaDenied,
		Err: &policy.TooLargeError{
			Needed: policy.Size(doc), Available: limits.MaxAttachments * limits.ManagedMax,
			Documents: parts, Limits: limits,
		},
	}
}

// SlotsError reports a split read policy that needs more managed policies
// than the role has attachment slots left: the account's quota of managed
// policies per role, less the other managed policies attached to it. Err
// says what the split needs within the free slots.
type SlotsError struct {
	Foreign int // managed policies attached to the role that are not its parts
	// Quota is the account's quota of managed policies per role the split
	// was counted against: read with GetAccountSummary, or IAM's default.
	Quota int
	// QuotaDenied says GetAccountSummary was denied, so Quota is IAM's
	// default, whatever the account's real quota is.
	QuotaDenied bool
	Err         *policy.TooLargeError
}

func (e *SlotsError) Error() string {
	var b strings.Builder
	if e.Foreign > 0 {
		fmt.Fprintf(&b, "%v: %d other managed policies are attached to the role and leave %d of its %d attachment slots; "+
			"detach some of them, or split the role's secrets across roles", e.Err, e.Foreign, e.Err.Limits.MaxAttachments, e.Quota)
	} else {
		fmt.Fprintf(&b, "%v: the role has %d attachment slots; split the role's secrets across roles", e.Err, e.Quota)
	}
	switch {
	case e.QuotaDenied:
		fmt.Fprintf(&b, ". The account's quota of managed policies per role could not be read (iam:GetAccountSummary was denied), "+
			"so secretboot counted IAM's default of %d; allow the caller iam:GetAccountSummary to plan with a raised quota (AWS raises it up to %d)",
			e.Quota, maxAttachmentQuota)
	case e.Quota < maxAttachmentQuota:
		fmt.Fprintf(&b, ", or raise the account's quota of managed policies per role from %d (AWS allows up to %d)", e.Quota, maxAttachmentQuota)
	}
	return b.String()
}

func (e *SlotsError) Unwrap() error { return e.Err }

// readPolicyChange compares a role's read policy (doc; nil when the role
// should read nothing) with what the role holds: its inline policy and its
// managed parts. It reports false when they match.
func (df *differ) readPolicyChange(pc *PolicyChange, live *ObservedRole, doc *policy.Document, pending []string, base string) (Change, bool, error) {
	c := Change{Kind: KindRolePolicy, Name: pc.Role + "/" + pc.PolicyName, Policy: pc}
	var inline string
	var parts []*ObservedPolicy
	if live != nil {
		inline, parts = canonicalOf(live.Policy), live.Parts
	}
	// The grants the role holds now: a part that is not attached grants
	// nothing.
	var oldDocs []string
	if inline != "" {
		oldDocs = append(oldDocs, inline)
	}
	for _, p := range parts {
		if p.Attached {
			oldDocs = append(oldDocs, canonicalOf(p.Document))
		}
	}
	existed := inline != "" || len(parts) > 0
	// deleteParts plans the deletion of the parts numbered from on.
	deleteParts := func(from int) (found bool) {
		for _, p := range parts {
			if p.Part >= from {
				pc.Managed = append(pc.Managed, ManagedPolicyChange{Name: p.Name, Action: ActionDelete})
				found = true
			}
		}
		return found
	}

	if doc == nil {
		if !existed {
			return c, false, nil
		}
		c.Action = ActionDelete
		pc.DeletesInline = inline != ""
		deleteParts(1)
		pc.Grants = diffGrants(oldDocs, nil)
		return c, true, nil
	}
	layout, err := fitReadPolicy(doc, live, df.o)
	if err != nil {
		return c, false, fmt.Errorf("the read policy of role %s cannot fit its quotas: %w", pc.Role, err)
	}
	pc.Document = string(doc.Canonical())
	pc.Pending = pending
	changed := len(pending) > 0
	var newDocs []string
	if layout.Inline != nil {
		pc.Layout = LayoutInline
		newDocs = []string{pc.Document}
		surplus := deleteParts(1)
		changed = changed || inline != pc.Document || surplus
	} else {
		pc.Layout = LayoutManaged
		pc.DeletesInline = inline != ""
		changed = changed || pc.DeletesInline
		byPart := map[int]*ObservedPolicy{}
		for _, p := range parts {
			byPart[p.Part] = p
		}
		for i, md := range layout.Managed {
			want := string(md.Canonical())
			newDocs = append(newDocs, want)
			mc := ManagedPolicyChange{Name: base + "-" + strconv.Itoa(i+1), Document: want}
			if p := byPart[i+1]; p == nil {
				mc.Action, mc.Attach = ActionCreate, true
			} else {
				if canonicalOf(p.Document) != want {
					mc.Action = ActionUpdate
				}
				mc.Attach = !p.Attached
			}
			changed = changed || mc.Action != "" || mc.Attach
			pc.Managed = append(pc.Managed, mc)
		}
		surplus := deleteParts(len(layout.Managed) + 1)
		changed = changed || surplus
	}
	if !changed {
		return c, false, nil
	}
	pc.Grants = diffGrants(oldDocs, newDocs)
	c.Action = ActionUpdate
	if !existed {
		c.Action = ActionCreate
	}
	return c, true, nil
}

// diffGrants lists the Allow grants added and removed between two sets of
// canonical documents, with policy.DiffGrants deciding which additions
// broaden access. The sets are compared as unions, so a policy that moves
// between inline and managed parts changes no grant.
func diffGrants(oldDocs, newDocs []string) []GrantChange {
	parse := func(docs []string) []*policy.Document {
		var out []*policy.Document
		for _, s := range docs {
			if d, err := parseLive(s); err == nil && d != nil {
				out = append(out, d)
			}
		}
		return out
	}
	var out []GrantChange
	for _, g := range policy.DiffGrants(parse(oldDocs), parse(newDocs)) {
		op := "remove"
		if g.Added {
			op = "add"
		}
		out = append(out, GrantChange{Op: op, Effect: g.Effect, Action: g.Action, Resource: g.Resource, Condition: g.Condition, Broadens: g.Broadens})
	}
	return out
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

// putReadPolicy brings a role's read policy to doc. Order matters for a
// role in use: managed parts are created or versioned and attached before
// the inline policy goes, and the inline policy is written before surplus
// parts go, so the role is never without its grants mid-apply.
func (a *applier) putReadPolicy(ctx context.Context, c Change, doc *policy.Document) error {
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
	layout, err := fitReadPolicy(doc, live, a.o)
	if err != nil {
		return fmt.Errorf("role policy %s: %w", c.Name, err)
	}
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
			_, err := iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(pc.Role), PolicyArn: aws.String(arn)})
			return err
		}); err != nil {
			return err
		}
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
