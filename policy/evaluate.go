package policy

import (
	"fmt"
	"strings"
)

// Request is one authorization question: may Principal perform Action on
// Resource, given the request context keys in Context?
type Request struct {
	Principal string // caller ARN: user, role, assumed-role session or account root; or a service principal such as "ec2.amazonaws.com"
	Action    string // "secretsmanager:GetSecretValue"
	Resource  string // ARN of the target resource
	Context   map[string][]string
}

// Decision is the outcome of an evaluation, spelled as IAM's
// SimulatePrincipalPolicy spells EvalDecision.
type Decision string

// Decisions.
const (
	Allowed      Decision = "allowed"
	ExplicitDeny Decision = "explicitDeny"
	ImplicitDeny Decision = "implicitDeny"
)

// PolicySet is every policy that bears on a request: the caller's identity
// policies, its permissions boundary (nil when it has none) and the target's
// resource policy (nil when it has none). A trust policy is evaluated as the
// resource policy of the role with Action "sts:AssumeRole".
type PolicySet struct {
	Identity []*Document
	Boundary *Document
	Resource *Document
	// Session are the session policies of an assumed-role session
	// (AssumeRole's Policy and PolicyArns): like a boundary they grant
	// nothing, and when there are any, a request needs one of them to
	// allow it as well.
	Session []*Document
}

// MatchedStatement names a statement that decided a request.
type MatchedStatement struct {
	Source string // "identity[0]", "boundary" or "resource"
	Sid    string
	Index  int // position of the statement in its document, from 0
}

// Result is a decision and the statements that led to it: the matching Deny
// statements for explicitDeny, the matching Allow statements for allowed,
// none for implicitDeny.
type Result struct {
	Decision Decision
	Matched  []MatchedStatement
}

// Evaluate decides a request as IAM does within one account:
//
//	any matching Deny (identity, boundary, session, resource) -> explicitDeny
//	a boundary with no matching Allow                  -> implicitDeny
//	session policies with no matching Allow            -> implicitDeny
//	any matching Allow (identity or resource policy)   -> allowed
//	otherwise                                          -> implicitDeny
//
// A statement matches when its action, resource and conditions match;
// statements of the resource policy also need their Principal to match the
// caller. Policy variables are compared literally.
func Evaluate(set PolicySet, req Request) Result {
	var allows, denies, boundaryAllows []MatchedStatement
	collect := func(source string, d *Document, resourcePolicy bool) (allowed []MatchedStatement) {
		if d == nil {
			return nil
		}
		for i := range d.Statement {
			s := &d.Statement[i]
			if resourcePolicy && !principalApplies(s, req.Principal) {
				continue
			}
			if !s.matches(req) {
				continue
			}
			m := MatchedStatement{Source: source, Sid: s.Sid, Index: i}
			if s.Effect == Deny {
				denies = append(denies, m)
			} else {
				allowed = append(allowed, m)
			}
		}
		return allowed
	}
	for i, d := range set.Identity {
		allows = append(allows, collect(fmt.Sprintf("identity[%d]", i), d, false)...)
	}
	if set.Boundary != nil {
		boundaryAllows = collect("boundary", set.Boundary, false)
	}
	var sessionAllows []MatchedStatement
	for i, d := range set.Session {
		sessionAllows = append(sessionAllows, collect(fmt.Sprintf("session[%d]", i), d, false)...)
	}
	resourceAllows := collect("resource", set.Resource, true)

	switch {
	case len(denies) > 0:
		return Result{Decision: ExplicitDeny, Matched: denies}
	case set.Boundary != nil && len(boundaryAllows) == 0:
		return Result{Decision: ImplicitDeny}
	case len(set.Session) > 0 && len(sessionAllows) == 0:
		return Result{Decision: ImplicitDeny}
	case len(allows)+len(resourceAllows) > 0:
		m := append(allows, boundaryAllows...)
		if len(allows) == 0 {
			// The boundary does not grant anything by itself; only list it
			// when an identity statement allowed the request.
			m = nil
		}
		return Result{Decision: Allowed, Matched: append(m, resourceAllows...)}
	}
	return Result{Decision: ImplicitDeny}
}

// matches reports whether the statement's action, resource and conditions
// match the request. A statement without Resource or NotResource (a trust
// or resource policy) applies to the resource it is attached to.
func (s *Statement) matches(req Request) bool {
	switch {
	case s.Action != nil && !anyMatch(s.Action, req.Action, actionMatches):
		return false
	case s.NotAction != nil && anyMatch(s.NotAction, req.Action, actionMatches):
		return false
	case s.Resource != nil && !anyMatch(s.Resource, req.Resource, globMatch):
		return false
	case s.NotResource != nil && anyMatch(s.NotResource, req.Resource, globMatch):
		return false
	}
	holds, ok := conditionsHold(s.Condition, req.Context)
	if !ok {
		// An operator we do not understand: fail safe, so an Allow does
		// not grant and a Deny still denies.
		return s.Effect == Deny
	}
	return holds
}

// principalApplies reports whether a resource-policy statement applies to
// the caller.
func principalApplies(s *Statement, caller string) bool {
	switch {
	case s.Principal != nil:
		return s.Principal.includes(caller)
	case s.NotPrincipal != nil:
		return !s.NotPrincipal.includes(caller)
	}
	return false
}

func (p *Principal) includes(caller string) bool {
	if p.Wildcard {
		return true
	}
	for kind, values := range p.Values {
		for _, v := range values {
			if v == "*" && kind == "AWS" {
				return true
			}
			if v == caller {
				return true
			}
			if kind == "AWS" && awsPrincipalIncludes(v, caller) {
				return true
			}
		}
	}
	return false
}

// awsPrincipalIncludes applies the two ways an AWS principal covers more
// than its own ARN: an account (ID or root ARN) covers every principal of
// that account, and a role covers its assumed-role sessions.
func awsPrincipalIncludes(principal, caller string) bool {
	account := accountOf(caller)
	if account == "" {
		return false
	}
	if principal == account || principal == "arn:aws:iam::"+account+":root" {
		return true
	}
	// arn:aws:iam::A:role/path/name covers arn:aws:sts::A:assumed-role/name/session;
	// the session ARN drops the role's path.
	rest, ok := strings.CutPrefix(caller, "arn:aws:sts::"+account+":assumed-role/")
	if !ok {
		return false
	}
	roleName, _, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	rolePath, ok := strings.CutPrefix(principal, "arn:aws:iam::"+account+":role/")
	return ok && (rolePath == roleName || strings.HasSuffix(rolePath, "/"+roleName))
}

// accountOf returns the account ID of an IAM or STS ARN, or "".
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || (parts[2] != "iam" && parts[2] != "sts") {
		return ""
	}
	return parts[4]
}
