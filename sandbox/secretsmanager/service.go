package secretsmanager

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// Config configures a Service.
type Config struct {
	Account string // 12-digit account of every ARN
	Region  string // the home region: where New's Service serves
	// Regions are the regions served besides Region, each by a Service of
	// its own (Service.Region) that shares the home Service's lock, so
	// that replication (replication.go) changes several regions at once.
	Regions []string
	Now     func() time.Time // clock; default time.Now
	Rand    io.Reader        // randomness for ARN suffixes, version IDs and passwords; default crypto/rand

	// ForceDeleteLag is how long a secret deleted with
	// ForceDeleteWithoutRecovery keeps its name: AWS deletes it
	// asynchronously, and a CreateSecret of the name in the meantime is
	// InvalidRequestException ("already scheduled for deletion"). 0 deletes
	// at once.
	ForceDeleteLag time.Duration
}

// AuthorizeFunc decides whether the caller may perform action
// ("secretsmanager:GetSecretValue") on resourceARN ("*" for actions without a
// resource type), given the secret's resource policy ("" when it has none)
// and the request's service condition keys (requestContext). It returns nil
// when the request is allowed; its error's message becomes the message of
// the AccessDeniedException. A nil AuthorizeFunc allows everything.
type AuthorizeFunc func(action, resourceARN, resourcePolicy string, requestContext map[string][]string) error

// KeyFunc has KMS of region perform op ("GenerateDataKey" or "Decrypt")
// with the customer managed key keyID (as the secret names it: key ID, key
// ARN, alias or alias ARN) for the caller, through Secrets Manager of that
// region, under the
// encryption context {"SecretARN": …, "SecretVersionId": …}. It returns nil,
// an error wrapping ErrKeyDenied when KMS does not allow the caller, or
// another error when the key cannot be used (missing, disabled, pending
// deletion). A nil KeyFunc treats every key as usable.
type KeyFunc func(region, op, keyID string, encryptionContext map[string]string) error

// ErrKeyDenied is what a KeyFunc's error wraps when the caller may not use
// the key.
var ErrKeyDenied = errors.New("access to the KMS key is not allowed")

// Service is the Secrets Manager emulation of one region. It is safe for
// concurrent use: one mutex, shared by the Services of all regions,
// serialises requests, which keeps every operation atomic, replication
// included.
type Service struct {
	cfg Config // cfg.Region is this Service's region
	*shared

	byName    map[string]*secret // live and scheduled-for-deletion secrets
	byARN     map[string]*secret
	nextPurge time.Time // no deletion window ends before this; zero when none is open
	// nextRotation: no test rotation (testrotator.go) comes due before
	// this; zero when none is scheduled.
	nextRotation time.Time

	// The listing lag (lag.go); history and touched are nil while it is off.
	lag     time.Duration
	history map[string][]listed // by ARN
	touched map[string]bool     // ARNs the current request may have changed
}

// shared is the state of all regions' Services.
type shared struct {
	mu sync.Mutex
	// useKey is the current request's KeyFunc. It is set and cleared under
	// mu by Serve, like the rest of the request's state, so that the
	// operations need not pass it along.
	useKey  KeyFunc
	regions map[string]*Service // every served region, the home one included
	home    *Service
	// unsynced holds the primaries with replicas that the current request
	// may have changed; replicate copies them to their replicas.
	unsynced map[*secret]bool
}

// New returns an empty Service for cfg.Region, and one for each of
// cfg.Regions, reached through Region.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	sh := &shared{regions: map[string]*Service{}, unsynced: map[*secret]bool{}}
	// addRegion copies the home Service's configuration: a stand-in
	// serves until the home region's own Service exists.
	sh.home = &Service{cfg: cfg, shared: sh}
	for _, r := range append([]string{cfg.Region}, cfg.Regions...) {
		sh.home.addRegion(r)
	}
	sh.home = sh.regions[cfg.Region]
	return sh.home
}

// AddRegion starts serving a region, unless it is served already.
func (s *Service) AddRegion(region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addRegion(region)
}

func (s *Service) addRegion(region string) {
	if s.regions[region] != nil {
		return
	}
	c := s.home.cfg
	c.Region, c.Regions = region, nil
	r := &Service{cfg: c, shared: s.shared, byName: map[string]*secret{}, byARN: map[string]*secret{}}
	if s.home.lag > 0 {
		r.setListingLag(s.home.lag)
	}
	s.regions[region] = r
}

// Region returns the Service of a served region, or nil.
func (s *Service) Region(region string) *Service { return s.regions[region] }

// Regions lists the served regions, sorted.
func (s *Service) Regions() []string {
	out := make([]string, 0, len(s.regions))
	for r := range s.regions {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// each calls f for every region's Service, in the order of Regions.
func (s *Service) each(f func(*Service)) {
	for _, r := range s.Regions() {
		f(s.regions[r])
	}
}

var operations = wire.Operations[*Service, AuthorizeFunc]{
	"BatchGetSecretValue":          wire.Decoded((*Service).batchGetSecretValue),
	"CancelRotateSecret":           wire.Decoded((*Service).cancelRotateSecret),
	"CreateSecret":                 wire.Decoded((*Service).createSecret),
	"DeleteResourcePolicy":         wire.Decoded((*Service).deleteResourcePolicy),
	"DeleteSecret":                 wire.Decoded((*Service).deleteSecret),
	"DescribeSecret":               wire.Decoded((*Service).describeSecret),
	"GetRandomPassword":            wire.Decoded((*Service).getRandomPassword),
	"GetResourcePolicy":            wire.Decoded((*Service).getResourcePolicy),
	"GetSecretValue":               wire.Decoded((*Service).getSecretValue),
	"ListSecretVersionIds":         wire.Decoded((*Service).listSecretVersionIds),
	"ListSecrets":                  wire.Decoded((*Service).listSecrets),
	"PutResourcePolicy":            wire.Decoded((*Service).putResourcePolicy),
	"PutSecretValue":               wire.Decoded((*Service).putSecretValue),
	"RemoveRegionsFromReplication": wire.Decoded((*Service).removeRegionsFromReplication),
	"ReplicateSecretToRegions":     wire.Decoded((*Service).replicateSecretToRegions),
	"RestoreSecret":                wire.Decoded((*Service).restoreSecret),
	"RotateSecret":                 wire.Decoded((*Service).rotateSecret),
	"StopReplicationToReplica":     wire.Decoded((*Service).stopReplicationToReplica),
	"TagResource":                  wire.Decoded((*Service).tagResource),
	"UntagResource":                wire.Decoded((*Service).untagResource),
	"UpdateSecret":                 wire.Decoded((*Service).updateSecret),
	"UpdateSecretVersionStage":     wire.Decoded((*Service).updateSecretVersionStage),
	"ValidateResourcePolicy":       wire.Decoded((*Service).validateResourcePolicy),
}

// Operations lists the supported operation names, sorted.
func Operations() []string { return operations.Names() }

// Mutating reports whether a successful call of op changes state that is
// worth persisting. Reads only refresh LastAccessedDate, which is kept in
// memory and written with the next change.
func Mutating(op string) bool {
	switch op {
	case "BatchGetSecretValue", "DescribeSecret", "GetRandomPassword", "GetResourcePolicy",
		"GetSecretValue", "ListSecretVersionIds", "ListSecrets", "ValidateResourcePolicy":
		return false
	}
	_, ok := operations[op]
	return ok
}

// Serve answers one Secrets Manager request: op is the part of X-Amz-Target
// after "secretsmanager.", body the JSON request body. authorize and useKey
// act for the caller (nil allows everything). The response carries
// requestID in X-Amzn-Requestid.
func (s *Service) Serve(w http.ResponseWriter, op string, body []byte, authorize AuthorizeFunc, useKey KeyFunc, requestID string) {
	h, ok := operations[op]
	if !ok {
		WriteError(w, http.StatusBadRequest, CodeUnknownOperation, "Unknown operation "+op+".", requestID)
		return
	}
	s.mu.Lock()
	s.housekeep()
	// Replication (replicate) uses the caller's KeyFunc only to see
	// whether a replica's key can be used at all.
	s.useKey = useKey
	out, err := h(s, body, authorize)
	// A refused request changed nothing (operations check everything
	// before they change anything), so it replicates nothing either: a
	// replica whose key has become unusable fails at the next real
	// change, not at a refused one.
	if Mutating(op) && err == nil {
		s.replicate()
		s.each((*Service).record)
	} else {
		s.each(func(r *Service) { clear(r.touched) })
		clear(s.unsynced)
	}
	s.useKey = nil
	s.mu.Unlock()
	if err != nil {
		WriteError(w, err.Status, err.Code, err.Message, requestID)
		return
	}
	wire.WriteJSON(w, http.StatusOK, requestID, out)
}

// housekeep does in every region what time has made due: purging ended
// deletion windows and running due test rotations, whose new versions it
// replicates.
func (s *Service) housekeep() {
	s.each(func(r *Service) {
		r.purgeExpired()
		r.rotateDue()
	})
	s.replicate()
	s.each((*Service).record)
}

// purgeExpired removes secrets whose recovery window has ended. It scans
// only when a window may have ended, so that a large state does not cost a
// scan per request.
func (s *Service) purgeExpired() {
	now := s.cfg.Now()
	if s.nextPurge.IsZero() || now.Before(s.nextPurge) {
		return
	}
	s.nextPurge = time.Time{}
	for _, sec := range s.byName {
		switch {
		case !sec.scheduled():
		case !now.Before(sec.DeletionDate):
			s.remove(sec)
		default:
			s.schedulePurge(sec.DeletionDate)
		}
	}
}

// schedulePurge notes that a deletion window ends at t.
func (s *Service) schedulePurge(t time.Time) {
	if s.nextPurge.IsZero() || t.Before(s.nextPurge) {
		s.nextPurge = t
	}
}

func (s *Service) remove(sec *secret) {
	s.touch(sec)
	delete(s.byName, sec.Name)
	delete(s.byARN, sec.ARN)
}

func (s *Service) add(sec *secret) {
	s.touch(sec)
	s.byName[sec.Name] = sec
	s.byARN[sec.ARN] = sec
}

func (s *Service) arnPrefix() string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:", s.cfg.Region, s.cfg.Account)
}

// lookup resolves a SecretId: a full ARN, a partial ARN (without the random
// suffix) or a name.
func (s *Service) lookup(id string) *secret {
	if sec, ok := s.byARN[id]; ok {
		return sec
	}
	if name, ok := strings.CutPrefix(id, s.arnPrefix()); ok {
		if sec, ok := s.byName[name]; ok {
			return sec
		}
		return nil
	}
	return s.byName[id]
}

// target resolves SecretId and authorizes action on it. An unknown secret is
// authorized against the ARN the caller named, so a caller without access
// learns nothing about which secrets exist: it gets AccessDenied either way.
//
// The request context holds the secret's tags as aws:ResourceTag/<key> and
// secretsmanager:ResourceTag/<key>, and whatever request keys the operation
// adds (requestTags, tagKeys).
func (s *Service) target(id *string, action string, az AuthorizeFunc, request ...map[string][]string) (*secret, *apiError) {
	if id == nil || *id == "" {
		return nil, invalidParam("You must provide a value for the SecretId parameter.")
	}
	if err := validateSecretID(*id); err != nil {
		return nil, err
	}
	sec := s.lookup(*id)
	arn, pol := *id, ""
	var tags []tag
	if sec != nil {
		arn, pol, tags = sec.ARN, sec.ResourcePolicy, sec.Tags
	} else if !strings.HasPrefix(arn, "arn:") {
		arn = s.arnPrefix() + arn
	}
	if err := authorize(az, action, arn, pol, append(request, resourceTags(tags))...); err != nil {
		return nil, err
	}
	if sec == nil {
		return nil, errSecretNotFound()
	}
	if sec.PrimaryRegion != "" && !replicaAllows(action) {
		return nil, errOnReplica()
	}
	s.touch(sec)
	return sec, nil
}

// validateSecretID rejects a SecretId that is neither an ARN nor a possible
// name before any lookup: AWS answers ValidationException on every
// operation, not ResourceNotFoundException.
func validateSecretID(id string) *apiError {
	if strings.HasPrefix(id, "arn:") || nameRE.MatchString(id) {
		return nil
	}
	return errInvalidName()
}

func authorize(az AuthorizeFunc, action, arn, pol string, request ...map[string][]string) *apiError {
	if az == nil {
		return nil
	}
	ctx := map[string][]string{}
	for _, r := range request {
		for k, v := range r {
			ctx[k] = v
		}
	}
	if err := az("secretsmanager:"+action, arn, pol, ctx); err != nil {
		return clientErr(CodeAccessDenied, "%s", err.Error())
	}
	return nil
}

type snapshot struct {
	Secrets []*secret
}

// Snapshot returns the whole state of every region as JSON, payloads
// included: it is meant for the sandbox's state file and nothing else.
func (s *Service) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snap snapshot
	s.each(func(r *Service) {
		for _, sec := range r.byARN {
			snap.Secrets = append(snap.Secrets, sec)
		}
	})
	sort.Slice(snap.Secrets, func(i, j int) bool { return snap.Secrets[i].ARN < snap.Secrets[j].ARN })
	return json.Marshal(snap)
}

// Restore replaces the state of every region with a Snapshot. Each secret
// goes to the region of its ARN, which is served from then on if it was
// not: a state keeps its regions.
func (s *Service) Restore(b []byte) error {
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("decoding secrets manager state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.each(func(r *Service) {
		r.byName, r.byARN, r.nextPurge, r.nextRotation = map[string]*secret{}, map[string]*secret{}, time.Time{}, time.Time{}
	})
	for _, sec := range snap.Secrets {
		if sec == nil || sec.Name == "" || sec.ARN == "" {
			return fmt.Errorf("decoding secrets manager state: a secret without name or ARN")
		}
		region := arnRegion(sec.ARN)
		if region == "" {
			return fmt.Errorf("decoding secrets manager state: secret %s has no region in its ARN %s", sec.Name, sec.ARN)
		}
		s.addRegion(region)
		r := s.regions[region]
		r.add(sec)
		if sec.scheduled() {
			r.schedulePurge(sec.DeletionDate)
		}
		if r.rotatesItself(sec) {
			r.scheduleRotation(sec.Rotation.next())
		}
	}
	s.each(func(r *Service) {
		if r.lag > 0 {
			r.seedHistory() // a restored state counts as caught up
		}
	})
	return nil
}

// arnRegion is the region part of an ARN, "" when it is not one.
func arnRegion(arn string) string {
	if f := strings.SplitN(arn, ":", 5); len(f) == 5 && f[0] == "arn" {
		return f[3]
	}
	return ""
}

// randomString draws n characters of alphabet uniformly from cfg.Rand.
func (s *Service) randomString(n int, alphabet string) (string, *apiError) {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	buf := make([]byte, 64)
	for len(out) < n {
		if _, err := io.ReadFull(s.cfg.Rand, buf); err != nil {
			return "", wire.NewError(http.StatusInternalServerError, CodeInternalServiceError, "An error occurred on the server side.")
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// newVersionID returns a UUIDv4, the shape the SDKs use for ClientRequestToken.
func (s *Service) newVersionID() (string, *apiError) {
	var b [16]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "", wire.NewError(http.StatusInternalServerError, CodeInternalServiceError, "An error occurred on the server side.")
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// resourceTags are the condition keys of a secret's tags. Secrets Manager
// sets both the global aws:ResourceTag/<key> and its own
// secretsmanager:ResourceTag/<key>.
func resourceTags(tags []tag) map[string][]string {
	ctx := map[string][]string{}
	for _, t := range tags {
		ctx["aws:ResourceTag/"+t.Key] = []string{t.Value}
		ctx["secretsmanager:ResourceTag/"+t.Key] = []string{t.Value}
	}
	return ctx
}

// requestTags are the condition keys of the tags a request sets:
// aws:RequestTag/<key> for each and aws:TagKeys for the set of keys.
func requestTags(tags []tag) map[string][]string {
	ctx := map[string][]string{}
	var keys []string
	for _, t := range tags {
		ctx["aws:RequestTag/"+t.Key] = []string{t.Value}
		keys = append(keys, t.Key)
	}
	if len(keys) > 0 {
		ctx["aws:TagKeys"] = keys
	}
	return ctx
}

// managedKey reports whether a KmsKeyId names the AWS managed key
// aws/secretsmanager, which every caller of the account may use through
// Secrets Manager: no KmsKeyId, its alias or its alias ARN.
func managedKey(id string) bool {
	return id == "" || id == "alias/aws/secretsmanager" || strings.HasSuffix(id, ":alias/aws/secretsmanager")
}

// reencrypt re-encrypts versions under the secret's new key, as Secrets
// Manager does for AWSCURRENT, AWSPENDING and AWSPREVIOUS when UpdateSecret
// changes the key, keeping them decryptable under their old key too. A
// version the caller cannot decrypt, or the new key cannot encrypt, is left
// as it was, without an error ("Change the encryption key for an AWS
// Secrets Manager secret", Secrets Manager user guide).
func (s *Service) reencrypt(sec *secret) {
	for _, v := range sec.Versions {
		labelled := slices.ContainsFunc(v.Stages, func(st string) bool {
			return st == stageCurrent || st == stagePending || st == stagePrevious
		})
		// A version written under the new key (by this very update) or
		// moving between spellings of the managed key needs nothing.
		if !labelled || v.KmsKeyID == sec.KmsKeyID || managedKey(v.KmsKeyID) && managedKey(sec.KmsKeyID) {
			continue
		}
		if s.withKey(v.KmsKeyID, sec.ARN, v.ID, "Decrypt") == nil &&
			s.withKey(sec.KmsKeyID, sec.ARN, v.ID, "GenerateDataKey") == nil {
			v.ReencryptedTo = sec.KmsKeyID
			if managedKey(v.ReencryptedTo) {
				v.ReencryptedTo = "alias/aws/secretsmanager"
			}
		}
	}
}

// decrypt checks that the caller may decrypt a version: under the key it
// was written with or, once re-encrypted, under the later key.
func (s *Service) decrypt(sec *secret, v *version) *apiError {
	err := s.withKey(v.KmsKeyID, sec.ARN, v.ID, "Decrypt")
	if err != nil && v.ReencryptedTo != "" && s.withKey(v.ReencryptedTo, sec.ARN, v.ID, "Decrypt") == nil {
		return nil
	}
	return err
}

// withKey has KMS do op with a version's key for the current caller, as
// Secrets Manager does to encrypt (GenerateDataKey, then Decrypt to check
// the data key) or decrypt a version. KMS's refusal is
// AccessDeniedException "Access to KMS is not allowed" (AWS's message,
// re:Post "Troubleshoot Secrets Manager KMS key errors"); an unusable key
// is EncryptionFailure or DecryptionFailure.
func (s *Service) withKey(keyID, secretARN, versionID string, ops ...string) *apiError {
	if s.useKey == nil || managedKey(keyID) {
		return nil
	}
	ec := map[string]string{"SecretARN": secretARN, "SecretVersionId": versionID}
	for _, op := range ops {
		err := s.useKey(s.cfg.Region, op, keyID, ec)
		switch {
		case err == nil:
			continue
		case errors.Is(err, ErrKeyDenied):
			return clientErr(CodeAccessDenied, "Access to KMS is not allowed")
		case op == "Decrypt" && len(ops) == 1:
			return clientErr(CodeDecryptionFailure, "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
		}
		return clientErr(CodeEncryptionFailure, "Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that the KMS key is available, enabled, and not in an invalid state.")
	}
	return nil
}
