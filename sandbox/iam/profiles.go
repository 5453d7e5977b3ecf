package iam

import (
	"net/url"
	"strings"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// instanceProfile finds a profile by the InstanceProfileName parameter.
func (s *Service) instanceProfile(form url.Values) (*instanceProfile, error) {
	return find(s.st.Profiles, form, "InstanceProfileName", maxEntityName, "Instance Profile %s cannot be found.")
}

func (s *Service) profileXML(ip *instanceProfile) instanceProfileXML {
	x := instanceProfileXML{
		Path: ip.Path, InstanceProfileName: ip.Name, InstanceProfileID: ip.ID, Arn: ip.ARN,
		CreateDate: seconds(ip.Created), Roles: []roleXML{}, Tags: tagsXML(ip.Tags),
	}
	if r := s.st.Roles[ip.Role]; r != nil {
		x.Roles = append(x.Roles, withoutMaxSession(r.xml(false)))
	}
	return x
}

type instanceProfileResult struct {
	InstanceProfile instanceProfileXML `xml:"InstanceProfile"`
}

func (s *Service) createInstanceProfile(form url.Values, _ Principal) (any, error) {
	name, err := entityName(form, "InstanceProfileName", maxEntityName)
	if err != nil {
		return nil, err
	}
	path, err := entityPath(form)
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(form, "Tags")
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(name)
	if _, ok := s.st.Profiles[key]; ok {
		return nil, entityAlreadyExists("Instance Profile %s already exists.", name)
	}
	sortTags(tags)
	ip := &instanceProfile{
		Name: name, Path: path, ID: newID("AIPA"),
		ARN:     "arn:aws:iam::" + s.cfg.Account + ":instance-profile" + path + name,
		Created: s.now(), Tags: tags,
	}
	s.st.Profiles[key] = ip
	return instanceProfileResult{InstanceProfile: s.profileXML(ip)}, nil
}

func (s *Service) getInstanceProfile(form url.Values, _ Principal) (any, error) {
	ip, err := s.instanceProfile(form)
	if err != nil {
		return nil, err
	}
	return instanceProfileResult{InstanceProfile: s.profileXML(ip)}, nil
}

type listInstanceProfilesResult struct {
	InstanceProfiles []instanceProfileXML `xml:"InstanceProfiles>member"`
	page
}

// listProfilesAt answers a page of the instance profiles at keys (sorted).
func (s *Service) listProfilesAt(form url.Values, keys []string) (any, error) {
	profiles, p, err := pageOf(form, s.st.Profiles, keys, s.profileXML)
	if err != nil {
		return nil, err
	}
	return listInstanceProfilesResult{InstanceProfiles: profiles, page: p}, nil
}

func (s *Service) listInstanceProfiles(form url.Values, _ Principal) (any, error) {
	keys, err := underPath(form, s.st.Profiles, func(ip *instanceProfile) string { return ip.Path })
	if err != nil {
		return nil, err
	}
	return s.listProfilesAt(form, keys)
}

func (s *Service) listInstanceProfilesForRole(form url.Values, _ Principal) (any, error) {
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	role := strings.ToLower(r.Name)
	var keys []string
	for _, k := range sortedKeys(s.st.Profiles) {
		if s.st.Profiles[k].Role == role {
			keys = append(keys, k)
		}
	}
	return s.listProfilesAt(form, keys)
}

func (s *Service) addRoleToInstanceProfile(form url.Values, _ Principal) (any, error) {
	ip, err := s.instanceProfile(form)
	if err != nil {
		return nil, err
	}
	r, err := s.role(form)
	if err != nil {
		return nil, err
	}
	if ip.Role != "" {
		return nil, limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}
	ip.Role = strings.ToLower(r.Name)
	return nil, nil
}

func (s *Service) removeRoleFromInstanceProfile(form url.Values, _ Principal) (any, error) {
	ip, err := s.instanceProfile(form)
	if err != nil {
		return nil, err
	}
	name, err := entityName(form, "RoleName", maxRoleName)
	if err != nil {
		return nil, err
	}
	if ip.Role != strings.ToLower(name) {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	ip.Role = ""
	return nil, nil
}

func (s *Service) deleteInstanceProfile(form url.Values, _ Principal) (any, error) {
	ip, err := s.instanceProfile(form)
	if err != nil {
		return nil, err
	}
	if ip.Role != "" {
		return nil, deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(s.st.Profiles, strings.ToLower(ip.Name))
	return nil, nil
}

func (s *Service) tagInstanceProfile(form url.Values, _ Principal) (any, error) {
	ip, err := s.instanceProfile(form)
	if err != nil {
		return nil, err
	}
	add, err := requiredTags(form)
	if err != nil {
		return nil, err
	}
	if ip.Tags, err = mergeTags(ip.Tags, add); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *Service) untagInstanceProfile(form url.Values, _ Principal) (any, error) {
	ip, err := s.instanceProfile(form)
	if err != nil {
		return nil, err
	}
	ip.Tags = removeTags(ip.Tags, wire.List(form, "TagKeys"))
	return nil, nil
}

func (s *Service) listInstanceProfileTags(form url.Values, _ Principal) (any, error) {
	ip, err := s.instanceProfile(form)
	if err != nil {
		return nil, err
	}
	return listTags(form, ip.Tags)
}
