package iam

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// Config configures a Service.
type Config struct {
	// Account is the 12-digit account ID used in every ARN.
	Account string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PropagationDelay is how long a new role cannot be assumed, emulating
	// IAM's eventual consistency.
	PropagationDelay time.Duration
	// AttachedPoliciesPerRoleQuota is the account's quota of managed
	// policies attached per role, which AttachRolePolicy enforces and
	// GetAccountSummary reports; 0 means AWS's default of 10.
	AttachedPoliciesPerRoleQuota int
	// IssueCredentials mints the temporary keys that AssumeRole returns for
	// the assumed-role principal p (the sandbox's key registry). nil means
	// random keys that nothing will recognise, which suits a sandbox that
	// does not verify signatures. It is called with the service's lock
	// held, so it must not call back into the Service.
	IssueCredentials func(p Principal) Credentials
}

// Principal is the authenticated caller of a request, or the principal for
// which credentials are issued.
type Principal struct {
	ARN      string // user or assumed-role session ARN
	Account  string
	RoleName string // role behind an assumed-role session; "" for the admin
	Admin    bool   // the sandbox's all-powerful admin user
	// SessionPolicies are the session policies the session was assumed
	// with (AssumeRole's Policy and PolicyArns).
	SessionPolicies []*policy.Document
}

// Credentials are temporary security credentials as STS returns them.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// Service is the IAM and STS emulation. It is safe for concurrent use: one
// mutex serialises every request, which keeps the check-then-write logic of
// the IAM operations simple and is fast enough for a local endpoint.
type Service struct {
	cfg Config

	mu sync.Mutex
	st state

	signer tokenSigner // key of the web identity tokens, made on first use
}

// New returns an empty Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IssueCredentials == nil {
		cfg.IssueCredentials = randomCredentials
	}
	if cfg.AttachedPoliciesPerRoleQuota == 0 {
		cfg.AttachedPoliciesPerRoleQuota = defaultAttachedPolicies
	}
	return &Service{cfg: cfg, st: newState()}
}

// handler is one operation: it reads the form and returns the value that
// becomes the <ActionResult> element (nil for operations without output).
type handler func(s *Service, form url.Values, caller Principal) (any, error)

var iamOps = map[string]handler{
	"CreateRole":                    (*Service).createRole,
	"GetRole":                       (*Service).getRole,
	"ListRoles":                     (*Service).listRoles,
	"UpdateRole":                    (*Service).updateRole,
	"UpdateRoleDescription":         (*Service).updateRoleDescription,
	"UpdateAssumeRolePolicy":        (*Service).updateAssumeRolePolicy,
	"PutRolePermissionsBoundary":    (*Service).putRolePermissionsBoundary,
	"DeleteRolePermissionsBoundary": (*Service).deleteRolePermissionsBoundary,
	"TagRole":                       (*Service).tagRole,
	"UntagRole":                     (*Service).untagRole,
	"ListRoleTags":                  (*Service).listRoleTags,
	"DeleteRole":                    (*Service).deleteRole,
	"PutRolePolicy":                 forHolder(roleHolder, putInlinePolicy),
	"GetRolePolicy":                 forHolder(roleHolder, getInlinePolicy),
	"ListRolePolicies":              forHolder(roleHolder, listInlinePolicies),
	"DeleteRolePolicy":              forHolder(roleHolder, deleteInlinePolicy),
	"CreateInstanceProfile":         (*Service).createInstanceProfile,
	"GetInstanceProfile":            (*Service).getInstanceProfile,
	"ListInstanceProfiles":          (*Service).listInstanceProfiles,
	"ListInstanceProfilesForRole":   (*Service).listInstanceProfilesForRole,
	"AddRoleToInstanceProfile":      (*Service).addRoleToInstanceProfile,
	"RemoveRoleFromInstanceProfile": (*Service).removeRoleFromInstanceProfile,
	"DeleteInstanceProfile":         (*Service).deleteInstanceProfile,
	"TagInstanceProfile":            (*Service).tagInstanceProfile,
	"UntagInstanceProfile":          (*Service).untagInstanceProfile,
	"ListInstanceProfileTags":       (*Service).listInstanceProfileTags,
	"CreatePolicy":                  (*Service).createPolicy,
	"GetPolicy":                     (*Service).getPolicy,
	"DeletePolicy":                  (*Service).deletePolicy,
	"CreatePolicyVersion":           (*Service).createPolicyVersion,
	"GetPolicyVersion":              (*Service).getPolicyVersion,
	"ListPolicyVersions":            (*Service).listPolicyVersions,
	"ListPolicies":                  (*Service).listPolicies,
	"SetDefaultPolicyVersion":       (*Service).setDefaultPolicyVersion,
	"DeletePolicyVersion":           (*Service).deletePolicyVersion,
	"AttachRolePolicy":              forHolder(roleHolder, attachPolicy),
	"DetachRolePolicy":              forHolder(roleHolder, detachPolicy),
	"ListAttachedRolePolicies":      forHolder(roleHolder, listAttachedPolicies),
	"GetAccountSummary":             (*Service).getAccountSummary,
	"SimulatePrincipalPolicy":       (*Service).simulatePrincipalPolicy,
	"SimulateCustomPolicy":          (*Service).simulateCustomPolicy,
	"CreateOpenIDConnectProvider":   (*Service).createOIDCProvider,
	"GetOpenIDConnectProvider":      (*Service).getOIDCProvider,
	"ListOpenIDConnectProviders":    (*Service).listOIDCProviders,
	"DeleteOpenIDConnectProvider":   (*Service).deleteOIDCProvider,
	// Users, groups and the account-wide read (users.go,
	// authorization_details.go).
	"CreateUser":                     (*Service).createUser,
	"GetUser":                        (*Service).getUser,
	"ListUsers":                      (*Service).listUsers,
	"DeleteUser":                     (*Service).deleteUser,
	"PutUserPolicy":                  forHolder(userHolder, putInlinePolicy),
	"GetUserPolicy":                  forHolder(userHolder, getInlinePolicy),
	"ListUserPolicies":               forHolder(userHolder, listInlinePolicies),
	"DeleteUserPolicy":               forHolder(userHolder, deleteInlinePolicy),
	"AttachUserPolicy":               forHolder(userHolder, attachPolicy),
	"DetachUserPolicy":               forHolder(userHolder, detachPolicy),
	"ListAttachedUserPolicies":       forHolder(userHolder, listAttachedPolicies),
	"CreateGroup":                    (*Service).createGroup,
	"GetGroup":                       (*Service).getGroup,
	"ListGroups":                     (*Service).listGroups,
	"ListGroupsForUser":              (*Service).listGroupsForUser,
	"DeleteGroup":                    (*Service).deleteGroup,
	"AddUserToGroup":                 (*Service).addUserToGroup,
	"RemoveUserFromGroup":            (*Service).removeUserFromGroup,
	"PutGroupPolicy":                 forHolder(groupHolder, putInlinePolicy),
	"GetGroupPolicy":                 forHolder(groupHolder, getInlinePolicy),
	"ListGroupPolicies":              forHolder(groupHolder, listInlinePolicies),
	"DeleteGroupPolicy":              forHolder(groupHolder, deleteInlinePolicy),
	"AttachGroupPolicy":              forHolder(groupHolder, attachPolicy),
	"DetachGroupPolicy":              forHolder(groupHolder, detachPolicy),
	"ListAttachedGroupPolicies":      forHolder(groupHolder, listAttachedPolicies),
	"GetAccountAuthorizationDetails": (*Service).getAccountAuthorizationDetails,
}

var stsOps = map[string]handler{
	"GetCallerIdentity": (*Service).getCallerIdentity,
	"AssumeRole":        (*Service).assumeRole,

	"AssumeRoleWithWebIdentity": (*Service).assumeRoleWithWebIdentity,
}

// ServeIAM answers one IAM awsQuery request whose form (Action, Version and
// parameters) has already been decoded and authorized by the router.
func (s *Service) ServeIAM(w http.ResponseWriter, form url.Values, caller Principal, requestID string) {
	s.serve(w, iamOps, wire.IAMNamespace, "2010-05-08", form, caller, requestID)
}

// ServeSTS answers one STS awsQuery request.
func (s *Service) ServeSTS(w http.ResponseWriter, form url.Values, caller Principal, requestID string) {
	s.serve(w, stsOps, wire.STSNamespace, "2011-06-15", form, caller, requestID)
}

func (s *Service) serve(w http.ResponseWriter, ops map[string]handler, ns, version string, form url.Values, caller Principal, requestID string) {
	action := form.Get("Action")
	h, ok := ops[action]
	if !ok {
		wire.WriteQueryError(w, http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("Could not find operation %q for version %s", action, version), requestID)
		return
	}
	s.mu.Lock()
	result, err := h(s, form, caller)
	s.mu.Unlock()
	if err != nil {
		wire.WriteError(w, err, requestID)
		return
	}
	wire.WriteQueryResult(w, ns, action, result, requestID)
}

// Snapshot returns the whole IAM state as JSON, for persistence. Map keys
// are sorted by encoding/json, so equal states give equal bytes.
func (s *Service) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(&s.st)
}

// Restore replaces the state with one produced by Snapshot.
func (s *Service) Restore(b []byte) error {
	st := newState()
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("decoding IAM state: %w", err)
	}
	if err := st.parseDocuments(); err != nil {
		return fmt.Errorf("decoding IAM state: %w", err)
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	return nil
}

// adminDocument is the identity policy of the sandbox admin: everything.
var adminDocument = &policy.Document{
	Version:   "2012-10-17",
	Statement: []policy.Statement{{Effect: policy.Allow, Action: policy.StringList{"*"}, Resource: policy.StringList{"*"}}},
}

// PolicySetFor returns the identity policies (inline, then attached managed
// policies' default versions, in attachment order) and the permissions
// boundary of the role behind p. The admin gets a single allow-everything
// policy. ok is false for a principal the service does not know, such as a
// session of a deleted role.
func (s *Service) PolicySetFor(p Principal) (policy.PolicySet, bool) {
	if p.Admin {
		return policy.PolicySet{Identity: []*policy.Document{adminDocument}}, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.Roles[strings.ToLower(p.RoleName)]
	if p.RoleName == "" || r == nil {
		return policy.PolicySet{}, false
	}
	var set policy.PolicySet
	for _, src := range s.st.identitySources(r) {
		set.Identity = append(set.Identity, src.doc)
	}
	set.Boundary = s.st.boundaryOf(r)
	set.Session = p.SessionPolicies
	return set, true
}

// PrincipalARN is the value of aws:PrincipalArn for p: for an assumed-role
// session the ARN of its role, path included (IAM's condition key
// reference), otherwise p's own ARN.
func (s *Service) PrincipalARN(p Principal) string {
	if p.RoleName == "" {
		return p.ARN
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.st.Roles[strings.ToLower(p.RoleName)]; r != nil {
		return r.ARN
	}
	return p.ARN
}

// now is the service clock in UTC.
func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID returns an IAM unique ID: a type prefix (AROA, AIPA, ANPA) and 17
// random uppercase alphanumerics.
func newID(prefix string) string {
	return prefix + randomString(idAlphabet, 17)
}

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // the OS has no entropy; nothing can work
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

func randomCredentials(Principal) Credentials {
	return Credentials{
		AccessKeyID:     "ASIA" + randomString(idAlphabet, 16),
		SecretAccessKey: randomString(idAlphabet+"abcdefghijklmnopqrstuvwxyz", 40),
		SessionToken:    randomString(idAlphabet+"abcdefghijklmnopqrstuvwxyz", 64),
	}
}

// sortedKeys returns the keys of m in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
