// Package verify proves that each role of a stage can do exactly what the
// spec grants on the stage's secrets, no more and no less.
//
// Three matrices of role × secret × action, over the actions
// GetSecretValue, DescribeSecret, PutSecretValue and DeleteSecret on every
// secret, and kms:Decrypt on every secret encrypted with a customer managed
// key, are compared:
//
//   - Expected: what the spec intends. A reader may GetSecretValue, and
//     DescribeSecret when its reader entry asks for it, and kms:Decrypt on
//     the secret's customer managed key; nobody may write or delete, and
//     nobody may touch the stage key secret.
//   - Online: what IAM decides, asked with SimulatePrincipalPolicy for each
//     role and every owned secret. It sees every policy attached to the
//     role — an AdministratorAccess attached outside secretboot shows up as
//     extra access — and external roles are checked like managed ones.
//   - Offline: what secretboot's own synthesized documents allow, decided by
//     policy's evaluator with no AWS access.
//
// A kms:Decrypt cell is decided on the secret's key in the request context
// Secrets Manager gives KMS when it reads that secret (the secret's ARN as
// encryption context, Secrets Manager as the calling service), so a grant
// narrowed to other secrets under the same key does not count, and one
// without those conditions shows as extra access on every secret under the
// key that the role does not read.
//
// Compare lists every cell where two matrices disagree. What verify cannot
// see (SCPs, session policies, KMS key policies, resource policies on the
// secrets) is described in docs/security.md.
package verify
