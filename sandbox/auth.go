package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/iam"
	"github.com/secretboot/secretboot/sandbox/secretsmanager"
)

// key is an access key the sandbox knows: the admin pair or one issued by
// AssumeRole.
type key struct {
	Secret     string
	Token      string    `json:",omitempty"` // session token of temporary credentials
	Expiration time.Time `json:",omitzero"`
	Principal  iam.Principal
}

// issuedKeyLifetime is how long AssumeRole credentials last; AWS's default
// DurationSeconds is one hour.
const issuedKeyLifetime = time.Hour

// keyRegistry maps access key IDs to their secrets and principals.
type keyRegistry struct {
	now  func() time.Time
	mu   sync.Mutex
	keys map[string]key
}

func newKeyRegistry(now func() time.Time) *keyRegistry {
	return &keyRegistry{now: now, keys: map[string]key{}}
}

func (r *keyRegistry) add(id string, k key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[id] = k
}

// lookup returns a known, unexpired key.
func (r *keyRegistry) lookup(id string) (k key, ok, expired bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok = r.keys[id]
	return k, ok, ok && !k.Expiration.IsZero() && !r.now().Before(k.Expiration)
}

// issue creates temporary credentials for p; package iam calls it from STS
// AssumeRole. ASIA is AWS's prefix for temporary access key IDs.
func (r *keyRegistry) issue(p iam.Principal) iam.Credentials {
	id := "ASIA" + randomText(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
	secret := randomText(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
	tok := make([]byte, 48)
	_, _ = rand.Read(tok) // crypto/rand.Read never fails
	c := iam.Credentials{
		AccessKeyID:     id,
		SecretAccessKey: secret,
		SessionToken:    base64.StdEncoding.EncodeToString(tok),
		Expiration:      r.now().Add(issuedKeyLifetime).UTC().Truncate(time.Second),
	}
	r.add(id, key{Secret: c.SecretAccessKey, Token: c.SessionToken, Expiration: c.Expiration, Principal: p})
	return c
}

// snapshot saves the issued keys that are still valid; the admin key is
// fixed and needs no saving.
func (r *keyRegistry) snapshot() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	out := map[string]key{}
	for id, k := range r.keys {
		if id != AdminAccessKeyID && now.Before(k.Expiration) {
			out[id] = k
		}
	}
	return json.Marshal(out) // map keys are sorted: the file is deterministic
}

func (r *keyRegistry) restore(b []byte) error {
	var in map[string]key
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("decoding sandbox keys: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, k := range in {
		if id != AdminAccessKeyID {
			r.keys[id] = k
		}
	}
	return nil
}

func randomText(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randIndex(len(alphabet))]
	}
	return string(b)
}

// randIndex draws uniformly from [0, n) for n ≤ 256.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// sigV4 is the parsed Authorization header of a SigV4-signed request.
type sigV4 struct {
	accessKey, date, region, service string
	signedHeaders                    string
	signature                        string
}

const sigV4Algorithm = "AWS4-HMAC-SHA256"

// credentialScope parses "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/iam/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=…". A header of another shape
// yields the zero value.
func credentialScope(h string) sigV4 {
	rest, ok := strings.CutPrefix(h, sigV4Algorithm+" ")
	if !ok {
		return sigV4{}
	}
	var a sigV4
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) == 5 && f[4] == "aws4_request" {
				a.accessKey, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
			}
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	return a
}

// authErr builds the protocol's authentication errors: Secrets Manager and
// KMS answer 400 with JSON codes, IAM and STS 403 with query codes.
func authErr(q *request, jsonCode, queryCode, msg string) *apiErr {
	if q.service == "secretsmanager" || q.service == "kms" {
		return &apiErr{http.StatusBadRequest, jsonCode, msg}
	}
	return &apiErr{http.StatusForbidden, queryCode, msg}
}

// authenticate finds the caller. Without enforcement, any request is the
// admin's unless it carries a key that AssumeRole issued, so that tests can
// still act as a role. With enforcement, the signature must verify.
func (s *Server) authenticate(r *http.Request, q *request, body []byte) (iam.Principal, *apiErr) {
	h := r.Header.Get("Authorization")
	a := credentialScope(h)
	k, known, expired := s.keys.lookup(a.accessKey)
	if !s.opts.EnforceAuth {
		if known && !expired {
			return k.Principal, nil
		}
		return s.adminPrincipal(), nil
	}
	switch {
	case h == "":
		return iam.Principal{}, authErr(q, "MissingAuthenticationTokenException", "MissingAuthenticationToken", "Request is missing Authentication Token")
	case a.accessKey == "" || a.signature == "":
		return iam.Principal{}, authErr(q, "IncompleteSignatureException", "IncompleteSignature", "The request signature does not conform to AWS standards.")
	case !known || r.Header.Get("X-Amz-Security-Token") != k.Token:
		return iam.Principal{}, authErr(q, "UnrecognizedClientException", "InvalidClientTokenId", "The security token included in the request is invalid.")
	case expired:
		return iam.Principal{}, authErr(q, "ExpiredTokenException", "ExpiredToken", "The security token included in the request is expired")
	}
	if !verify(r, a, k, body) {
		return iam.Principal{}, authErr(q, "InvalidSignatureException", "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return k.Principal, nil
}

// verify re-signs the request with the SDK's own signer, using only the
// headers the client signed, and compares signatures in constant time.
func verify(r *http.Request, a sigV4, k key, body []byte) bool {
	signingTime, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || signingTime.Format("20060102") != a.date {
		return false
	}
	signed := strings.Split(a.signedHeaders, ";")
	if !slices.Contains(signed, "host") {
		return false
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	req, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return false
	}
	req.Host = r.Host
	for _, name := range signed {
		switch name {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			for _, v := range r.Header.Values(name) {
				req.Header.Add(name, v)
			}
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: a.accessKey, SecretAccessKey: k.Secret, SessionToken: k.Token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), a.service, a.region, signingTime); err != nil {
		return false
	}
	want := credentialScope(req.Header.Get("Authorization"))
	return want.signedHeaders == a.signedHeaders &&
		subtle.ConstantTimeCompare([]byte(want.signature), []byte(a.signature)) == 1
}

// authorizer returns the Secrets Manager AuthorizeFunc for caller: nil (all
// allowed) without enforcement or for the home account's admin; otherwise
// the caller's identity policies and the secret's resource policy decide,
// through the same evaluator that secretboot verify uses. A caller of
// another account needs both to allow it (crossAccountDecision).
func (s *Server) authorizer(caller iam.Principal) secretsmanager.AuthorizeFunc {
	switch {
	case !s.opts.EnforceAuth:
		return nil
	case s.foreign(caller):
		return func(action, resource, resourcePolicy string, context map[string][]string) error {
			return s.crossAccountDecision(caller, action, resource, resourcePolicy, context)
		}
	case caller.Admin:
		return nil
	}
	return func(action, resource, resourcePolicy string, context map[string][]string) error {
		set, _ := s.iam.PolicySetFor(caller) // an unknown role has no policies: implicit deny
		if resourcePolicy != "" {
			if d, err := policy.Parse([]byte(resourcePolicy)); err == nil {
				set.Resource = d
			}
		}
		res := policy.Evaluate(set, policy.Request{
			Principal: caller.ARN,
			Action:    action,
			Resource:  resource,
			Context:   withPrincipalARN(withPrincipal(context, caller), s.iam.PrincipalARN(caller)),
		})
		switch res.Decision {
		case policy.Allowed:
			return nil
		case policy.ExplicitDeny:
			return denial(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny", caller.ARN, action, resource))
		}
		return denial(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", caller.ARN, action, resource, action))
	}
}

// denial is an authorization failure whose text is AWS's AccessDenied
// message, which starts with a capital "User:".
type denial string

func (d denial) Error() string { return string(d) }

// authorizeIAM authorizes an IAM request of a non-admin caller under
// enforcement. Package iam names the resource (the ARN of the named policy,
// instance profile or role, with its path), else "*". A request that hands
// a role to a service also needs iam:PassRole on that role, as AWS
// requires. STS needs no identity check here: GetCallerIdentity needs no
// permission, and package iam decides AssumeRole by the role's trust policy.
func (s *Server) authorizeIAM(caller iam.Principal, q *request) *apiErr {
	if !s.opts.EnforceAuth || caller.Admin || q.service != "iam" {
		return nil
	}
	// IAM knows each role's path, which is part of its ARN: a grant on
	// arn:…:role/secretboot/shop/dev/web must match the request.
	// Each account's IAM answers its own principals (accounts.go).
	svc := s.iamFor(caller.Account)
	action, resource := svc.Target(q.form, false)
	if resource == "" {
		resource = "*"
	}
	set, _ := svc.PolicySetFor(caller)
	if err := iamDecision(set, caller, action, resource, svc.RequestContext(q.form)); err != nil {
		return err
	}
	if role := svc.PassedRole(q.form); role != "" {
		return iamDecision(set, caller, "iam:PassRole", role, svc.PassContext(q.form))
	}
	return nil
}

// withPrincipal adds the global keys of the caller to a request context.
func withPrincipal(context map[string][]string, caller iam.Principal) map[string][]string {
	out := map[string][]string{"aws:PrincipalAccount": {caller.Account}}
	for k, v := range context {
		out[k] = v
	}
	return out
}

// withPrincipalARN adds aws:PrincipalArn, which resource policies key
// their exceptions on (a secret's policy.ResourcePolicy).
func withPrincipalARN(context map[string][]string, arn string) map[string][]string {
	context["aws:PrincipalArn"] = []string{arn}
	return context
}

// iamDecision evaluates one action of an IAM request against the caller's
// policies and answers AWS's AccessDenied when it is not allowed.
func iamDecision(set policy.PolicySet, caller iam.Principal, action, resource string, context map[string][]string) *apiErr {
	res := policy.Evaluate(set, policy.Request{Principal: caller.ARN, Action: action, Resource: resource,
		Context: withPrincipal(context, caller)})
	if res.Decision == policy.Allowed {
		return nil
	}
	return &apiErr{http.StatusForbidden, "AccessDenied",
		fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", caller.ARN, action, resource)}
}
