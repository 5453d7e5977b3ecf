// Package secretsmanager emulates AWS Secrets Manager for the sandbox: the
// awsJson1_1 protocol's request and response shapes, error codes and HTTP
// statuses, and the service's behaviour as /work/shared/AWS-FACTS.md §1–2
// records it.
//
// Operations: CreateSecret, DescribeSecret, GetSecretValue,
// BatchGetSecretValue, PutSecretValue, UpdateSecret,
// UpdateSecretVersionStage, ListSecretVersionIds, TagResource,
// UntagResource, ListSecrets, DeleteSecret, RestoreSecret,
// PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy,
// ValidateResourcePolicy, RotateSecret, CancelRotateSecret,
// ReplicateSecretToRegions, RemoveRegionsFromReplication,
// StopReplicationToReplica and GetRandomPassword.
//
// New returns the Service of the home region (Config.Region) and makes one
// for each of Config.Regions, reached with Region; they share one lock, so
// that replication (replication.go) changes several regions atomically,
// and Snapshot and Restore cover them all.
//
// Behaviour worth knowing:
//   - ARNs end in "-" and six random characters of [A-Za-z0-9]; a secret
//     re-created under a deleted one's name gets a new ARN.
//   - A ClientRequestToken becomes the VersionId. Reusing the token of an
//     existing version with the same value is a successful no-op that leaves
//     the staging labels where they are; with a different value it is
//     ResourceExistsException. A retried CreateSecret is recognised the same
//     way. A raw request that writes a value without a token (the SDKs
//     always send one) is InvalidRequestException, InvalidParameterException
//     for RotateSecret, as AWS answers.
//   - A new value takes AWSCURRENT (unless VersionStages says otherwise) and
//     the version that loses AWSCURRENT gets AWSPREVIOUS; a plain write also
//     takes AWSPENDING off that version (AWS's behaviour after a rotation
//     moved AWSCURRENT onto the AWSPENDING version). Versions without a
//     label are pruned beyond 100, once older than a day. ListSecretVersionIds
//     names each version's key in KmsKeyIds ("DefaultEncryptionKey" for the
//     AWS managed key).
//   - DeleteSecret schedules deletion 7–30 days ahead (default 30) or, forced,
//     deletes at once (a forced delete of an unknown secret succeeds, as on
//     AWS); while scheduled, reads and writes are
//     InvalidRequestException, CreateSecret of the name too, and ListSecrets
//     leaves the secret out unless IncludePlannedDeletion.
//   - RotateSecret records the rotation configuration (refusing, by
//     internal/rotationrules, which spec's validate shares, the rules AWS
//     refuses: both kinds of schedule, rotations under four hours apart, a
//     cron() expression outside Secrets Manager's requirements, a window
//     outside 1h–24h, into the next UTC day or into the next rotation's
//     window; and where AWS's answer is not recorded, the stricter
//     reading: forms the user guide does not list, and a window without
//     a ScheduleExpression) and answers with the id the new version gets;
//     no Lambda function is invoked: the caller plays the rotation function
//     (rotation.go), except for the built-in test rotator
//     (TestRotatorName), which the sandbox runs itself, at once and on its
//     schedule (testrotator.go). A rotation whose AWSPENDING version is not
//     yet current blocks the next one; CancelRotateSecret turns rotation
//     off and leaves the labels where they are. DescribeSecret and
//     ListSecrets report NextRotationDate for schedules in days or hours
//     and for cron() schedules. RotationRules replace the secret's rules
//     as a whole: rules without Duration remove a window set before; a
//     RotateSecret without RotationRules keeps them.
//   - Replication (replication.go): a replica is a secret of its own in
//     its region with the primary's name and suffix, updated at the end of
//     every request that changes the primary, and refusing writes with
//     InvalidParameterException; ReplicationStatus is InSync or Failed
//     ("Replication succeeded" or the reason), never InProgress;
//     FailReplica is the test hook for a failed replica. The primary-region
//     filter of ListSecrets matches a replica by its primary's region and
//     any other secret by its own.
//   - ListSecrets filters are prefix matches, except description, where
//     every word of the value must begin a word of the description, ignoring
//     case; values of one filter are ORed, filters ANDed, and a value
//     starting with "!" excludes. Within one filter a secret matches when some
//     plain value matches (or there are only negated values) and no negated
//     value does. Results are ordered by creation date unless SortBy says
//     otherwise; NextToken is left out on the last page.
//   - With SetListingLag, ListSecrets lags writes: it answers from each
//     secret's state as it was that long ago (lag.go).
//   - Limits: names of 1–512 characters of [A-Za-z0-9/_+=.@-] not ending in
//     "-" plus six characters; values of 1–65,536 bytes; descriptions up to
//     2,048; up to 50 tags (key 1–128, value up to 256, no "aws:" prefix);
//     resource policies up to 20,480 characters, parsed with
//     policy (MalformedPolicyDocumentException), and refused with
//     PublicPolicyException under BlockPublicPolicy when an unconditioned
//     Allow names the "*" principal or uses NotPrincipal; ValidateResourcePolicy
//     applies the same test and answers PolicyValidationPassed false with one
//     ValidationErrors entry (CheckName "BROAD_ACCESS", the sandbox's own
//     name) instead.
//   - DescribeSecret leaves Tags out for a secret that never had a tag and
//     answers "Tags": [] once its last tag is removed.
//   - Every client error is 400 with __type and Message; limit violations
//     are InvalidParameterException (AWS may answer some of them with an
//     unmodeled ValidationException). A name, or a SecretId that is not an
//     ARN, with characters outside the allowed set is ValidationException
//     ("Invalid name...") on every operation, before any lookup, as on AWS;
//     a VersionStage that the VersionId does not carry is
//     InvalidRequestException. Messages never quote a payload, and a
//     body that is not the operation's JSON gets a fixed
//     SerializationException message.
//
// Authorization is delegated: Serve takes an AuthorizeFunc, built by the
// sandbox from the caller's policies, and asks it before touching a secret.
// A caller without access to a secret that does not exist is denied, not
// told that it is missing.
package secretsmanager
