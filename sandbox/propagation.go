package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/secretsmanager"
)

// checkPrincipalsPropagated answers PutResourcePolicy the way Secrets Manager
// does while a role named in the policy is still propagating through IAM
// (AWS-FACTS §4): MalformedPolicyDocumentException, which callers such as
// Terraform retry. A principal that never existed gets the same answer.
// Anything else about the request is left to the service.
func (s *Server) checkPrincipalsPropagated(q *request) *apiErr {
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
