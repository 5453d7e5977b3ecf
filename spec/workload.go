package spec

import (
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/secretboot/secretboot/policy"
)

// Kinds of workload that may assume a managed role besides AWS services.
const (
	WorkloadPodIdentity   = "pod_identity"   // EKS Pod Identity: pods.eks.amazonaws.com with session tags
	WorkloadIRSA          = "irsa"           // EKS IAM roles for service accounts: the cluster's OIDC provider
	WorkloadGitHubActions = "github_actions" // GitHub Actions OIDC: token.actions.githubusercontent.com
)

// Fixed parts of OIDC trust: both EKS and GitHub Actions tokens for AWS
// carry this audience, and GitHub's issuer is the same for every repository.
const (
	OIDCAudience        = "sts.amazonaws.com"
	GitHubActionsIssuer = "token.actions.githubusercontent.com"
)

var (
	podIdentitySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "cluster_arn"}, {Name: "namespace"}, {Name: "service_account"},
	}}
	irsaSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "provider_arn", Required: true}, {Name: "namespace"}, {Name: "service_account"},
	}}
	githubActionsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "repository", Required: true}, {Name: "environment"}, {Name: "ref"},
	}}
	workloadSchemas = map[string]*hcl.BodySchema{
		WorkloadPodIdentity:   podIdentitySchema,
		WorkloadIRSA:          irsaSchema,
		WorkloadGitHubActions: githubActionsSchema,
	}

	eksClusterARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:eks:[a-z0-9-]+:([0-9]{12}):cluster/[A-Za-z0-9][A-Za-z0-9_-]{0,99}$`)
	// Kubernetes names: a namespace is a DNS-1123 label, a service account
	// a DNS-1123 subdomain.
	k8sNamespaceRe      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	k8sServiceAccountRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
	// GitHub owner and repository names.
	githubRepoRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}$`)
	githubRefRe  = regexp.MustCompile(`^refs/(heads|tags)/[\x21-\x7e]+$`)
	githubEnvRe  = regexp.MustCompile(`^[^*?:]{1,255}$`)
)

// maxTrustPolicy is IAM's default quota on a role's trust policy, in
// characters without whitespace (AWS-FACTS.md).
const maxTrustPolicy = 2048

// WorkloadConfig is a pod_identity, irsa or github_actions block of a role;
// its attributes are evaluated per stage.
type WorkloadConfig struct {
	Kind string // WorkloadPodIdentity, WorkloadIRSA or WorkloadGitHubActions

	attrs     hcl.Attributes
	DeclRange hcl.Range
}

// Workload is a workload allowed to assume a managed role: EKS pods through
// Pod Identity or IRSA, or GitHub Actions jobs.
type Workload struct {
	Kind string // WorkloadPodIdentity, WorkloadIRSA or WorkloadGitHubActions

	ClusterARN     string // Pod Identity: the cluster, or "" for any
	Namespace      string // Pod Identity ("" = any) and IRSA
	ServiceAccount string // Pod Identity ("" = any) and IRSA

	// ProviderARN is the IAM OIDC provider (IRSA: as given; GitHub
	// Actions: token.actions.githubusercontent.com in the stage's account).
	ProviderARN string
	Repository  string // GitHub Actions: "owner/repo"
	Environment string // GitHub Actions: the job's environment, or ""
	Ref         string // GitHub Actions: refs/heads/… or refs/tags/…, or ""

	DeclRange hcl.Range
}

// Subject is the sub claim an OIDC token must carry ("" for Pod Identity):
// system:serviceaccount:<namespace>:<service account> for IRSA,
// repo:<owner/repo>:environment:<name> or repo:<owner/repo>:ref:<ref> for
// GitHub Actions.
func (w Workload) Subject() string {
	switch w.Kind {
	case WorkloadIRSA:
		return "system:serviceaccount:" + w.Namespace + ":" + w.ServiceAccount
	case WorkloadGitHubActions:
		if w.Environment != "" {
			return "repo:" + w.Repository + ":environment:" + w.Environment
		}
		return "repo:" + w.Repository + ":ref:" + w.Ref
	}
	return ""
}

// Trust describes who may assume the role, for policy.TrustPolicyFor. A
// role with neither services nor workloads (one built by hand rather than
// by Evaluate) trusts EC2, the default of a role block.
func (r *Role) Trust() policy.Trust {
	t := policy.Trust{Services: r.Services}
	if len(r.Services) == 0 && len(r.Workloads) == 0 {
		t.Services = []string{"ec2.amazonaws.com"}
	}
	for _, w := range r.Workloads {
		if w.Kind == WorkloadPodIdentity {
			t.PodIdentity = append(t.PodIdentity, policy.PodIdentity{ClusterARN: w.ClusterARN, Namespace: w.Namespace, ServiceAccount: w.ServiceAccount})
			continue
		}
		t.WebIdentity = append(t.WebIdentity, policy.WebIdentity{ProviderARN: w.ProviderARN, Subject: w.Subject(), Audience: OIDCAudience})
	}
	return t
}

// decodeWorkloads reads a role's workload blocks and checks what needs no
// stage: which attributes are present.
func (d *decoder) decodeWorkloads(r *RoleConfig, blocks hcl.Blocks) {
	for _, b := range blocks {
		content, ds := b.Body.Content(workloadSchemas[b.Type])
		d.diags = append(d.diags, ds...)
		w := &WorkloadConfig{Kind: b.Type, attrs: content.Attributes, DeclRange: b.DefRange}
		r.Workloads = append(r.Workloads, w)
		_, ns := w.attrs["namespace"]
		_, sa := w.attrs["service_account"]
		_, env := w.attrs["environment"]
		_, ref := w.attrs["ref"]
		switch {
		case b.Type == WorkloadIRSA && (!ns || !sa):
			d.errorf(b.DefRange, "OIDC reader without a subject",
				"An irsa block needs namespace and service_account: they make the condition on the token's sub claim (system:serviceaccount:<namespace>:<service account>). Without it every pod of the cluster may assume role %q.", r.Name)
		case b.Type == WorkloadGitHubActions && env == ref:
			d.errorf(b.DefRange, "OIDC reader without a subject",
				"A github_actions block needs exactly one of environment or ref: with the repository they make the condition on the token's sub claim (repo:<owner/repo>:environment:<name> or repo:<owner/repo>:ref:<ref>).")
		}
	}
	if attr, ok := r.attrs["service"]; ok && len(r.Workloads) > 0 {
		d.errorf(attr.NameRange, "Service and workload trust mixed",
			"Role %q trusts workloads (%s blocks); give AWS services their own role, so that each trust policy names one kind of caller.", r.Name, r.Workloads[0].Kind)
	}
	sort.SliceStable(r.Workloads, func(i, j int) bool { return r.Workloads[i].Kind < r.Workloads[j].Kind })
}

// workloads evaluates a role's workload blocks for the stage.
func (e *evaluator) workloads(rc *RoleConfig) []Workload {
	var out []Workload
	for _, wc := range rc.Workloads {
		w := Workload{Kind: wc.Kind, DeclRange: wc.DeclRange}
		ok := true
		str := func(name string) (string, *hcl.Attribute) {
			attr := wc.attrs[name]
			if attr == nil {
				return "", nil
			}
			v, good := e.str(attr)
			ok = ok && good
			return v, attr
		}
		fail := func(attr *hcl.Attribute, summary, format string, args ...any) {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), summary, format, args...))
			ok = false
		}
		kubernetes := func() {
			var attr *hcl.Attribute
			if w.Namespace, attr = str("namespace"); attr != nil && w.Namespace != "" && !k8sNamespaceRe.MatchString(w.Namespace) {
				fail(attr, "Invalid Kubernetes namespace", "%q is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63); wildcards are not allowed.", w.Namespace)
			}
			if w.ServiceAccount, attr = str("service_account"); attr != nil && w.ServiceAccount != "" && !k8sServiceAccountRe.MatchString(w.ServiceAccount) {
				fail(attr, "Invalid Kubernetes service account", "%q is not a Kubernetes service account name (lower-case letters, digits, '-' and '.'); wildcards are not allowed.", w.ServiceAccount)
			}
		}
		switch wc.Kind {
		case WorkloadPodIdentity:
			var attr *hcl.Attribute
			if w.ClusterARN, attr = str("cluster_arn"); attr != nil && w.ClusterARN != "" {
				if m := eksClusterARNRe.FindStringSubmatch(w.ClusterARN); m == nil {
					fail(attr, "Invalid EKS cluster ARN", "cluster_arn must look like arn:aws:eks:us-east-1:123456789012:cluster/name.")
				} else if e.st.AccountID != "" && m[1] != e.st.AccountID {
					fail(attr, "Cluster in another account",
						"The cluster is in account %s, stage %q in %s: EKS Pod Identity assumes roles of the cluster's own account.", m[1], e.st.Name, e.st.AccountID)
				}
			}
			kubernetes()
			if ok && w.ClusterARN == "" && w.Namespace == "" && w.ServiceAccount == "" {
				e.diags = append(e.diags, warnDiag(wc.DeclRange, "Pod Identity without conditions",
					"Any EKS Pod Identity association in the account may use role %q; set cluster_arn, namespace and service_account to name the pods that may.", rc.Name))
			}
		case WorkloadIRSA:
			var attr *hcl.Attribute
			if w.ProviderARN, attr = str("provider_arn"); attr != nil {
				e.checkProviderARN(attr, w.ProviderARN, &ok)
			}
			kubernetes()
			switch {
			case wc.attrs["namespace"] == nil || wc.attrs["service_account"] == nil:
				ok = false // reported by decodeWorkloads
			case ok && (w.Namespace == "" || w.ServiceAccount == ""):
				fail(wc.attrs["namespace"], "OIDC reader without a subject",
					"namespace and service_account must not be empty: they make the condition on the token's sub claim.")
			}
		case WorkloadGitHubActions:
			var attr *hcl.Attribute
			if w.Repository, attr = str("repository"); attr != nil {
				switch {
				case strings.ContainsAny(w.Repository, "*?"):
					fail(attr, "Wildcard repository",
						"repository must name one repository (owner/repo): a pattern lets workflows of other repositories, or repositories created later, assume role %q.", rc.Name)
				case !githubRepoRe.MatchString(w.Repository):
					fail(attr, "Invalid GitHub repository", "repository must look like owner/repo.")
				}
			}
			if w.Environment, attr = str("environment"); attr != nil && !githubEnvRe.MatchString(w.Environment) {
				fail(attr, "Invalid GitHub environment", "environment is the exact name of a GitHub environment: 1–255 characters, no ':' and no wildcards.")
			}
			if w.Ref, attr = str("ref"); attr != nil && !githubRefRe.MatchString(w.Ref) {
				fail(attr, "Invalid Git ref", "ref must be a full branch or tag ref such as refs/heads/main or refs/tags/v*; * and ? match within it.")
			}
			if (wc.attrs["environment"] == nil) == (wc.attrs["ref"] == nil) {
				ok = false // reported by decodeWorkloads
			}
			if e.st.AccountID == "" {
				e.diags = append(e.diags, errDiag(wc.DeclRange, "GitHub Actions reader needs account_id",
					"The trust names the account's OIDC provider arn:aws:iam::<account>:oidc-provider/%s; set the stage's account_id.", GitHubActionsIssuer))
				ok = false
			} else {
				w.ProviderARN = "arn:aws:iam::" + e.st.AccountID + ":oidc-provider/" + GitHubActionsIssuer
			}
		}
		if ok {
			out = append(out, w)
		}
	}
	return out
}

// checkProviderARN requires an IAM OIDC provider of the stage's account
// other than GitHub's, which has its own block.
func (e *evaluator) checkProviderARN(attr *hcl.Attribute, arn string, ok *bool) {
	account, issuer, good := policy.ParseOIDCProviderARN(arn)
	switch {
	case strings.ContainsAny(arn, "*?"):
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Wildcard OIDC provider ARN",
			"provider_arn must name one IAM OIDC provider: a pattern would trust the tokens of every provider it matches, and providers created later."))
	case !good:
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid OIDC provider ARN",
			"provider_arn must be the ARN of an IAM OIDC provider, such as arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE."))
	case e.st.AccountID != "" && account != e.st.AccountID:
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "OIDC provider in another account",
			"The provider is in account %s, stage %q in %s: a trust policy can only name an OIDC provider of the role's own account.", account, e.st.Name, e.st.AccountID))
	case issuer == GitHubActionsIssuer:
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "GitHub provider in an irsa block",
			"Tokens of %s have GitHub subjects, not Kubernetes service accounts; use a github_actions block.", GitHubActionsIssuer))
	default:
		return
	}
	*ok = false
}

// checkTrustSize synthesizes the role's trust policy and refuses one over
// IAM's default quota, which CreateRole would reject after other changes
// were made.
func checkTrustSize(r *Role) hcl.Diagnostics {
	doc, err := policy.TrustPolicyFor(r.Trust())
	if err != nil {
		return nil // a service without a template is reported by validateConfig
	}
	if n := policy.Size(doc); n > maxTrustPolicy {
		return hcl.Diagnostics{errDiag(r.DeclRange, "Trust policy too large",
			"The trust policy of role %q has %d characters; IAM allows %d by default. Split the workloads over several roles.", r.Key, n, maxTrustPolicy)}
	}
	return nil
}
