package provision

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// Observed is the live state of one stage, read cheaply (DESIGN §6). It
// holds no payload except the stage key, which stays sealed and unexported.
type Observed struct {
	Account   string
	Region    string
	CallerARN string
	// CredentialSource and LongTermKey come from the session, for the plan
	// header.
	CredentialSource string
	LongTermKey      bool

	// Secrets lists every secret whose name starts with the stage's name
	// prefix, owned or not, scheduled for deletion or not, by name. The
	// stage key secret is not in it.
	Secrets map[string]*ObservedSecret
	// StageKey is the stage key secret, nil before the first apply.
	StageKey *ObservedSecret
	stageKey spec.Sealed // the key bytes; empty when absent or scheduled for deletion

	// Roles are the roles under the stage's path, by name.
	Roles map[string]*ObservedRole
	// External are the external roles the spec names, by role key; an
	// external role that does not exist is absent.
	External map[string]*ObservedRole
	// Recorded are the external roles the stage key records as holding the
	// stage's read policy, role name → ARN (TagExternalPrefix).
	Recorded map[string]string
	// Forgotten are the recorded external roles the spec no longer names,
	// by role name, with what they still hold of the read policy. A role
	// that no longer exists holds nothing.
	Forgotten map[string]*ObservedRole
	// RoleClashes are roles outside the stage's path whose names the spec
	// wants for managed roles, by name → ARN.
	RoleClashes map[string]string
	// Deeper are the roles below the stage's path (ListRoles by path prefix
	// returns every depth), by name → ARN: nobody but an administrator
	// can have put them there, since the deployer may not touch that
	// path, and plan reports them without touching them.
	Deeper map[string]string
	// Profiles are the instance profiles under the stage's path, by name.
	Profiles map[string]*ObservedProfile
	// ProfileClashes are instance profiles outside the stage's path whose
	// names the spec wants, by name → ARN.
	ProfileClashes map[string]string
	// Policies are the customer managed policies under the stage's path, by
	// name: the parts of split read policies.
	Policies map[string]*ObservedPolicy
	// AttachmentQuota is the account's quota of managed policies attached
	// per role (GetAccountSummary's AttachedPoliciesPerRoleQuota). It is
	// read only when a split read policy needs more attachment slots than
	// IAM's default leaves; 0 when not read, which stands for the default.
	AttachmentQuota int
	// AttachmentQuotaDenied says the caller may not call GetAccountSummary:
	// the split is counted against IAM's default, and a refusal says so.
	AttachmentQuotaDenied bool
}

// role is the observed role that r names, nil when it does not exist.
func (o *Observed) role(r *spec.Role) *ObservedRole {
	if r.Managed() {
		return o.Roles[r.Name]
	}
	return o.External[r.Key]
}

// attachmentQuota is the quota of managed policies per role that read
// policies are split within.
func (o *Observed) attachmentQuota() int {
	if o.AttachmentQuota > 0 {
		return o.AttachmentQuota
	}
	return policy.DefaultLimits.MaxAttachments
}

// ObservedSecret is what ListSecrets returns for one secret.
type ObservedSecret struct {
	Name        string
	ARN         string
	Description string
	KMSKeyID    string
	Tags        map[string]string
	Deleted     bool                // scheduled for deletion
	Versions    map[string][]string // version id → stages
	Current     string              // version id holding AWSCURRENT, "" when none
	// RotationEnabled says rotation is configured on the secret, by
	// whoever configured it (ListSecrets reports it at no extra cost).
	RotationEnabled bool
	// History holds every version id of the secret, deprecated ones (no
	// label) included; nil when it was not read. It is read only where
	// the labelled versions leave a question open (observeHistory).
	History map[string]bool
	newest  []string // History's ids, newest first
}

// ObservedRole is a role and secretboot's read policy on it.
type ObservedRole struct {
	Name        string
	ARN         string
	Description string
	Trust       string // the trust policy document, URL-decoded
	// Boundary and Tags are what GetRole shows and ListRoles does not;
	// Detailed says they were read (managed roles the spec names).
	Boundary string
	Tags     map[string]string
	Detailed bool
	Policy   string // secretboot's inline read policy, "" when absent
	// Parts are the customer managed policies that hold the role's read
	// policy when it is split, in part order; see ReadPolicyPartName.
	Parts []*ObservedPolicy
	// Foreign counts the managed policies attached to the role that are
	// not its parts (attached by hand, or by the owner of an external
	// role): they take attachment slots a split read policy needs. It is
	// observed only for a role whose read policy has parts or does not fit
	// inline, the roles for which Diff counts slots; 0 for the others, and
	// for a managed role the spec keeps, whose foreign attachments apply
	// detaches (ForeignARNs).
	Foreign int
	// ForeignARNs are those policies, sorted, once observed
	// (AttachmentsObserved): a managed role's are drift that apply
	// detaches.
	ForeignARNs         []string
	AttachmentsObserved bool
	// ForeignInline is the size (characters without whitespace, as IAM
	// counts them) of the role's inline policies other than the stage's
	// read policy: IAM's 10,240-character inline limit covers them all
	// together. It is observed for external roles, whose owners may put
	// inline policies on them; owned roles are secretboot's alone and cost
	// no call for it: 0.
	ForeignInline int
	// OtherInline names, sorted, the inline policies of a role under the
	// stage's path other than its read policy (put there by hand): drift,
	// which apply deletes. Observed for every role under the path.
	OtherInline []string
}

// ObservedPolicy is a customer managed policy under the stage's path.
type ObservedPolicy struct {
	Name           string
	ARN            string
	DefaultVersion string
	Attachments    int // entities it is attached to, as ListPolicies counts them
	// Part, Attached and Document are known for the parts of a role's read
	// policy only: the part number, whether it is attached to that role,
	// and the default version's document, URL-decoded.
	Part     int
	Attached bool
	Document string
}

// ObservedProfile is an instance profile and its role (at most one).
type ObservedProfile struct {
	Name  string
	ARN   string
	Roles []string
}

// AccessDeniedError reports that the caller may not make a call the engine
// needs. It is never turned into "missing".
type AccessDeniedError struct {
	Operation string
	Resource  string
	Err       error
}

func (e *AccessDeniedError) Error() string {
	on := ""
	if e.Resource != "" {
		on = " on " + e.Resource
	}
	return fmt.Sprintf("access denied: %s%s; the caller lacks an IAM permission for this call (it is not a missing resource): %v", e.Operation, on, e.Err)
}

func (e *AccessDeniedError) Unwrap() error { return e.Err }

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isAccessDenied(err error) bool {
	switch apiCode(err) {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError":
		return true
	}
	return false
}

func isNotFound(err error) bool {
	switch apiCode(err) {
	case "NoSuchEntity", "ResourceNotFoundException":
		return true
	}
	return false
}

// wrap gives an error the call and resource it came from, and turns an
// access denial into an AccessDeniedError.
func wrap(err error, op, resource string) error {
	if err == nil {
		return nil
	}
	if isAccessDenied(err) {
		return &AccessDeniedError{Operation: op, Resource: resource, Err: err}
	}
	return fmt.Errorf("%s (%s): %w", op, resource, err)
}

// errIncomplete reports an answer that lacks the element the operation
// always returns, as a malformed response or a misbehaving endpoint gives:
// an error to report, not a nil to dereference.
var errIncomplete = errors.New("the answer lacks the expected result element")

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

// Observe reads the live state of the stage: one paginated ListSecrets by
// name prefix, ListRoles, ListInstanceProfiles and ListPolicies by path,
// one GetRolePolicy per existing role, GetRole only for roles the spec
// wants that are not under the path, and one read of the stage key. An
// existing external role also costs one ListRolePolicies and one
// GetRolePolicy per inline policy of others on it, which share IAM's
// inline size limit with the read policy. Only a role whose read policy is
// split into managed policies costs more: one ListAttachedRolePolicies and
// one GetPolicyVersion per part; an existing role whose read policy is
// about to be split for the first time costs one ListAttachedRolePolicies,
// which counts the attachment slots other policies take; when a split
// needs more slots than IAM's default quota leaves, one GetAccountSummary
// per plan reads the account's quota; and an external role recorded on the
// stage key that the spec no longer names costs its GetRolePolicy until
// its policy and record are gone. A role whose read policy fits inline
// costs nothing more. A secret whose labelled versions leave open whether
// the declared version exists, or whether secretboot ever wrote it, costs
// one ListSecretVersionIds (observeHistory); a converged secret costs
// nothing.
func Observe(ctx context.Context, s *Session, d *spec.Desired) (*Observed, error) {
	o := &Observed{
		Account:          s.Identity.Account,
		Region:           s.Region,
		CallerARN:        s.Identity.ARN,
		CredentialSource: s.Identity.CredentialSource,
		LongTermKey:      s.Identity.LongTermKey,
		Secrets:          map[string]*ObservedSecret{},
		Roles:            map[string]*ObservedRole{},
		External:         map[string]*ObservedRole{},
		Recorded:         map[string]string{},
		Forgotten:        map[string]*ObservedRole{},
		RoleClashes:      map[string]string{},
		Deeper:           map[string]string{},
		Profiles:         map[string]*ObservedProfile{},
		ProfileClashes:   map[string]string{},
		Policies:         map[string]*ObservedPolicy{},
	}
	services := []func() error{
		func() error { return o.observeSecrets(ctx, s, d) },
		func() error { return o.observeRoles(ctx, s, d) },
	}
	if err := forEachParallel(services, len(services), func(observe func() error) error { return observe() }); err != nil {
		return nil, fmt.Errorf("observing %s/%s: %w", d.Project, d.Stage, err)
	}
	if err := errors.Join(o.observeForgotten(ctx, s, d), o.observeSlots(ctx, s, d), o.observeHistory(ctx, s, d)); err != nil {
		return nil, fmt.Errorf("observing %s/%s: %w", d.Project, d.Stage, err)
	}
	return o, nil
}

// observeSlots counts the foreign attachments (ObservedRole.Foreign) of
// each existing role whose read policy needs managed parts it does not
// have yet (a role with parts had them counted with its parts), then reads
// the account's quota of managed policies per role, once, when a split
// needs more slots than IAM's default leaves. The desired documents are
// built from the observed secrets and placed within each role's inline
// room exactly as Diff places them, so both take the same decisions; it
// needs the secrets and the roles, so it runs after the listings, and a
// stage whose read policies fit inline pays nothing.
func (o *Observed) observeSlots(ctx context.Context, s *Session, d *spec.Desired) error {
	arns := (&differ{d: d, o: o}).arns()
	type split struct {
		live  *ObservedRole // nil for a role not created yet
		parts int
	}
	var splits []split
	var uncounted []*ObservedRole
	for _, r := range d.Roles {
		live := o.role(r)
		if !r.Managed() && live == nil || r.Managed() && o.RoleClashes[r.Name] != "" {
			continue // Diff places no read policy on them
		}
		doc, _ := readPolicy(d, o.Region, o.Account, arns, r)
		if doc == nil {
			continue
		}
		n := partsNeeded(doc, live)
		if n == 0 {
			continue
		}
		splits = append(splits, split{live, n})
		if live != nil && len(live.Parts) == 0 && !live.AttachmentsObserved {
			uncounted = append(uncounted, live)
		}
	}
	if err := forEachParallel(uncounted, observeParallelism, func(or *ObservedRole) error {
		return observeAttachments(ctx, s, or)
	}); err != nil {
		return err
	}
	for _, sp := range splits {
		free := policy.DefaultLimits.MaxAttachments
		if sp.live != nil {
			free -= sp.live.Foreign
		}
		if sp.parts > free {
			return o.observeAttachmentQuota(ctx, s)
		}
	}
	return nil
}

// partsNeeded is the number of managed parts a role's read policy is split
// into, given the role's inline room; 0 when it stays inline, or when one
// of its statements alone is too large for a managed policy, which is
// refused whatever the slots hold.
func partsNeeded(doc *policy.Document, live *ObservedRole) int {
	layout, err := policy.Fit(doc, readPolicyLimits(live, policy.DefaultLimits.MaxAttachments))
	var tooLarge *policy.TooLargeError
	if errors.As(err, &tooLarge) {
		return tooLarge.Documents
	}
	return len(layout.Managed)
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

// observeForgotten reads what the recorded external roles that the spec
// no longer names still hold: one GetRolePolicy each, and the attached
// parts only when the stage has parts for the role. It needs both the
// stage key's tags and the stage's managed policies, so it runs after the
// listings; a stage without such roles pays nothing.
func (o *Observed) observeForgotten(ctx context.Context, s *Session, d *spec.Desired) error {
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
	return forEachParallel(forgotten, observeParallelism, func(or *ObservedRole) error {
		return o.observeReadPolicy(ctx, s, or, externalPolicyName(d), partBase(d, or.Name, true))
	})
}

func (o *Observed) observeSecrets(ctx context.Context, s *Session, d *spec.Desired) error {
	in := &secretsmanager.ListSecretsInput{
		IncludePlannedDeletion: aws.Bool(true),
		MaxResults:             aws.Int32(100),
	}
	if d.NamePrefix != "" {
		in.Filters = []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{d.NamePrefix}}}
	}
	keyName := StageKeyName(d)
	p := secretsmanager.NewListSecretsPaginator(s.SecretsManager, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrap(err, "listing secrets", d.NamePrefix+"*")
		}
		for _, e := range page.SecretList {
			name := aws.ToString(e.Name)
			// The name filter is a prefix match on AWS; emulators may
			// match more loosely.
			if len(name) < len(d.NamePrefix) || name[:len(d.NamePrefix)] != d.NamePrefix {
				continue
			}
			os := &ObservedSecret{
				Name:        name,
				ARN:         aws.ToString(e.ARN),
				Description: aws.ToString(e.Description),
				KMSKeyID:    aws.ToString(e.KmsKeyId),
				Tags:        map[string]string{},
				Deleted:     e.DeletedDate != nil,
				Versions:    e.SecretVersionsToStages,

				RotationEnabled: aws.ToBool(e.RotationEnabled),
			}
			for _, t := range e.Tags {
				os.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			for id, stages := range e.SecretVersionsToStages {
				for _, st := range stages {
					if st == "AWSCURRENT" {
						os.Current = id
					}
				}
			}
			if name == keyName {
				o.StageKey = os
				continue
			}
			o.Secrets[name] = os
		}
	}
	if o.StageKey == nil || o.StageKey.Deleted || !ownedBy(o.StageKey.Tags, d) {
		return nil
	}
	out, err := s.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(o.StageKey.ARN)})
	if err != nil {
		if isNotFound(err) { // created without a value: treated as absent
			return nil
		}
		return wrap(err, "reading the stage key", keyName)
	}
	o.stageKey = spec.Seal(out.SecretBinary)
	return nil
}

func (o *Observed) observeRoles(ctx context.Context, s *Session, d *spec.Desired) error {
	// The three listings are independent; together they cost one call per
	// 1,000 roles, profiles and policies.
	path := RolePath(d)
	listings := []func() error{
		func() error { return o.listRoles(ctx, s, path) },
		func() error { return o.listProfiles(ctx, s, path) },
		func() error { return o.listPolicies(ctx, s, path) },
	}
	if err := forEachParallel(listings, len(listings), func(list func() error) error { return list() }); err != nil {
		return err
	}

	// The per-role calls run in parallel; each writes its own entry.
	var jobs []func() error
	var mu sync.Mutex
	for _, r := range d.Roles {
		switch {
		case r.Managed() && o.Roles[r.Name] != nil:
			// Observed below with every role under the path.
		case r.Managed():
			name := r.Name
			jobs = append(jobs, func() error {
				role, err := getRole(ctx, s.IAM, name)
				if isNotFound(err) {
					return nil
				}
				if err != nil {
					return wrap(err, "reading role", name)
				}
				if aws.ToString(role.Path) == path {
					// ListRoles lags behind a role created moments ago:
					// it is ours all the same.
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
			})
		default:
			r := r
			jobs = append(jobs, func() error {
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
			})
		}
	}
	// A wanted instance profile that the listing did not show may exist
	// outside the path under the same name: found now, the plan refuses it
	// before anything changes, rather than apply failing half-way. Only
	// missing profiles cost a call, so a converged stage pays nothing.
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
	// Every role under the path, wanted or about to be deleted, gets its
	// read policy observed: a role cannot be deleted while it holds one.
	// And what roleconverge.go compares: the boundary and tags of the roles
	// the spec keeps, and the managed policies attached to every role.
	kept := map[string]bool{}
	for _, r := range d.Roles {
		kept[r.Name] = r.Managed()
	}
	for _, name := range sortedKeys(o.Roles) {
		or := o.Roles[name]
		jobs = append(jobs, func() error {
			// The listing of its inline policies also says whether the
			// read policy is there to be read.
			hasRead, err := observeOtherInline(ctx, s, or)
			if err != nil {
				return err
			}
			if err := o.observeReadPolicyIf(ctx, s, or, hasRead, ReadPolicyName, or.Name+partSuffix); err != nil {
				return err
			}
			return observeManagedRole(ctx, s, or, kept[name])
		})
	}
	return forEachParallel(jobs, observeParallelism, func(job func() error) error { return job() })
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
	return nil
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
