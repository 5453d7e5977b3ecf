package iam

import (
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// Inline and attached policies of roles, users and groups. IAM gives the
// three kinds of principal the same seven operations ({Put,Get,List,
// Delete}{Role,User,Group}Policy and {Attach,Detach,ListAttached}…Policy/
// Policies); they differ only in how the principal is named, in the quotas
// and in the words of the messages, which holderKind carries.

// holder is a principal's policies: inline policies by name and attached
// managed policies (ARNs) in attachment order.
type holder struct {
	Inline   map[string]*inlinePolicy `json:"inlinePolicies,omitempty"`
	Attached []string                 `json:"attachedPolicies,omitempty"`
}

type inlinePolicy struct {
	Document string `json:"document"`

	doc *policy.Document
}

// holderKind is a kind of principal that holds policies, spelt as IAM's
// messages spell it.
type holderKind string

const (
	roleHolder  holderKind = "role"
	userHolder  holderKind = "user"
	groupHolder holderKind = "group"
)

// policyHolder is one principal as the policy operations see it.
type policyHolder struct {
	*holder
	kind      holderKind
	name      string
	inlineMax int    // aggregate size of the inline policies, without white space
	quota     int    // attached managed policies
	quotaName string // the quota's name in IAM's LimitExceeded message
}

// policyHolder finds the principal of kind named by the request (RoleName,
// UserName or GroupName).
func (s *Service) policyHolder(kind holderKind, form url.Values) (policyHolder, error) {
	switch kind {
	case roleHolder:
		r, err := s.role(form)
		if err != nil {
			return policyHolder{}, err
		}
		return policyHolder{&r.holder, kind, r.Name, inlineAggregateMax, s.cfg.AttachedPoliciesPerRoleQuota, "PoliciesPerRole"}, nil
	case userHolder:
		u, err := s.user(form)
		if err != nil {
			return policyHolder{}, err
		}
		return policyHolder{&u.holder, kind, u.Name, userInlineMax, attachedPerHolder, "PoliciesPerUser"}, nil
	default:
		g, err := s.group(form)
		if err != nil {
			return policyHolder{}, err
		}
		return policyHolder{&g.holder, kind, g.Name, groupInlineMax, attachedPerHolder, "PoliciesPerGroup"}, nil
	}
}

// holders yields the policies of every role, user and group, each with the
// principal's permissions boundary ("" for a group, which cannot have one).
func (st *state) holders() iter.Seq2[*holder, string] {
	return func(yield func(*holder, string) bool) {
		for _, r := range st.Roles {
			if !yield(&r.holder, r.Boundary) {
				return
			}
		}
		for _, u := range st.Users {
			if !yield(&u.holder, u.Boundary) {
				return
			}
		}
		for _, g := range st.Groups {
			if !yield(&g.holder, "") {
				return
			}
		}
	}
}

// parse rebuilds the parsed inline documents after a Restore; owner names
// the principal in the error.
func (h *holder) parse(owner string) error {
	for name, ip := range h.Inline {
		d, err := policy.Parse([]byte(ip.Document))
		if err != nil {
			return fmt.Errorf("policy %s of %s: %w", name, owner, err)
		}
		ip.doc = d
	}
	return nil
}

// deleteConflict is IAM's answer to deleting a principal that still holds
// policies, or nil.
func (h *holder) deleteConflict() error {
	switch {
	case len(h.Inline) > 0:
		return deleteConflict("Cannot delete entity, must delete policies first.")
	case len(h.Attached) > 0:
		return deleteConflict("Cannot delete entity, must detach all policies first.")
	}
	return nil
}

// holderOp is a policy operation on a principal of any kind.
type holderOp func(s *Service, h policyHolder, form url.Values) (any, error)

// forHolder makes op the handler of the operation for principals of kind.
func forHolder(kind holderKind, op holderOp) handler {
	return func(s *Service, form url.Values, _ Principal) (any, error) {
		h, err := s.policyHolder(kind, form)
		if err != nil {
			return nil, err
		}
		return op(s, h, form)
	}
}

func putInlinePolicy(_ *Service, h policyHolder, form url.Values) (any, error) {
	name, err := entityName(form, "PolicyName", maxEntityName)
	if err != nil {
		return nil, err
	}
	text, doc, err := parseDocument(form, "PolicyDocument", identityPolicy)
	if err != nil {
		return nil, err
	}
	// The quota is on the aggregate of the principal's inline policies,
	// counted without white space as IAM does.
	total := policySize(text)
	for n, ip := range h.Inline {
		if n != name {
			total += policySize(ip.Document)
		}
	}
	if total > h.inlineMax {
		return nil, limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", h.inlineMax, h.kind, h.name)
	}
	if h.Inline == nil {
		h.Inline = map[string]*inlinePolicy{}
	}
	h.Inline[name] = &inlinePolicy{Document: text, doc: doc}
	return nil, nil
}

// inline finds an inline policy by the PolicyName parameter.
func (h policyHolder) inline(form url.Values) (string, *inlinePolicy, error) {
	name, err := entityName(form, "PolicyName", maxEntityName)
	if err != nil {
		return "", nil, err
	}
	ip := h.Inline[name]
	if ip == nil {
		return "", nil, noSuchEntity("The %s policy with name %s cannot be found.", h.kind, name)
	}
	return name, ip, nil
}

// getPolicyResult is the answer of Get{Role,User,Group}Policy: exactly one
// of the principal's names is set.
type getPolicyResult struct {
	RoleName       string `xml:"RoleName,omitempty"`
	UserName       string `xml:"UserName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func getInlinePolicy(_ *Service, h policyHolder, form url.Values) (any, error) {
	name, ip, err := h.inline(form)
	if err != nil {
		return nil, err
	}
	res := getPolicyResult{PolicyName: name, PolicyDocument: wire.EscapeDocument(ip.Document)}
	switch h.kind {
	case roleHolder:
		res.RoleName = h.name
	case userHolder:
		res.UserName = h.name
	default:
		res.GroupName = h.name
	}
	return res, nil
}

type listInlinePoliciesResult struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	page
}

func listInlinePolicies(_ *Service, h policyHolder, form url.Values) (any, error) {
	items, p, err := paginate(form, sortedKeys(h.Inline), func(n string) string { return n })
	if err != nil {
		return nil, err
	}
	return listInlinePoliciesResult{PolicyNames: items, page: p}, nil
}

func deleteInlinePolicy(_ *Service, h policyHolder, form url.Values) (any, error) {
	name, _, err := h.inline(form)
	if err != nil {
		return nil, err
	}
	delete(h.Inline, name)
	return nil, nil
}

func attachPolicy(s *Service, h policyHolder, form url.Values) (any, error) {
	p, err := s.managedPolicy(form)
	if err != nil {
		return nil, err
	}
	if slices.Contains(h.Attached, p.ARN) {
		return nil, nil // attaching twice is a no-op in IAM
	}
	if len(h.Attached) >= h.quota {
		return nil, limitExceeded("Cannot exceed quota for %s: %d", h.quotaName, h.quota)
	}
	h.Attached = append(h.Attached, p.ARN)
	return nil, nil
}

func detachPolicy(_ *Service, h policyHolder, form url.Values) (any, error) {
	arn, err := policyARN(form, "PolicyArn")
	if err != nil {
		return nil, err
	}
	i := slices.Index(h.Attached, arn)
	if i < 0 {
		return nil, noSuchEntity("Policy %s was not found.", arn)
	}
	h.Attached = slices.Delete(h.Attached, i, i+1)
	return nil, nil
}

type attachedPolicyXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type listAttachedPoliciesResult struct {
	AttachedPolicies []attachedPolicyXML `xml:"AttachedPolicies>member"`
	page
}

func listAttachedPolicies(s *Service, h policyHolder, form url.Values) (any, error) {
	prefix, err := pathPrefix(form)
	if err != nil {
		return nil, err
	}
	matched := s.st.attachedXML(h.Attached, prefix)
	items, pg, err := paginate(form, matched, func(a attachedPolicyXML) string { return a.PolicyArn })
	if err != nil {
		return nil, err
	}
	return listAttachedPoliciesResult{AttachedPolicies: append([]attachedPolicyXML{}, items...), page: pg}, nil
}

// attachedXML lists the attached policies under prefix, sorted by ARN.
func (st *state) attachedXML(arns []string, prefix string) []attachedPolicyXML {
	var out []attachedPolicyXML
	for _, arn := range arns {
		if p := st.lookupPolicy(arn); p != nil && strings.HasPrefix(p.Path, prefix) {
			out = append(out, attachedPolicyXML{PolicyName: p.Name, PolicyArn: p.ARN})
		}
	}
	slices.SortFunc(out, func(a, b attachedPolicyXML) int { return strings.Compare(a.PolicyArn, b.PolicyArn) })
	return out
}
