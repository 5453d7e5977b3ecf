// Package provision is secretboot's engine: it reads the live state of a
// stage, resolves what the stage should look like against it, compares the
// two and applies the difference.
//
// # Flow
//
// spec → Desired → Observe → Resolve → Diff → Plan → Apply:
//
//	s, err := provision.Connect(ctx, provision.ConnectOptions{…})   // account guard included
//	o, err := provision.Observe(ctx, s, desired)                     // a few list calls, no per-secret reads
//	in := provision.Resolve(desired, o)                              // pure: the stage's Intent
//	p, err := provision.Diff(desired, o, provision.DiffOptions{})    // pure; p holds no payload
//	res, err := provision.Apply(ctx, s, p, desired, provision.ApplyOptions{})
//
// Each phase lives in its own files and decides only what is its own:
//
//   - Observe (observe*.go) only reads AWS into an Observed value. After the
//     listings it resolves the Intent of what it has seen and makes the
//     extra reads that the Intent says its read policies need (attachment
//     slots, the account's quota), and no other.
//   - Resolve (intent.go, resolve_*.go) turns Desired and Observed into an
//     Intent, once and without calls: per secret its declaration, whether
//     the live secret is the stage's, the generation its tags and version
//     tokens are made at, its recovery window, and its exact or pending
//     ARN; per role its read policy (exact or pending ARNs), where that
//     goes (inline, or split into managed parts and their names, within the
//     role's quotas), its trust policy and the stage's boundary. This is
//     the one place where a read policy is decided and where the owned
//     secret ARNs are mapped. RoleDocumentsOf and SecretRefs are views of
//     it: `secretboot policy`, the reviewer files (package review) and
//     `verify` (package verify) read the same documents plan and apply do,
//     and DeployerPolicy reads its names and boundary.
//   - Diff (diff*.go) compares the Intent with the Observed state and
//     returns a Plan: changes with their dependencies, and no payload.
//   - Apply (apply*.go) re-observes, re-resolves and re-diffs, refuses a
//     plan that no longer matches, then executes the plan's changes; a read
//     policy is resolved again once the secrets this apply created have
//     exact ARNs.
//
// names.go holds the names, tags and paths every phase shares, tokens.go
// the version tokens and ownership proofs, errors.go and endpointerr.go the
// errors of API calls.
//
// A new resource kind (a secret's resource policy, say) adds its observed
// form to Observed (observe*.go), its resolved form to Intent
// (resolve_*.go), a Kind and a change type to plan.go, its comparison to a
// diff_*.go file and its calls to an apply_*.go file; the renderers show
// the new change type. A new principal type (another kind of reader)
// resolves its documents in Resolve next to RoleDocuments, so that plan,
// apply, the reviewer files and verify read them from the Intent.
//
// # Ownership and version tokens
//
// Secrets are owned through the tags secretboot:project and secretboot:stage;
// roles and instance profiles through the IAM path
// /secretboot/<project>/<stage>/. Resources with a clashing name that
// secretboot does not own are never touched: Diff returns a ClashError that
// points at `secretboot import` (Import adopts secrets by tagging them).
//
// Every payload write uses a ClientRequestToken derived from the stage key —
// 32 random bytes in the secret <name_prefix>.secretboot/stage-key, made on
// the first apply — and from what the spec declares (name, declared payload,
// generator specs, generation counter). The token is a version-8 UUID: 96
// bits of HMAC over the declaration and a 32-bit mark that authenticates
// them for the secret's name. Plan compares the expected token with the
// AWSCURRENT version id that ListSecrets returns, so it needs no read of any
// payload, and the mark tells a version secretboot wrote for an older spec
// ("changed in spec") from one written by someone else ("changed outside").
// When the expected version still exists but lost AWSCURRENT, apply moves
// the stage back instead of writing.
//
// Generated values are created once and kept: a write that must keep them
// reads the live value first (PayloadChange.ReadsLive). DiffOptions.Regenerate
// bumps the generation counter, kept in the tag secretboot:generation.
//
// # Rotation
//
// A secret's declared rotation (spec.Rotation) is observed from ListSecrets
// (ObservedSecret.Rotation), compared in diff_rotation.go (enable, update,
// cancel; TagRotation marks the spec's own, so a rotation enabled outside
// the spec is never cancelled) and applied in apply_rotation.go
// (RotateSecret, CancelRotateSecret). The rotator owns the generated
// fields: a version secretboot cannot authenticate is the rotator's and is
// never drift; the declared fields are rewritten, keeping the live
// generated ones, only when the declaration's version is neither labelled
// nor in the history; removing the block cancels the rotation and writes
// the declaration once more with the rotator's last values. The rotator
// role's grants (policy.RotationPolicy) join its read policy in Resolve.
//
// # Replication
//
// A secret's replicas (spec.Secret.Replicas) are observed with one
// DescribeSecret per secret that declares replicas, is listed with a
// PrimaryRegion or leaves the spec (observe_replicas.go; ListSecrets shows
// no replicas), compared in diff_replicas.go (KindReplication: add,
// remove, replace a replica whose key differs, retry a failed one) and
// applied in apply_replicas.go (RemoveRegionsFromReplication, then
// ReplicateSecretToRegions; a secret apply creates gets its replicas from
// CreateSecret's AddReplicaRegions). A deleted secret's replicas go first: its
// deletion depends on the replication change. A replica's ARN is the
// primary's in its region (ReplicaARN); resolve_replicas.go grants each
// reader the copies in its regions (spec.Role.Regions), each with its own
// key through Secrets Manager of its region.
//
// # Read policies
//
// Each role's read policy (policy synthesises it) lives in the
// inline policy secretboot-read while it fits the role's 10,240-character
// inline limit. Beyond that, policy.Fit splits it into customer managed
// policies <role>-read-1, -2, … under the stage's path, attached to the
// role, and the inline policy is deleted; when it fits again it moves back
// and the parts are detached and deleted. Observe finds the parts with one
// ListPolicies per stage and reads attachments and default versions only
// for roles that have parts. Apply creates or versions the parts before
// attaching them and deletes the inline policy only after, so a role in
// use keeps its grants throughout; a part at IAM's five-version limit loses
// its oldest non-default version first. A policy that cannot fit even
// split fails the plan, naming the role and the numbers.
//
// External roles live outside the stage's path, so the stage key records
// each one holding the read policy in a tag (TagExternalPrefix + role
// name → ARN) that ListSecrets returns at no extra call. Apply writes the
// record before the policy and removes it after the policy is gone; a
// recorded role the spec no longer names (Observed.Forgotten) loses its
// policy, and destroy clears every recorded role before the stage key
// goes. The tags cap a stage at MaxExternalRoles external roles.
//
// # Resource policies
//
// A secret that opts in (spec.Secret.ResourcePolicy) carries the resource
// policy policy.ResourcePolicy synthesizes: a Deny of GetSecretValue to
// every principal but its readers, the stage's deployer and break-glass
// principals, and of changing the policy to all but the last two. Resolve
// decides it (SecretRef.Resource), Observe reads it only for secrets that
// opt in or carry TagResourcePolicy, Diff plans a KindResourcePolicy
// change when it differs, and Apply validates every document of the plan
// (ValidateResourcePolicy) before its first write and puts each with
// BlockPublicPolicy.
//
// # Apply
//
// Apply re-observes and re-diffs before writing and refuses a plan that no
// longer matches (StalePlanError), so a saved plan is applied exactly as
// reviewed. Each change starts once the changes it depends on are done
// (secrets after the stage key, a read policy after its role and pending
// secrets, an instance profile after its role, a role deletion last), with
// one parallelism bound per service; IAM eventual consistency is retried
// explicitly, throttling
// and 5xx by the SDK's retryer, under client-side rate limits at the AWS
// quotas. A failure leaves an ApplyError that lists what was done and what
// was not; every write is idempotent, so running apply again converges.
// A create that finds its resource already there (ListSecrets and ListRoles
// lag behind writes; another apply may have run) continues from the
// resource's state when it is the stage's, and touches nothing otherwise.
//
// Session.CallStats counts calls, retries and throttles per operation, and
// ApplyResult.Summary those of one apply; with ConnectOptions.Debug every
// operation and HTTP exchange is logged with its timing and attempts.
//
// # Payloads
//
// Payloads travel as spec.Sealed from the spec to the one place that builds
// a Secrets Manager request. Plans, saved plans, errors and debug logs never
// hold them: a Plan is a plain value without any sealed field, errors name
// resources and operations only, and the debug transport replaces the bodies
// of payload-carrying calls with "(redacted)". The errors of those calls are
// rebuilt without the endpoint's message, which could quote the payload
// (EndpointError): they keep the error code when it is a documented one, the
// HTTP status and the request ID, and say what the code usually means. With
// ConnectOptions.Mask, the caller's masker learns every payload the engine
// generates, writes or reads, and the stage key.
package provision
