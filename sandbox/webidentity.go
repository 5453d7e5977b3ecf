package sandbox

import "github.com/secretboot/secretboot/sandbox/iam"

// WebIdentityToken returns an RS256 token with the given claims, signed by
// the sandbox's own key, for sts:AssumeRoleWithWebIdentity: the sandbox
// plays the OIDC issuer (EKS, GitHub Actions) because it cannot fetch an
// issuer's keys. STS accepts the token when an IAM OIDC provider for its
// issuer exists, its audience is one of the provider's client IDs, it has
// not expired and the role's trust policy allows its claims.
func (s *Server) WebIdentityToken(c iam.TokenClaims) (string, error) {
	return s.iam.WebIdentityToken(c)
}

// anonymous reports whether a request is one that AWS serves without a
// signature: AssumeRoleWithWebIdentity, whose token is the credential.
func anonymous(q *request) bool {
	return q.service == "sts" && q.op == "AssumeRoleWithWebIdentity"
}
