package iam

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// managedPolicy finds a policy by the PolicyArn parameter; AWS managed
// policies are found too.
func (s *Service) managedPolicy(form url.Values) (*managedPolicy, error) {
	arn, err := policyARN(form, "PolicyArn")
	if err != nil {
		return nil, err
	}
	p := s.st.lookupPolicy(arn)
	if p == nil {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return p, nil
}

// ownPolicy is managedPolicy for operations that change the policy, which
// AWS refuses for its own managed policies.
func (s *Service) ownPolicy(form url.Values, verb string) (*managedPolicy, error) {
	p, err := s.managedPolicy(form)
	if err != nil {
		return nil, err
	}
	if p.awsManaged {
		return nil, accessDenied("Cannot %s policies outside your own account.", verb)
	}
	return p, nil
}

// managedDocument reads a managed policy document and checks its size.
func managedDocument(form url.Values) (string, *policy.Document, error) {
	text, doc, err := parseDocument(form, "PolicyDocument", identityPolicy)
	if err != nil {
		return "", nil, err
	}
	if policySize(text) > managedPolicyMax {
		return "", nil, limitExceeded("Cannot exceed quota for PolicySize: %d", managedPolicyMax)
	}
	return text, doc, nil
}

func (s *Service) policyXML(p *managedPolicy) policyXML {
	attachments, boundaries := s.st.usage(p.ARN)
	return policyXML{
		policyFieldsXML: policyFieldsXML{
			PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path,
			DefaultVersionID: p.Default, AttachmentCount: attachments,
			PermissionsBoundaryUsageCount: boundaries, IsAttachable: true,
			Description: p.Description,
			CreateDate:  seconds(p.Created), UpdateDate: seconds(p.Updated),
		},
		Tags: tagsXML(p.Tags),
	}
}

type policyResult struct {
	Policy policyXML `xml:"Policy"`
}

func (s *Service) createPolicy(form url.Values, _ Principal) (any, error) {
	name, err := entityName(form, "PolicyName", maxEntityName)
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
	tags, err := parseTags(form, "Tags")
	if err != nil {
		return nil, err
	}
	text, doc, err := managedDocument(form)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(name)
	if _, ok := s.st.Policies[key]; ok {
		return nil, entityAlreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
	}
	sortTags(tags)
	now := s.now()
	p := &managedPolicy{
		Name: name, Path: path, ID: newID("ANPA"),
		ARN:         "arn:aws:iam::" + s.cfg.Account + ":policy" + path + name,
		Description: desc, Created: now, Updated: now, Default: "v1", NextVersion: 2, Tags: tags,
		Versions: []*policyVersion{{ID: "v1", Document: text, Created: now, doc: doc}},
	}
	s.st.Policies[key] = p
	return policyResult{Policy: s.policyXML(p)}, nil
}

func (s *Service) getPolicy(form url.Values, _ Principal) (any, error) {
	p, err := s.managedPolicy(form)
	if err != nil {
		return nil, err
	}
	return policyResult{Policy: s.policyXML(p)}, nil
}

func (s *Service) deletePolicy(form url.Values, _ Principal) (any, error) {
	p, err := s.ownPolicy(form, "delete")
	if err != nil {
		return nil, err
	}
	attachments, boundaries := s.st.usage(p.ARN)
	switch {
	case attachments > 0:
		return nil, deleteConflict("Cannot delete a policy attached to entities.")
	case boundaries > 0:
		// IAM would let roles keep a dangling boundary; the sandbox refuses
		// so that a role's effective permissions never change silently.
		return nil, deleteConflict("Cannot delete a policy used as a permissions boundary.")
	case len(p.Versions) > 1:
		return nil, deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	delete(s.st.Policies, strings.ToLower(p.Name))
	return nil, nil
}

type policyVersionResult struct {
	PolicyVersion policyVersionXML `xml:"PolicyVersion"`
}

func (p *managedPolicy) versionXML(v *policyVersion, withDocument bool) policyVersionXML {
	x := policyVersionXML{VersionID: v.ID, IsDefaultVersion: v.ID == p.Default, CreateDate: seconds(v.Created)}
	if withDocument {
		x.Document = wire.EscapeDocument(v.Document)
	}
	return x
}

func (s *Service) createPolicyVersion(form url.Values, _ Principal) (any, error) {
	p, err := s.ownPolicy(form, "modify")
	if err != nil {
		return nil, err
	}
	text, doc, err := managedDocument(form)
	if err != nil {
		return nil, err
	}
	setDefault, err := wire.Bool(form, "SetAsDefault", false)
	if err != nil {
		return nil, validationError("%v", err)
	}
	if len(p.Versions) >= maxPolicyVersions {
		return nil, limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
	}
	now := s.now()
	v := &policyVersion{ID: "v" + strconv.Itoa(p.NextVersion), Document: text, Created: now, doc: doc}
	p.NextVersion++
	p.Versions = append(p.Versions, v)
	if setDefault {
		p.Default, p.Updated = v.ID, now
	}
	return policyVersionResult{PolicyVersion: p.versionXML(v, false)}, nil
}

// policyVersion finds a version by the VersionId parameter.
func policyVersionParam(form url.Values, p *managedPolicy) (*policyVersion, error) {
	id, err := required(form, "VersionId")
	if err != nil {
		return nil, err
	}
	v := p.version(id)
	if v == nil {
		return nil, noSuchEntity("Policy %s version %s does not exist or is not attachable.", p.ARN, id)
	}
	return v, nil
}

func (s *Service) getPolicyVersion(form url.Values, _ Principal) (any, error) {
	p, err := s.managedPolicy(form)
	if err != nil {
		return nil, err
	}
	v, err := policyVersionParam(form, p)
	if err != nil {
		return nil, err
	}
	return policyVersionResult{PolicyVersion: p.versionXML(v, true)}, nil
}

type listPolicyVersionsResult struct {
	Versions []policyVersionXML `xml:"Versions>member"`
	page
}

// listPolicyVersions lists the newest version first, as IAM does.
func (s *Service) listPolicyVersions(form url.Values, _ Principal) (any, error) {
	p, err := s.managedPolicy(form)
	if err != nil {
		return nil, err
	}
	versions := slices.Clone(p.Versions)
	slices.Reverse(versions)
	// Keys must sort like the slice: version numbers only grow, so the
	// zero-padded complement of the number orders newest first.
	key := func(v *policyVersion) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(v.ID, "v"))
		return fmt.Sprintf("%010d", 1<<31-n)
	}
	items, pg, err := paginate(form, versions, key)
	if err != nil {
		return nil, err
	}
	res := listPolicyVersionsResult{Versions: []policyVersionXML{}, page: pg}
	for _, v := range items {
		res.Versions = append(res.Versions, p.versionXML(v, false))
	}
	return res, nil
}

func (s *Service) setDefaultPolicyVersion(form url.Values, _ Principal) (any, error) {
	p, err := s.ownPolicy(form, "modify")
	if err != nil {
		return nil, err
	}
	v, err := policyVersionParam(form, p)
	if err != nil {
		return nil, err
	}
	p.Default, p.Updated = v.ID, s.now()
	return nil, nil
}

func (s *Service) deletePolicyVersion(form url.Values, _ Principal) (any, error) {
	p, err := s.ownPolicy(form, "modify")
	if err != nil {
		return nil, err
	}
	v, err := policyVersionParam(form, p)
	if err != nil {
		return nil, err
	}
	if v.ID == p.Default {
		return nil, deleteConflict("Cannot delete the default version of a policy.")
	}
	p.Versions = slices.DeleteFunc(p.Versions, func(x *policyVersion) bool { return x == v })
	return nil, nil
}
