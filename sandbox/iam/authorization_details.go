package iam

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// GetAccountAuthorizationDetails: every user, group, role and managed
// policy with their policy documents (URL-encoded, RFC 3986, as IAM
// returns them) in one paginated answer. MaxItems counts entities of all
// four lists together; a page holds users first, then groups, roles and
// policies, each sorted, and the Marker resumes across lists. Filter
// (User, Role, Group, LocalManagedPolicy, AWSManagedPolicy) selects lists;
// no Filter means all. AWS managed policies are listed only while some
// entity attaches them or uses them as a boundary, so that the answer
// describes the account and not AWS's whole catalogue.

var authorizationFilters = []string{"User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"}

type policyDetailXML struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type userDetailXML struct {
	Path                    string              `xml:"Path"`
	UserName                string              `xml:"UserName"`
	UserID                  string              `xml:"UserId"`
	Arn                     string              `xml:"Arn"`
	CreateDate              time.Time           `xml:"CreateDate"`
	UserPolicyList          []policyDetailXML   `xml:"UserPolicyList>member"`
	GroupList               []string            `xml:"GroupList>member"`
	AttachedManagedPolicies []attachedPolicyXML `xml:"AttachedManagedPolicies>member"`
	PermissionsBoundary     *boundaryXML        `xml:"PermissionsBoundary,omitempty"`
	Tags                    *tagList            `xml:"Tags,omitempty"`
}

type groupDetailXML struct {
	Path                    string              `xml:"Path"`
	GroupName               string              `xml:"GroupName"`
	GroupID                 string              `xml:"GroupId"`
	Arn                     string              `xml:"Arn"`
	CreateDate              time.Time           `xml:"CreateDate"`
	GroupPolicyList         []policyDetailXML   `xml:"GroupPolicyList>member"`
	AttachedManagedPolicies []attachedPolicyXML `xml:"AttachedManagedPolicies>member"`
}

type roleDetailXML struct {
	Path                     string               `xml:"Path"`
	RoleName                 string               `xml:"RoleName"`
	RoleID                   string               `xml:"RoleId"`
	Arn                      string               `xml:"Arn"`
	CreateDate               time.Time            `xml:"CreateDate"`
	AssumeRolePolicyDocument string               `xml:"AssumeRolePolicyDocument"`
	InstanceProfileList      []instanceProfileXML `xml:"InstanceProfileList>member"`
	RolePolicyList           []policyDetailXML    `xml:"RolePolicyList>member"`
	AttachedManagedPolicies  []attachedPolicyXML  `xml:"AttachedManagedPolicies>member"`
	PermissionsBoundary      *boundaryXML         `xml:"PermissionsBoundary,omitempty"`
	Tags                     *tagList             `xml:"Tags,omitempty"`
}

type managedPolicyDetailXML struct {
	policyFieldsXML
	PolicyVersionList []policyVersionXML `xml:"PolicyVersionList>member"`
}

type authorizationDetailsResult struct {
	UserDetailList  []userDetailXML          `xml:"UserDetailList>member"`
	GroupDetailList []groupDetailXML         `xml:"GroupDetailList>member"`
	RoleDetailList  []roleDetailXML          `xml:"RoleDetailList>member"`
	Policies        []managedPolicyDetailXML `xml:"Policies>member"`
	page
}

// detail is one entity of the answer; key orders the combined list and
// add puts the entity into its list of the result.
type detail struct {
	key string
	add func(*authorizationDetailsResult)
}

func inlineDetails(inline map[string]*inlinePolicy) []policyDetailXML {
	out := []policyDetailXML{}
	for _, name := range sortedKeys(inline) {
		out = append(out, policyDetailXML{PolicyName: name, PolicyDocument: wire.EscapeDocument(inline[name].Document)})
	}
	return out
}

func (s *Service) getAccountAuthorizationDetails(form url.Values, _ Principal) (any, error) {
	want := map[string]bool{}
	for _, f := range wire.List(form, "Filter") {
		if !slices.Contains(authorizationFilters, f) {
			return nil, validationError("1 validation error detected: Value '[%s]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [%s]]", f, strings.Join(authorizationFilters, ", "))
		}
		want[f] = true
	}
	if len(want) == 0 {
		for _, f := range authorizationFilters {
			want[f] = true
		}
	}
	var items []detail
	if want["User"] {
		for _, k := range sortedKeys(s.st.Users) {
			u := s.st.Users[k]
			items = append(items, detail{key: "1" + k, add: func(r *authorizationDetailsResult) {
				x := userDetailXML{
					Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: seconds(u.Created),
					UserPolicyList: inlineDetails(u.Inline), GroupList: []string{},
					AttachedManagedPolicies: s.st.attachedXML(u.Attached, "/"), Tags: tagsXML(u.Tags),
				}
				for _, g := range slices.Sorted(slices.Values(u.Groups)) {
					x.GroupList = append(x.GroupList, s.st.Groups[g].Name)
				}
				if u.Boundary != "" {
					x.PermissionsBoundary = &boundaryXML{Type: "PermissionsBoundaryPolicy", ARN: u.Boundary}
				}
				r.UserDetailList = append(r.UserDetailList, x)
			}})
		}
	}
	if want["Group"] {
		for _, k := range sortedKeys(s.st.Groups) {
			g := s.st.Groups[k]
			items = append(items, detail{key: "2" + k, add: func(r *authorizationDetailsResult) {
				r.GroupDetailList = append(r.GroupDetailList, groupDetailXML{
					Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: g.ARN, CreateDate: seconds(g.Created),
					GroupPolicyList: inlineDetails(g.Inline), AttachedManagedPolicies: s.st.attachedXML(g.Attached, "/"),
				})
			}})
		}
	}
	if want["Role"] {
		for _, k := range sortedKeys(s.st.Roles) {
			ro := s.st.Roles[k]
			items = append(items, detail{key: "3" + k, add: func(r *authorizationDetailsResult) {
				full := ro.xml(true)
				x := roleDetailXML{
					Path: full.Path, RoleName: full.RoleName, RoleID: full.RoleID, Arn: full.Arn, CreateDate: full.CreateDate,
					AssumeRolePolicyDocument: full.AssumeRolePolicyDocument, InstanceProfileList: []instanceProfileXML{},
					RolePolicyList: inlineDetails(ro.Inline), AttachedManagedPolicies: s.st.attachedXML(ro.Attached, "/"),
					PermissionsBoundary: full.PermissionsBoundary, Tags: full.Tags,
				}
				for _, pk := range sortedKeys(s.st.Profiles) {
					if ip := s.st.Profiles[pk]; ip.Role == k {
						x.InstanceProfileList = append(x.InstanceProfileList, s.profileXML(ip))
					}
				}
				r.RoleDetailList = append(r.RoleDetailList, x)
			}})
		}
	}
	var policies []*managedPolicy
	if want["AWSManagedPolicy"] {
		for _, arn := range sortedKeys(awsManagedPolicies) {
			if a, b := s.st.usage(arn); a+b > 0 {
				policies = append(policies, awsManagedPolicies[arn])
			}
		}
	}
	if want["LocalManagedPolicy"] {
		for _, k := range sortedKeys(s.st.Policies) {
			policies = append(policies, s.st.Policies[k])
		}
	}
	slices.SortFunc(policies, func(a, b *managedPolicy) int { return strings.Compare(a.ARN, b.ARN) })
	for _, p := range policies {
		items = append(items, detail{key: "4" + p.ARN, add: func(r *authorizationDetailsResult) {
			x := managedPolicyDetailXML{policyFieldsXML: s.policyXML(p).policyFieldsXML}
			// Every version with its document, newest first as
			// ListPolicyVersions orders them.
			for i := len(p.Versions) - 1; i >= 0; i-- {
				x.PolicyVersionList = append(x.PolicyVersionList, p.versionXML(p.Versions[i], true))
			}
			r.Policies = append(r.Policies, x)
		}})
	}
	page, pg, err := paginate(form, items, func(d detail) string { return d.key })
	if err != nil {
		return nil, err
	}
	res := &authorizationDetailsResult{
		UserDetailList: []userDetailXML{}, GroupDetailList: []groupDetailXML{},
		RoleDetailList: []roleDetailXML{}, Policies: []managedPolicyDetailXML{}, page: pg,
	}
	for _, d := range page {
		d.add(res)
	}
	return res, nil
}
