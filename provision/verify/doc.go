// Package verify proves that each role of a stage can do exactly what the
// spec grants on the stage's secrets, no more and no less.
//
// Three matrices of role × secret × action, over the actions
// GetSecretValue, DescribeSecret, PutSecretValue and DeleteSecret, are
// compared:
//
//   - Expected: what the spec intends. A reader may GetSecretValue, and
//     DescribeSecret when its reader entry asks for it; nobody may write or
//     delete, and nobody may touch the stage key secret.
//   - Online: what IAM decides, asked with SimulatePrincipalPolicy for each
//     role and every owned secret. It sees every policy attached to the
//     role — an AdministratorAccess attached outside secretboot shows up as
//     extra access — and external roles are checked like managed ones.
//   - Offline: what secretboot's own synthesized documents allow, decided by
//     provision/policy's evaluator with no AWS access.
//
// Compare lists every cell where two matrices disagree. What verify cannot
// see (SCPs, session policies, KMS key policies, resource policies on the
// secrets) is described in docs/security.md.
package verify
