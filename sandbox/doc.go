// Package sandbox is a local AWS-compatible endpoint for Secrets Manager,
// KMS, IAM and STS, so that secretboot's tests, its --sandbox mode and other
// tools (the AWS CLI, boto3) drive real clients over HTTP: serialisation,
// paginators, retries and error decoding included.
//
// A Server is one http.Handler. It routes a request to Secrets Manager
// (package sandbox/secretsmanager, awsJson1_1) or KMS (package sandbox/kms,
// awsJson1_1, target prefix TrentService.) by its X-Amz-Target header, and
// to IAM or STS (package sandbox/iam, awsQuery) by the service name in
// the SigV4 credential scope of its Authorization header, falling back to
// the form's Version (2010-05-08 IAM, 2011-06-15 STS). Two endpoints of its
// own: GET /_sandbox/stats returns Stats as JSON, POST /_sandbox/reset-stats
// zeroes them.
//
// # Regions and replication
//
// A Server serves Options.Region (the home region) and Options.Regions
// besides. A Secrets Manager or KMS request's region is the region of its
// SigV4 credential scope (Credential=AK/date/REGION/service/aws4_request),
// the home region for a request without one; a region not served is
// answered UnrecognizedClientException naming the served ones. Secrets
// Manager and KMS keep a state per region (ARNs carry it), and their quotas
// are per region; IAM and STS are global. Options.KMSKeys may name key ARNs
// of any served region. Secrets Manager's use of a customer managed key
// goes to KMS of the secret's region, through secretsmanager.<region>, so
// a reader of a replica needs kms:Decrypt on the replica region's key with
// that region's kms:ViaService, and a grant on the primary's ARN does not
// reach the replica's.
//
// Secrets replicate as AWS replicates them (package secretsmanager,
// replication.go): CreateSecret's AddReplicaRegions and
// ForceOverwriteReplicaSecret, ReplicateSecretToRegions,
// RemoveRegionsFromReplication, StopReplicationToReplica (called in the
// replica's region: promotes it), PrimaryRegion and ReplicationStatus in
// DescribeSecret and PrimaryRegion in ListSecrets. A replica has the
// primary's name and suffix, its ARN in its region, and the primary's
// versions, labels, description, tags, resource policy and rotation
// metadata; it refuses writes, and a primary with replicas cannot be
// deleted. Replication is synchronous: a replica is InSync at the end of
// the request that changed its primary, or Failed (its name taken in the
// region, its key unusable, or Server.FailReplica, the test hook); there
// is no InProgress. Adding a replica takes the caller's kms:Decrypt on the
// primary's key and kms:GenerateDataKey and kms:Encrypt on the replica's;
// a request the primary refuses replicates nothing.
//
// # Authentication
//
// By default any credentials are accepted and the caller is the account's
// admin, arn:aws:iam::<account>:user/sandbox-admin, except that keys issued
// by STS AssumeRole still act as their role. With Options.EnforceAuth, every
// request must carry a SigV4 signature that verifies against a known key:
// the fixed admin pair (AdminAccessKeyID, AdminSecretAccessKey) or a key
// issued by AssumeRole (valid for one hour). Verification re-signs the
// request with aws-sdk-go-v2's own signer over the headers the client
// signed. Each request is then authorized with policy's evaluator:
// the admin may do anything; a role session is judged by its role's inline
// and attached policies, its permissions boundary and, for Secrets Manager,
// the secret's resource policy. A KMS request, and Secrets Manager's use of
// a customer managed key on the caller's behalf, is decided as KMS decides:
// the key policy must allow the caller by its ARN, or allow the account
// (arn:aws:iam::<account>:root, as the default key policy does) and then
// the caller's IAM policies must allow it too; an explicit deny anywhere
// wins, and a permissions boundary bounds both. This applies to the admin
// as well, so a key policy that names neither the account nor the admin
// locks the admin out, as on AWS (PutKeyPolicy and CreateKey refuse such a
// policy unless BypassPolicyLockoutSafetyCheck). AddRoleToInstanceProfile also needs
// iam:PassRole on the role, as on AWS. Denials are AccessDeniedException
// (400) for Secrets Manager and AccessDenied (403) for IAM. The admin may
// assume a role whose trust policy names a service principal such as
// ec2.amazonaws.com, so a test can act as an instance of that role.
//
// # Web identity and Pod Identity
//
// IAM keeps OpenID Connect providers (Create, Get, List and
// DeleteOpenIDConnectProvider), and STS answers AssumeRoleWithWebIdentity,
// which needs no signature: the token is the credential. The sandbox cannot
// fetch an issuer's signing keys (JWKS) from the internet, so it plays the
// issuer itself: Server.WebIdentityToken signs an RS256 JWT with any iss,
// sub, aud, exp and amr, with a key the sandbox makes on first use and
// never saves (tokens do not survive a restart). AssumeRoleWithWebIdentity
// accepts only such tokens, and only when an OIDC provider for the token's
// iss exists (else InvalidIdentityToken), its aud is one of the provider's
// client IDs (InvalidIdentityToken "Incorrect token audience") and it has
// not expired (ExpiredTokenException). The role's trust policy then decides,
// with the provider's ARN as Federated principal, the action
// sts:AssumeRoleWithWebIdentity and the claims as <issuer>:sub, <issuer>:aud
// and <issuer>:amr (AccessDenied otherwise). EKS Pod Identity is played by
// the admin: AssumeRole with session Tags as a service principal the trust
// names (pods.eks.amazonaws.com); the tags are aws:RequestTag/<key> and
// aws:TagKeys, and need sts:TagSession in the trust too.
//
// # KMS and Secrets Manager
//
// A secret whose KmsKeyId names a customer managed key (a key ID, key ARN,
// alias or alias ARN; not the AWS managed alias/aws/secretsmanager) is
// written and read through KMS: each new version takes kms:GenerateDataKey
// and kms:Decrypt, each read kms:Decrypt, with kms:ViaService
// secretsmanager.<region>.amazonaws.com and the encryption context
// {SecretARN, SecretVersionId} as condition keys (kms:EncryptionContext:…),
// each version under the key it was written with. When UpdateSecret
// changes the key, the versions labelled AWSCURRENT, AWSPENDING or
// AWSPREVIOUS are re-encrypted under the new key when the caller may
// decrypt them and the new key encrypt, and stay decryptable under the old
// one, as AWS does. KMS's refusal is
// AccessDeniedException "Access to KMS is not allowed"; a key that is
// missing, disabled or pending deletion makes writes EncryptionFailure and
// reads DecryptionFailure, enforcement or not. Options.KMSKeys creates keys
// with IDs of the caller's choosing (CreateKey draws its own), so that a
// spec naming a key ARN runs on the sandbox.
//
// # Accounts
//
// Options.Accounts adds accounts to the one of Options.Account (the home
// account). Each has its own IAM and STS (roles, users, policies, OIDC
// providers) and a fixed admin key (Server.AdminCredentialsFor), which
// acts in its own account's IAM and STS like the home admin; IAM and
// GetCallerIdentity answer the caller's account, AssumeRole the account of
// the role it names. Secrets Manager and KMS exist in the home account
// only: another account's principal reaches them across accounts, by the
// secret's or key's ARN (anything else, a bare name, a listing or a
// create, is refused: the sandbox keeps no Secrets Manager or KMS state for
// that account). A cross-account request is decided as AWS decides one:
// the caller's identity policies (within its boundary and session
// policies) and the resource's policy, the secret's resource policy or the
// key policy of the kms:Decrypt that Secrets Manager makes for it, must
// both allow it, by the caller's ARN, its role or its account; an explicit
// deny in either wins. Cross-account AssumeRole needs the role's trust and
// the caller's sts:AssumeRole grant; the home admin's shortcut of acting
// as a service principal is the home admin's only. A resource or key
// policy naming a role of one of the sandbox's accounts needs that role to
// exist there; a role of any other account is taken to exist.
//
// # Knobs
//
//   - Latency and Jitter: every request waits Latency plus a uniform draw
//     from [0, Jitter).
//   - Quotas: token buckets (golang.org/x/time/rate), each holding one
//     second's worth of requests. Secrets Manager uses AWS's published rates:
//     GetSecretValue 10,000/s, DescribeSecret 40,000/s, ListSecrets 100/s,
//     CreateSecret and DeleteSecret 50/s each, PutSecretValue, UpdateSecret and
//     UpdateSecretVersionStage 50/s together, RestoreSecret, tagging and
//     resource-policy calls 50/s per group, every other operation 50/s. IAM
//     and STS publish no rates; the sandbox uses 100/s for IAM Get*/List*,
//     20/s for other IAM writes, 10/s for the policy simulators and 100/s per
//     STS operation. KMS uses its published rates: 5,500/s shared by
//     Encrypt, Decrypt and GenerateDataKey, DescribeKey 2,000/s,
//     GetKeyPolicy 1,000/s, the listings 100/s each, every other operation
//     5/s. A throttled request is answered ThrottlingException
//     (Secrets Manager) or Throttling (IAM, STS), both 400 "Rate exceeded",
//     which the SDKs retry; KMS answers ThrottlingException too.
//   - FaultRate: that fraction of requests is answered InternalServiceError
//     (Secrets Manager, 500), KMSInternalException (KMS, 500), ServiceFailure
//     (IAM, 500) or ServiceUnavailable (STS, 503); the SDKs retry them all.
//   - PropagationDelay: a new role cannot be assumed for this long (STS
//     answers AccessDenied, as AWS does while IAM propagates). With
//     PropagateWrites, PutRolePolicy, AttachRolePolicy and
//     AddRoleToInstanceProfile naming such a role answer NoSuchEntity too.
//   - ForceDeleteLag: a secret deleted with ForceDeleteWithoutRecovery
//     keeps its name this long (CreateSecret of it is
//     InvalidRequestException, RestoreSecret too), as AWS's asynchronous
//     deletion does.
//   - ListingLag: Secrets Manager's ListSecrets shows each secret as it was
//     this long ago (new secrets missing, deleted ones still listed, old
//     tags and version stages), as AWS's eventually consistent listing can;
//     calls by ID see every write at once. Turning it on treats the present
//     state as caught up.
//   - AttachedPoliciesPerRoleQuota: IAM's quota of managed policies per
//     role, 10 to 20 as AWS grants it (0 is the default of 10), which
//     AttachRolePolicy enforces and GetAccountSummary reports.
//   - Stats counts calls, throttles and faults per "service.Operation".
//
// Latency, quotas, the fault rate and the listing lag can change at run
// time with SetFaults.
//
// # State
//
// State is kept in memory, or with Options.StateDir in StateDir/state.json
// (directory 0700, file 0600): a JSON snapshot of the services (KMS key
// material included) and of the
// issued keys, written atomically (temporary file, fsync, rename) shortly
// after each successful change and by Close, and read back by New, which
// serves every region the state has, named in Options.Regions or not. Secret
// payloads live in that state and nowhere else: the request log records
// service, operation, status, duration and request ID, never a body.
//
// # Measuring fidelity
//
// Package sandbox/fidelity holds a corpus of scenarios (Secrets Manager,
// KMS, IAM and STS; 180 and more) written from the AWS API references, the
// SDK's API models and responses recorded on AWS, each citing its source,
// with the outcome AWS gives. Its tests play the corpus through the real SDK
// against this sandbox (every scenario must pass), against moto when
// python3 -m moto.server is available (never required), and against the
// endpoint AWS_ENDPOINT_URL names when FIDELITY_ENDPOINT=1; .ci/run prints
// "fidelity: P/T (sandbox)" and "fidelity: P/T (moto)".
//
// # Fidelity limits
//
// What the sandbox does not emulate, on purpose or for now:
//   - KMS: symmetric customer managed keys only (no asymmetric or HMAC keys,
//     multi-Region keys, imported material, custom key stores, grants,
//     rotation or tag operations). The AWS managed keys (alias/aws/…) do not
//     exist: a secret under aws/secretsmanager is usable by every caller
//     that may read it, without a kms: check, which is what the default key
//     policy of aws/secretsmanager allows within the account. Secrets are
//     stored in the state in the clear, the checks above stand in for their
//     encryption; KMS's own ciphertexts (Encrypt, GenerateDataKey) are real
//     AES-256-GCM under the key. A key of another account cannot be named.
//   - IAM: a session policy limits the session as on AWS, except that a
//     resource policy naming the session itself is still limited by it
//     (AWS lets such a grant through).
//   - Rotation invokes no Lambda function (the caller plays it), except
//     the built-in test rotator, function secretboot-sandbox-rotator of
//     the sandbox's region and account, which the sandbox runs itself
//     without authorizing its calls (Server.RotateNow runs it on demand);
//     cron() schedules with L or # never come due, and a rotation comes
//     due at the start of its window. RotateSecret refuses the rules the
//     user guide's requirements exclude and, where AWS's answer is not
//     recorded, the stricter reading that spec's validate shares
//     (internal/rotationrules): lists, ranges and * in the hours field,
//     which the guide does not list (it names single hours and
//     increments), W, lower case, extra spaces, rate(n hours) beyond 23
//     hours, and a window (Duration) without a ScheduleExpression; AWS may
//     take some of these. The Secrets Manager operations not
//     listed in package secretsmanager answer UnknownOperationException.
//     Replication is synchronous (no InProgress) and its error codes and
//     messages are moto's where AWS's are not recorded. ValidateResourcePolicy
//     approximates AWS's automated reasoning with a syntactic test for
//     public access.
//   - Apart from the knobs (PropagationDelay, PropagateWrites, ListingLag,
//     ForceDeleteLag), everything is strongly consistent, and the knobs
//     apply fixed delays where AWS's vary.
//   - Authorization knows the global keys aws:PrincipalAccount and (for
//     Secrets Manager and KMS) aws:RequestedRegion, and the
//     request keys that secretboot's policies rely on: the tags of the
//     secret, role or instance profile (aws:ResourceTag/…,
//     secretsmanager:ResourceTag/…, iam:ResourceTag/…), the tags of the
//     request (aws:RequestTag/…, aws:TagKeys), iam:PermissionsBoundary,
//     iam:PolicyARN and iam:PassedToService, on the actions the Service
//     Authorization Reference lists them for (docs/security.md has the
//     table). No other key is set. IAM requests are authorized against the
//     named role, instance profile or policy ARN, with its path, or "*".
//     AssumeRole within one account is decided by the trust policy alone
//     (across accounts the caller's identity policy must allow it too), and
//     issued keys last one hour whatever DurationSeconds asks. Session tags
//     are not kept on the session (no aws:PrincipalTag), and web identity
//     tokens must be the sandbox's own (see above); OAuth 2.0 providers
//     (ProviderId) are not emulated. A trust policy's Federated principal
//     that names an OIDC provider must be one of the account's providers
//     when the role is written (MalformedPolicyDocument otherwise, as on
//     AWS); Options.OIDCProviders creates providers at start.
//   - Across accounts: a read of a secret under the AWS managed key is not
//     refused (AWS refuses it; secretboot's validate refuses such a spec),
//     and every operation may be called across accounts, not only those
//     AWS allows.
//   - SigV4: only the Authorization header form (no presigned URLs); the
//     signing time is not checked for skew, and the region and service of the
//     credential scope are taken from the client. A client that signs a header
//     the Go signer never signs (User-Agent, for one) fails verification.
//   - Quotas are per Server and region, not per account.
//   - Reads refresh LastAccessedDate in memory; it reaches the state file
//     with the next change.
package sandbox
