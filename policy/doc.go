// Package policy models IAM policy documents and everything secretboot does
// with them: parsing what IAM accepts, canonical rendering for reviewer
// files and API calls, size accounting as IAM counts it, synthesis of
// least-privilege read policies and trust policies, splitting into managed
// policies, grant diffs that flag broadening, and an evaluator that computes
// what IAM's SimulatePrincipalPolicy would decide.
//
// The evaluator is shared by the sandbox (to authorize requests) and by
// `secretboot verify --offline`, so that both agree with the documents the
// engine writes. Policy variables such as ${aws:username} are not substituted:
// they are compared literally.
package policy
