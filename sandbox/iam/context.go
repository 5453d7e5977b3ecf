package iam

import (
	"net/url"
	"strings"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// boundaryKeyActions are the role actions whose request context carries
// iam:PermissionsBoundary, as the Service Authorization Reference lists
// them for IAM: the role's current boundary, or for CreateRole and
// PutRolePermissionsBoundary the boundary the request sets. Other role
// actions (UpdateAssumeRolePolicy, UpdateRole, TagRole, DeleteRole…) do
// not carry the key, so a policy cannot condition them on it.
var boundaryKeyActions = map[string]bool{
	"AttachRolePolicy":              true,
	"CreateRole":                    true,
	"DeleteRolePermissionsBoundary": true,
	"DeleteRolePolicy":              true,
	"DetachRolePolicy":              true,
	"PutRolePermissionsBoundary":    true,
	"PutRolePolicy":                 true,
}

// RequestContext returns the condition keys that AWS puts in the request
// context of an IAM request, beyond the global ones the router adds:
//   - iam:PermissionsBoundary on the actions of boundaryKeyActions;
//   - iam:PolicyARN on AttachRolePolicy and DetachRolePolicy;
//   - aws:ResourceTag/<key> and iam:ResourceTag/<key> for an existing role
//     or instance profile the request names;
//   - aws:RequestTag/<key> and aws:TagKeys for requests that carry tags
//     (CreateRole, TagRole, CreateInstanceProfile, TagInstanceProfile,
//     CreatePolicy, TagPolicy), aws:TagKeys for the Untag* requests.
//
// Keys are absent, not empty, when the request has no value for them, so
// that Null and …IfExists behave as on AWS.
func (s *Service) RequestContext(form url.Values) map[string][]string {
	op := form.Get("Action")
	ctx := map[string][]string{}
	s.mu.Lock()
	defer s.mu.Unlock()
	var existing []tag
	if name := form.Get("RoleName"); name != "" {
		r := s.st.Roles[strings.ToLower(name)]
		if r != nil {
			existing = r.Tags
		}
		if boundaryKeyActions[op] {
			b := ""
			switch {
			case op == "CreateRole" || op == "PutRolePermissionsBoundary":
				b = form.Get("PermissionsBoundary")
			case r != nil:
				b = r.Boundary
			}
			if b != "" {
				ctx["iam:PermissionsBoundary"] = []string{b}
			}
		}
		if op == "CreateRole" {
			existing = nil // a name taken by another role is not this request's resource
		}
	} else if name := form.Get("InstanceProfileName"); name != "" && op != "CreateInstanceProfile" {
		if ip := s.st.Profiles[strings.ToLower(name)]; ip != nil {
			existing = ip.Tags
		}
	}
	for _, t := range existing {
		ctx["aws:ResourceTag/"+t.Key] = []string{t.Value}
		ctx["iam:ResourceTag/"+t.Key] = []string{t.Value}
	}
	if (op == "AttachRolePolicy" || op == "DetachRolePolicy") && form.Get("PolicyArn") != "" {
		ctx["iam:PolicyARN"] = []string{form.Get("PolicyArn")}
	}
	switch op {
	case "CreateRole", "TagRole", "CreateInstanceProfile", "TagInstanceProfile", "CreatePolicy", "TagPolicy":
		var keys []string
		for _, m := range wire.Structs(form, "Tags") {
			ctx["aws:RequestTag/"+m.Get("Key")] = []string{m.Get("Value")}
			keys = append(keys, m.Get("Key"))
		}
		if len(keys) > 0 {
			ctx["aws:TagKeys"] = keys
		}
	case "UntagRole", "UntagInstanceProfile", "UntagPolicy":
		if keys := wire.List(form, "TagKeys"); len(keys) > 0 {
			ctx["aws:TagKeys"] = keys
		}
	}
	return ctx
}

// PassContext is the request context of the iam:PassRole check that
// PassedRole asks for: the service the role is handed to (an instance
// profile hands it to EC2) and the role's tags.
func (s *Service) PassContext(form url.Values) map[string][]string {
	ctx := map[string][]string{"iam:PassedToService": {"ec2.amazonaws.com"}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.st.Roles[strings.ToLower(form.Get("RoleName"))]; r != nil {
		for _, t := range r.Tags {
			ctx["aws:ResourceTag/"+t.Key] = []string{t.Value}
			ctx["iam:ResourceTag/"+t.Key] = []string{t.Value}
		}
	}
	return ctx
}
