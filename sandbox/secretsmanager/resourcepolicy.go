package secretsmanager

import (
	"strconv"
	"strings"

	"github.com/secretboot/secretboot/policy"
)

type putResourcePolicyInput struct {
	SecretId          *string
	ResourcePolicy    *string
	BlockPublicPolicy *bool
}

func (s *Service) putResourcePolicy(in *putResourcePolicyInput, az AuthorizeFunc) (any, *apiError) {
	// BlockPublicPolicy, when the request sets it, is the condition key
	// secretsmanager:BlockPublicPolicy, with which a policy may allow only
	// puts that block public policies.
	request := map[string][]string{}
	if in.BlockPublicPolicy != nil {
		request["secretsmanager:BlockPublicPolicy"] = []string{strconv.FormatBool(*in.BlockPublicPolicy)}
	}
	sec, err := s.target(in.SecretId, "PutResourcePolicy", az, request)
	if err != nil {
		return nil, err
	}
	doc := deref(in.ResourcePolicy)
	if doc == "" || len(doc) > maxPolicyLen {
		return nil, invalidParam("ResourcePolicy must be 1 to %d characters.", maxPolicyLen)
	}
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	d, perr := policy.Parse([]byte(doc))
	if perr != nil {
		return nil, clientErr(CodeMalformedPolicy, "This resource policy contains a syntax error: %s", strings.TrimPrefix(perr.Error(), "policy: "))
	}
	if deref(in.BlockPublicPolicy) && public(d) {
		return nil, clientErr(CodePublicPolicy, "This resource policy grants public access to the secret.")
	}
	sec.ResourcePolicy = doc
	return arnName{sec.ARN, sec.Name}, nil
}

// public reports whether a policy allows anyone at all: an Allow for the "*"
// principal without a condition to narrow it, or an Allow with NotPrincipal.
// AWS decides this with automated reasoning; this coarser test catches the
// policies that matter in practice.
func public(d *policy.Document) bool {
	for _, st := range d.Statement {
		if st.Effect != policy.Allow || len(st.Condition) > 0 {
			continue
		}
		if st.NotPrincipal != nil {
			return true
		}
		if p := st.Principal; p != nil && (p.Wildcard || containsStar(p.Values["AWS"])) {
			return true
		}
	}
	return false
}

func containsStar(l policy.StringList) bool {
	for _, v := range l {
		if v == "*" {
			return true
		}
	}
	return false
}

type resourcePolicyOutput struct {
	arnName
	ResourcePolicy string `json:"ResourcePolicy,omitempty"`
}

func (s *Service) getResourcePolicy(in *secretIDInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "GetResourcePolicy", az)
	if err != nil {
		return nil, err
	}
	return resourcePolicyOutput{arnName{sec.ARN, sec.Name}, sec.ResourcePolicy}, nil
}

func (s *Service) deleteResourcePolicy(in *secretIDInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "DeleteResourcePolicy", az)
	if err != nil {
		return nil, err
	}
	sec.ResourcePolicy = ""
	return arnName{sec.ARN, sec.Name}, nil
}

type validateResourcePolicyInput struct {
	SecretId       *string
	ResourcePolicy *string
}

type validationErrorsEntry struct {
	CheckName    string `json:"CheckName"`
	ErrorMessage string `json:"ErrorMessage"`
}

type validateResourcePolicyOutput struct {
	PolicyValidationPassed bool                    `json:"PolicyValidationPassed"`
	ValidationErrors       []validationErrorsEntry `json:"ValidationErrors"`
}

// validateResourcePolicy answers ValidateResourcePolicy (API reference): a
// policy that does not parse is a MalformedPolicyDocumentException; one that
// grants broad access passes no validation and says why in
// ValidationErrors. SecretId is optional; a SecretId that is not a possible
// name is a ValidationException, as on every operation (recorded on AWS,
// localstack's test_invalid_secret_name snapshot), and an unknown one is
// ResourceNotFoundException. AWS's automated reasoning (Zelkova) and its
// lock-out check are approximated by public, as for BlockPublicPolicy.
func (s *Service) validateResourcePolicy(in *validateResourcePolicyInput, az AuthorizeFunc) (any, *apiError) {
	if in.SecretId != nil {
		if _, err := s.target(in.SecretId, "ValidateResourcePolicy", az); err != nil {
			return nil, err
		}
	} else if err := authorize(az, "ValidateResourcePolicy", "*", ""); err != nil {
		return nil, err
	}
	doc := deref(in.ResourcePolicy)
	if doc == "" || len(doc) > maxPolicyLen {
		return nil, invalidParam("ResourcePolicy must be 1 to %d characters.", maxPolicyLen)
	}
	d, perr := policy.Parse([]byte(doc))
	if perr != nil {
		return nil, clientErr(CodeMalformedPolicy, "This resource policy contains a syntax error: %s", strings.TrimPrefix(perr.Error(), "policy: "))
	}
	out := validateResourcePolicyOutput{PolicyValidationPassed: true, ValidationErrors: []validationErrorsEntry{}}
	if public(d) {
		out.PolicyValidationPassed = false
		out.ValidationErrors = append(out.ValidationErrors, validationErrorsEntry{
			CheckName:    "BROAD_ACCESS",
			ErrorMessage: "This resource policy grants public access to the secret.",
		})
	}
	return out, nil
}
