package provision

// FormatVersion is the version of the JSON plan format (docs/plan-json.md).
// It changes in its major part when a field changes meaning or disappears.
const FormatVersion = "1.5"

// Plan is the result of Diff: what apply would change, and nothing secret.
// It is a plain value that marshals to the documented JSON format; it holds
// no payload, no payload digest and no sealed value.
type Plan struct {
	FormatVersion string `json:"format_version"`
	Header        Header `json:"header"`
	Destroy       bool   `json:"destroy,omitempty"`
	// PayloadsNotCompared marks a plan made without the payload sources
	// (DiffOptions.NoPayloads): it shows every structural change but not
	// whether a payload changed, and cannot be applied.
	PayloadsNotCompared bool     `json:"payloads_not_compared,omitempty"`
	Regenerate          []string `json:"regenerate,omitempty"`
	Changes             []Change `json:"changes"`
	Summary             Summary  `json:"summary"`
	// Observed is what the plan was computed from, so that applying a saved
	// plan can refuse it when AWS changed in between.
	Observed Fingerprint `json:"observed"`
}

// Header names where the plan applies and who computed it.
type Header struct {
	Project          string   `json:"project"`
	Stage            string   `json:"stage"`
	Account          string   `json:"account"`
	Region           string   `json:"region"`
	CallerARN        string   `json:"caller_arn"`
	CredentialSource string   `json:"credential_source,omitempty"`
	SpecHash         string   `json:"spec_hash"`
	Warnings         []string `json:"warnings,omitempty"`
}

// Summary counts changes the way terraform does: scheduled deletions count
// as destroys, and restores as changes (the secret, its ARN and its
// versions were there all along).
type Summary struct {
	Add        int `json:"add"`
	Change     int `json:"change"`
	Destroy    int `json:"destroy"`
	Broadening int `json:"broadening_grants"`
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Kind is the type of resource a change is about.
type Kind string

// Resource kinds, in apply order.
const (
	KindStageKey        Kind = "stage_key"
	KindRole            Kind = "role"
	KindSecret          Kind = "secret"
	KindRolePolicy      Kind = "role_policy"
	KindInstanceProfile Kind = "instance_profile"
	KindResourcePolicy  Kind = "resource_policy" // a secret's resource policy; Name is the secret's
)

// Action is what a change does to its resource.
type Action string

// Actions.
const (
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionRestore Action = "restore" // a secret scheduled for deletion is brought back
	ActionDelete  Action = "delete"  // for secrets: scheduled for deletion
)

// Change is one resource's change. Exactly one of the detail pointers is
// set, matching Kind.
type Change struct {
	ID        string   `json:"id"` // "<kind>:<name>", unique in a plan
	Kind      Kind     `json:"kind"`
	Name      string   `json:"name"`
	Action    Action   `json:"action"`
	DependsOn []string `json:"depends_on,omitempty"` // IDs that apply does first

	Secret  *SecretChange  `json:"secret,omitempty"`
	Role    *RoleChange    `json:"role,omitempty"`
	Policy  *PolicyChange  `json:"policy,omitempty"`
	Profile *ProfileChange `json:"instance_profile,omitempty"`
	// Resource is set for KindResourcePolicy (format 1.3).
	Resource *ResourcePolicyChange `json:"resource_policy,omitempty"`
	// Replication is set for KindReplication (format 1.5).
	Replication *ReplicationChange `json:"replication,omitempty"`
}

// ValueChange is an old and new value of a plain attribute.
type ValueChange struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// TagChange is one tag added, changed or removed. Old is "" for an added
// tag, New is "" for a removed one (Removed tells an empty value apart).
type TagChange struct {
	Key     string `json:"key"`
	Old     string `json:"old,omitempty"`
	New     string `json:"new,omitempty"`
	Removed bool   `json:"removed,omitempty"`
}

// PayloadStatus says why a secret's payload is written.
type PayloadStatus string

// Payload statuses.
const (
	PayloadNew            PayloadStatus = "new"             // first value
	PayloadChangedInSpec  PayloadStatus = "changed-in-spec" // the declared payload, generators or generation changed
	PayloadChangedOutside PayloadStatus = "changed-outside" // AWSCURRENT is a version secretboot did not write
	PayloadRestoreStage   PayloadStatus = "restore-stage"   // the expected version exists but lost AWSCURRENT
	PayloadUnverified     PayloadStatus = "unverified"      // the stage key is missing, so the version cannot be checked
	PayloadNotCompared    PayloadStatus = "not-compared"    // a new secret in a plan without payload sources
)

// Field is a field name of an object payload; names are not sensitive.
type Field struct {
	Name      string `json:"name"`
	Generated bool   `json:"generated,omitempty"`
}

// PayloadChange describes a payload write without the payload: only the
// kind, the field names and why it is written.
type PayloadChange struct {
	Status PayloadStatus `json:"status"`
	Kind   string        `json:"kind,omitempty"` // string | object | binary; "" when not compared
	Fields []Field       `json:"fields,omitempty"`
	// FieldsHidden: the declared field names come from a sensitive source,
	// so Fields lists only the generated ones.
	FieldsHidden bool     `json:"fields_hidden,omitempty"`
	Generated    bool     `json:"generated,omitempty"`  // the whole payload is generated
	Regenerate   []string `json:"regenerate,omitempty"` // generated fields replaced by new values ("" = whole payload)
	ReadsLive    bool     `json:"reads_live,omitempty"` // apply reads the live value to keep generated values
	// Version is the version id apply writes, or makes AWSCURRENT again
	// (restore-stage); "" while the stage key is unknown. Version ids are
	// not sensitive: ListSecrets shows them to anyone who may list.
	Version string `json:"version_id,omitempty"`
	// CurrentBySecretboot says secretboot wrote the current version (for
	// another declaration, such as an `apply --var`), as opposed to a
	// write outside secretboot.
	CurrentBySecretboot bool   `json:"current_by_secretboot,omitempty"`
	Sensitive           string `json:"value"` // always "(sensitive)"
}

// SecretChange details a secret change.
type SecretChange struct {
	ARN          string          `json:"arn,omitempty"` // "" until created
	Description  *ValueChange    `json:"description,omitempty"`
	KMSKey       *ValueChange    `json:"kms_key,omitempty"`
	Tags         []TagChange     `json:"tags,omitempty"`
	Payload      *PayloadChange  `json:"payload,omitempty"`
	Readers      []string        `json:"readers,omitempty"` // role names, for context
	RecoveryDays int             `json:"recovery_window_days,omitempty"`
	Rotation     *RotationChange `json:"rotation,omitempty"`
}

// Rotation operations (RotationChange.Op).
const (
	RotationEnable = "enable" // RotateSecret turns rotation on
	RotationUpdate = "update" // RotateSecret changes the function or the schedule
	RotationCancel = "cancel" // CancelRotateSecret turns it off
)

// RotationChange is a change of a secret's rotation: the function and
// schedule as they are ("" when rotation is off) and as they become (""
// on cancel). A schedule reads "30 days", "rate(12 hours)" or
// "cron(0 4 ? * SUN *)", followed by ", window 4h" when one is set.
type RotationChange struct {
	Op                string       `json:"op"`
	Function          *ValueChange `json:"function,omitempty"`
	Schedule          *ValueChange `json:"schedule,omitempty"`
	RotateImmediately bool         `json:"rotate_immediately,omitempty"`
	// Fields are the fields the rotator owns; empty when it owns the
	// whole value.
	Fields []string `json:"rotating_fields,omitempty"`
}

// RoleChange details a role change.
type RoleChange struct {
	ARN         string       `json:"arn,omitempty"`
	Services    []string     `json:"services,omitempty"`
	Description *ValueChange `json:"description,omitempty"`
	Trust       *ValueChange `json:"trust,omitempty"`                // canonical documents
	Boundary    *ValueChange `json:"permissions_boundary,omitempty"` // policy ARNs; "" for none
	Tags        []TagChange  `json:"tags,omitempty"`
	// Detach lists managed policies attached to the role that are not
	// its read policy's parts; apply detaches them.
	Detach []string `json:"detach,omitempty"`
	// DeleteInline names inline policies on the role other than its read
	// policy (put there by hand); apply deletes them.
	DeleteInline    []string `json:"delete_inline_policies,omitempty"`
	InstanceProfile bool     `json:"instance_profile,omitempty"`
}

// PolicyChange details secretboot's read policy on one role: the inline
// policy, or the customer managed policies it is split into when it
// exceeds the role's inline limit.
type PolicyChange struct {
	Role       string        `json:"role"`
	PolicyName string        `json:"policy_name"` // the inline policy
	External   bool          `json:"external,omitempty"`
	Document   string        `json:"document,omitempty"` // canonical new document, whole; "" on delete
	Pending    []string      `json:"pending,omitempty"`  // secrets whose exact ARN is known after apply
	Grants     []GrantChange `json:"grants,omitempty"`   // over the inline policy and every attached part
	// Layout is where the read policy lives after apply: LayoutInline or
	// LayoutManaged; "" on delete.
	Layout string `json:"layout,omitempty"`
	// Managed lists the role's managed parts: those the layout needs, in
	// order (Action "" when unchanged), then those to delete.
	Managed []ManagedPolicyChange `json:"managed_policies,omitempty"`
	// DeletesInline is set when the inline policy exists and goes: the
	// policy moves into managed parts, or is deleted.
	DeletesInline bool `json:"deletes_inline,omitempty"`
	// Record is set on an external role's change when the stage key's
	// record of the role (TagExternalPrefix) is added, changed or removed.
	// Apply records the role before putting the policy and removes the
	// record after deleting it. A change with only a Record touches no
	// policy.
	Record *TagChange `json:"record,omitempty"`
}

// recordOnly reports whether a policy change only updates the record.
func (pc *PolicyChange) recordOnly() bool {
	return pc.Document == "" && len(pc.Managed) == 0 && !pc.DeletesInline && len(pc.Grants) == 0 && pc.Record != nil
}

// Read policy layouts (PolicyChange.Layout).
const (
	LayoutInline  = "inline"
	LayoutManaged = "managed"
)

// ManagedPolicyChange is one customer managed policy holding part of a
// role's read policy, named "<role>-read-<n>" (ReadPolicyPartName).
type ManagedPolicyChange struct {
	Name string `json:"name"`
	// Action is create, update (a new default version) or delete; "" when
	// the document stays.
	Action   Action `json:"action,omitempty"`
	Attach   bool   `json:"attach,omitempty"`   // the part gets attached to the role
	Document string `json:"document,omitempty"` // canonical; "" on delete
}

// GrantChange is one permission (action × resource × condition) added to
// or removed from a role.
type GrantChange struct {
	Op        string `json:"op"`     // "add" | "remove"
	Effect    string `json:"effect"` // "Allow" (secretboot writes no Deny)
	Action    string `json:"action"`
	Resource  string `json:"resource"`
	Condition string `json:"condition,omitempty"`
	Broadens  bool   `json:"broadens,omitempty"`
}

// ResourcePolicyChange details the resource policy on one secret: the
// second lock, which denies reading the secret to every principal but
// Readers and Admins (policy.ResourcePolicy).
type ResourcePolicyChange struct {
	ARN string `json:"arn,omitempty"` // the secret's; "" until created
	// Document is the canonical policy apply puts; "" on delete.
	Document string `json:"document,omitempty"`
	// Live is the canonical policy on the secret that the change replaces
	// or deletes; "" when it has none. An update's Live is a document
	// changed outside secretboot (or by an older spec).
	Live string `json:"live,omitempty"`
	// Readers and Admins are the principals the policy exempts, sorted:
	// the reader roles' ARNs, and the stage's deployer and break-glass
	// principals (who alone may change the policy).
	Readers []string `json:"readers,omitempty"`
	Admins  []string `json:"admins,omitempty"`
	// Broadens are the principals of other accounts the new document
	// allows to read and the live one did not: a grant that widens access
	// as much as a read policy's, counted in Summary.Broadening, so that
	// -fail-on-broadening stops a pull request that adds a foreign reader.
	Broadens []string `json:"broadens,omitempty"`
	// Record is the secret's TagResourcePolicy added (before the first
	// put) or removed (after the delete); nil when it stays.
	Record *TagChange `json:"record,omitempty"`
}

// ProfileChange details an instance profile change.
type ProfileChange struct {
	AddRole    string `json:"add_role,omitempty"`
	RemoveRole string `json:"remove_role,omitempty"`
}

// Fingerprint is the part of the observed state a plan depends on. It is
// compared, not shown: version ids are not sensitive, and policy documents
// are represented by hashes.
type Fingerprint struct {
	StageKeyVersion string                       `json:"stage_key_version,omitempty"`
	Secrets         map[string]SecretFingerprint `json:"secrets,omitempty"`
	Roles           map[string]RoleFingerprint   `json:"roles,omitempty"`
	Profiles        map[string][]string          `json:"instance_profiles,omitempty"`
}

// SecretFingerprint is one observed secret.
type SecretFingerprint struct {
	ARN      string `json:"arn"`
	Current  string `json:"current_version,omitempty"`
	Deleted  bool   `json:"deleted,omitempty"`
	MetaHash string `json:"meta_hash"`
	// ResourcePolicyHash is the hash of the resource policy, when
	// Observe read it (format 1.3).
	ResourcePolicyHash string `json:"resource_policy_hash,omitempty"`
}

// RoleFingerprint is one observed role.
type RoleFingerprint struct {
	ARN        string `json:"arn"`
	TrustHash  string `json:"trust_hash"`
	PolicyHash string `json:"policy_hash,omitempty"`
}
