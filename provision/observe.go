package provision

import (
	"context"
	"fmt"
	"sync"

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
	// name: the parts of split read policies, and the stage's boundary.
	Policies map[string]*ObservedPolicy
	// Boundary is the default version of the stage's permissions boundary
	// as installed, URL-decoded; "" when it is not installed. Plan warns
	// when it is not the one this version writes (boundaryDrift): the
	// deployer may not change it, and an older one may allow more.
	Boundary string
	// AttachmentQuota is the account's quota of managed policies attached
	// per role (GetAccountSummary's AttachedPoliciesPerRoleQuota). It is
	// read only when a split read policy needs more attachment slots than
	// IAM's default leaves; 0 when not read, which stands for the default.
	AttachmentQuota int
	// ResourcePolicies are the resource policies of the owned secrets
	// that opt in to one or carry TagResourcePolicy, by secret name ("" for
	// none); other secrets' are not read (resourcePolicyReads).
	ResourcePolicies map[string]string
	// Replication holds the replicas of the owned secrets whose replication
	// Observe read (replicationReads), by secret name, sorted by region;
	// a secret it did not read is absent.
	Replication map[string][]ObservedReplica
	// AttachmentQuotaDenied says the caller may not call GetAccountSummary:
	// the split is counted against IAM's default, and a refusal says so.
	AttachmentQuotaDenied bool
	// OIDCProviders says, for each IAM OIDC provider that a managed role's
	// trust names, whether it exists (observe_oidc.go).
	OIDCProviders map[string]bool
	// account is the account-wide IAM read when observe made it whole
	// (observe_account.go); nil otherwise. AccountRead hands it to audit.
	account *accountIAM

	// canon caches the canonical form of the live documents (canonical);
	// nil for an observation made by hand, which then parses each time.
	canon *canonicalCache
}

// canonicalCache maps live documents to their canonical forms.
type canonicalCache struct {
	mu sync.Mutex
	m  map[string]string
}

// written records that the live document s is the one apply writes for
// want (its compact form), when it is: its canonical form is then want's,
// and need not be parsed. A converged stage's read policies are all
// written so; parsing one costs several times rendering it.
func (o *Observed) written(s string, want *policy.Document) {
	c := o.canon
	if c == nil || s == "" {
		return
	}
	c.mu.Lock()
	_, known := c.m[s]
	c.mu.Unlock()
	if known || string(want.Compact()) != s {
		return
	}
	canon := string(want.Canonical())
	c.mu.Lock()
	c.m[s] = canon
	c.mu.Unlock()
}

// canonical is canonicalOf(s), parsed at most once per observation: the
// fingerprint and Diff both read each role's read policy (up to 10 kB)
// and trust policy, and each parsed them.
func (o *Observed) canonical(s string) string {
	c := o.canon
	if c == nil || s == "" {
		return canonicalOf(s)
	}
	c.mu.Lock()
	v, ok := c.m[s]
	c.mu.Unlock()
	if !ok {
		v = canonicalOf(s)
		c.mu.Lock()
		c.m[s] = v
		c.mu.Unlock()
	}
	return v
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
	// PrimaryRegion is the region of the secret's primary, as ListSecrets
	// reports it for a replicated secret (and DescribeSecret, once read);
	// "" when it reports none.
	PrimaryRegion string
	// RotationEnabled says rotation is configured on the secret, by
	// whoever configured it (ListSecrets reports it at no extra cost).
	RotationEnabled bool
	// Rotation is the rotation configuration ListSecrets reports with
	// RotationEnabled; nil when rotation is off.
	Rotation *ObservedRotation
	// History holds every version id of the secret, deprecated ones (no
	// label) included; nil when it was not read. It is read only where
	// the labelled versions leave a question open (Intent.historyNeeded).
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

// Observe reads the live state of the stage: one paginated ListSecrets by
// name prefix, ListRoles by path, and one read of the stage key; the rest
// of IAM with GetAccountAuthorizationDetails and ListInstanceProfiles, a
// page per 1,000 entities of the account, when the stage sets
// account_iam_read and the account is small enough for the stage's roles
// (observe_account.go),
// else with ListInstanceProfiles and ListPolicies by path, GetRole,
// ListRolePolicies, GetRolePolicy and ListAttachedRolePolicies per role
// under the path, and GetRole and GetInstanceProfile only for the roles and
// profiles the spec wants that are not under the path. An
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
// one ListSecretVersionIds (readHistory); a converged secret costs
// nothing. A secret that opts in to a resource policy, or carries
// TagResourcePolicy, costs one GetResourcePolicy. A secret that declares
// replicas or is listed with a PrimaryRegion costs one DescribeSecret for
// its replication status. Each distinct OIDC provider that a managed
// role's trust names (irsa, github_actions) costs one
// GetOpenIDConnectProvider; a stage without such roles, none.
func Observe(ctx context.Context, s *Session, d *spec.Desired) (*Observed, error) {
	return observe(ctx, s, d, true, ObserveOptions{})
}

// ObserveOptions tune ObserveWith.
type ObserveOptions struct {
	// KeepAccountRead keeps observe's account-wide IAM read (with
	// account_iam_read) in the Observed, for AccountRead: provision/audit
	// asks for it, to read only the rest of the account. Plan and apply
	// drop it once observe has taken the stage's part: it holds every
	// role's and customer managed policy's documents.
	KeepAccountRead bool
}

// ObserveWith is Observe tuned by opts.
func ObserveWith(ctx context.Context, s *Session, d *spec.Desired, opts ObserveOptions) (*Observed, error) {
	return observe(ctx, s, d, true, opts)
}

// ObserveStructure is Observe without the stage key: for a plan that does
// not compare payloads (DiffOptions.NoPayloads), which then needs no
// secretsmanager:GetSecretValue at all. The key is what version tokens and
// ownership marks are checked with, so such a plan takes the stage's tags
// as proof of ownership and cannot tell a forged tag; it is for review and
// cannot be applied.
func ObserveStructure(ctx context.Context, s *Session, d *spec.Desired) (*Observed, error) {
	return observe(ctx, s, d, false, ObserveOptions{})
}

func observe(ctx context.Context, s *Session, d *spec.Desired, readStageKey bool, opts ObserveOptions) (*Observed, error) {
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
		ResourcePolicies: map[string]string{},
		OIDCProviders:    map[string]bool{},
		canon:            &canonicalCache{m: map[string]string{}},
	}
	services := []func() error{
		func() error { return o.observeSecrets(ctx, s, d, readStageKey) },
		func() error { return o.observeRoles(ctx, s, d, opts.KeepAccountRead) },
		func() error { return o.observeOIDCProviders(ctx, s, d) },
	}
	if err := forEachParallel(services, len(services), func(observe func() error) error { return observe() }); err != nil {
		return nil, fmt.Errorf("observing %s/%s: %w", d.Project, d.Stage, err)
	}
	// The intent of what the listings show says which further reads it
	// needs: attachment slots and quotas for split read policies, the
	// history of secrets whose labelled versions leave a question open,
	// resource policies and replication. Diff resolves again from the
	// complete observation.
	in := Resolve(d, o)
	if err := o.observeFollowUps(ctx, s, d, in); err != nil {
		return nil, fmt.Errorf("observing %s/%s: %w", d.Project, d.Stage, err)
	}
	return o, nil
}

// observeFollowUps makes the reads that the listings and the intent ask
// for in one pool, so that no kind of read waits for another's
// stragglers; each call keeps its API's client-side rate (addRateLimit):
// the forgotten external roles' read policies (forgottenRoles); the
// foreign attachments (ObservedRole.Foreign) of each existing role whose
// read policy needs managed parts it does not have yet (Intent.uncounted);
// the history of the secrets that need it (Intent.historyNeeded); the
// resource policies and replication of the secrets that have them. The
// intent is resolved from the secrets and roles observed so far exactly as
// Diff resolves it, so both take the same decisions. Last, once, the
// account's quota of managed policies per role, when a split needs more
// slots than IAM's default leaves (Intent.needsQuota): the slots counted
// decide it. A stage whose read policies fit inline and whose secrets are
// converged pays nothing.
func (o *Observed) observeFollowUps(ctx context.Context, s *Session, d *spec.Desired, in *Intent) error {
	var jobs []func() error
	for _, or := range o.forgottenRoles(d) {
		jobs = append(jobs, func() error {
			return o.observeReadPolicy(ctx, s, or, externalPolicyName(d), partBase(d, or.Name, true))
		})
	}
	for _, or := range in.uncounted() {
		jobs = append(jobs, func() error { return observeAttachments(ctx, s, or) })
	}
	if key := o.stageKey.Reveal(); len(key) > 0 {
		for _, os := range in.historyNeeded(d, key) {
			jobs = append(jobs, func() error { return readHistory(ctx, s, os) })
		}
	}
	var mu sync.Mutex // guards the maps the reads fill
	for _, name := range in.resourcePolicyReads(d) {
		os := o.Secrets[name]
		jobs = append(jobs, func() error { return o.readResourcePolicy(ctx, s, &mu, os) })
	}
	for _, name := range in.replicationReads() {
		os := o.Secrets[name]
		jobs = append(jobs, func() error { return o.readReplication(ctx, s, &mu, os) })
	}
	if err := forEachParallel(jobs, observeParallelism, func(job func() error) error { return job() }); err != nil {
		return err
	}
	if in.needsQuota() {
		return o.observeAttachmentQuota(ctx, s)
	}
	return nil
}
