package iam

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// IAM users and groups: enough of them to plant the principals an access
// audit must find (a user with an inline or attached policy, a group
// policy reaching its members) and to read them back one by one or all at
// once with GetAccountAuthorizationDetails. Access keys, login profiles and
// MFA devices are not emulated: a user here is a holder of policies.

// Limits from the IAM API model and IAM's quotas page.
const (
	maxUserName        = 64
	userInlineMax      = 2048 // aggregate of a user's inline policies, without whitespace
	groupInlineMax     = 5120 // aggregate of a group's inline policies
	maxGroupsPerUser   = 10
	attachedPerHolder  = 10 // managed policies per user or per group
	userIDPrefix       = "AIDA"
	groupIDPrefix      = "AGPA"
	noUserNameSessions = "Must specify userName when calling with non-User credentials"
)

type user struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	ID       string    `json:"id"`
	ARN      string    `json:"arn"`
	Created  time.Time `json:"created"`
	Boundary string    `json:"permissionsBoundary,omitempty"`
	Tags     []tag     `json:"tags,omitempty"`
	Groups   []string  `json:"groups,omitempty"` // keys of the groups the user is in, in the order added
	holder
}

type group struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	ID      string    `json:"id"`
	ARN     string    `json:"arn"`
	Created time.Time `json:"created"`
	holder
}

// parseHolderDocuments rebuilds the parsed inline documents of users and
// groups after a Restore.
func (st *state) parseHolderDocuments() error {
	for _, u := range st.Users {
		if err := u.parse("user " + u.Name); err != nil {
			return err
		}
	}
	for _, g := range st.Groups {
		if err := g.parse("group " + g.Name); err != nil {
			return err
		}
	}
	return nil
}

type userXML struct {
	Path                string       `xml:"Path"`
	UserName            string       `xml:"UserName"`
	UserID              string       `xml:"UserId"`
	Arn                 string       `xml:"Arn"`
	CreateDate          time.Time    `xml:"CreateDate"`
	PermissionsBoundary *boundaryXML `xml:"PermissionsBoundary,omitempty"`
	Tags                *tagList     `xml:"Tags,omitempty"`
}

// xml gives the GetUser/CreateUser shape when full; ListUsers and GetGroup
// leave out Tags and PermissionsBoundary, as for roles.
func (u *user) xml(full bool) userXML {
	x := userXML{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: seconds(u.Created)}
	if full {
		if u.Boundary != "" {
			x.PermissionsBoundary = &boundaryXML{Type: "PermissionsBoundaryPolicy", ARN: u.Boundary}
		}
		x.Tags = tagsXML(u.Tags)
	}
	return x
}

type groupXML struct {
	Path       string    `xml:"Path"`
	GroupName  string    `xml:"GroupName"`
	GroupID    string    `xml:"GroupId"`
	Arn        string    `xml:"Arn"`
	CreateDate time.Time `xml:"CreateDate"`
}

func (g *group) xml() groupXML {
	return groupXML{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: g.ARN, CreateDate: seconds(g.Created)}
}

// user finds a user by the UserName parameter.
func (s *Service) user(form url.Values) (*user, error) {
	return find(s.st.Users, form, "UserName", maxUserName, "The user with name %s cannot be found.")
}

// group finds a group by the GroupName parameter.
func (s *Service) group(form url.Values) (*group, error) {
	return find(s.st.Groups, form, "GroupName", maxEntityName, "The group with name %s cannot be found.")
}

type userResult struct {
	User userXML `xml:"User"`
}

func (s *Service) createUser(form url.Values, _ Principal) (any, error) {
	name, err := entityName(form, "UserName", maxUserName)
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
	boundary := form.Get("PermissionsBoundary")
	if boundary != "" {
		if err := s.boundaryPolicy(boundary); err != nil {
			return nil, err
		}
	}
	key := strings.ToLower(name)
	if _, ok := s.st.Users[key]; ok {
		return nil, entityAlreadyExists("User with name %s already exists.", name)
	}
	sortTags(tags)
	u := &user{
		Name: name, Path: path, ID: newID(userIDPrefix),
		ARN:     "arn:aws:iam::" + s.cfg.Account + ":user" + path + name,
		Created: s.now(), Boundary: boundary, Tags: tags,
	}
	s.st.Users[key] = u
	return userResult{User: u.xml(true)}, nil
}

// getUser answers for the named user. Without UserName IAM answers for the
// calling user; a role session (and the sandbox admin, which is no stored
// user) gets the error IAM gives non-user credentials.
func (s *Service) getUser(form url.Values, caller Principal) (any, error) {
	if _, ok := form["UserName"]; !ok {
		for _, u := range s.st.Users {
			if u.ARN == caller.ARN {
				return userResult{User: u.xml(true)}, nil
			}
		}
		return nil, validationError(noUserNameSessions)
	}
	u, err := s.user(form)
	if err != nil {
		return nil, err
	}
	return userResult{User: u.xml(true)}, nil
}

type listUsersResult struct {
	Users []userXML `xml:"Users>member"`
	page
}

func (s *Service) listUsers(form url.Values, _ Principal) (any, error) {
	keys, err := underPath(form, s.st.Users, func(u *user) string { return u.Path })
	if err != nil {
		return nil, err
	}
	users, p, err := pageOf(form, s.st.Users, keys, func(u *user) userXML { return u.xml(false) })
	if err != nil {
		return nil, err
	}
	return listUsersResult{Users: users, page: p}, nil
}

func (s *Service) deleteUser(form url.Values, _ Principal) (any, error) {
	u, err := s.user(form)
	if err != nil {
		return nil, err
	}
	if err := u.deleteConflict(); err != nil {
		return nil, err
	}
	if len(u.Groups) > 0 {
		return nil, deleteConflict("Cannot delete entity, must remove user from all groups first.")
	}
	delete(s.st.Users, strings.ToLower(u.Name))
	return nil, nil
}

type groupResult struct {
	Group groupXML `xml:"Group"`
}

func (s *Service) createGroup(form url.Values, _ Principal) (any, error) {
	name, err := entityName(form, "GroupName", maxEntityName)
	if err != nil {
		return nil, err
	}
	path, err := entityPath(form)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(name)
	if _, ok := s.st.Groups[key]; ok {
		return nil, entityAlreadyExists("Group with name %s already exists.", name)
	}
	g := &group{
		Name: name, Path: path, ID: newID(groupIDPrefix),
		ARN:     "arn:aws:iam::" + s.cfg.Account + ":group" + path + name,
		Created: s.now(),
	}
	s.st.Groups[key] = g
	return groupResult{Group: g.xml()}, nil
}

// members lists the users in the group with key k, sorted by name.
func (st *state) members(k string) []*user {
	var out []*user
	for _, uk := range sortedKeys(st.Users) {
		if u := st.Users[uk]; slices.Contains(u.Groups, k) {
			out = append(out, u)
		}
	}
	return out
}

type getGroupResult struct {
	Group groupXML  `xml:"Group"`
	Users []userXML `xml:"Users>member"`
	page
}

// getGroup answers the group and a page of its members.
func (s *Service) getGroup(form url.Values, _ Principal) (any, error) {
	g, err := s.group(form)
	if err != nil {
		return nil, err
	}
	items, p, err := paginate(form, s.st.members(strings.ToLower(g.Name)), func(u *user) string { return strings.ToLower(u.Name) })
	if err != nil {
		return nil, err
	}
	res := getGroupResult{Group: g.xml(), Users: []userXML{}, page: p}
	for _, u := range items {
		res.Users = append(res.Users, u.xml(false))
	}
	return res, nil
}

type listGroupsResult struct {
	Groups []groupXML `xml:"Groups>member"`
	page
}

// listGroupsAt answers a page of the groups at keys (sorted).
func (s *Service) listGroupsAt(form url.Values, keys []string) (any, error) {
	groups, p, err := pageOf(form, s.st.Groups, keys, (*group).xml)
	if err != nil {
		return nil, err
	}
	return listGroupsResult{Groups: groups, page: p}, nil
}

func (s *Service) listGroups(form url.Values, _ Principal) (any, error) {
	keys, err := underPath(form, s.st.Groups, func(g *group) string { return g.Path })
	if err != nil {
		return nil, err
	}
	return s.listGroupsAt(form, keys)
}

func (s *Service) listGroupsForUser(form url.Values, _ Principal) (any, error) {
	u, err := s.user(form)
	if err != nil {
		return nil, err
	}
	return s.listGroupsAt(form, slices.Sorted(slices.Values(u.Groups)))
}

func (s *Service) deleteGroup(form url.Values, _ Principal) (any, error) {
	g, err := s.group(form)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(g.Name)
	if err := g.deleteConflict(); err != nil {
		return nil, err
	}
	if len(s.st.members(key)) > 0 {
		return nil, deleteConflict("Cannot delete entity, must remove users from group first.")
	}
	delete(s.st.Groups, key)
	return nil, nil
}

func (s *Service) addUserToGroup(form url.Values, _ Principal) (any, error) {
	g, err := s.group(form)
	if err != nil {
		return nil, err
	}
	u, err := s.user(form)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(g.Name)
	if slices.Contains(u.Groups, key) {
		return nil, nil // adding twice is a no-op in IAM
	}
	if len(u.Groups) >= maxGroupsPerUser {
		return nil, limitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
	}
	u.Groups = append(u.Groups, key)
	return nil, nil
}

func (s *Service) removeUserFromGroup(form url.Values, _ Principal) (any, error) {
	g, err := s.group(form)
	if err != nil {
		return nil, err
	}
	u, err := s.user(form)
	if err != nil {
		return nil, err
	}
	i := slices.Index(u.Groups, strings.ToLower(g.Name))
	if i < 0 {
		return nil, noSuchEntity("The user with name %s cannot be found in group %s.", u.Name, g.Name)
	}
	u.Groups = slices.Delete(u.Groups, i, i+1)
	return nil, nil
}
