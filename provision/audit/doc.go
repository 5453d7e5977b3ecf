// Package audit answers, for one stage, who in the account can read each
// secret the stage manages, and what of that the spec does not say.
//
// verify asks about the spec's roles; audit asks about everyone. It reads
// the whole account's IAM configuration in one paginated batch
// (GetAccountAuthorizationDetails: every user, group, role and managed
// policy with its documents) and the resource policy of each secret
// (GetResourcePolicy), reusing what observe read of both (the opted-in
// secrets' resource policies, and with account_iam_read every role and
// customer managed policy), then decides with policy.Evaluate, for every user
// and role of the account and every existing secret of the stage, whether
// it may secretsmanager:GetSecretValue the secret (each replica counting
// as a secret of its own, "<name>@<region>") — through its inline
// and attached policies, a user's groups' policies, its permissions
// boundary and the secret's resource policy together, as IAM does within
// one account.
//
// A secret under a customer managed key of the account is read only by a
// principal that may also kms:Decrypt it through Secrets Manager: audit
// reads the key policy (GetKeyPolicy, in the key's region: a replica's key
// is in the replica's) and decides as KMS does, the key
// policy allowing the principal itself, or allowing the account and the
// principal's IAM policies allowing it too. The key policy's own grants of
// kms:Decrypt beyond the secret's readers (a principal by ARN, another
// account, anyone) are findings; its statement for the account is
// delegation to IAM policies, which audit evaluates instead.
//
// What the spec intends is verify.Expected's readers plus the stage's
// deployer role (which apply needs to read generated values back). Every
// other reader is a finding, and so are:
//
//   - a reader whose access holds only under conditions audit cannot
//     decide (a source IP, an MFA flag, a tag of the caller): it is
//     reported as conditional rather than dropped;
//   - a resource policy that lets a principal outside the account, or
//     anyone, read a secret;
//   - a role that can read a secret (expected or not) and whose trust
//     policy lets another account, anyone, or any web identity of a
//     provider (no condition on the token's subject) assume it: an
//     exposure path even when the reader itself is the spec's;
//   - a principal with a policy audit cannot parse: it is not evaluated,
//     and says so, rather than being counted as harmless;
//   - a key policy that lets a principal beyond the secret's readers
//     decrypt it.
//
// What audit does not see is listed in every result (NotSeen): service
// and resource control policies of AWS Organizations, session policies,
// IAM Identity Center permission sets (their roles are seen, as roles),
// KMS grants, the key policies of keys in other accounts, a key changed
// outside the spec (each secret is decided under the spec's key), and
// principals of other accounts beyond what a resource or trust policy
// names. The evaluator compares policy variables literally and knows only
// the request context audit gives it (the caller's ARN, account and type,
// the secret's tags).
package audit
