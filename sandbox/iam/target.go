package iam

import (
	"net/url"
	"strings"
	"time"
)

// Target returns the action ("iam:CreateRole", "sts:AssumeRole") and the
// resource ARN that an IAM or STS request acts on, for the router's
// authorization in enforcement mode. The router cannot derive the ARN
// itself: a role's ARN contains its path, which only IAM knows. A resource
// that does not exist yet gets the ARN it would have (CreateRole uses the
// Path parameter); list and simulation requests get "*". GetCallerIdentity
// returns an empty resource: it needs no permission.
func (s *Service) Target(form url.Values, sts bool) (action, resource string) {
	op := form.Get("Action")
	if sts {
		if op == "AssumeRole" {
			return "sts:AssumeRole", form.Get("RoleArn")
		}
		return "sts:" + op, ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := "arn:aws:iam::" + s.cfg.Account + ":"
	// A named entity's ARN: the stored one when it exists, else built from
	// the request's Path (default "/").
	arn := func(kind, name string, stored func(key string) string) string {
		if a := stored(strings.ToLower(name)); a != "" {
			return a
		}
		path := form.Get("Path")
		if path == "" {
			path = "/"
		}
		return prefix + kind + path + name
	}
	switch {
	case form.Get("InstanceProfileName") != "":
		return "iam:" + op, arn("instance-profile", form.Get("InstanceProfileName"), func(k string) string {
			if ip := s.st.Profiles[k]; ip != nil {
				return ip.ARN
			}
			return ""
		})
	case form.Get("RoleName") != "":
		return "iam:" + op, arn("role", form.Get("RoleName"), func(k string) string {
			if r := s.st.Roles[k]; r != nil {
				return r.ARN
			}
			return ""
		})
	case form.Get("PolicyArn") != "":
		return "iam:" + op, form.Get("PolicyArn")
	case form.Get("PolicySourceArn") != "":
		return "iam:" + op, form.Get("PolicySourceArn")
	case form.Get("OpenIDConnectProviderArn") != "":
		return "iam:" + op, form.Get("OpenIDConnectProviderArn")
	case op == "CreatePolicy":
		return "iam:" + op, arn("policy", form.Get("PolicyName"), func(k string) string {
			if p := s.st.Policies[k]; p != nil {
				return p.ARN
			}
			return ""
		})
	}
	return "iam:" + op, "*"
}

// PassedRole returns the ARN of the role that an IAM request hands to a
// service, which AWS authorizes as iam:PassRole on that role on top of the
// request's own action: AddRoleToInstanceProfile lets every instance
// launched with the profile act as the role (AWS-FACTS §3.1). It returns ""
// for requests that pass no role. A role that does not exist gets the ARN
// of its name at path "/", as Target builds it.
func (s *Service) PassedRole(form url.Values) string {
	name := form.Get("RoleName")
	if form.Get("Action") != "AddRoleToInstanceProfile" || name == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.st.Roles[strings.ToLower(name)]; r != nil {
		return r.ARN
	}
	return "arn:aws:iam::" + s.cfg.Account + ":role/" + name
}

// RoleUsable reports whether arn names a role of this account that other
// services may already refer to: it exists and Config.PropagationDelay has
// passed since it was created. Secrets Manager uses it to reject a resource
// policy that names a role IAM has not propagated yet, as AWS does
// (MalformedPolicyDocument, AWS-FACTS §4).
// RoleCreated is when the role at arn was created; false when there is
// no such role.
func (s *Service) RoleCreated(arn string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.roleByARN(arn); r != nil {
		return r.Created, true
	}
	return time.Time{}, false
}

func (s *Service) RoleUsable(arn string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.roleByARN(arn)
	return r != nil && s.now().Sub(r.Created) >= s.cfg.PropagationDelay
}
