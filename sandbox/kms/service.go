package kms

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// Config configures a Service.
type Config struct {
	Account string           // 12-digit account of every key
	Region  string           // region of every key
	Now     func() time.Time // clock; default time.Now
	Rand    io.Reader        // randomness for key IDs, key material and data keys; default crypto/rand
}

// AuthorizeFunc decides whether the caller may perform action ("kms:Decrypt")
// on resourceARN (a key's ARN, or "*" for CreateKey and the listings), given
// the key's policy ("" when the action concerns no key) and the request's
// condition keys. It returns nil when the request is allowed; its error's
// message becomes the message of the AccessDeniedException. A nil
// AuthorizeFunc allows everything.
type AuthorizeFunc func(action, resourceARN, keyPolicy string, requestContext map[string][]string) error

// Service is the KMS emulation. One mutex serialises requests.
type Service struct {
	cfg Config

	mu      sync.Mutex
	keys    map[string]*key   // by key ID
	aliases map[string]*alias // by alias name, "alias/..."
}

// Key states, as KeyMetadata.KeyState spells them.
const (
	stateEnabled         = "Enabled"
	stateDisabled        = "Disabled"
	statePendingDeletion = "PendingDeletion"
)

type key struct {
	ID            string
	ARN           string
	Description   string `json:",omitempty"`
	Created       time.Time
	State         string
	DeletionDate  time.Time `json:",omitzero"`
	PendingWindow int       `json:",omitempty"`
	Policy        string
	Material      []byte // AES-256 key of this key's ciphertexts
}

type alias struct {
	Name    string
	Target  string // key ID
	Created time.Time
	Updated time.Time
}

// New returns an empty Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Service{cfg: cfg, keys: map[string]*key{}, aliases: map[string]*alias{}}
}

var operations = wire.Operations[*Service, AuthorizeFunc]{
	"CancelKeyDeletion":   wire.Decoded((*Service).cancelKeyDeletion),
	"CreateAlias":         wire.Decoded((*Service).createAlias),
	"CreateKey":           wire.Decoded((*Service).createKey),
	"Decrypt":             wire.Decoded((*Service).decrypt),
	"DeleteAlias":         wire.Decoded((*Service).deleteAlias),
	"DescribeKey":         wire.Decoded((*Service).describeKey),
	"DisableKey":          wire.Decoded((*Service).disableKey),
	"EnableKey":           wire.Decoded((*Service).enableKey),
	"Encrypt":             wire.Decoded((*Service).encrypt),
	"GenerateDataKey":     wire.Decoded((*Service).generateDataKey),
	"GetKeyPolicy":        wire.Decoded((*Service).getKeyPolicy),
	"ListAliases":         wire.Decoded((*Service).listAliases),
	"ListKeyPolicies":     wire.Decoded((*Service).listKeyPolicies),
	"ListKeys":            wire.Decoded((*Service).listKeys),
	"PutKeyPolicy":        wire.Decoded((*Service).putKeyPolicy),
	"ScheduleKeyDeletion": wire.Decoded((*Service).scheduleKeyDeletion),
	"UpdateAlias":         wire.Decoded((*Service).updateAlias),
}

// Operations lists the supported operation names, sorted.
func Operations() []string { return operations.Names() }

// Mutating reports whether a successful call of op changes state worth
// persisting.
func Mutating(op string) bool {
	switch op {
	case "Decrypt", "DescribeKey", "Encrypt", "GenerateDataKey", "GetKeyPolicy",
		"ListAliases", "ListKeyPolicies", "ListKeys":
		return false
	}
	_, ok := operations[op]
	return ok
}

// Serve answers one KMS request: op is the part of X-Amz-Target after
// "TrentService.", body the JSON request body.
func (s *Service) Serve(w http.ResponseWriter, op string, body []byte, authorize AuthorizeFunc, requestID string) {
	h, ok := operations[op]
	if !ok {
		WriteError(w, http.StatusBadRequest, CodeUnknownOperation, "", requestID)
		return
	}
	s.mu.Lock()
	s.purgeExpired()
	out, err := h(s, body, authorize)
	s.mu.Unlock()
	if err != nil {
		WriteError(w, err.Status, err.Code, err.Message, requestID)
		return
	}
	wire.WriteJSON(w, http.StatusOK, requestID, out)
}

// purgeExpired deletes the keys whose waiting period has ended, with their
// aliases.
func (s *Service) purgeExpired() {
	now := s.cfg.Now()
	for id, k := range s.keys {
		if k.State == statePendingDeletion && !now.Before(k.DeletionDate) {
			delete(s.keys, id)
			for name, a := range s.aliases {
				if a.Target == id {
					delete(s.aliases, name)
				}
			}
		}
	}
}

func (s *Service) arnPrefix() string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:", s.cfg.Region, s.cfg.Account)
}

var keyIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// resolve finds the key a KeyId names: a key ID, a key ARN, an alias name
// ("alias/...") or an alias ARN. aliases says whether the operation accepts
// an alias (DescribeKey, Encrypt and GenerateDataKey do; the key management
// operations do not).
func (s *Service) resolve(id *string, aliases bool) (*key, *apiError) {
	if id == nil || *id == "" {
		return nil, validation("null", "keyId", "Member must not be null")
	}
	ref := *id
	if len(ref) > 2048 {
		return nil, validation("'"+ref[:16]+"...'", "keyId", "Member must have length less than or equal to 2048")
	}
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" || !(strings.HasPrefix(parts[5], "key/") || strings.HasPrefix(parts[5], "alias/")) {
			return nil, clientErr(CodeInvalidArn, "ARN %s is not a valid KMS key or alias ARN.", ref)
		}
		if parts[3] != s.cfg.Region || parts[4] != s.cfg.Account {
			return nil, s.notFound(ref)
		}
		ref = parts[5]
	}
	if name, ok := strings.CutPrefix(ref, "alias/"); ok {
		if !aliases {
			return nil, s.notFound(*id)
		}
		a := s.aliases["alias/"+name]
		if a == nil {
			return nil, clientErr(CodeNotFound, "Alias %salias/%s is not found.", s.arnPrefix(), name)
		}
		return s.keys[a.Target], nil
	}
	ref = strings.TrimPrefix(ref, "key/")
	k := s.keys[ref]
	if k == nil {
		if !keyIDRE.MatchString(ref) {
			return nil, clientErr(CodeNotFound, "Invalid keyId %s", *id)
		}
		return nil, s.notFound(s.arnPrefix() + "key/" + ref)
	}
	return k, nil
}

func (s *Service) notFound(arn string) *apiError {
	return clientErr(CodeNotFound, "Key '%s' does not exist", arn)
}

// usable refuses a key that cannot encrypt or decrypt in its state.
func (k *key) usable() *apiError {
	switch k.State {
	case stateDisabled:
		return clientErr(CodeDisabled, "%s is disabled.", k.ARN)
	case statePendingDeletion:
		return clientErr(CodeInvalidState, "%s is pending deletion.", k.ARN)
	}
	return nil
}

// notPending refuses a key management operation on a key pending deletion.
func (k *key) notPending() *apiError {
	if k.State == statePendingDeletion {
		return clientErr(CodeInvalidState, "%s is pending deletion.", k.ARN)
	}
	return nil
}

// authorize asks az about action on k, under k's key policy.
func authorize(az AuthorizeFunc, action string, k *key, request map[string][]string) *apiError {
	if az == nil {
		return nil
	}
	arn, pol := "*", ""
	if k != nil {
		arn, pol = k.ARN, k.Policy
	}
	ctx := map[string][]string{}
	for name, v := range request {
		ctx[name] = v
	}
	if err := az("kms:"+action, arn, pol, ctx); err != nil {
		return clientErr(CodeAccessDenied, "%s", err.Error())
	}
	return nil
}

// ErrDenied is what UseVia's error wraps when the caller may not use the
// key; any other error means the key is not usable (missing, disabled or
// pending deletion).
var ErrDenied = errors.New("kms: access denied")

// UseVia performs op ("GenerateDataKey", "Encrypt" or "Decrypt") with the
// key keyID for a caller of service (e.g. "secretsmanager.us-east-1.amazonaws.com"),
// under encryptionContext, as an AWS service does on the caller's behalf:
// the caller must be allowed op with kms:ViaService and
// kms:EncryptionContext:<key> set. It returns the key's ARN.
func (s *Service) UseVia(service, op, keyID string, encryptionContext map[string]string, az AuthorizeFunc) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purgeExpired()
	k, err := s.resolve(&keyID, true)
	if err != nil {
		return "", err
	}
	ctx := contextKeys(encryptionContext)
	ctx["kms:ViaService"] = []string{service}
	if err := authorize(az, op, k, ctx); err != nil {
		return "", fmt.Errorf("%w: %s", ErrDenied, err.Message)
	}
	if err := k.usable(); err != nil {
		return "", err
	}
	return k.ARN, nil
}

// contextKeys are the condition keys of an encryption context:
// kms:EncryptionContext:<key> for each pair and kms:EncryptionContextKeys.
func contextKeys(ec map[string]string) map[string][]string {
	ctx := map[string][]string{}
	var names []string
	for k, v := range ec {
		ctx["kms:EncryptionContext:"+k] = []string{v}
		names = append(names, k)
	}
	if len(names) > 0 {
		sort.Strings(names)
		ctx["kms:EncryptionContextKeys"] = names
	}
	return ctx
}

// Seed creates keys with the given IDs or ARNs (of this Service's account
// and region) and the default key policy, unless they exist: the way a test
// or a demo gets a key whose ARN a spec already names, since CreateKey
// chooses the ID itself. It reports whether it created any.
func (s *Service) Seed(refs []string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	created := false
	for _, ref := range refs {
		id := ref
		if strings.HasPrefix(ref, "arn:") {
			var ok bool
			if id, ok = strings.CutPrefix(ref, s.arnPrefix()+"key/"); !ok {
				return created, fmt.Errorf("kms: cannot seed %s: not a key ARN of account %s in %s", ref, s.cfg.Account, s.cfg.Region)
			}
		}
		if !keyIDRE.MatchString(id) {
			return created, fmt.Errorf("kms: cannot seed %q: a key ID is a lower-case UUID", ref)
		}
		if s.keys[id] != nil {
			continue
		}
		if _, err := s.newKey(id, "", "sandbox seed key"); err != nil {
			return created, errors.New(err.Message)
		}
		created = true
	}
	return created, nil
}

// newKey stores a new enabled key; id "" draws one.
func (s *Service) newKey(id, pol, description string) (*key, *apiError) {
	var err *apiError
	if id == "" {
		if id, err = s.newKeyID(); err != nil {
			return nil, err
		}
	}
	material := make([]byte, 32)
	if _, err := io.ReadFull(s.cfg.Rand, material); err != nil {
		return nil, errInternal()
	}
	if pol == "" {
		pol = s.defaultPolicy()
	}
	k := &key{ID: id, ARN: s.arnPrefix() + "key/" + id, Description: description, Created: s.cfg.Now(),
		State: stateEnabled, Policy: pol, Material: material}
	s.keys[id] = k
	return k, nil
}

// defaultPolicy is the key policy CreateKey gives a key when the request has
// none: the account may use the key through IAM policies ("Enable IAM User
// Permissions", AWS KMS developer guide, "Default key policy").
func (s *Service) defaultPolicy() string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + s.cfg.Account + `:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}

func errInternal() *apiError {
	return wire.NewError(http.StatusInternalServerError, CodeInternal, "An internal error occurred.")
}

// newKeyID returns a UUIDv4, the shape of KMS key IDs.
func (s *Service) newKeyID() (string, *apiError) {
	var b [16]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "", errInternal()
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

type snapshot struct {
	Keys    []*key
	Aliases []*alias
}

// Snapshot returns the whole state as JSON, key material included: it is
// meant for the sandbox's state file and nothing else.
func (s *Service) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snap snapshot
	for _, k := range s.keys {
		snap.Keys = append(snap.Keys, k)
	}
	for _, a := range s.aliases {
		snap.Aliases = append(snap.Aliases, a)
	}
	sort.Slice(snap.Keys, func(i, j int) bool { return snap.Keys[i].ID < snap.Keys[j].ID })
	sort.Slice(snap.Aliases, func(i, j int) bool { return snap.Aliases[i].Name < snap.Aliases[j].Name })
	return json.Marshal(snap)
}

// Restore replaces the state with a Snapshot.
func (s *Service) Restore(b []byte) error {
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("decoding kms state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys, s.aliases = map[string]*key{}, map[string]*alias{}
	for _, k := range snap.Keys {
		if k == nil || k.ID == "" || len(k.Material) != 32 {
			return errors.New("decoding kms state: a key without ID or material")
		}
		s.keys[k.ID] = k
	}
	for _, a := range snap.Aliases {
		if a == nil || s.keys[a.Target] == nil {
			return errors.New("decoding kms state: an alias of an unknown key")
		}
		s.aliases[a.Name] = a
	}
	return nil
}
