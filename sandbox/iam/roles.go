package iam

import (
	"net/url"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// role finds a role by the RoleName parameter.
func (s *Service) role(form url.Values) (*role, error) {
	return find(s.st.Roles, form, "RoleName", maxRoleName, "The role with name %s cannot be found.")
}

// trustDocument reads and checks an assume-role policy document.
func trustDocument(form url.Values, field string) (string, *policy.Document, error) {
	text, doc, err := parseDocument(form, field, trustPolicy)
	if err != nil {
		return "", nil, err
	}
	if policySize(text) > trustPolicyMax {
		return "", nil, limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", trustPolicyMax)
	}
	return text, doc, nil
}

func maxSessionDuration(form url.Values) (int, error) {
	d, err := wire.Int(form, "MaxSessionDuration", defaultMaxSession)
	if err != nil {
		return 0, validationError("%v", err)
	}
	if d < 3600 || d > 43200 {
		return 0, validationError("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", d)
	}
	return d, nil
}

// boundaryPolicy checks that arn names a managed policy usable as a
// permissions boundary.
func (s *Service) boundaryPolicy(arn string) error {
	if s.st.lookupPolicy(arn) == nil {
		return invalidInput("Scope ARN: %s does not exist or is not attachable.", arn)
	}
	return nil
}

type roleResult struct {
	Role roleXML `xml:"Role"`
}

func (s *Service) createRole(form url.Values, _ Principal) (any, error) {
	name, err := entityName(form, "RoleName", maxRoleName)
	if err != nil {
		return nil, err
	}
	path, err := entityPath(form)
	if err != nil {
		return nil, err
	}
	desc, err := description(form)
	if err != nil {
		return nil, err
	}
	maxSession, err := maxSessionDuration(form)
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(form, "Tags")
	if err != nil {
		return nil, err
	}
	text, doc, err := trustDocument(form, "AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := s.federatedPrincipalsExist(doc); err != nil {
		return nil, err
	}
	boundary := form.Get("PermissionsBoundary")
	if boundary != "" {
		if err := s.boundaryPolicy(boundary); err != nil {
			return nil, err
		}
	}
	key := strings.ToLower(name)
	if _, ok := s.st.Roles[key]; ok {
		return nil, entityAlreadyExists("Role with name %s already exists.", name)
	}
	sortTags(tags)
	r := &role{
		Name: name, Path: path, ID: newID("AROA"),
		ARN:     "arn:aws:iam::" + s.cfg.Account + ":role" + path + name,
		Created: s.now(), Trust: text, trust: doc,
		Description: desc, MaxSession: maxSession, Boundary: boundary, Tags: tags,
	}
	s.st.Roles[key] = r
	return roleResult{Role: withoutMaxSession(r.xml(true))}, nil
}

func (s *Service) getRole(form url.Values, _ Principal) (any, error) {
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	return roleResult{Role: r.xml(true)}, nil
}

type listRolesResult struct {
	Roles []roleXML `xml:"Roles>member"`
	page
}

func (s *Service) listRoles(form url.Values, _ Principal) (any, error) {
	keys, err := underPath(form, s.st.Roles, func(r *role) string { return r.Path })
	if err != nil {
		return nil, err
	}
	roles, p, err := pageOf(form, s.st.Roles, keys, func(r *role) roleXML { return r.xml(false) })
	if err != nil {
		return nil, err
	}
	return listRolesResult{Roles: roles, page: p}, nil
}

func (s *Service) updateRole(form url.Values, _ Principal) (any, error) {
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	desc, err := description(form)
	if err != nil {
		return nil, err
	}
	maxSession := r.MaxSession
	if _, ok := form["MaxSessionDuration"]; ok {
		if maxSession, err = maxSessionDuration(form); err != nil {
			return nil, err
		}
	}
	if _, ok := form["Description"]; ok {
		r.Description = desc
	}
	r.MaxSession = maxSession
	return nil, nil
}

// updateRoleDescription is the older form of UpdateRole for the
// description alone: Description is required (it may be empty), and the
// answer is the role, as GetRole shows it.
func (s *Service) updateRoleDescription(form url.Values, _ Principal) (any, error) {
	if _, err := required(form, "Description"); err != nil {
		return nil, err
	}
	desc, err := description(form)
	if err != nil {
		return nil, err
	}
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	r.Description = desc
	return roleResult{Role: r.xml(true)}, nil
}

func (s *Service) updateAssumeRolePolicy(form url.Values, _ Principal) (any, error) {
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	text, doc, err := trustDocument(form, "PolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := s.federatedPrincipalsExist(doc); err != nil {
		return nil, err
	}
	r.Trust, r.trust = text, doc
	return nil, nil
}

func (s *Service) putRolePermissionsBoundary(form url.Values, _ Principal) (any, error) {
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	arn, err := policyARN(form, "PermissionsBoundary")
	if err != nil {
		return nil, err
	}
	if s.st.lookupPolicy(arn) == nil {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	r.Boundary = arn
	return nil, nil
}

func (s *Service) deleteRolePermissionsBoundary(form url.Values, _ Principal) (any, error) {
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	if r.Boundary == "" {
		return nil, noSuchEntity("The role with name %s does not have a permissions boundary.", r.Name)
	}
	r.Boundary = ""
	return nil, nil
}

func (s *Service) tagRole(form url.Values, _ Principal) (any, error) {
	// The request is validated before the role is looked up, as IAM does.
	add, err := requiredTags(form)
	if err != nil {
		return nil, err
	}
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	if r.Tags, err = mergeTags(r.Tags, add); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *Service) untagRole(form url.Values, _ Principal) (any, error) {
	keys, err := untagKeys(form)
	if err != nil {
		return nil, err
	}
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	r.Tags = removeTags(r.Tags, keys)
	return nil, nil
}

type listTagsResult struct {
	Tags tagList `xml:"Tags"`
	page
}

func listTags(form url.Values, tags []tag) (any, error) {
	items, p, err := paginate(form, tags, func(t tag) string { return strings.ToLower(t.Key) })
	if err != nil {
		return nil, err
	}
	res := listTagsResult{page: p}
	for _, t := range items {
		res.Tags.Members = append(res.Tags.Members, tagXML(t))
	}
	return res, nil
}

func (s *Service) listRoleTags(form url.Values, _ Principal) (any, error) {
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	return listTags(form, r.Tags)
}

func (s *Service) deleteRole(form url.Values, _ Principal) (any, error) {
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(r.Name)
	if err := r.deleteConflict(); err != nil {
		return nil, err
	}
	for _, ip := range s.st.Profiles {
		if ip.Role == key {
			return nil, deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
	}
	delete(s.st.Roles, key)
	return nil, nil
}
