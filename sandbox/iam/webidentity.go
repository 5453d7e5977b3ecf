package iam

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// The sandbox cannot fetch an issuer's keys (JWKS) from the internet, so
// it verifies web identity tokens against a key of its own: it accepts
// RS256 JWTs that WebIdentityToken signed, whatever issuer they name, as
// long as an IAM OIDC provider of that issuer exists. The key is made on
// first use and never saved, so tokens do not outlive the Service.

// signingKeyID is the kid of every token the sandbox signs.
const signingKeyID = "secretboot-sandbox"

// tokenSigner holds the sandbox's token key.
type tokenSigner struct {
	once sync.Once
	key  *rsa.PrivateKey
	err  error
}

func (t *tokenSigner) get() (*rsa.PrivateKey, error) {
	t.once.Do(func() { t.key, t.err = rsa.GenerateKey(rand.Reader, 2048) })
	return t.key, t.err
}

// TokenClaims are the claims of a web identity token.
type TokenClaims struct {
	Issuer   string    // iss: the provider's URL, https://…
	Subject  string    // sub
	Audience string    // aud
	Expires  time.Time // exp; zero means one hour from now
	// AMR is the amr claim (authentication methods), which Amazon Cognito
	// sets; nil leaves it out.
	AMR []string
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

type jwtClaims struct {
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
	Aud audience `json:"aud"`
	Exp int64    `json:"exp"`
	Iat int64    `json:"iat"`
	AMR []string `json:"amr,omitempty"`
}

// audience is the aud claim, which JWT allows as a string or a list.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor a list of strings")
	}
	*a = many
	return nil
}

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// WebIdentityToken signs a token with c's claims that this Service's
// AssumeRoleWithWebIdentity accepts, as an OIDC issuer (EKS, GitHub
// Actions) would sign one for a workload.
func (s *Service) WebIdentityToken(c TokenClaims) (string, error) {
	key, err := s.signer.get()
	if err != nil {
		return "", fmt.Errorf("sandbox token key: %w", err)
	}
	now := s.now()
	if c.Expires.IsZero() {
		c.Expires = now.Add(time.Hour)
	}
	claims := jwtClaims{Iss: c.Issuer, Sub: c.Subject, Exp: c.Expires.Unix(), Iat: now.Unix(), AMR: c.AMR}
	if c.Audience != "" {
		claims.Aud = audience{c.Audience}
	}
	h, _ := json.Marshal(jwtHeader{Alg: "RS256", Kid: signingKeyID, Typ: "JWT"})
	b, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed := b64(h) + "." + b64(b)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signed + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func invalidIdentityToken(format string, a ...any) error {
	return wire.NewError(http.StatusBadRequest, "InvalidIdentityToken", fmt.Sprintf(format, a...))
}

// verifyToken checks a token's signature against the sandbox key and
// returns its claims.
func (s *Service) verifyToken(token string) (jwtClaims, error) {
	var c jwtClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, invalidIdentityToken("The web identity token is not a JWT.")
	}
	var h jwtHeader
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil {
		return c, invalidIdentityToken("The web identity token could not be decoded.")
	}
	if h.Alg != "RS256" {
		return c, invalidIdentityToken("Unsupported token signing algorithm %q; the sandbox verifies RS256 tokens it signed itself.", h.Alg)
	}
	key, err := s.signer.get()
	if err != nil {
		return c, invalidIdentityToken("The sandbox has no token key.")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if h.Kid != signingKeyID || rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return c, invalidIdentityToken("The web identity token's signature does not verify; the sandbox accepts only tokens it signed (sandbox.Server.WebIdentityToken).")
	}
	return c, nil
}

type webIdentityResult struct {
	Credentials                 credentialsXML     `xml:"Credentials"`
	SubjectFromWebIdentityToken string             `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             assumedRoleUserXML `xml:"AssumedRoleUser"`
	Provider                    string             `xml:"Provider"`
	Audience                    string             `xml:"Audience"`
}

// assumeRoleWithWebIdentity needs no caller: the token is the credential.
// STS checks the token (signature, issuer registered as an IAM OIDC
// provider, audience among its client IDs, expiry), then evaluates the
// role's trust policy for the provider as Federated principal with the
// token's sub, aud and amr as <issuer>:sub, <issuer>:aud and <issuer>:amr.
func (s *Service) assumeRoleWithWebIdentity(form url.Values, _ Principal) (any, error) {
	roleARN, session, err := sessionTarget(form)
	if err != nil {
		return nil, err
	}
	token, err := required(form, "WebIdentityToken")
	if err != nil {
		return nil, err
	}
	if err := checkLength("WebIdentityToken", token, 4, 20000); err != nil {
		return nil, err
	}
	duration, err := sessionDuration(form)
	if err != nil {
		return nil, err
	}
	if form.Get("ProviderId") != "" {
		return nil, validationError("The sandbox does not emulate OAuth 2.0 providers (ProviderId); use an OIDC provider.")
	}
	sessionPolicies, err := s.sessionPolicies(form)
	if err != nil {
		return nil, err
	}

	claims, err := s.verifyToken(token)
	if err != nil {
		return nil, err
	}
	provider := s.oidcProviderByIssuer(claims.Iss)
	if provider == nil {
		return nil, invalidIdentityToken("No OpenIDConnect provider found in your account for %s", claims.Iss)
	}
	aud := ""
	for _, a := range claims.Aud {
		for _, c := range provider.ClientIDs {
			if a == c && aud == "" {
				aud = a
			}
		}
	}
	if aud == "" {
		return nil, invalidIdentityToken("Incorrect token audience")
	}
	now := s.now()
	if exp := time.Unix(claims.Exp, 0).UTC(); claims.Exp == 0 || !now.Before(exp) {
		return nil, wire.NewError(http.StatusBadRequest, "ExpiredTokenException",
			fmt.Sprintf("Token expired: current date/time %s must be before the expiration date/time %s", now.Format(time.RFC3339), exp.Format(time.RFC3339)))
	}
	if claims.Sub == "" {
		return nil, invalidIdentityToken("The web identity token has no sub claim.")
	}

	denied := accessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
	r := s.roleByARN(roleARN)
	if r == nil || now.Sub(r.Created) < s.cfg.PropagationDelay {
		return nil, denied
	}
	ctx := map[string][]string{
		provider.URL + ":sub": {claims.Sub},
		provider.URL + ":aud": {aud},
		"sts:RoleSessionName": {session},
	}
	if len(claims.AMR) > 0 {
		ctx[provider.URL+":amr"] = claims.AMR
	}
	res := policy.Evaluate(policy.PolicySet{Resource: r.trust}, policy.Request{
		Principal: provider.ARN, Action: "sts:AssumeRoleWithWebIdentity", Resource: r.ARN, Context: ctx,
	})
	if res.Decision != policy.Allowed {
		return nil, denied
	}
	creds, user, err := s.issueSession(r, session, duration, now, sessionPolicies)
	if err != nil {
		return nil, err
	}
	return webIdentityResult{
		Credentials:                 creds,
		SubjectFromWebIdentityToken: claims.Sub,
		AssumedRoleUser:             user,
		Provider:                    claims.Iss,
		Audience:                    aud,
	}, nil
}
