package spec

import "github.com/hashicorp/hcl/v2"

// Desired is one stage of a spec, fully evaluated: names are final (prefixes
// applied), readers are resolved to roles and payloads are sealed. It is what
// provision diffs against the live state of AWS.
type Desired struct {
	Project       string
	Stage         string
	Region        string
	AccountID     string // 12 digits, or "" when the stage does not pin an account
	AssumeRoleARN string // "" when the caller's own credentials are used
	NamePrefix    string // prefix of every secret name in this stage, e.g. "dev/"
	RolePrefix    string // prefix of every managed role name, e.g. "shop-dev-"

	// DeployerARN is the principal that applies the stage: deployer_arn,
	// else assume_role_arn; "" when neither is set. A secret's resource
	// policy exempts it (ResourcePolicy).
	DeployerARN string
	// BreakGlass are the principals (role or user ARNs, sorted) that every
	// resource policy of the stage exempts besides readers and deployer.
	BreakGlass []string
	// AccountIAMRead (account_iam_read) lets the deployer and the plan role
	// read the whole account's IAM configuration at once
	// (GetAccountAuthorizationDetails: every role's and customer managed
	// policy's documents), which makes observe a few calls instead of 4
	// per role. Off by default: most stages do not need that much read.
	AccountIAMRead bool

	Roles []*Role // sorted by Key; the roles of the stage's account
	// CrossAccountRoles are the external roles in another account that
	// read secrets (Role.CrossAccount), sorted by Key: secretboot neither
	// reads nor changes them; each secret they read lists their ARNs in
	// Secret.CrossAccountReaders instead of Readers.
	CrossAccountRoles []*Role
	Secrets           []*Secret // sorted by Name

	// PayloadFiles lists the files that file() and filebase64() read, as
	// written in the spec (relative to the spec directory unless absolute),
	// sorted. Every value read from a file is sensitive, so these files hold
	// payloads and must not be committed (validate warns about the ones git
	// tracks).
	PayloadFiles []string

	// SpecHash identifies the spec files and evaluated values (no payloads)
	// that produced this Desired, so a saved plan can detect a changed spec.
	SpecHash string

	// PayloadsSkipped says the stage was evaluated with
	// EvalOptions.SkipPayloads: every Payload holds its generators only.
	PayloadsSkipped bool
}

// Role is a role that may read secrets. A managed role is created and owned
// by secretboot; an external role (External != "") is owned elsewhere and only
// receives secretboot's read policy.
type Role struct {
	Key      string // label in the spec: role "web" → "web"
	Name     string // IAM role name with role_prefix applied: "shop-dev-web"
	External string // ARN of a role owned elsewhere, or ""
	// CrossAccount says the external role is in another account than the
	// stage's (account_id, else assume_role_arn's): secretboot cannot
	// attach its read policy there, and the secret's resource policy
	// allows the role instead (Desired.CrossAccountRoles).
	CrossAccount        bool
	Description         string
	Services            []string   // trusted service principals, sorted; default ["ec2.amazonaws.com"] unless Workloads are given
	Workloads           []Workload // EKS pods and OIDC tokens (IRSA, GitHub Actions) trusted besides Services; see Trust
	InstanceProfile     bool       // create an instance profile of the same name
	PermissionsBoundary string     // policy ARN or ""
	Tags                map[string]string
	// Regions limits where the role reads: the secrets' copies (primary
	// or replica) in these regions, sorted; nil means every region its
	// secrets live in.
	Regions []string

	DeclRange hcl.Range
}

// Managed reports whether secretboot creates and owns the role.
func (r *Role) Managed() bool { return r.External == "" }

// Secret is one Secrets Manager secret of the stage.
type Secret struct {
	Key         string // label in the spec: "app/db/credentials"
	Name        string // full name with name_prefix applied: "dev/app/db/credentials"
	Description string
	Readers     []Reader // sorted by Role; roles of the stage's account
	// CrossAccountReaders are the ARNs of the reader roles in another
	// account, sorted: the secret's resource policy allows them
	// (policy.ResourcePolicy); spec requires KMSKeyARN and ResourcePolicy.
	CrossAccountReaders []string
	KMSKeyARN           string // "" = the AWS managed key aws/secretsmanager
	RecoveryWindowDays  int    // 7–30, default 30
	Tags                map[string]string
	Payload             Payload
	// ValueOwner says who keeps the value once written: "" (secretboot,
	// unless rotation is enabled on the secret outside the spec),
	// ValueOwnerSecretboot or ValueOwnerRotation (always, when Rotation is
	// declared: the rotator owns Rotation.Fields).
	ValueOwner string
	// Rotation is the declared rotation, or nil.
	Rotation *Rotation
	// ResourcePolicy says the secret carries a resource policy that
	// denies reading it to every principal but its readers, the stage's
	// deployer and break-glass principals: the stage's resource_policy,
	// overridden by the secret's.
	ResourcePolicy bool
	// Replicas are the regions the secret is replicated to, sorted by
	// region: the secret's replicas, else the stage's default.
	Replicas []Replica

	DeclRange hcl.Range
}

// Reader grants one role read access to a secret.
type Reader struct {
	Role     string // Role.Key
	Describe bool   // also grant secretsmanager:DescribeSecret (caching clients need it)
}

// Generator describes a random value that secretboot creates once, on the
// first write, and keeps afterwards (unless asked to regenerate).
type Generator struct {
	Field             string // "" = the whole payload; otherwise one field of a JSON object payload
	Length            int    // 1–4096
	Upper             bool
	Lower             bool
	Numeric           bool
	Special           bool
	ExcludeCharacters string

	DeclRange hcl.Range
}
