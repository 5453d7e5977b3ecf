// Package iam is the sandbox's IAM and STS: both speak awsQuery (form-encoded
// requests, XML responses), share the role store, and are served by one
// Service that the sandbox router calls with an already decoded form and an
// authenticated caller.
//
// IAM (Version 2010-05-08) covers roles (with tags, trust policies,
// permissions boundaries and inline policies), instance profiles, customer
// managed policies with versions, attachments, the two policy simulators,
// and GetAccountSummary: AWS's default quotas (the managed policies per
// role as configured), the real counts of roles, instance profiles,
// customer managed policies and attachments (PolicyVersionsInUse), and 0
// for the entities the sandbox does not have. STS (Version 2011-06-15) covers GetCallerIdentity and
// AssumeRole. Response shapes, error codes and HTTP statuses follow
// AWS-FACTS §3–§5: policy documents in responses are URL-encoded, list
// responses leave out Marker on their last page, errors are
// <ErrorResponse> documents with NoSuchEntity 404, EntityAlreadyExists,
// LimitExceeded and DeleteConflict 409, InvalidInput and
// MalformedPolicyDocument 400, AccessDenied 403. Violations of the API
// model's own constraints (a missing parameter, a name too long or with a
// forbidden character, a number out of range) are ValidationError 400, as
// they are on AWS, before any IAM rule is checked.
//
// Limits enforced: role names 1–64 and instance profile and policy names
// 1–128 of [\w+=,.@-], unique per account ignoring case; paths; descriptions
// up to 1,000 characters; 50 tags (keys unique ignoring case, no aws:
// prefix); the role's inline policies together 10,240 characters, a managed
// policy 6,144 and a trust policy 2,048, all counted without whitespace; 10
// managed policies per role (Config.AttachedPoliciesPerRoleQuota raises
// it, as AWS does on request); 5 versions per managed policy; one role per
// instance profile. Policy documents are validated by the sandbox's
// own reading of the IAM documentation (grammar.go), not by the engine's
// policy package: the API model's characters, the JSON grammar and its
// elements, alphanumeric and unique Sids, actions with a service prefix,
// resources as ARNs, known condition operators, principals of the forms
// IAM takes, and the placement rules (no Principal in an identity policy;
// a Principal, no Resource and only sts actions in a trust policy). Sizes
// are counted there too, without white space; a test pins both readings
// against each other on the engine's documents and on edge cases.
//
// Policy evaluation, for the simulators, for STS trust checks and, through
// PolicySetFor, for the router's authorization of every request, is
// policy.Evaluate.
//
// Two helpers serve the router's enforcement mode: Target names the action
// and the resource ARN (with the role's real path) of an IAM or STS
// request, and RoleUsable tells Secrets Manager whether a role named in a
// resource policy exists and has propagated.
//
// Sandbox conveniences and simplifications, on purpose:
//   - AssumeRole by the admin succeeds when the trust policy allows a
//     service principal such as ec2.amazonaws.com, so that a test can act as
//     an EC2 instance of the role. Any other caller must be allowed by the
//     trust policy itself (its ARN, its account or its role).
//   - A role cannot be assumed until Config.PropagationDelay has passed since
//     its creation (IAM's eventual consistency); STS answers AccessDenied, as
//     for a role that does not exist.
//   - AssumeRole and AssumeRoleWithWebIdentity take session policies
//     (Policy, PolicyArns): the session may do only what its role and they
//     both allow (policy.PolicySet.Session).
//   - The only AWS managed policy is arn:aws:iam::aws:policy/AdministratorAccess.
//   - A managed policy used as a permissions boundary cannot be deleted.
//   - The simulators answer as IAM does now: one EvaluationResult per
//     action, the most restrictive decision on top, the decision per
//     resource in ResourceSpecificResults (IAM used to answer once per
//     action and resource). ContextEntries are the request context of every
//     action and resource, seen by the policies' conditions with key names
//     compared ignoring case; a ContextKeyType outside the model's enum is a
//     ValidationError, but values are not checked against their type (an
//     operator that cannot parse a value does not match it). They evaluate
//     roles only; several boundary documents given to a simulator are merged
//     into one; MissingContextValues and statement positions are not
//     reported.
//   - AssumeRole is decided by the trust policy alone; whether the caller's
//     identity policies allow sts:AssumeRole (needed across accounts) is
//     left to the router. Each account of a sandbox is its own Service.
//   - A trust policy whose Federated principal names an OIDC provider the
//     account does not have is refused (MalformedPolicyDocument "Invalid
//     principal in policy"), as IAM does.
//   - IAM users and groups exist as holders of policies (inline, attached,
//     membership, a user's boundary; users.go) and are read back one by one
//     or all at once with GetAccountAuthorizationDetails, which lists AWS
//     managed policies only while something attaches them. Access keys,
//     login profiles and SAML providers do not exist, and the router
//     authorizes no request as a user.
package iam
