package provision

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/secretboot/secretboot/spec"
)

// Tags that mark what secretboot owns. Roles and instance profiles are also
// owned by their path (rolePath).
const (
	TagProject    = "secretboot:project"
	TagStage      = "secretboot:stage"
	TagGeneration = "secretboot:generation" // generation counter, bumped by --regenerate
	TagStageKey   = "secretboot:stage-key"  // marks the stage key secret

	// ReadPolicyName is the inline policy secretboot puts on a managed role.
	ReadPolicyName = "secretboot-read"

	// TagExternalPrefix starts the stage key tags that record the external
	// roles holding the stage's read policy: the key is the prefix and the
	// role name, the value the role's ARN. External roles are not under the
	// stage's path, so without the record a role dropped from the spec
	// would keep its grants: nothing else leads back to it.
	TagExternalPrefix = "secretboot:external:"
)

// MaxExternalRoles is how many external roles a stage may name: a secret
// holds at most 50 tags, the stage key uses 3 for ownership, and 2 stay
// spare so that a role can be recorded before another's record goes.
const MaxExternalRoles = 45

// Role names may hold ',', which Secrets Manager tags refuse; a space is
// allowed in tags and never in role names, so it stands for ',' in both
// the key and the ARN without ambiguity.
var (
	toTag   = strings.NewReplacer(",", " ")
	fromTag = strings.NewReplacer(" ", ",")
)

// externalTag is the stage key tag recording an external role.
func externalTag(roleName, arn string) (key, value string) {
	return TagExternalPrefix + toTag.Replace(roleName), toTag.Replace(arn)
}

// recordedExternal reads the external role records from the stage key's
// tags: role name → ARN.
func recordedExternal(tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if name, ok := strings.CutPrefix(k, TagExternalPrefix); ok && name != "" {
			out[fromTag.Replace(name)] = fromTag.Replace(v)
		}
	}
	return out
}

// stageKeySuffix is appended to the stage's name prefix to name the secret
// that holds the stage key; a leading dot keeps it apart from spec labels.
const stageKeySuffix = ".secretboot/stage-key"

// StageKeyName is the name of the secret holding the stage key.
func StageKeyName(d *spec.Desired) string { return d.NamePrefix + stageKeySuffix }

// RolePath is the IAM path of every role and instance profile secretboot
// creates for a stage.
func RolePath(d *spec.Desired) string { return spec.StagePath(d.Project, d.Stage) }

// readPolicyName names secretboot's inline policy on a role. An external
// role may be shared by several stages and projects, so its policy name
// carries both.
func readPolicyName(d *spec.Desired, r *spec.Role) string {
	if r.Managed() {
		return ReadPolicyName
	}
	return externalPolicyName(d)
}

// externalPolicyName is the inline read policy on the stage's external
// roles.
func externalPolicyName(d *spec.Desired) string {
	return "secretboot-" + d.Project + "-" + d.Stage + "-read"
}

func ownerTags(d *spec.Desired) map[string]string {
	return map[string]string{TagProject: d.Project, TagStage: d.Stage}
}

func ownedBy(tags map[string]string, d *spec.Desired) bool {
	return tags[TagProject] == d.Project && tags[TagStage] == d.Stage
}

// Version tokens (DESIGN §3). A token is a UUID-shaped value whose first 96
// bits are an HMAC of what the spec declares for a secret and whose last 32
// bits authenticate the first part for that secret's name. The first part
// lets plan compare the expected token with AWSCURRENT; the mark lets plan
// tell a version secretboot wrote for an older spec ("changed in spec")
// from one somebody else wrote ("changed outside").

// versionToken computes the ClientRequestToken for the given generation of
// a secret's declared payload.
func versionToken(key []byte, d *spec.Desired, s *spec.Secret, generation int) string {
	return revisionToken(key, d, s, generation, 0)
}

// revisionToken is the token of a revision of a declaration: revision 0 is
// versionToken, and each later revision is another version holding the
// same declaration, written when the token of the previous one is taken by
// a version with other data (different generated values). The revision is
// inside what the HMAC covers, so every revision authenticates as
// secretboot's, and revision 0 keeps the tokens of older versions valid.
func revisionToken(key []byte, d *spec.Desired, s *spec.Secret, generation, revision int) string {
	m := hmac.New(sha256.New, key)
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		m.Write(n[:])
		m.Write(b)
	}
	field([]byte("secretboot-version-v1"))
	field([]byte(d.Stage))
	field([]byte(s.Name))
	field([]byte(s.Payload.Kind.String()))
	field(s.Payload.Declared.Reveal())
	for _, g := range s.Payload.Generators {
		field([]byte(g.Field))
		field([]byte(strconv.Itoa(g.Length)))
		field([]byte(strconv.FormatBool(g.Upper) + strconv.FormatBool(g.Lower) + strconv.FormatBool(g.Numeric) + strconv.FormatBool(g.Special)))
		field([]byte(g.ExcludeCharacters))
	}
	field([]byte(strconv.Itoa(generation)))
	if revision > 0 {
		field([]byte("revision"))
		field([]byte(strconv.Itoa(revision)))
	}
	var u [16]byte
	copy(u[:12], m.Sum(nil))
	u[6] = u[6]&0x0f | 0x80 // UUID version 8: custom
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	copy(u[12:], tokenMark(key, s.Name, u[:12]))
	return formatUUID(u)
}

func tokenMark(key []byte, name string, head []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("secretboot-mark-v1\x00"))
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write(head)
	return m.Sum(nil)[:4]
}

// writtenBySecretboot reports whether a version id is a token secretboot
// computed for this secret name with this key (for any spec).
func writtenBySecretboot(key []byte, name, versionID string) bool {
	u, ok := parseUUID(versionID)
	if !ok {
		return false
	}
	return hmac.Equal(u[12:], tokenMark(key, name, u[:12]))
}

func formatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, false
	}
	return u, true
}
