package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/iam"
	"github.com/secretboot/secretboot/sandbox/secretsmanager"
)

// checkPrincipalsPropagated answers PutResourcePolicy the way Secrets Manager
// does while a role named in the policy is still propagating through IAM
// (AWS-FACTS §4): MalformedPolicyDocumentException, which callers such as
// Terraform retry. A principal that never existed gets the same answer.
// Anything else about the request is left to the service.
func (s *Server) checkPrincipalsPropagated(q *request) *apiErr {
	if q.service == "iam" {
		return s.checkRolePropagated(q)
	}
	if q.service != "secretsmanager" || q.op != "PutResourcePolicy" {
		return nil
	}
	var in struct{ ResourcePolicy string }
	if json.Unmarshal(q.body, &in) != nil || in.ResourcePolicy == "" {
		return nil
	}
	doc, err := policy.Parse([]byte(in.ResourcePolicy))
	if err != nil {
		return nil
	}
	for _, st := range doc.Statement {
		for _, p := range []*policy.Principal{st.Principal, st.NotPrincipal} {
			if p == nil {
				continue
			}
			for _, arn := range p.Values["AWS"] {
				if strings.Contains(arn, ":role/") && !s.iam.RoleUsable(arn) {
					return &apiErr{http.StatusBadRequest, secretsmanager.CodeMalformedPolicy,
						"This resource policy contains an unsupported principal."}
				}
			}
		}
	}
	return nil
}

// checkRolePropagated answers, with Options.PropagateWrites, an IAM write
// that names a role created less than PropagationDelay ago the way IAM can
// while the role propagates: NoSuchEntity, which callers retry (Terraform's
// AWS provider does for these three operations). A role that does not
// exist is left to IAM, which gives the same answer after its own checks.
func (s *Server) checkRolePropagated(q *request) *apiErr {
	if !s.opts.PropagateWrites || s.opts.PropagationDelay <= 0 {
		return nil
	}
	var arn string
	switch q.op {
	case "PutRolePolicy", "AttachRolePolicy":
		_, arn = s.iam.Target(q.form, false)
	case "AddRoleToInstanceProfile":
		arn = s.iam.PassedRole(q.form)
	default:
		return nil
	}
	name := q.form.Get("RoleName")
	// PolicySetFor knows whether the role exists (its policies are not
	// needed here).
	if _, exists := s.iam.PolicySetFor(iam.Principal{RoleName: name}); !exists || s.iam.RoleUsable(arn) {
		return nil
	}
	return &apiErr{http.StatusNotFound, "NoSuchEntity", "The role with name " + name + " cannot be found."}
}
