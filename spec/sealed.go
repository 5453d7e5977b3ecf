package spec

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
)

// redacted is what every printing or encoding path of a Sealed value yields.
const redacted = "(sensitive)"

// errSealed is returned by the encoders that must not produce output for a
// Sealed value: an accidental json.Marshal of a struct that embeds a payload
// fails loudly instead of writing "(sensitive)" into a file someone trusts.
var errSealed = errors.New("a sealed payload cannot be serialised")

// Sealed carries payload bytes. It cannot be printed, marshalled or compared
// by accident: every formatting verb prints "(sensitive)", JSON, text, XML
// and gob encoding fail, and the bytes live only inside a closure, which no
// reflection-based printer (%#v of a containing struct, go-cmp's diff
// reporter, spew, a debugger-style dump) can look into. Reveal is the one way
// to the bytes; only the code that builds a Secrets Manager request (and the
// token hash) calls it.
//
// The zero value is an empty payload.
type Sealed struct {
	bytes func() []byte
}

// Seal takes ownership of a copy of b.
func Seal(b []byte) Sealed {
	kept := append([]byte(nil), b...)
	return Sealed{bytes: func() []byte { return kept }}
}

// SealString seals a string.
func SealString(s string) Sealed { return Seal([]byte(s)) }

// Reveal returns a copy of the payload bytes. Call it only to put the bytes
// into a Secrets Manager request or into a keyed hash.
func (s Sealed) Reveal() []byte {
	if s.bytes == nil {
		return nil
	}
	return append([]byte(nil), s.bytes()...)
}

// Len is the payload size in bytes; sizes are not sensitive.
func (s Sealed) Len() int {
	if s.bytes == nil {
		return 0
	}
	return len(s.bytes())
}

// IsEmpty reports whether the payload holds no bytes.
func (s Sealed) IsEmpty() bool { return s.Len() == 0 }

// Equal compares two payloads in constant time.
func (s Sealed) Equal(o Sealed) bool {
	a, b := s.Reveal(), o.Reveal()
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}

// Digest is SHA-256 over the payload, for keyed-hash inputs. It is never shown
// to users: a digest of a short payload can be brute-forced.
func (s Sealed) Digest() [32]byte { return sha256.Sum256(s.Reveal()) }

// String implements fmt.Stringer.
func (s Sealed) String() string { return redacted }

// GoString implements fmt.GoStringer, for %#v.
func (s Sealed) GoString() string { return redacted }

// Format implements fmt.Formatter so that every verb (%x, %q, %d, …) prints
// the redacted marker and never the bytes.
func (s Sealed) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON refuses: payloads never go into JSON output.
func (s Sealed) MarshalJSON() ([]byte, error) { return nil, errSealed }

// MarshalText refuses: payloads never go into text encodings.
func (s Sealed) MarshalText() ([]byte, error) { return nil, errSealed }

// MarshalBinary refuses, which also stops encoding/gob.
func (s Sealed) MarshalBinary() ([]byte, error) { return nil, errSealed }

// GobEncode refuses.
func (s Sealed) GobEncode() ([]byte, error) { return nil, errSealed }
