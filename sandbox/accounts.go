package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/iam"
	"github.com/secretboot/secretboot/sandbox/kms"
	"github.com/secretboot/secretboot/sandbox/secretsmanager"
)

// accountRE is an AWS account ID.
var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// addAccounts gives every extra account of Options.Accounts its own IAM
// and STS and an admin key. Secrets Manager and KMS stay the home
// account's: another account reaches them only across accounts.
func (s *Server) addAccounts() error {
	s.others = map[string]*iam.Service{}
	for _, a := range s.opts.Accounts {
		switch {
		case !accountRE.MatchString(a):
			return fmt.Errorf("sandbox: account %q is not a 12-digit account ID", a)
		case a == s.opts.Account || s.others[a] != nil:
			return fmt.Errorf("sandbox: account %s is named twice", a)
		}
		s.others[a] = iam.New(iam.Config{
			Account:                      a,
			Now:                          s.opts.Now,
			PropagationDelay:             s.opts.PropagationDelay,
			IssueCredentials:             s.keys.issue,
			AttachedPoliciesPerRoleQuota: s.opts.AttachedPoliciesPerRoleQuota,
		})
		id, secret := adminKeyFor(a)
		s.keys.add(id, key{Secret: secret, Principal: iam.Principal{
			ARN: "arn:aws:iam::" + a + ":user/" + adminUserName, Account: a, Admin: true,
		}})
	}
	return nil
}

// adminKeyFor is the fixed admin key pair of an extra account: like the
// home account's, documented and not secret.
func adminKeyFor(account string) (id, secret string) {
	return "AKIA" + account + "ADMN", AdminSecretAccessKey + "-" + account
}

// AdminCredentialsFor returns the admin key pair of account, the home
// account or one of Options.Accounts; ok is false for any other account.
// Each admin may do anything in its own account's IAM and STS; in the home
// account's Secrets Manager and KMS an extra account's admin is a foreign
// principal like any other.
func (s *Server) AdminCredentialsFor(account string) (accessKeyID, secretAccessKey string, ok bool) {
	switch {
	case account == s.opts.Account:
		id, secret := s.AdminCredentials()
		return id, secret, true
	case s.others[account] != nil:
		id, secret := adminKeyFor(account)
		return id, secret, true
	}
	return "", "", false
}

// iamFor is the IAM and STS of account, nil when the sandbox has no such
// account.
func (s *Server) iamFor(account string) *iam.Service {
	if account == s.opts.Account {
		return s.iam
	}
	return s.others[account]
}

// foreign reports whether caller belongs to an extra account: its requests
// to Secrets Manager and KMS are cross-account requests.
func (s *Server) foreign(caller iam.Principal) bool {
	return caller.Account != "" && caller.Account != s.opts.Account
}

// identityService routes an IAM or STS request: IAM and GetCallerIdentity
// to the caller's own account, AssumeRole and AssumeRoleWithWebIdentity to
// the account of the role they name. A role of an account the sandbox does
// not have is answered as AWS answers a role that does not exist.
func (s *Server) identityService(caller iam.Principal, q *request) (*iam.Service, *apiErr) {
	if q.service == "sts" && strings.HasPrefix(q.op, "AssumeRole") {
		arn := q.form.Get("RoleArn")
		if svc := s.iamFor(arnAccount(arn)); svc != nil || arn == "" {
			if svc == nil {
				svc = s.iam // the missing parameter is STS's to answer
			}
			return svc, nil
		}
		return nil, &apiErr{http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: %s is not authorized to perform: sts:%s on resource: %s", caller.ARN, q.op, arn)}
	}
	if svc := s.iamFor(caller.Account); svc != nil {
		return svc, nil
	}
	return s.iam, nil
}

// arnAccount is the account field of an ARN, or "".
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// authorizeAssumeRole is the caller's half of a cross-account AssumeRole:
// the role's trust policy (package iam) must allow the caller, and the
// caller's own identity policies must allow sts:AssumeRole on the role
// (IAM user guide, "Cross-account policy evaluation logic"). Within one
// account the sandbox leaves AssumeRole to the trust policy.
func (s *Server) authorizeAssumeRole(caller iam.Principal, q *request) *apiErr {
	if !s.opts.EnforceAuth || q.service != "sts" || q.op != "AssumeRole" {
		return nil
	}
	arn := q.form.Get("RoleArn")
	if arnAccount(arn) == caller.Account {
		return nil
	}
	set, _ := s.iamFor(caller.Account).PolicySetFor(caller)
	return iamDecision(set, caller, "sts:AssumeRole", arn, nil)
}

// crossAccountTarget refuses a foreign caller's Secrets Manager or KMS
// request that does not name a home-account resource by ARN. AWS resolves
// a bare name, key ID or alias in the caller's own account, and a listing
// or a create acts there too; the sandbox keeps no Secrets Manager or KMS
// state for extra accounts, so it says so instead of answering from the
// home account's.
func (s *Server) crossAccountTarget(caller iam.Principal, q *request) *apiErr {
	if !s.foreign(caller) || (q.service != "secretsmanager" && q.service != "kms") {
		return nil
	}
	var in struct{ SecretId, KeyId string }
	_ = json.Unmarshal(q.body, &in) // a body that does not decode names nothing
	id := in.SecretId
	if q.service == "kms" {
		id = in.KeyId
	}
	if strings.HasPrefix(id, "arn:") && arnAccount(id) == s.opts.Account {
		return nil
	}
	code := secretsmanager.CodeInvalidRequest
	if q.service == "kms" {
		code = kms.CodeUnsupported
	}
	return &apiErr{http.StatusBadRequest, code, fmt.Sprintf(
		"The sandbox keeps %s state for account %s only: a principal of account %s may only address its resources by their full ARN.",
		map[string]string{"secretsmanager": "Secrets Manager", "kms": "KMS"}[q.service], s.opts.Account, caller.Account)}
}

// crossAccountDecision decides a foreign caller's request on a home
// resource as AWS does across accounts: its own identity policies (with
// its boundary and session policies) must allow the request AND the
// resource's policy (a secret's resource policy, a key policy) must allow
// the caller, by its ARN, its role or its account; an explicit deny in
// either wins. Without a resource policy nothing is allowed. kind names
// the resource policy in the denial ("resource-based" or "key").
func (s *Server) crossAccountDecision(caller iam.Principal, action, resource, resourcePolicy string, context map[string][]string) error {
	svc := s.iamFor(caller.Account)
	set, _ := svc.PolicySetFor(caller)
	req := policy.Request{Principal: caller.ARN, Action: action, Resource: resource,
		Context: withPrincipalARN(withPrincipal(context, caller), svc.PrincipalARN(caller))}
	identity := policy.Evaluate(policy.PolicySet{Identity: set.Identity, Boundary: set.Boundary, Session: set.Session}, req).Decision
	resourceSide := policy.ImplicitDeny
	if resourcePolicy != "" {
		if doc, err := policy.Parse([]byte(resourcePolicy)); err == nil {
			resourceSide = policy.Evaluate(policy.PolicySet{Resource: doc}, req).Decision
		}
	}
	switch {
	case identity == policy.ExplicitDeny || resourceSide == policy.ExplicitDeny:
		return denial(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny", caller.ARN, action, resource))
	case identity != policy.Allowed:
		return denial(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", caller.ARN, action, resource, action))
	case resourceSide != policy.Allowed:
		return denial(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action", caller.ARN, action, resource, action))
	}
	return nil
}

// otherAccounts lists the extra accounts in order, for deterministic
// state files.
func (s *Server) otherAccounts() []string {
	out := make([]string, 0, len(s.others))
	for a := range s.others {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}
