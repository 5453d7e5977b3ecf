package policy

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Trust describes who may assume a role: AWS services, EKS Pod Identity
// and holders of OpenID Connect tokens (EKS IRSA, GitHub Actions). It is
// the input of TrustPolicyFor; the spec package fills it from a role block.
type Trust struct {
	Services    []string      // service principals, each with a template in templates/trust
	PodIdentity []PodIdentity // EKS Pod Identity associations
	WebIdentity []WebIdentity // OIDC subjects, with sts:AssumeRoleWithWebIdentity
}

// PodIdentity lets EKS Pod Identity assume the role for pods. EKS calls
// sts:AssumeRole as the service pods.eks.amazonaws.com and tags the session
// with the pod's cluster, namespace and service account; each non-empty
// field becomes a condition on that session tag, so only matching pods get
// the role.
type PodIdentity struct {
	ClusterARN     string // aws:RequestTag/eks-cluster-arn
	Namespace      string // aws:RequestTag/kubernetes-namespace
	ServiceAccount string // aws:RequestTag/kubernetes-service-account
}

// WebIdentity lets the holder of an OIDC token assume the role through
// sts:AssumeRoleWithWebIdentity when the token comes from the IAM OIDC
// provider ProviderARN and its sub and aud claims match.
type WebIdentity struct {
	// ProviderARN is arn:aws:iam::<account>:oidc-provider/<issuer>, where
	// <issuer> is the issuer URL without https://; it also names the
	// condition keys <issuer>:sub and <issuer>:aud.
	ProviderARN string
	// Subject is the sub claim. It may hold the wildcards * and ?, which
	// turn its condition into StringLike. It is required: a trust on the
	// provider alone lets every token of the provider assume the role.
	Subject string
	// Audience is the aud claim, such as sts.amazonaws.com.
	Audience string
}

// Principals and actions of workload trust statements.
const (
	PodIdentityService          = "pods.eks.amazonaws.com"
	actionAssumeRole            = "sts:AssumeRole"
	actionTagSession            = "sts:TagSession"
	actionAssumeRoleWebIdentity = "sts:AssumeRoleWithWebIdentity"
)

// Session tags that EKS Pod Identity sets when it assumes a role.
const (
	TagEKSClusterARN            = "eks-cluster-arn"
	TagKubernetesNamespace      = "kubernetes-namespace"
	TagKubernetesServiceAccount = "kubernetes-service-account"
)

// oidcProviderARNRe matches an IAM OIDC provider ARN and captures its
// account and issuer (host and optional path). The path holds no * or ?:
// in a trust policy's Principal a wildcard would trust the tokens of
// every provider it matches, and in the deployer policy's Resource let
// it read them all. Nor does it hold $, { or }: IAM expands a ${…}
// policy variable in a Resource, so the deployer's read of the trusted
// providers would name whatever the variable holds.
var oidcProviderARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):oidc-provider/([A-Za-z0-9.-]+(?:/[\x21-\x23\x25-\x29\x2b-\x3e\x40-\x7a\x7c\x7e]+)?)$`)

// ParseOIDCProviderARN returns the account and the issuer (host and path,
// without https://) of an IAM OIDC provider ARN; ok is false when arn is
// not one.
func ParseOIDCProviderARN(arn string) (account, issuer string, ok bool) {
	m := oidcProviderARNRe.FindStringSubmatch(arn)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// TrustPolicyFor builds a role's trust policy from t: the service
// templates first (as TrustPolicy merges them), then one statement per
// distinct Pod Identity, then one statement per OIDC provider, audience and
// condition operator, listing its subjects. The result is the same whatever
// the order of t's lists. A trust with nobody in it, an OIDC trust without a
// subject or audience and a malformed provider ARN are errors.
func TrustPolicyFor(t Trust) (*Document, error) {
	d := &Document{Version: "2012-10-17"}
	if len(t.Services) > 0 {
		svc, err := TrustPolicy(t.Services)
		if err != nil {
			return nil, err
		}
		d.Statement = append(d.Statement, svc.Statement...)
	}
	pods := map[PodIdentity]bool{}
	for _, p := range t.PodIdentity {
		pods[p] = true
	}
	var podList []PodIdentity
	for p := range pods {
		podList = append(podList, p)
	}
	sort.Slice(podList, func(i, j int) bool {
		a, b := podList[i], podList[j]
		return a.ClusterARN+"\x00"+a.Namespace+"\x00"+a.ServiceAccount < b.ClusterARN+"\x00"+b.Namespace+"\x00"+b.ServiceAccount
	})
	for _, p := range podList {
		s := Statement{
			Effect:    Allow,
			Principal: &Principal{Values: map[string]StringList{"Service": {PodIdentityService}}},
			Action:    StringList{actionAssumeRole, actionTagSession},
		}
		tags := map[string]StringList{}
		for key, v := range map[string]string{TagEKSClusterARN: p.ClusterARN, TagKubernetesNamespace: p.Namespace, TagKubernetesServiceAccount: p.ServiceAccount} {
			if v != "" {
				tags["aws:RequestTag/"+key] = StringList{v}
			}
		}
		if len(tags) > 0 {
			s.Condition = Conditions{"StringEquals": tags}
		}
		d.Statement = append(d.Statement, s)
	}

	type group struct{ provider, audience, op string }
	subjects := map[group]map[string]bool{}
	for _, w := range t.WebIdentity {
		if _, _, ok := ParseOIDCProviderARN(w.ProviderARN); !ok {
			return nil, fmt.Errorf("trust policy: %q is not an IAM OIDC provider ARN", w.ProviderARN)
		}
		if w.Subject == "" {
			return nil, fmt.Errorf("trust policy: OIDC provider %s without a subject would let every token it issues assume the role", w.ProviderARN)
		}
		if w.Audience == "" {
			return nil, fmt.Errorf("trust policy: OIDC provider %s without an audience", w.ProviderARN)
		}
		g := group{w.ProviderARN, w.Audience, "StringEquals"}
		if strings.ContainsAny(w.Subject, "*?") {
			g.op = "StringLike"
		}
		if subjects[g] == nil {
			subjects[g] = map[string]bool{}
		}
		subjects[g][w.Subject] = true
	}
	groups := make([]group, 0, len(subjects))
	for g := range subjects {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		return a.provider+"\x00"+a.audience+"\x00"+a.op < b.provider+"\x00"+b.audience+"\x00"+b.op
	})
	for _, g := range groups {
		_, issuer, _ := ParseOIDCProviderARN(g.provider)
		cond := Conditions{"StringEquals": {issuer + ":aud": {g.audience}}}
		if cond[g.op] == nil {
			cond[g.op] = map[string]StringList{}
		}
		cond[g.op][issuer+":sub"] = StringList(sortedKeys(subjects[g]))
		d.Statement = append(d.Statement, Statement{
			Effect:    Allow,
			Principal: &Principal{Values: map[string]StringList{"Federated": {g.provider}}},
			Action:    StringList{actionAssumeRoleWebIdentity},
			Condition: cond,
		})
	}
	if len(d.Statement) == 0 {
		return nil, errors.New("trust policy: nobody may assume the role (no service, Pod Identity or OIDC subject given)")
	}
	return d.normalized(), nil
}
