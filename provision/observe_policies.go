package provision

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/policy"
)

// partsOf picks the parts of one role out of the stage's managed policies,
// in part order. A name is a part when it is base + "-" + a number without
// leading zeros, which keeps the parts of "web" apart from those of a role
// named "web-read".
func partsOf(policies map[string]*ObservedPolicy, base string) []*ObservedPolicy {
	var parts []*ObservedPolicy
	for name, p := range policies {
		rest, ok := strings.CutPrefix(name, base+"-")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || strconv.Itoa(n) != rest {
			continue
		}
		p.Part = n
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Part < parts[j].Part })
	return parts
}

// observeAttachmentQuota reads the account's quota of managed policies per
// role (Observed.AttachmentQuota). A caller denied GetAccountSummary still
// gets a plan, counted against IAM's default: only a split that needs more
// slots is refused, and the refusal says why.
func (o *Observed) observeAttachmentQuota(ctx context.Context, s *Session) error {
	out, err := s.IAM.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if isAccessDenied(err) {
		o.AttachmentQuotaDenied = true
		return nil
	}
	if err != nil {
		return wrap(err, "reading the account's IAM quotas", "GetAccountSummary")
	}
	o.AttachmentQuota = int(out.SummaryMap[string(iamtypes.SummaryKeyTypeAttachedPoliciesPerRoleQuota)])
	return nil
}

// observeReadPolicy reads a role's inline read policy and, only when
// managed parts of it exist, which of them are attached, the foreign
// attachments and the parts' default versions.
func (o *Observed) observeReadPolicy(ctx context.Context, s *Session, or *ObservedRole, inlineName, base string) error {
	return o.observeReadPolicyIf(ctx, s, or, true, inlineName, base)
}

// observeReadPolicyIf is observeReadPolicy without the GetRolePolicy when
// the role's inline policies are known not to include it (exists false).
func (o *Observed) observeReadPolicyIf(ctx context.Context, s *Session, or *ObservedRole, exists bool, inlineName, base string) error {
	or.Policy = ""
	if exists {
		doc, err := getRolePolicy(ctx, s, or.Name, inlineName)
		if err != nil {
			return err
		}
		or.Policy = doc
	}
	or.Parts = partsOf(o.Policies, base)
	if len(or.Parts) == 0 {
		return nil
	}
	if err := observeAttachments(ctx, s, or); err != nil {
		return err
	}
	for _, part := range or.Parts {
		out, err := s.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(part.ARN), VersionId: aws.String(part.DefaultVersion)})
		if err == nil && out.PolicyVersion == nil {
			err = errIncomplete
		}
		if err != nil {
			return wrap(err, "reading managed policy", part.Name)
		}
		part.Document = decodePolicy(aws.ToString(out.PolicyVersion.Document))
	}
	return nil
}

// observeAttachments marks which of a role's parts are attached and counts
// the other managed policies attached to it (ObservedRole.Foreign). The
// listing has no path prefix: at the same cost, it shows every policy that
// takes an attachment slot, AWS managed ones included.
func observeAttachments(ctx context.Context, s *Session, or *ObservedRole) error {
	p := iam.NewListAttachedRolePoliciesPaginator(s.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(or.Name)})
	attached := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNotFound(err) {
			break // a forgotten external role deleted by its owner: nothing is attached
		}
		if err != nil {
			return wrap(err, "listing attached policies of role", or.Name)
		}
		for _, ap := range page.AttachedPolicies {
			attached[aws.ToString(ap.PolicyArn)] = true
		}
	}
	or.observeAttached(attached)
	return nil
}

// observeAttached records which of the role's parts are attached, and the
// policies attached beside them (the attachment slots they take, and the
// drift apply detaches). It consumes attached.
func (or *ObservedRole) observeAttached(attached map[string]bool) {
	or.Foreign = len(attached)
	for _, part := range or.Parts {
		part.Attached = attached[part.ARN]
		if part.Attached {
			or.Foreign--
			delete(attached, part.ARN)
		}
	}
	or.ForeignARNs = sortedKeys(attached)
	or.AttachmentsObserved = true
}

// observeForeignInline measures the inline policies of an external role
// other than ours (ObservedRole.ForeignInline): one ListRolePolicies, and
// one GetRolePolicy per other policy. The documents are counted as IAM
// stored them, not parsed: a policy of someone else's need not be one
// secretboot could write.
func observeForeignInline(ctx context.Context, s *Session, or *ObservedRole, ours string) error {
	p := iam.NewListRolePoliciesPaginator(s.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(or.Name)})
	var others []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrap(err, "listing inline policies of role", or.Name)
		}
		for _, name := range page.PolicyNames {
			if name != ours {
				others = append(others, name)
			}
		}
	}
	for _, name := range others {
		doc, err := getRolePolicy(ctx, s, or.Name, name)
		if err != nil {
			return err
		}
		or.ForeignInline += policy.RawSize([]byte(doc))
	}
	return nil
}

// observeOtherInline lists the inline policies of a role under the
// stage's path (one ListRolePolicies): those other than the read policy
// are ObservedRole.OtherInline, and hasRead says whether the read policy
// is among them.
func observeOtherInline(ctx context.Context, s *Session, or *ObservedRole) (hasRead bool, err error) {
	p := iam.NewListRolePoliciesPaginator(s.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(or.Name)})
	or.OtherInline = nil
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNotFound(err) {
			return false, nil // deleted since the listing: nothing to read
		}
		if err != nil {
			return false, wrap(err, "listing inline policies of role", or.Name)
		}
		for _, name := range page.PolicyNames {
			if name == ReadPolicyName {
				hasRead = true
			} else {
				or.OtherInline = append(or.OtherInline, name)
			}
		}
	}
	sort.Strings(or.OtherInline)
	return hasRead, nil
}

func getRolePolicy(ctx context.Context, s *Session, role, policy string) (string, error) {
	out, err := s.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(policy)})
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", wrap(err, "reading role policy", role+"/"+policy)
	}
	return decodePolicy(aws.ToString(out.PolicyDocument)), nil
}
