package provision

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/secretboot/secretboot/spec"
)

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

// Version history (DESIGN §3). Plan compares the expected version token
// with AWSCURRENT, which ListSecrets reports for free. When they differ,
// the declared version may still exist: labelled (AWSPREVIOUS, after one
// write) or deprecated (no label, after two), and Secrets Manager ignores
// a PutSecretValue that repeats its token and data, so writing it again
// would leave AWSCURRENT where it is. Observation therefore reads the
// whole history of the secrets whose labelled versions leave the question
// open, and the plan moves AWSCURRENT back instead of writing.

// maxRevisions bounds the revisions of one declaration that secretboot
// writes and recognises (revisionToken).
const maxRevisions = 16

// TagMark proves that a secret is the stage's where no version does: its
// value is an HMAC under the stage key of the stage, the secret's name and
// its ARN, which nobody without the key can make. `secretboot import`
// writes it on the secrets it adopts, and apply on secrets whose value a
// rotator keeps: after enough rotations Secrets Manager prunes the last
// version secretboot wrote.
const TagMark = "secretboot:mark"

// ownerMark is the value of TagMark for a secret. Its domain string
// keeps it apart from the token marks made with the same key.
func ownerMark(key []byte, d *spec.Desired, name, arn string) string {
	m := hmac.New(sha256.New, key)
	for _, f := range []string{"secretboot-owner-mark-v1", d.Stage, name, arn} {
		m.Write([]byte(f))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// tokenRevision reports which revision of s's declaration at generation
// gen the version id is.
func tokenRevision(key []byte, d *spec.Desired, s *spec.Secret, gen int, id string) (int, bool) {
	if !writtenBySecretboot(key, s.Name, id) {
		return 0, false
	}
	for rev := range maxRevisions {
		if revisionToken(key, d, s, gen, rev) == id {
			return rev, true
		}
	}
	return 0, false
}

// declaredVersions is what the known versions of a secret say about its
// declaration.
type declaredVersions struct {
	current bool   // AWSCURRENT holds a revision of the declaration
	target  string // the version to move AWSCURRENT to: the newest revision, labelled ones first; "" when none is known
	next    int    // the revision a new write uses: one past the newest known
}

// findDeclared looks for the revisions of s's declaration at generation
// gen among the labelled versions and, when it was read, the history.
func findDeclared(key []byte, d *spec.Desired, s *spec.Secret, gen int, os *ObservedSecret) declaredVersions {
	var dv declaredVersions
	best, bestLabelled, newest := -1, false, -1
	consider := func(id string, labelled bool) {
		rev, ok := tokenRevision(key, d, s, gen, id)
		if !ok {
			return
		}
		dv.current = dv.current || id == os.Current
		newest = max(newest, rev)
		if labelled && (!bestLabelled || rev > best) || !labelled && !bestLabelled && rev > best {
			best, bestLabelled, dv.target = rev, labelled, id
		}
	}
	for id := range os.Versions {
		consider(id, true)
	}
	for id := range os.History {
		if os.Versions[id] == nil {
			consider(id, false)
		}
	}
	dv.next = newest + 1
	return dv
}

// proven reports whether a secret carrying the stage's tags is the
// stage's: one of its known versions was written by secretboot for its
// name with the stage key, or it carries its mark (TagMark). Anyone may tag a secret;
// nobody without the stage key can make a token or mark that
// authenticates. Without the key nothing can be proven: see
// (*differ).owns.
func proven(key []byte, d *spec.Desired, os *ObservedSecret) bool {
	if v := os.Tags[TagMark]; v != "" && hmac.Equal([]byte(v), []byte(ownerMark(key, d, os.Name, os.ARN))) {
		return true
	}
	for id := range os.Versions {
		if writtenBySecretboot(key, os.Name, id) {
			return true
		}
	}
	for id := range os.History {
		if writtenBySecretboot(key, os.Name, id) {
			return true
		}
	}
	return false
}
