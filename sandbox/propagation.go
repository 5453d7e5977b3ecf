package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/iam"
	"github.com/secretboot/secretboot/sandbox/kms"
	"github.com/secretboot/secretboot/sandbox/secretsmanager"
)

// checkPrincipalsPropagated answers PutResourcePolicy the way Secrets Manager
// does while a role named in the policy is still propagating through IAM
// (AWS-FACTS §4): MalformedPolicyDocumentException, which callers such as
// Terraform retry. A principal that never existed gets the same answer.
// Anything else about the request is left to the service.
//
// KMS validates the principals of a key policy the same way (CreateKey,
// PutKeyPolicy): MalformedPolicyDocumentException "Policy contains a
// statement with one or more invalid principals."
//
// identity is the IAM the request goes to (the caller's account's).
func (s *Server) checkPrincipalsPropagated(q *request, identity *iam.Service) *apiErr {
	if q.service == "iam" {
		return s.checkRolePropagated(q, identity)
	}
	// A body that does not decode is left to the service too.
	var in struct{ ResourcePolicy, Policy string }
	switch {
	case q.service == "kms" && (q.op == "CreateKey" || q.op == "PutKeyPolicy"):
		if json.Unmarshal(q.body, &in) == nil && !s.principalsUsable(in.Policy) {
			return &apiErr{http.StatusBadRequest, kms.CodeMalformedPolicy, "Policy contains a statement with one or more invalid principals."}
		}
	case q.service == "secretsmanager" && q.op == "PutResourcePolicy":
		if json.Unmarshal(q.body, &in) == nil && !s.principalsUsable(in.ResourcePolicy) {
			return &apiErr{http.StatusBadRequest, secretsmanager.CodeMalformedPolicy, "This resource policy contains an unsupported principal."}
		}
	}
	return nil
}

// principalsUsable reports whether every role a policy names as a
// principal exists and has propagated. A policy that does not parse is left
// to the service, which answers it in its own words.
func (s *Server) principalsUsable(document string) bool {
	if document == "" {
		return true
	}
	doc, err := policy.Parse([]byte(document))
	if err != nil {
		return true
	}
	for _, st := range doc.Statement {
		for _, p := range []*policy.Principal{st.Principal, st.NotPrincipal} {
			if p == nil {
				continue
			}
			for _, arn := range p.Values["AWS"] {
				// A role of an account the sandbox has (Options.Accounts)
				// must exist there, path included, as on AWS; one of any
				// other account is taken to exist.
				if svc := s.iamFor(arnAccount(arn)); svc != nil && strings.Contains(arn, ":role/") && !svc.RoleUsable(arn) {
					return false
				}
			}
		}
	}
	return true
}

// checkRolePropagated answers, with Options.PropagateWrites, an IAM write
// that names a role created less than PropagationDelay ago the way IAM can
// while the role propagates: NoSuchEntity, which callers retry (Terraform's
// AWS provider does for these three operations). A role that does not
// exist is left to IAM, which gives the same answer after its own checks.
// The role is looked up in svc, the IAM of the caller's account, which is
// the account that holds it.
func (s *Server) checkRolePropagated(q *request, svc *iam.Service) *apiErr {
	if !s.opts.PropagateWrites || s.opts.PropagationDelay <= 0 {
		return nil
	}
	var arn string
	switch q.op {
	case "PutRolePolicy", "AttachRolePolicy":
		_, arn = svc.Target(q.form, false)
	case "AddRoleToInstanceProfile":
		arn = svc.PassedRole(q.form)
	default:
		return nil
	}
	name := q.form.Get("RoleName")
	created, exists := svc.RoleCreated(arn)
	if !exists {
		return nil
	}
	s.refusalsMu.Lock()
	defer s.refusalsMu.Unlock()
	owed := !created.Before(s.started) && s.refusals[arn] < s.opts.PropagationRefusals
	if svc.RoleUsable(arn) && !owed {
		return nil
	}
	s.refusals[arn]++
	s.stats.add(func(st *Stats) map[string]int { return st.Propagating }, q.service+"."+q.op)
	return &apiErr{http.StatusNotFound, "NoSuchEntity", "The role with name " + name + " cannot be found."}
}
