package provision

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/hcl/v2"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// oidcProviderUses maps each IAM OIDC provider that the trust of a managed
// role names (irsa and github_actions blocks) to the workloads that name
// it, in the spec's order. External roles are left out: their trust is
// their owner's.
func oidcProviderUses(d *spec.Desired) map[string][]MissingOIDCProviderUse {
	uses := map[string][]MissingOIDCProviderUse{}
	for _, r := range d.Roles {
		if !r.Managed() {
			continue
		}
		for _, w := range r.Workloads {
			if w.ProviderARN != "" {
				uses[w.ProviderARN] = append(uses[w.ProviderARN], MissingOIDCProviderUse{Role: r.Key, Kind: w.Kind, Range: w.DeclRange})
			}
		}
	}
	return uses
}

// TrustedOIDCProviders lists, sorted, the IAM OIDC providers that the
// trust policies of d's managed roles name: what plan checks exist and
// what the deployer and plan roles may read.
func TrustedOIDCProviders(d *spec.Desired) []string {
	return slices.Sorted(maps.Keys(oidcProviderUses(d)))
}

// observeOIDCProviders checks, with one GetOpenIDConnectProvider per
// distinct provider, that the OIDC providers the managed roles' trust
// names exist (Observed.OIDCProviders). A stage without such roles makes
// no call. Get on the named providers, rather than one listing of the
// account's, keeps the deployer's and the plan role's grant on exactly
// the spec's providers.
func (o *Observed) observeOIDCProviders(ctx context.Context, s *Session, d *spec.Desired) error {
	arns := TrustedOIDCProviders(d)
	var mu sync.Mutex
	return forEachParallel(arns, observeParallelism, func(arn string) error {
		_, err := s.IAM.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
		if err != nil && !isNotFound(err) {
			return wrap(err, "reading the OIDC provider", arn)
		}
		mu.Lock()
		o.OIDCProviders[arn] = err == nil
		mu.Unlock()
		return nil
	})
}

// MissingOIDCProviderError is Diff's refusal of a stage whose managed roles
// trust an IAM OIDC provider that does not exist in the account: IAM
// refuses such a trust (MalformedPolicyDocument "Invalid principal in
// policy") and no token could assume the role anyway, so plan stops before
// any change rather than in the middle of apply.
type MissingOIDCProviderError struct {
	Account string
	// Providers are the missing providers, by ARN, sorted.
	Providers []MissingOIDCProvider
}

// MissingOIDCProvider is one missing provider and the workloads that name
// it.
type MissingOIDCProvider struct {
	ARN  string
	Uses []MissingOIDCProviderUse
}

// MissingOIDCProviderUse is a workload block of a role that names the
// provider.
type MissingOIDCProviderUse struct {
	Role  string    // role key
	Kind  string    // spec.WorkloadIRSA or spec.WorkloadGitHubActions
	Range hcl.Range // the block in the spec
}

func (e *MissingOIDCProviderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d OIDC provider(s) that role trust policies name do not exist in account %s; IAM refuses a trust that names a missing provider, so nothing was changed:", len(e.Providers), e.Account)
	for _, p := range e.Providers {
		_, issuer, _ := policy.ParseOIDCProviderARN(p.ARN)
		fmt.Fprintf(&b, "\n  %s", p.ARN)
		for _, u := range p.Uses {
			fmt.Fprintf(&b, "\n    named by the %s block of role %q at %s", u.Kind, u.Role, u.Range)
		}
		fmt.Fprintf(&b, "\n    create it: aws iam create-open-id-connect-provider --url https://%s --client-id-list %s", issuer, spec.OIDCAudience)
		if strings.HasPrefix(issuer, "oidc.eks.") {
			b.WriteString("\n    (or: eksctl utils associate-iam-oidc-provider --cluster <cluster> --approve)")
		}
	}
	return b.String()
}

// checkOIDCProviders refuses the plan when a provider that a managed
// role's trust names was observed missing. A destroy plan needs none.
func checkOIDCProviders(d *spec.Desired, o *Observed, opts DiffOptions) error {
	if opts.Destroy {
		return nil
	}
	uses := oidcProviderUses(d)
	e := &MissingOIDCProviderError{Account: o.Account}
	for arn, exists := range o.OIDCProviders {
		if !exists && len(uses[arn]) > 0 {
			e.Providers = append(e.Providers, MissingOIDCProvider{ARN: arn, Uses: uses[arn]})
		}
	}
	if len(e.Providers) == 0 {
		return nil
	}
	slices.SortFunc(e.Providers, func(a, b MissingOIDCProvider) int { return strings.Compare(a.ARN, b.ARN) })
	return e
}
