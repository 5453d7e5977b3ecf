package provision

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/spec"
)

// The account-wide IAM read. GetAccountAuthorizationDetails (GAAD) returns
// every role of the account with its inline policies (documents included),
// attached policies, boundary and tags, and every customer managed policy
// with its versions, 1,000 entities a call. Against the per-role reads
// (GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies: 4R
// at IAM's read rate) a stage's whole IAM observation is then a few calls:
// ListRoles by path (GAAD has no role description), GAAD, and
// ListInstanceProfiles without a path. Those two list every role and
// profile of the account, so a name the spec wants that exists elsewhere is
// a clash plan finds without a GetRole or GetInstanceProfile, and apply's
// CreateRole meets EntityAlreadyExists only in a race.
//
// It lets the caller read every role's and policy's documents in the
// account, more than most stages need, so a stage opts in with
// account_iam_read, which adds GAAD to the deployer and plan role policies
// (DeployerPolicy); without it observe never calls GAAD. Its cost grows
// with the account, not the stage, so it is adaptive: observe reads at most
// accountPageBudget pages of each listing, as many as the per-role reads
// would cost, and falls back to the per-role reads when the account needs
// more (at worst twice the per-role cost, in calls), or when GAAD is denied
// (a deployer policy older than the attribute). Both ways observe the same
// Observed value; account mode only reads it in fewer calls.

// accountRolesPerPage is how many of the stage's roles one page of the
// account-wide listings is worth: a page replaces the 4 per-role reads of
// 10 roles (40 calls, 0.4 s at IAM's 100/s read rate), and costs less than
// that at every account size measured (docs/performance.md).
const accountRolesPerPage = 10

// accountPageBudget is the number of pages of each account-wide listing
// observe reads before it gives up on them for the stage's d.
func accountPageBudget(d *spec.Desired) int {
	return max(1, (len(d.Roles)+accountRolesPerPage-1)/accountRolesPerPage)
}

// errOverBudget stops an account-wide listing that needs more pages than
// the per-role reads would cost.
var errOverBudget = errors.New("the account's IAM listing needs more pages than the stage's per-role reads")

// accountIAM is what the account-wide listings read.
type accountIAM struct {
	roles    map[string]iamtypes.RoleDetail          // every role of the account, by name
	policies map[string]iamtypes.ManagedPolicyDetail // customer managed policies, by ARN
	profiles map[string]iamtypes.InstanceProfile     // every instance profile, by name
}

// readAccountIAM reads GAAD (roles and customer managed policies) and
// every instance profile, in parallel, within budget pages each. It
// returns nil, nil when the caller may not call GAAD or the account needs
// more pages: the caller falls back to the per-role reads.
func readAccountIAM(ctx context.Context, s *Session, budget int) (*accountIAM, error) {
	if s.accountDenied.Load() {
		return nil, nil
	}
	a := &accountIAM{roles: map[string]iamtypes.RoleDetail{}, policies: map[string]iamtypes.ManagedPolicyDetail{}, profiles: map[string]iamtypes.InstanceProfile{}}
	reads := []func() error{
		func() error {
			return AuthorizationDetails(ctx, s.IAM, budget, []iamtypes.EntityType{iamtypes.EntityTypeRole, iamtypes.EntityTypeLocalManagedPolicy},
				func(out *iam.GetAccountAuthorizationDetailsOutput) {
					for _, r := range out.RoleDetailList {
						a.roles[aws.ToString(r.RoleName)] = r
					}
					for _, p := range out.Policies {
						a.policies[aws.ToString(p.Arn)] = p
					}
				})
		},
		func() error {
			p := iam.NewListInstanceProfilesPaginator(s.IAM, &iam.ListInstanceProfilesInput{MaxItems: aws.Int32(1000)})
			for pages := 0; p.HasMorePages(); pages++ {
				if pages == budget {
					return errOverBudget
				}
				page, err := p.NextPage(ctx)
				if err != nil {
					return wrap(err, "listing instance profiles", "/")
				}
				for _, ip := range page.InstanceProfiles {
					a.profiles[aws.ToString(ip.InstanceProfileName)] = ip
				}
			}
			return nil
		},
	}
	err := forEachParallel(reads, len(reads), func(read func() error) error { return read() })
	switch {
	case err == nil:
		// A role's profiles, as GAAD shows them, count too: the profile
		// listing may lag behind the roles.
		for _, r := range a.roles {
			for _, ip := range r.InstanceProfileList {
				if _, ok := a.profiles[aws.ToString(ip.InstanceProfileName)]; !ok {
					a.profiles[aws.ToString(ip.InstanceProfileName)] = ip
				}
			}
		}
		return a, nil
	case errors.Is(err, errOverBudget):
		return nil, nil
	case isAccessDenied(err):
		// A deployer policy written before the stage set
		// account_iam_read: ask once per session.
		s.accountDenied.Store(true)
		return nil, nil
	}
	return nil, err
}

// AccountRead returns what observe's account-wide IAM read returned,
// every role and every customer managed policy of the account (by name,
// then ARN), and true, when the stage sets account_iam_read, the read was
// whole and ObserveWith was asked to keep it (KeepAccountRead); nil, nil,
// false otherwise. provision/audit then reads only
// the rest of the account (users, groups, AWS managed policies).
func (o *Observed) AccountRead() ([]iamtypes.RoleDetail, []iamtypes.ManagedPolicyDetail, bool) {
	if o.account == nil {
		return nil, nil, false
	}
	roles := make([]iamtypes.RoleDetail, 0, len(o.account.roles))
	for _, name := range sortedKeys(o.account.roles) {
		roles = append(roles, o.account.roles[name])
	}
	policies := make([]iamtypes.ManagedPolicyDetail, 0, len(o.account.policies))
	for _, arn := range sortedKeys(o.account.policies) {
		policies = append(policies, o.account.policies[arn])
	}
	return roles, policies, true
}

// AuthorizationDetails pages through GetAccountAuthorizationDetails for
// the entity types filter names (all of them when empty), 1,000 entities
// a call, handing each page to page. A budget above zero stops after that
// many pages with errOverBudget when more remain. provision/audit reads
// the whole account with it too.
func AuthorizationDetails(ctx context.Context, c interface {
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
}, budget int, filter []iamtypes.EntityType, page func(*iam.GetAccountAuthorizationDetailsOutput)) error {
	p := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{Filter: filter, MaxItems: aws.Int32(1000)})
	for pages := 0; p.HasMorePages(); pages++ {
		if budget > 0 && pages == budget {
			return errOverBudget
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return wrap(err, "reading the account's IAM configuration", "GetAccountAuthorizationDetails")
		}
		page(out)
	}
	return nil
}

// fromAccount fills in what the per-role reads would have read, from the
// account-wide listings: the managed policies under the stage's path, each
// role under it (its read policy, other inline policies, attachments,
// boundary and tags), the clashes of the spec's managed roles and instance
// profiles elsewhere. It returns the per-role jobs of what the listings
// disagree on (a role ListRoles shows and GAAD does not, or the reverse:
// one listing lags the other), which read that role as the per-role mode
// does, and the spec's external roles, which GAAD does not describe (it
// has no description) and which may be in another account.
func (o *Observed) fromAccount(ctx context.Context, s *Session, d *spec.Desired, a *accountIAM, mu *sync.Mutex) []func() error {
	path := RolePath(d)
	for _, p := range a.policies {
		if aws.ToString(p.Path) != path {
			continue
		}
		name := aws.ToString(p.PolicyName)
		if name == "" {
			// moto leaves the name out; it ends the ARN, as names hold
			// no "/".
			name = roleNameFromARN(aws.ToString(p.Arn))
		}
		op := &ObservedPolicy{
			Name: name, ARN: aws.ToString(p.Arn), DefaultVersion: aws.ToString(p.DefaultVersionId),
			Attachments: int(aws.ToInt32(p.AttachmentCount)),
		}
		o.Policies[name] = op
		if name == BoundaryName(d) {
			o.Boundary = defaultVersion(p)
		}
	}
	for name, ip := range a.profiles {
		if aws.ToString(ip.Path) == path {
			o.Profiles[name] = profileOf(ip)
		}
	}
	// IAM names are unique ignoring case: a role or profile whose name
	// differs from the spec's only in case takes the name as well, as
	// GetRole and GetInstanceProfile in the per-role mode find.
	foldedRoles := map[string]iamtypes.RoleDetail{}
	for name, rd := range a.roles {
		foldedRoles[strings.ToLower(name)] = rd
	}
	foldedProfiles := map[string]iamtypes.InstanceProfile{}
	for name, ip := range a.profiles {
		foldedProfiles[strings.ToLower(name)] = ip
	}
	kept := map[string]bool{}
	var jobs []func() error
	for _, r := range d.Roles {
		switch {
		case !r.Managed():
			jobs = append(jobs, func() error { return o.observeExternal(ctx, s, d, r, mu) })
			continue
		case o.Roles[r.Name] != nil:
		default:
			rd, ok := a.roles[r.Name]
			folded, taken := foldedRoles[strings.ToLower(r.Name)]
			switch {
			case !ok && taken:
				o.RoleClashes[r.Name] = aws.ToString(folded.Arn)
			case !ok:
				// Absent: no role of the name in the account.
			case aws.ToString(rd.Path) == path:
				// Created since ListRoles answered.
				jobs = append(jobs, func() error { return o.observeUnlisted(ctx, s, d, r.Name, mu) })
			default:
				o.RoleClashes[r.Name] = aws.ToString(rd.Arn)
			}
		}
		kept[r.Name] = true
		if r.InstanceProfile && o.Profiles[r.Name] == nil {
			if ip, ok := foldedProfiles[strings.ToLower(r.Name)]; ok {
				o.ProfileClashes[r.Name] = aws.ToString(ip.Arn)
			}
		}
	}
	for _, name := range sortedKeys(o.Roles) {
		or := o.Roles[name]
		rd, ok := a.roles[name]
		if !ok || aws.ToString(rd.Path) != path {
			// Deleted or moved since ListRoles answered: read it as the
			// per-role mode does.
			jobs = append(jobs, o.pathRoleJob(ctx, s, or, kept[name]))
			continue
		}
		o.roleFromAccount(or, rd, a, kept[name])
	}
	return jobs
}

// roleFromAccount fills in a role under the stage's path from its GAAD
// entry exactly as pathRoleJob's reads would.
func (o *Observed) roleFromAccount(or *ObservedRole, rd iamtypes.RoleDetail, a *accountIAM, kept bool) {
	or.Detailed = true
	or.Boundary = ""
	if rd.PermissionsBoundary != nil {
		or.Boundary = aws.ToString(rd.PermissionsBoundary.PermissionsBoundaryArn)
	}
	or.Tags = map[string]string{}
	for _, t := range rd.Tags {
		or.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	or.Policy, or.OtherInline = "", nil
	for _, pd := range rd.RolePolicyList {
		if name := aws.ToString(pd.PolicyName); name == ReadPolicyName {
			or.Policy = decodePolicy(aws.ToString(pd.PolicyDocument))
		} else {
			or.OtherInline = append(or.OtherInline, name)
		}
	}
	sort.Strings(or.OtherInline)
	or.Parts = partsOf(o.Policies, or.Name+partSuffix)
	attached := map[string]bool{}
	for _, ap := range rd.AttachedManagedPolicies {
		attached[aws.ToString(ap.PolicyArn)] = true
	}
	or.observeAttached(attached)
	for _, part := range or.Parts {
		part.Document = defaultVersion(a.policies[part.ARN])
	}
	if kept {
		or.Foreign = 0
	}
}

// defaultVersion is the URL-decoded document of p's default version, as
// GetAccountAuthorizationDetails returns it; "" when absent.
func defaultVersion(p iamtypes.ManagedPolicyDetail) string {
	for _, v := range p.PolicyVersionList {
		if aws.ToString(v.VersionId) == aws.ToString(p.DefaultVersionId) {
			return decodePolicy(aws.ToString(v.Document))
		}
	}
	return ""
}
