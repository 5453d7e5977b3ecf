package audit

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
)

// IAMReader is the IAM call ReadAccount makes; *iam.Client satisfies it.
type IAMReader interface {
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
}

// Principal is a user or role of the account with every policy that
// bears on what it may do.
type Principal struct {
	Type string // "role" or "user"
	Name string
	ARN  string
	// Identity holds its identity policies: inline, attached, and for a
	// user those of its groups; Labels[i] names Identity[i].
	Identity []*policy.Document
	Labels   []string
	Boundary *policy.Document // nil without a permissions boundary
	Trust    *policy.Document // a role's trust policy; nil for users
	// Unreadable names the policies that could not be evaluated: a
	// document the parser refuses, or a policy the answer did not carry.
	Unreadable []string
}

// Account is the IAM configuration of one account, as ReadAccount read
// it.
type Account struct {
	Principals []*Principal // sorted by type, then ARN
	Groups     int
	Policies   int // managed policies returned (customer managed, and AWS managed in use)
	Pages      int // GetAccountAuthorizationDetails calls ReadAccount made
}

// Counts says how many users and roles the account has.
func (a *Account) Counts() (users, roles int) {
	for _, p := range a.Principals {
		if p.Type == "user" {
			users++
		} else {
			roles++
		}
	}
	return users, roles
}

// managed is a managed policy's name and default version.
type managed struct {
	name string
	doc  *policy.Document
	err  error
}

type details struct {
	users    []iamtypes.UserDetail
	groups   map[string]iamtypes.GroupDetail
	roles    []iamtypes.RoleDetail
	policies map[string]managed
	pages    int
}

// add takes in one page of GetAccountAuthorizationDetails.
func (d *details) add(out *iam.GetAccountAuthorizationDetailsOutput) {
	d.users = append(d.users, out.UserDetailList...)
	d.roles = append(d.roles, out.RoleDetailList...)
	for _, g := range out.GroupDetailList {
		d.groups[aws.ToString(g.GroupName)] = g
	}
	for _, mp := range out.Policies {
		m := managed{name: aws.ToString(mp.PolicyName), err: fmt.Errorf("no default version")}
		for _, v := range mp.PolicyVersionList {
			if v.IsDefaultVersion {
				m.doc, m.err = policy.Parse([]byte(aws.ToString(v.Document)))
			}
		}
		d.policies[aws.ToString(mp.Arn)] = m
	}
}

// ReadAccount reads every user, group, role and managed policy of the
// account with GetAccountAuthorizationDetails, 1,000 entities a call (the
// reader observe uses too, provision.AuthorizationDetails), and
// resolves each user's and role's policies into a Principal. When o holds
// observe's account-wide read (o.AccountRead: every role and customer
// managed policy, with account_iam_read), it takes those from o and reads
// only the users, groups and AWS managed policies in use. o may be nil.
func ReadAccount(ctx context.Context, c IAMReader, o *provision.Observed) (*Account, error) {
	d := details{groups: map[string]iamtypes.GroupDetail{}, policies: map[string]managed{}}
	var filter []iamtypes.EntityType // all
	if o != nil {
		if roles, policies, ok := o.AccountRead(); ok {
			d.add(&iam.GetAccountAuthorizationDetailsOutput{RoleDetailList: roles, Policies: policies})
			filter = []iamtypes.EntityType{iamtypes.EntityTypeUser, iamtypes.EntityTypeGroup, iamtypes.EntityTypeAWSManagedPolicy}
		}
	}
	err := provision.AuthorizationDetails(ctx, c, 0, filter, func(out *iam.GetAccountAuthorizationDetailsOutput) {
		d.pages++
		d.add(out)
	})
	if err != nil {
		return nil, err
	}
	a := &Account{Groups: len(d.groups), Policies: len(d.policies), Pages: d.pages}
	for _, u := range d.users {
		pr := &Principal{Type: "user", Name: aws.ToString(u.UserName), ARN: aws.ToString(u.Arn)}
		pr.addInline(u.UserPolicyList, "")
		pr.addAttached(d.policies, u.AttachedManagedPolicies, "")
		groups := append([]string(nil), u.GroupList...)
		sort.Strings(groups)
		for _, name := range groups {
			g, ok := d.groups[name]
			if !ok {
				pr.Unreadable = append(pr.Unreadable, "group "+name+" (not in the answer)")
				continue
			}
			pr.addInline(g.GroupPolicyList, "group "+name+": ")
			pr.addAttached(d.policies, g.AttachedManagedPolicies, "group "+name+": ")
		}
		pr.setBoundary(d.policies, u.PermissionsBoundary)
		a.Principals = append(a.Principals, pr)
	}
	for _, r := range d.roles {
		pr := &Principal{Type: "role", Name: aws.ToString(r.RoleName), ARN: aws.ToString(r.Arn)}
		pr.addInline(r.RolePolicyList, "")
		pr.addAttached(d.policies, r.AttachedManagedPolicies, "")
		pr.setBoundary(d.policies, r.PermissionsBoundary)
		trust, err := policy.Parse([]byte(aws.ToString(r.AssumeRolePolicyDocument)))
		if err != nil {
			pr.Unreadable = append(pr.Unreadable, "trust policy ("+err.Error()+")")
		}
		pr.Trust = trust
		a.Principals = append(a.Principals, pr)
	}
	sort.Slice(a.Principals, func(i, j int) bool {
		x, y := a.Principals[i], a.Principals[j]
		if x.Type != y.Type {
			return x.Type < y.Type
		}
		return x.ARN < y.ARN
	})
	return a, nil
}

func (p *Principal) add(label string, doc *policy.Document, err error) {
	if err != nil {
		p.Unreadable = append(p.Unreadable, label+" ("+err.Error()+")")
		return
	}
	p.Identity = append(p.Identity, doc)
	p.Labels = append(p.Labels, label)
}

func (p *Principal) addInline(list []iamtypes.PolicyDetail, prefix string) {
	for _, pd := range list {
		doc, err := policy.Parse([]byte(aws.ToString(pd.PolicyDocument)))
		p.add(prefix+"inline "+aws.ToString(pd.PolicyName), doc, err)
	}
}

func (p *Principal) addAttached(policies map[string]managed, list []iamtypes.AttachedPolicy, prefix string) {
	for _, ap := range list {
		arn := aws.ToString(ap.PolicyArn)
		m, ok := policies[arn]
		if !ok {
			p.Unreadable = append(p.Unreadable, prefix+"managed "+arn+" (not in the answer)")
			continue
		}
		p.add(prefix+"managed "+m.name, m.doc, m.err)
	}
}

func (p *Principal) setBoundary(policies map[string]managed, b *iamtypes.AttachedPermissionsBoundary) {
	if b == nil || aws.ToString(b.PermissionsBoundaryArn) == "" {
		return
	}
	arn := aws.ToString(b.PermissionsBoundaryArn)
	m, ok := policies[arn]
	switch {
	case !ok:
		p.Unreadable = append(p.Unreadable, "boundary "+arn+" (not in the answer)")
	case m.err != nil:
		p.Unreadable = append(p.Unreadable, "boundary "+m.name+" ("+m.err.Error()+")")
	default:
		p.Boundary = m.doc
	}
}
