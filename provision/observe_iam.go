package provision

import (
	"context"
	"net/url"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/spec"
)

// Role convergence beyond the description and trust that ListRoles shows:
// a managed role's permissions boundary and tags, which only GetRole
// returns, and the managed policies attached to it that are not its read
// policy's parts (AdministratorAccess attached by hand, say), which apply
// detaches, and inline policies other than the read policy, which apply
// deletes. Observing them costs per role under the path one GetRole (for a
// role the spec drops, its ownership tags), one ListRolePolicies (which
// spares the GetRolePolicy of an absent read policy) and one
// ListAttachedRolePolicies, unless its split read policy already needed
// it. IAM has no batch read by path: GetAccountAuthorizationDetails reads
// the whole account, which observe prefers when the stage opts in with
// account_iam_read and the account is small enough (observe_account.go).

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

// observeManagedRole reads the attached policies, the boundary and the
// tags of a role under the stage's path: the tags of a role the spec drops
// too, since only one that carries the stage's ownership tags is
// secretboot's to delete.
func observeManagedRole(ctx context.Context, s *Session, or *ObservedRole, kept bool) error {
	if !or.AttachmentsObserved {
		if err := observeAttachments(ctx, s, or); err != nil {
			return err
		}
	}
	if kept {
		// Apply detaches them (role updates run before read policies),
		// so they take no slot from a split read policy.
		or.Foreign = 0
	}
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

// getRole reads a role by name; an answer without the role is
// errIncomplete.
func getRole(ctx context.Context, iamc IAMAPI, name string) (*iamtypes.Role, error) {
	out, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	if out.Role == nil {
		return nil, errIncomplete
	}
	return out.Role, nil
}

// getInstanceProfile reads an instance profile by name; an answer without
// the profile is errIncomplete.
func getInstanceProfile(ctx context.Context, iamc IAMAPI, name string) (*iamtypes.InstanceProfile, error) {
	out, err := iamc.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	if out.InstanceProfile == nil {
		return nil, errIncomplete
	}
	return out.InstanceProfile, nil
}

// forgottenRoles records the external roles the stage key records
// (Observed.Recorded) and returns those the spec no longer names
// (Observed.Forgotten), whose read policy observeFollowUps reads: one
// GetRolePolicy each, and the attached parts only when the stage has
// parts for the role. It needs both the stage key's tags and the stage's
// managed policies, so it runs after the listings; a stage without such
// roles pays nothing.
func (o *Observed) forgottenRoles(d *spec.Desired) []*ObservedRole {
	if o.StageKey == nil || !ownedBy(o.StageKey.Tags, d) {
		return nil
	}
	o.Recorded = recordedExternal(o.StageKey.Tags)
	named := map[string]bool{}
	for _, r := range d.Roles {
		if !r.Managed() {
			named[roleNameFromARN(r.External)] = true
		}
	}
	var forgotten []*ObservedRole
	for _, name := range sortedKeys(o.Recorded) {
		if !named[name] {
			or := &ObservedRole{Name: name, ARN: o.Recorded[name]}
			o.Forgotten[name] = or
			forgotten = append(forgotten, or)
		}
	}
	return forgotten
}

// observeRoles lists the roles under the stage's path and reads the rest
// of the stage's IAM state: with the account-wide listings when the stage
// opts in (account_iam_read), the account is small enough and the caller
// may read it (observe_account.go), else
// with the listings of instance profiles and managed policies by path and
// the per-role reads: the spec's roles missing from the listing, its
// external roles, and the read policy and drift of every role under the
// path. Both ways observe the same state. The account-wide read stays in
// o (AccountRead) only when keepAccount asks.
func (o *Observed) observeRoles(ctx context.Context, s *Session, d *spec.Desired, keepAccount bool) error {
	path := RolePath(d)
	var account *accountIAM
	listings := []func() error{
		func() error { return o.listRoles(ctx, s, path) },
	}
	if d.AccountIAMRead {
		// Only then does the deployer policy grant it: without the
		// attribute, asking would be a denied call on every run.
		listings = append(listings, func() (err error) {
			account, err = readAccountIAM(ctx, s, accountPageBudget(d))
			return err
		})
	}
	if err := forEachParallel(listings, len(listings), func(list func() error) error { return list() }); err != nil {
		return err
	}
	// The per-role calls run in parallel; each writes its own entry.
	var mu sync.Mutex
	if account != nil {
		if keepAccount {
			o.account = account
		}
		jobs := o.fromAccount(ctx, s, d, account, &mu)
		return forEachParallel(jobs, observeParallelism, func(job func() error) error { return job() })
	}
	// Together these listings cost one call per 1,000 profiles and
	// policies.
	listings = []func() error{
		func() error { return o.listProfiles(ctx, s, path) },
		func() error { return o.listPolicies(ctx, s, path) },
	}
	if err := forEachParallel(listings, len(listings), func(list func() error) error { return list() }); err != nil {
		return err
	}
	var jobs []func() error
	for _, r := range d.Roles {
		switch {
		case r.Managed() && o.Roles[r.Name] != nil:
			// Observed below with every role under the path.
		case r.Managed():
			jobs = append(jobs, func() error { return o.observeUnlisted(ctx, s, d, r.Name, &mu) })
		default:
			jobs = append(jobs, func() error { return o.observeExternal(ctx, s, d, r, &mu) })
		}
	}
	jobs = append(jobs, o.profileJobs(ctx, s, d, &mu)...)
	jobs = append(jobs, o.pathRoleJobs(ctx, s, d)...)
	if b := o.Policies[BoundaryName(d)]; b != nil {
		jobs = append(jobs, func() error { return o.readBoundary(ctx, s, b) })
	}
	return forEachParallel(jobs, observeParallelism, func(job func() error) error { return job() })
}

// readBoundary reads the default version of the stage's installed
// boundary, which the listing by path showed (one GetPolicyVersion).
func (o *Observed) readBoundary(ctx context.Context, s *Session, b *ObservedPolicy) error {
	out, err := s.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(b.ARN), VersionId: aws.String(b.DefaultVersion)})
	if err == nil && out.PolicyVersion == nil {
		err = errIncomplete
	}
	if err != nil {
		return wrap(err, "reading the stage's permissions boundary", b.Name)
	}
	o.Boundary = decodePolicy(aws.ToString(out.PolicyVersion.Document))
	return nil
}

// observeUnlisted looks for a managed role the spec wants that the
// listing did not show: outside the stage's path it clashes; under it,
// ListRoles lagged behind a role created moments ago, which is ours all
// the same.
func (o *Observed) observeUnlisted(ctx context.Context, s *Session, d *spec.Desired, name string, mu *sync.Mutex) error {
	role, err := getRole(ctx, s.IAM, name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return wrap(err, "reading role", name)
	}
	if aws.ToString(role.Path) == RolePath(d) {
		or := roleOf(*role)
		roleDetails(or, role)
		mu.Lock()
		o.Roles[name] = or
		mu.Unlock()
		return o.observeReadPolicy(ctx, s, or, ReadPolicyName, partBase(d, name, false))
	}
	mu.Lock()
	o.RoleClashes[name] = aws.ToString(role.Arn)
	mu.Unlock()
	return nil
}

// observeExternal reads an external role the spec names, its read policy
// and the size of its owner's inline policies.
func (o *Observed) observeExternal(ctx context.Context, s *Session, d *spec.Desired, r *spec.Role, mu *sync.Mutex) error {
	name := roleNameFromARN(r.External)
	role, err := getRole(ctx, s.IAM, name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return wrap(err, "reading external role", name)
	}
	or := roleOf(*role)
	if err := o.observeReadPolicy(ctx, s, or, readPolicyName(d, r), partBase(d, name, true)); err != nil {
		return err
	}
	if err := observeForeignInline(ctx, s, or, readPolicyName(d, r)); err != nil {
		return err
	}
	mu.Lock()
	o.External[r.Key] = or
	mu.Unlock()
	return nil
}

// profileJobs look for the wanted instance profiles that the listing did
// not show: one may exist outside the path under the same name, and found
// now, the plan refuses it before anything changes, rather than apply
// failing half-way. Only missing profiles cost a call, so a converged
// stage pays nothing.
func (o *Observed) profileJobs(ctx context.Context, s *Session, d *spec.Desired, mu *sync.Mutex) []func() error {
	path := RolePath(d)
	var jobs []func() error
	for _, r := range d.Roles {
		if !r.Managed() || !r.InstanceProfile || o.Profiles[r.Name] != nil {
			continue
		}
		name := r.Name
		jobs = append(jobs, func() error {
			ip, err := getInstanceProfile(ctx, s.IAM, name)
			if isNotFound(err) {
				return nil
			}
			if err != nil {
				return wrap(err, "reading instance profile", name)
			}
			mu.Lock()
			defer mu.Unlock()
			if aws.ToString(ip.Path) == path {
				// The listing lags behind a profile created moments ago.
				o.Profiles[name] = profileOf(*ip)
			} else {
				o.ProfileClashes[name] = aws.ToString(ip.Arn)
			}
			return nil
		})
	}
	return jobs
}

// pathRoleJobs observe every role the listing showed under the path,
// wanted or about to be deleted (pathRoleJob).
func (o *Observed) pathRoleJobs(ctx context.Context, s *Session, d *spec.Desired) []func() error {
	kept := map[string]bool{}
	for _, r := range d.Roles {
		kept[r.Name] = r.Managed()
	}
	var jobs []func() error
	for _, name := range sortedKeys(o.Roles) {
		jobs = append(jobs, o.pathRoleJob(ctx, s, o.Roles[name], kept[name]))
	}
	return jobs
}

// pathRoleJob observes a role under the path: its read policy, since a
// role cannot be deleted while it holds one, and what Diff compares for
// drift (the boundary and tags of a role the spec keeps, the managed
// policies attached to every role, its other inline policies).
func (o *Observed) pathRoleJob(ctx context.Context, s *Session, or *ObservedRole, kept bool) func() error {
	return func() error {
		// The listing of its inline policies also says whether the read
		// policy is there to be read.
		hasRead, err := observeOtherInline(ctx, s, or)
		if err != nil {
			return err
		}
		if err := o.observeReadPolicyIf(ctx, s, or, hasRead, ReadPolicyName, or.Name+partSuffix); err != nil {
			return err
		}
		return observeManagedRole(ctx, s, or, kept)
	}
}

func (o *Observed) listRoles(ctx context.Context, s *Session, path string) error {
	p := iam.NewListRolesPaginator(s.IAM, &iam.ListRolesInput{PathPrefix: aws.String(path), MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrap(err, "listing roles", path)
		}
		for _, r := range page.Roles {
			if aws.ToString(r.Path) != path {
				o.Deeper[aws.ToString(r.RoleName)] = aws.ToString(r.Arn)
				continue
			}
			o.Roles[aws.ToString(r.RoleName)] = roleOf(r)
		}
	}
	return nil
}

func (o *Observed) listProfiles(ctx context.Context, s *Session, path string) error {
	p := iam.NewListInstanceProfilesPaginator(s.IAM, &iam.ListInstanceProfilesInput{PathPrefix: aws.String(path), MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrap(err, "listing instance profiles", path)
		}
		for _, ip := range page.InstanceProfiles {
			if aws.ToString(ip.Path) != path {
				continue
			}
			o.Profiles[aws.ToString(ip.InstanceProfileName)] = profileOf(ip)
		}
	}
	return nil
}

func profileOf(ip iamtypes.InstanceProfile) *ObservedProfile {
	op := &ObservedProfile{Name: aws.ToString(ip.InstanceProfileName), ARN: aws.ToString(ip.Arn)}
	for _, r := range ip.Roles {
		op.Roles = append(op.Roles, aws.ToString(r.RoleName))
	}
	sort.Strings(op.Roles)
	return op
}

func (o *Observed) listPolicies(ctx context.Context, s *Session, path string) error {
	p := iam.NewListPoliciesPaginator(s.IAM, &iam.ListPoliciesInput{
		PathPrefix: aws.String(path), Scope: iamtypes.PolicyScopeTypeLocal, MaxItems: aws.Int32(1000),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrap(err, "listing managed policies", path)
		}
		for _, mp := range page.Policies {
			if aws.ToString(mp.Path) != path {
				continue
			}
			name := aws.ToString(mp.PolicyName)
			o.Policies[name] = &ObservedPolicy{
				Name: name, ARN: aws.ToString(mp.Arn), DefaultVersion: aws.ToString(mp.DefaultVersionId),
				Attachments: int(aws.ToInt32(mp.AttachmentCount)),
			}
		}
	}
	return nil
}

func roleOf(r iamtypes.Role) *ObservedRole {
	return &ObservedRole{
		Name:        aws.ToString(r.RoleName),
		ARN:         aws.ToString(r.Arn),
		Description: aws.ToString(r.Description),
		Trust:       decodePolicy(aws.ToString(r.AssumeRolePolicyDocument)),
	}
}

// decodePolicy undoes the URL encoding IAM applies to documents in
// responses; an emulator that does not encode passes through.
func decodePolicy(s string) string {
	if len(s) > 0 && s[0] == '{' {
		return s
	}
	// PathUnescape, not QueryUnescape: a '+' in a secret name must stay one.
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// roleNameFromARN takes the role name (the last path element) of a role ARN.
func roleNameFromARN(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}
