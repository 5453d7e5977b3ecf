package iam

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/secretboot/secretboot/policy"
)

// state is everything IAM knows. Roles, instance profiles and customer
// managed policies are keyed by their lower-cased name because IAM names
// are unique per account ignoring case. Parsed policy documents are kept
// next to their text (json:"-") so that authorizing a request does not
// re-parse; Restore rebuilds them.
type state struct {
	Roles    map[string]*role            `json:"roles"`
	Profiles map[string]*instanceProfile `json:"instanceProfiles"`
	Policies map[string]*managedPolicy   `json:"policies"`
	// OIDCProviders are keyed by ARN (its issuer part is case-sensitive).
	OIDCProviders map[string]*oidcProvider `json:"oidcProviders,omitempty"`
	Users         map[string]*user         `json:"users,omitempty"`
	Groups        map[string]*group        `json:"groups,omitempty"`
}

func newState() state {
	return state{
		Roles:    map[string]*role{},
		Profiles: map[string]*instanceProfile{},
		Policies: map[string]*managedPolicy{},

		OIDCProviders: map[string]*oidcProvider{},
		Users:         map[string]*user{},
		Groups:        map[string]*group{},
	}
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type role struct {
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	ID          string    `json:"id"`
	ARN         string    `json:"arn"`
	Created     time.Time `json:"created"`
	Trust       string    `json:"trust"`
	Description string    `json:"description,omitempty"`
	MaxSession  int       `json:"maxSessionDuration"`
	Boundary    string    `json:"permissionsBoundary,omitempty"`
	Tags        []tag     `json:"tags,omitempty"`
	holder

	trust *policy.Document
}

type instanceProfile struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	ID      string    `json:"id"`
	ARN     string    `json:"arn"`
	Created time.Time `json:"created"`
	Role    string    `json:"role,omitempty"` // key of the one role it holds
	Tags    []tag     `json:"tags,omitempty"`
}

type managedPolicy struct {
	Name        string           `json:"name"`
	Path        string           `json:"path"`
	ID          string           `json:"id"`
	ARN         string           `json:"arn"`
	Description string           `json:"description,omitempty"`
	Created     time.Time        `json:"created"`
	Updated     time.Time        `json:"updated"`
	Default     string           `json:"defaultVersion"`
	Versions    []*policyVersion `json:"versions"` // oldest first
	NextVersion int              `json:"nextVersion"`
	Tags        []tag            `json:"tags,omitempty"`

	awsManaged bool
}

type policyVersion struct {
	ID       string    `json:"id"`
	Document string    `json:"document"`
	Created  time.Time `json:"created"`

	doc *policy.Document
}

func (p *managedPolicy) version(id string) *policyVersion {
	for _, v := range p.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// awsManagedPolicies are the AWS managed policies the sandbox knows: enough
// to attach an administrator policy to a role, as people do by hand. They
// are not part of the persisted state and cannot be changed.
var awsManagedPolicies = map[string]*managedPolicy{}

func init() {
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	parsed, err := policy.Parse([]byte(doc))
	if err != nil {
		panic("built-in AdministratorAccess policy: " + err.Error())
	}
	created := time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)
	p := &managedPolicy{
		Name: "AdministratorAccess", Path: "/", ID: "ANPAIWMBCKSKIEE64ZLYK",
		ARN:         "arn:aws:iam::aws:policy/AdministratorAccess",
		Description: "Provides full access to AWS services and resources.",
		Created:     created, Updated: created, Default: "v1", NextVersion: 2,
		Versions:   []*policyVersion{{ID: "v1", Document: doc, Created: created, doc: parsed}},
		awsManaged: true,
	}
	awsManagedPolicies[p.ARN] = p
}

// parseDocuments rebuilds the parsed documents after a Restore.
func (st *state) parseDocuments() error {
	for _, r := range st.Roles {
		d, err := policy.Parse([]byte(r.Trust))
		if err != nil {
			return fmt.Errorf("trust policy of role %s: %w", r.Name, err)
		}
		r.trust = d
		if err := r.parse("role " + r.Name); err != nil {
			return err
		}
	}
	for _, p := range st.Policies {
		for _, v := range p.Versions {
			d, err := policy.Parse([]byte(v.Document))
			if err != nil {
				return fmt.Errorf("policy %s version %s: %w", p.Name, v.ID, err)
			}
			v.doc = d
		}
	}
	return st.parseHolderDocuments()
}

// lookupPolicy finds a customer managed or AWS managed policy by ARN.
func (st *state) lookupPolicy(arn string) *managedPolicy {
	if p, ok := awsManagedPolicies[arn]; ok {
		return p
	}
	i := strings.LastIndexByte(arn, '/')
	if i < 0 {
		return nil
	}
	p := st.Policies[strings.ToLower(arn[i+1:])]
	if p == nil || p.ARN != arn {
		return nil
	}
	return p
}

// identitySource is one identity policy of a role with the name and type
// SimulatePrincipalPolicy reports for it.
type identitySource struct {
	id, typ string
	doc     *policy.Document
}

// identitySources lists a role's inline policies (by name) and then its
// attached managed policies (in attachment order).
func (st *state) identitySources(r *role) []identitySource {
	var out []identitySource
	for _, name := range sortedKeys(r.Inline) {
		out = append(out, identitySource{id: name, typ: "role", doc: r.Inline[name].doc})
	}
	for _, arn := range r.Attached {
		p := st.lookupPolicy(arn)
		if p == nil {
			continue // attachments are removed with the policy; defensive only
		}
		typ := "user-managed"
		if p.awsManaged {
			typ = "aws-managed"
		}
		out = append(out, identitySource{id: p.Name, typ: typ, doc: p.version(p.Default).doc})
	}
	return out
}

// boundaryOf returns the default version of the role's permissions
// boundary, or nil.
func (st *state) boundaryOf(r *role) *policy.Document {
	if r.Boundary == "" {
		return nil
	}
	p := st.lookupPolicy(r.Boundary)
	if p == nil {
		return nil
	}
	return p.version(p.Default).doc
}

// usage counts the roles, users and groups that attach the policy and
// the roles and users that use it as their permissions boundary.
func (st *state) usage(arn string) (attachments, boundaries int) {
	for h, boundary := range st.holders() {
		if slices.Contains(h.Attached, arn) {
			attachments++
		}
		if boundary == arn {
			boundaries++
		}
	}
	return attachments, boundaries
}
