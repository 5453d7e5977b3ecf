package iam

import (
	"time"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// The XML shapes of IAM results, named and nested as in the IAM API model.
// Timestamps are cut to whole seconds as IAM returns them, and policy
// documents are URL-encoded (wire.EscapeDocument).

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// tagList is a Tags element. It is a pointer in results because
// encoding/xml writes the parent of an "a>b" path even for an empty slice,
// and ListRoles must not carry Tags at all.
type tagList struct {
	Members []tagXML `xml:"member"`
}

// tagsXML returns the Tags element of tags, nil when there are none.
func tagsXML(tags []tag) *tagList {
	if len(tags) == 0 {
		return nil
	}
	l := &tagList{}
	for _, t := range tags {
		l.Members = append(l.Members, tagXML(t))
	}
	return l
}

type boundaryXML struct {
	Type string `xml:"PermissionsBoundaryType"`
	ARN  string `xml:"PermissionsBoundaryArn"`
}

type roleXML struct {
	Path                     string       `xml:"Path"`
	RoleName                 string       `xml:"RoleName"`
	RoleID                   string       `xml:"RoleId"`
	Arn                      string       `xml:"Arn"`
	CreateDate               time.Time    `xml:"CreateDate"`
	AssumeRolePolicyDocument string       `xml:"AssumeRolePolicyDocument"`
	Description              string       `xml:"Description,omitempty"`
	MaxSessionDuration       int          `xml:"MaxSessionDuration,omitempty"`
	PermissionsBoundary      *boundaryXML `xml:"PermissionsBoundary,omitempty"`
	Tags                     *tagList     `xml:"Tags,omitempty"`
}

// full selects the GetRole/CreateRole shape; ListRoles and the roles inside
// instance profiles leave out Tags and PermissionsBoundary. CreateRole's
// answer and a profile's Roles leave out MaxSessionDuration too, as AWS's
// do (see withoutMaxSession).
func (r *role) xml(full bool) roleXML {
	x := roleXML{
		Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.ARN,
		CreateDate:               seconds(r.Created),
		AssumeRolePolicyDocument: wire.EscapeDocument(r.Trust),
		Description:              r.Description,
		MaxSessionDuration:       r.MaxSession,
	}
	if full {
		if r.Boundary != "" {
			x.PermissionsBoundary = &boundaryXML{Type: "PermissionsBoundaryPolicy", ARN: r.Boundary}
		}
		x.Tags = tagsXML(r.Tags)
	}
	return x
}

// withoutMaxSession is x as CreateRole answers it and as instance profiles
// list their roles: recorded AWS responses carry no MaxSessionDuration
// there, while GetRole and ListRoles do.
func withoutMaxSession(x roleXML) roleXML {
	x.MaxSessionDuration = 0
	return x
}

type instanceProfileXML struct {
	Path                string    `xml:"Path"`
	InstanceProfileName string    `xml:"InstanceProfileName"`
	InstanceProfileID   string    `xml:"InstanceProfileId"`
	Arn                 string    `xml:"Arn"`
	CreateDate          time.Time `xml:"CreateDate"`
	Roles               []roleXML `xml:"Roles>member"`
	Tags                *tagList  `xml:"Tags,omitempty"`
}

// policyFieldsXML is what IAM's two shapes of a managed policy share:
// Policy (GetPolicy, ListPolicies) adds its tags, ManagedPolicyDetail
// (GetAccountAuthorizationDetails) its versions.
type policyFieldsXML struct {
	PolicyName                    string    `xml:"PolicyName"`
	PolicyID                      string    `xml:"PolicyId"`
	Arn                           string    `xml:"Arn"`
	Path                          string    `xml:"Path"`
	DefaultVersionID              string    `xml:"DefaultVersionId"`
	AttachmentCount               int       `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int       `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool      `xml:"IsAttachable"`
	Description                   string    `xml:"Description,omitempty"`
	CreateDate                    time.Time `xml:"CreateDate"`
	UpdateDate                    time.Time `xml:"UpdateDate"`
}

type policyXML struct {
	policyFieldsXML
	Tags *tagList `xml:"Tags,omitempty"`
}

type policyVersionXML struct {
	Document         string    `xml:"Document,omitempty"`
	VersionID        string    `xml:"VersionId"`
	IsDefaultVersion bool      `xml:"IsDefaultVersion"`
	CreateDate       time.Time `xml:"CreateDate"`
}

func seconds(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
