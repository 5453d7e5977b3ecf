package iam

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// IAM's OIDC provider limits (IAM and STS quotas, and the API model).
const (
	maxOIDCClientIDs   = 100
	maxOIDCThumbprints = 5
	maxOIDCURL         = 255
)

// oidcProvider is an IAM OpenID Connect identity provider. URL is stored as
// IAM returns it: the issuer without "https://".
type oidcProvider struct {
	ARN         string    `json:"arn"`
	URL         string    `json:"url"`
	ClientIDs   []string  `json:"clientIds,omitempty"`
	Thumbprints []string  `json:"thumbprints,omitempty"`
	Created     time.Time `json:"created"`
	Tags        []tag     `json:"tags,omitempty"`
}

var (
	thumbprintRe = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)
	// oidcURLRe is an https URL without port, query or fragment, as IAM
	// accepts it for a provider (the issuer of its tokens).
	oidcURLRe = regexp.MustCompile(`^https://[A-Za-z0-9.-]+(/[\x21-\x7e]*)?$`)
)

type createOIDCProviderResult struct {
	OpenIDConnectProviderArn string   `xml:"OpenIDConnectProviderArn"`
	Tags                     *tagList `xml:"Tags,omitempty"`
}

func (s *Service) createOIDCProvider(form url.Values, _ Principal) (any, error) {
	raw, err := required(form, "Url")
	if err != nil {
		return nil, err
	}
	if err := checkLength("Url", raw, 1, maxOIDCURL); err != nil {
		return nil, err
	}
	if !oidcURLRe.MatchString(raw) || strings.ContainsAny(raw, "?#") {
		return nil, invalidInput("Invalid Url: %s. The URL must begin with https:// and may not contain a port, query or fragment.", raw)
	}
	clients := wire.List(form, "ClientIDList")
	if len(clients) > maxOIDCClientIDs {
		return nil, limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxOIDCClientIDs)
	}
	for _, c := range clients {
		if err := checkLength("ClientIDList.member", c, 1, 255); err != nil {
			return nil, err
		}
	}
	thumbprints := wire.List(form, "ThumbprintList")
	if len(thumbprints) > maxOIDCThumbprints {
		return nil, limitExceeded("Cannot exceed quota for ThumbprintsPerIdentityProvider: %d", maxOIDCThumbprints)
	}
	for _, t := range thumbprints {
		if !thumbprintRe.MatchString(t) {
			return nil, validationError("1 validation error detected: Value '%s' at 'thumbprintList.member' failed to satisfy constraint: Member must have length greater than or equal to 40", t)
		}
	}
	tags, err := parseTags(form, "Tags")
	if err != nil {
		return nil, err
	}
	issuer := strings.TrimSuffix(strings.TrimPrefix(raw, "https://"), "/")
	arn := "arn:aws:iam::" + s.cfg.Account + ":oidc-provider/" + issuer
	if s.st.OIDCProviders[arn] != nil {
		return nil, entityAlreadyExists("Provider with url %s already exists.", raw)
	}
	p := &oidcProvider{ARN: arn, URL: issuer, ClientIDs: dedupe(clients), Thumbprints: dedupe(thumbprints), Created: s.now(), Tags: tags}
	s.st.OIDCProviders[arn] = p
	return createOIDCProviderResult{OpenIDConnectProviderArn: arn, Tags: tagsXML(tags)}, nil
}

// dedupe keeps the first occurrence of each value, in order, as IAM keeps
// a provider's client IDs.
func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range list {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// oidcProviderByForm finds the provider the OpenIDConnectProviderArn
// parameter names.
func (s *Service) oidcProviderByForm(form url.Values) (*oidcProvider, error) {
	arn, err := required(form, "OpenIDConnectProviderArn")
	if err != nil {
		return nil, err
	}
	if err := checkLength("OpenIDConnectProviderArn", arn, 20, 2048); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(arn, "arn:aws:iam::") || !strings.Contains(arn, ":oidc-provider/") {
		return nil, invalidInput("ARN %s is not valid.", arn)
	}
	p := s.st.OIDCProviders[arn]
	if p == nil {
		return nil, noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
	}
	return p, nil
}

type stringMembers struct {
	Members []string `xml:"member"`
}

type getOIDCProviderResult struct {
	URL            string         `xml:"Url"`
	ClientIDList   *stringMembers `xml:"ClientIDList,omitempty"`
	ThumbprintList *stringMembers `xml:"ThumbprintList,omitempty"`
	CreateDate     time.Time      `xml:"CreateDate"`
	Tags           *tagList       `xml:"Tags,omitempty"`
}

func members(list []string) *stringMembers {
	if len(list) == 0 {
		return nil
	}
	return &stringMembers{Members: list}
}

func (s *Service) getOIDCProvider(form url.Values, _ Principal) (any, error) {
	p, err := s.oidcProviderByForm(form)
	if err != nil {
		return nil, err
	}
	return getOIDCProviderResult{
		URL: p.URL, ClientIDList: members(p.ClientIDs), ThumbprintList: members(p.Thumbprints),
		CreateDate: seconds(p.Created), Tags: tagsXML(p.Tags),
	}, nil
}

type oidcProviderEntry struct {
	Arn string `xml:"Arn"`
}

type listOIDCProvidersResult struct {
	List []oidcProviderEntry `xml:"OpenIDConnectProviderList>member"`
}

func (s *Service) listOIDCProviders(_ url.Values, _ Principal) (any, error) {
	var out listOIDCProvidersResult
	for _, arn := range sortedKeys(s.st.OIDCProviders) {
		out.List = append(out.List, oidcProviderEntry{Arn: arn})
	}
	return out, nil
}

func (s *Service) deleteOIDCProvider(form url.Values, _ Principal) (any, error) {
	p, err := s.oidcProviderByForm(form)
	if err != nil {
		return nil, err
	}
	delete(s.st.OIDCProviders, p.ARN)
	return nil, nil
}

// oidcProviderByIssuer finds the provider whose URL is the iss claim of a
// token.
func (s *Service) oidcProviderByIssuer(iss string) *oidcProvider {
	issuer, ok := strings.CutPrefix(iss, "https://")
	if !ok {
		return nil
	}
	return s.st.OIDCProviders["arn:aws:iam::"+s.cfg.Account+":oidc-provider/"+strings.TrimSuffix(issuer, "/")]
}

// federatedPrincipalsExist refuses a trust policy whose Federated
// principal names an OIDC provider that this account does not have: IAM
// resolves the provider when it stores the trust, and answers
// MalformedPolicyDocument "Invalid principal in policy" for one that does
// not exist, in this account or any other (the IAM user guide makes the
// provider a prerequisite of the role). SAML providers and the built-in
// web identity providers (accounts.google.com) are not checked.
func (s *Service) federatedPrincipalsExist(doc *policy.Document) error {
	for _, st := range doc.Statement {
		for _, p := range []*policy.Principal{st.Principal, st.NotPrincipal} {
			if p == nil {
				continue
			}
			for _, v := range p.Values["Federated"] {
				if strings.Contains(v, ":oidc-provider/") && s.st.OIDCProviders[v] == nil {
					return malformedPolicy("Invalid principal in policy: \"Federated\":\"%s\"", v)
				}
			}
		}
	}
	return nil
}

// SeedOIDCProviders creates, unless they exist, the OIDC providers of this
// account named by ARN, each with the client ID sts.amazonaws.com (the
// audience EKS and GitHub Actions tokens carry), as the account's
// administrator would have before creating roles that trust them. It
// reports whether it created any.
func (s *Service) SeedOIDCProviders(arns []string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	created := false
	prefix := "arn:aws:iam::" + s.cfg.Account + ":oidc-provider/"
	for _, arn := range arns {
		issuer, ok := strings.CutPrefix(arn, prefix)
		if !ok || !oidcURLRe.MatchString("https://"+issuer) {
			return created, fmt.Errorf("iam: cannot seed %s: not an OIDC provider ARN of account %s", arn, s.cfg.Account)
		}
		if s.st.OIDCProviders[arn] != nil {
			continue
		}
		s.st.OIDCProviders[arn] = &oidcProvider{ARN: arn, URL: issuer, ClientIDs: []string{"sts.amazonaws.com"}, Created: s.now()}
		created = true
	}
	return created, nil
}
