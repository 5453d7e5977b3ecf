package provision

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/secretboot/secretboot/spec"
)

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
