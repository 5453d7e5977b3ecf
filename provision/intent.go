package provision

import (
	"fmt"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// Intent is what a stage should look like, resolved against what exists.
// Per secret: its declaration, whether the live secret is the stage's, the
// generation its tags and version tokens are made at, the recovery window
// its deletion uses, and its exact ARN where the stage owns it (the
// pending "<name>-??????" pattern otherwise). Per role: its documents
// (read, trust, boundary), where its read policy goes (inline, or split
// into managed parts and their names) and what Observe still has to read
// to place it. Resolve decides it once; Observe asks it which extra reads
// to make, Diff compares it with the observation, Apply re-resolves a
// role's read policy once the exact ARNs of secrets it creates exist, and
// the reviewer files (package review), `verify` (package verify),
// `secretboot policy` and DeployerPolicy read its documents and names. A
// new resource kind or principal type adds its resolved form here, before
// Diff compares it.
type Intent struct {
	Region  string
	Account string
	// Boundary is the ARN of the stage's permissions boundary that every
	// managed role carries.
	Boundary string
	// Roles are the documents of every role of the spec, sorted by key.
	Roles []RoleDocuments
	// Secrets are the stage's secrets, sorted by name, followed by the
	// stage key secret (which no role may read).
	Secrets []SecretRef
	// secrets are the intents of the secrets the spec declares or the
	// stage's prefix holds, by name.
	secrets map[string]*secretIntent
	// arns are the exact ARNs of the secrets the stage owns, by name
	// (ownedARNs): the one answer to which secrets a policy can name
	// exactly.
	arns map[string]string
	// roleSecrets are the secrets that name each role (roleSecrets), for
	// Apply to resolve a read policy again with the ARNs it learnt.
	roleSecrets map[string][]*spec.Secret
}

// RoleDocuments is what secretboot intends one role of a stage to hold: the
// documents reviewers read (`secretboot policy`) and that `verify --offline`
// evaluates.
type RoleDocuments struct {
	Key      string // the role's label in the spec
	Name     string // IAM role name
	ARN      string // exact for an existing or external role; for a managed role not created yet, the ARN it will get
	External bool   // owned elsewhere: only the read policy is secretboot's
	Exists   bool   // the role exists (always false without an observation)

	// PolicyName is the name of secretboot's inline policy on the role.
	PolicyName string
	// Read is the role's read policy, nil when the role reads nothing.
	// Secrets not created yet appear as "<name>-??????" patterns.
	Read *policy.Document
	// Pending lists, sorted, the secret names whose ARN in Read is a pending
	// pattern: the exact ARN is known after apply.
	Pending []string
	// Layout is where Read goes: inline, or split into managed policies
	// when it exceeds the inline room (OtherInline). Zero when Read is nil.
	Layout policy.Layout
	// OtherInline is the size of the role's other inline policies (those
	// of an external role's owner), which IAM's inline limit covers
	// together with Read; 0 without an observation.
	OtherInline int
	// PartNames name the customer managed policies of a split read policy,
	// one per Layout.Managed document, in order; nil when it is inline.
	PartNames []string

	// Trust is the trust policy of a managed role; nil for external roles,
	// whose trust secretboot does not own.
	Trust *policy.Document

	live     *ObservedRole // the role as observed; nil when it does not exist or offline
	placed   bool          // plan places the read policy: the role exists or secretboot creates it
	place    placement     // where Read goes, within the role's quotas
	trustErr error         // why Trust could not be made
}

// SecretRef names one secret a stage's roles are judged against.
type SecretRef struct {
	Key    string // label in the spec; "" for the stage key secret
	Name   string // full secret name
	ARN    string // exact when the secret exists, otherwise the pending "<name>-??????" pattern
	Exists bool
	// Resource is the secret's resource policy (resourcePolicy), nil when
	// the secret does not opt in and for the stage key.
	Resource *policy.Document
	// KMSKeyARN, CrossAccountReaders and Replicas are the spec's: the
	// reviewer files of the other accounts' side are made from them.
	KMSKeyARN           string
	CrossAccountReaders []string
	Replicas            []spec.Replica
}

// Resolve computes the intent of stage d against the observation o. o may
// be nil (offline): every secret is then pending, no role exists, and the
// account and region are d's. It is pure: no calls, no clock, no
// randomness. A role's documents that cannot be made (a read policy that
// cannot fit its quotas, a trust policy that cannot be written) are kept
// as the role's error, for the phase that needs the document to report:
// Diff only for roles it places a policy on, RoleDocumentsOf for all.
func Resolve(d *spec.Desired, o *Observed) *Intent {
	in := &Intent{Region: d.Region, Account: d.AccountID, secrets: resolveSecrets(d, o)}
	if o != nil {
		in.Region, in.Account = o.Region, o.Account
	}
	in.arns = ownedARNs(in.secrets)
	in.Boundary = BoundaryARN(d, in.Account)
	in.Roles = make([]RoleDocuments, 0, len(d.Roles))
	in.roleSecrets = roleSecrets(d)
	for _, r := range d.Roles {
		in.Roles = append(in.Roles, resolveRole(d, o, in.Region, in.Account, in.arns, r, in.roleSecrets[r.Key]))
	}
	in.Secrets = secretRefs(d, o, in.Region, in.Account, in.arns)
	for i, s := range d.Secrets {
		in.Secrets[i].Resource = resourcePolicy(d, in.Roles, s)
	}
	return in
}

// resolveRole resolves one role's documents with the exact secret ARNs
// known (arns), from the secrets that name r (roleSecrets). Apply calls it again once the secrets it created have
// ARNs.
func resolveRole(d *spec.Desired, o *Observed, region, account string, arns map[string]string, r *spec.Role, secrets []*spec.Secret) RoleDocuments {
	rd := RoleDocuments{Key: r.Key, Name: r.Name, External: !r.Managed(), PolicyName: readPolicyName(d, r)}
	if o != nil {
		rd.live = o.role(r)
	}
	switch {
	case !r.Managed():
		rd.ARN = r.External
		rd.Name = roleNameFromARN(r.External)
		rd.Exists = rd.live != nil
		rd.placed = rd.live != nil
	case rd.live != nil:
		rd.ARN = rd.live.ARN
		rd.Exists = true
		rd.placed = true
	default:
		rd.ARN = "arn:" + partition(region) + ":iam::" + account + ":role" + RolePath(d) + r.Name
		// A role of the name outside the stage's path is a clash: plan
		// places nothing on it.
		rd.placed = o == nil || o.RoleClashes[r.Name] == ""
	}
	rd.Read, rd.Pending = readPolicyOf(region, account, arns, r, secrets)
	if rd.Read != nil {
		if rd.live != nil {
			rd.OtherInline = rd.live.ForeignInline
			o.written(rd.live.Policy, rd.Read)
		}
		rd.place = placeReadPolicy(rd.Read, rd.live, o)
		rd.Layout = rd.place.fit
		for i := range rd.Layout.Managed {
			rd.PartNames = append(rd.PartNames, ReadPolicyPartName(d, r, i+1))
		}
	}
	if r.Managed() {
		rd.Trust, rd.trustErr = trustPolicy(r)
	}
	return rd
}

// role is the resolved role with key k; nil when the spec has none.
func (in *Intent) role(k string) *RoleDocuments {
	for i := range in.Roles {
		if in.Roles[i].Key == k {
			return &in.Roles[i]
		}
	}
	return nil
}

// uncounted are the existing roles whose foreign attachments Observe
// must still count (ObservedRole.Foreign): those whose read policy needs
// managed parts that they do not have yet (a role with parts had them
// counted with its parts). Roles plan places no policy on are left out.
func (in *Intent) uncounted() []*ObservedRole {
	var out []*ObservedRole
	for _, rd := range in.Roles {
		if live := rd.live; rd.placed && rd.place.parts > 0 && live != nil && len(live.Parts) == 0 && !live.AttachmentsObserved {
			out = append(out, live)
		}
	}
	return out
}

// needsQuota reports whether a split read policy needs more attachment
// slots than IAM's default quota leaves its role, so that Observe must
// read the account's quota. It reads the foreign attachments counted
// since the intent was resolved.
func (in *Intent) needsQuota() bool {
	for _, rd := range in.Roles {
		if !rd.placed || rd.place.parts == 0 {
			continue
		}
		free := policy.DefaultLimits.MaxAttachments
		if rd.live != nil {
			free -= rd.live.Foreign
		}
		if rd.place.parts > free {
			return true
		}
	}
	return false
}

// RoleDocumentsOf lists the documents of every role of d, sorted by Key,
// as Resolve(d, o) resolves them for plans and apply. A read policy that
// cannot fit the role's quotas even when split is an error naming the
// role.
func RoleDocumentsOf(d *spec.Desired, o *Observed) ([]RoleDocuments, error) {
	return Resolve(d, o).Documents()
}

// Documents are the intent's role documents; a read policy that cannot
// fit the role's quotas even when split, or a trust policy that cannot be
// made, is an error naming the role.
func (in *Intent) Documents() ([]RoleDocuments, error) {
	for _, rd := range in.Roles {
		if rd.place.fitErr != nil {
			return nil, fmt.Errorf("the read policy of role %s cannot fit its quotas: %w", rd.Name, rd.place.fitErr)
		}
		if rd.trustErr != nil {
			return nil, rd.trustErr
		}
	}
	return in.Roles, nil
}

// SecretRefs lists the secrets of d, sorted by name, followed by the stage
// key secret (which no role may read), with exact ARNs for those o shows
// secretboot owns: Resolve(d, o).Secrets. o may be nil (offline).
func SecretRefs(d *spec.Desired, o *Observed) []SecretRef {
	return Resolve(d, o).Secrets
}

func secretRefs(d *spec.Desired, o *Observed, region, account string, arns map[string]string) []SecretRef {
	ref := func(key, name string, arn string, ok bool) SecretRef {
		if !ok {
			arn = pendingARN(region, account, name)
		}
		return SecretRef{Key: key, Name: name, ARN: arn, Exists: ok}
	}
	out := make([]SecretRef, 0, len(d.Secrets)+1)
	for _, s := range d.Secrets {
		arn, ok := arns[s.Name]
		r := ref(s.Key, s.Name, arn, ok)
		r.KMSKeyARN, r.CrossAccountReaders, r.Replicas = s.KMSKeyARN, s.CrossAccountReaders, s.Replicas
		out = append(out, r)
	}
	var keyARN string
	keyOwned := o != nil && o.StageKey != nil && ownedBy(o.StageKey.Tags, d)
	if keyOwned {
		keyARN = o.StageKey.ARN
	}
	return append(out, ref("", StageKeyName(d), keyARN, keyOwned))
}
