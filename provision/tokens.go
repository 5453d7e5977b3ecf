package provision

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strconv"
	"sync"

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
	m := macFor(key)
	defer m.release()
	var u [16]byte
	head := m.tokenHead(d, s, generation, revision)
	copy(u[:12], head[:])
	mark := m.tokenMark(s.Name, head[:])
	copy(u[12:], mark[:])
	return formatUUID(u)
}

// macs holds keyed HMACs for reuse: hmac.New costs two SHA-256 states and
// the padded key, and a plan checks tens of thousands of tokens, all with
// the stage key. A pooled HMAC is used by one goroutine at a time.
var macs sync.Pool // of *keyedMAC

// keyedMAC is an HMAC-SHA-256 under key, with room to assemble its input
// and output without allocating.
type keyedMAC struct {
	key []byte
	h   hash.Hash
	in  []byte
	out [sha256.Size]byte
}

// macFor returns an HMAC under key, reset; release gives it back.
func macFor(key []byte) *keyedMAC {
	if m, _ := macs.Get().(*keyedMAC); m != nil && hmac.Equal(m.key, key) {
		m.h.Reset()
		m.in = m.in[:0]
		return m
	}
	return &keyedMAC{key: bytes.Clone(key), h: hmac.New(sha256.New, key)}
}

func (m *keyedMAC) release() { macs.Put(m) }

// field appends a length-prefixed field to the input.
func (m *keyedMAC) field(b []byte) {
	m.in = binary.BigEndian.AppendUint64(m.in, uint64(len(b)))
	m.in = append(m.in, b...)
}

// fieldPayload writes a length-prefixed payload straight into the HMAC,
// so that no pooled buffer keeps a copy, and clears b, which the caller
// revealed for it.
func (m *keyedMAC) fieldPayload(b []byte) {
	m.in = binary.BigEndian.AppendUint64(m.in, uint64(len(b)))
	m.h.Write(m.in)
	m.in = m.in[:0]
	m.h.Write(b)
	clear(b)
}

func (m *keyedMAC) fieldString(s string) {
	m.in = binary.BigEndian.AppendUint64(m.in, uint64(len(s)))
	m.in = append(m.in, s...)
}

func (m *keyedMAC) fieldInt(n int) {
	var b [20]byte
	m.field(strconv.AppendInt(b[:0], int64(n), 10))
}

// sum is the HMAC of the input assembled since the reset; the HMAC is
// reset again for the next input.
func (m *keyedMAC) sum() []byte {
	m.h.Write(m.in)
	out := m.h.Sum(m.out[:0])
	m.h.Reset()
	m.in = m.in[:0]
	return out
}

// tokenHead is the first 96 bits of a revision's token: the HMAC of the
// declaration, with the UUID's version and variant bits set.
func (m *keyedMAC) tokenHead(d *spec.Desired, s *spec.Secret, generation, revision int) [12]byte {
	m.fieldString("secretboot-version-v1")
	m.fieldString(d.Stage)
	m.fieldString(s.Name)
	m.fieldString(s.Payload.Kind.String())
	m.fieldPayload(s.Payload.Declared.Reveal())
	for _, g := range s.Payload.Generators {
		m.fieldString(g.Field)
		m.fieldInt(g.Length)
		m.fieldString(strconv.FormatBool(g.Upper) + strconv.FormatBool(g.Lower) + strconv.FormatBool(g.Numeric) + strconv.FormatBool(g.Special))
		m.fieldString(g.ExcludeCharacters)
	}
	m.fieldInt(generation)
	if revision > 0 {
		m.fieldString("revision")
		m.fieldInt(revision)
	}
	var head [12]byte
	copy(head[:], m.sum())
	head[6] = head[6]&0x0f | 0x80 // UUID version 8: custom
	head[8] = head[8]&0x3f | 0x80 // RFC 9562 variant
	return head
}

// tokenMark is the last 32 bits of a token: they authenticate its head
// for the secret's name.
func (m *keyedMAC) tokenMark(name string, head []byte) [4]byte {
	m.in = append(m.in, "secretboot-mark-v1\x00"...)
	m.in = append(m.in, name...)
	m.in = append(m.in, 0)
	m.in = append(m.in, head...)
	return [4]byte(m.sum())
}

// writtenBySecretboot reports whether a version id is a token secretboot
// computed for this secret name with this key (for any spec).
func writtenBySecretboot(key []byte, name, versionID string) bool {
	u, ok := parseUUID(versionID)
	if !ok {
		return false
	}
	m := macFor(key)
	defer m.release()
	return m.marks(name, u)
}

// marks reports whether the last 32 bits of u authenticate its head for
// the secret's name.
func (m *keyedMAC) marks(name string, u [16]byte) bool {
	mark := m.tokenMark(name, u[:12])
	return hmac.Equal(u[12:], mark[:])
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	hex.Encode(b[9:13], u[4:6])
	hex.Encode(b[14:18], u[6:8])
	hex.Encode(b[19:23], u[8:10])
	hex.Encode(b[24:36], u[10:16])
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	return string(b[:])
}

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	var h [32]byte
	n := copy(h[:], s[0:8])
	n += copy(h[n:], s[9:13])
	n += copy(h[n:], s[14:18])
	n += copy(h[n:], s[19:23])
	copy(h[n:], s[24:36])
	if _, err := hex.Decode(u[:], h[:]); err != nil {
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
	m := macFor(key)
	defer m.release()
	for _, f := range []string{"secretboot-owner-mark-v1", d.Stage, name, arn} {
		m.in = append(m.in, f...)
		m.in = append(m.in, 0)
	}
	return hex.EncodeToString(m.sum()[:16])
}

// tokenRevision reports which revision of s's declaration at generation
// gen the version id is.
func tokenRevision(key []byte, d *spec.Desired, s *spec.Secret, gen int, id string) (int, bool) {
	u, ok := parseUUID(id)
	if !ok {
		return 0, false
	}
	m := macFor(key)
	defer m.release()
	if !m.marks(s.Name, u) {
		return 0, false
	}
	// The mark authenticates the head, so the head alone tells the revision.
	for rev := range maxRevisions {
		if head := m.tokenHead(d, s, gen, rev); hmac.Equal(head[:], u[:12]) {
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
