package iam

import (
	"net/url"
	"slices"
	"strings"
)

type listPoliciesResult struct {
	Policies []policyXML `xml:"Policies>member"`
	page
}

// listPolicies answers ListPolicies: Scope (All, AWS or Local), PathPrefix
// and OnlyAttached filter; policies come sorted by name, as IAM lists them.
func (s *Service) listPolicies(form url.Values, _ Principal) (any, error) {
	prefix, err := pathPrefix(form)
	if err != nil {
		return nil, err
	}
	scope := form.Get("Scope")
	if scope == "" {
		scope = "All"
	}
	var sources []map[string]*managedPolicy
	switch scope {
	case "All":
		sources = []map[string]*managedPolicy{awsManagedPolicies, s.st.Policies}
	case "AWS":
		sources = []map[string]*managedPolicy{awsManagedPolicies}
	case "Local":
		sources = []map[string]*managedPolicy{s.st.Policies}
	default:
		return nil, validationError("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scope)
	}
	onlyAttached := form.Get("OnlyAttached") == "true"
	var matched []*managedPolicy
	for _, src := range sources {
		for _, k := range sortedKeys(src) {
			p := src[k]
			if !strings.HasPrefix(p.Path, prefix) {
				continue
			}
			if attachments, _ := s.st.usage(p.ARN); onlyAttached && attachments == 0 {
				continue
			}
			matched = append(matched, p)
		}
	}
	// AWS managed and local policies may share a name; the ARN breaks ties.
	key := func(p *managedPolicy) string { return strings.ToLower(p.Name) + "\x00" + p.ARN }
	slices.SortFunc(matched, func(a, b *managedPolicy) int { return strings.Compare(key(a), key(b)) })
	items, pg, err := paginate(form, matched, key)
	if err != nil {
		return nil, err
	}
	res := listPoliciesResult{Policies: []policyXML{}, page: pg}
	for _, p := range items {
		res.Policies = append(res.Policies, s.policyXML(p))
	}
	return res, nil
}
