package spec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Character classes of generated values. special is the punctuation set of
// Secrets Manager's GetRandomPassword, so generated values look like the
// ones AWS would make.
const (
	upperChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerChars   = "abcdefghijklmnopqrstuvwxyz"
	numericChars = "0123456789"
	specialChars = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// classes returns the enabled character classes with the excluded
// characters removed; classes left empty are dropped.
func (g Generator) classes() []string {
	var out []string
	for _, c := range []struct {
		on    bool
		chars string
	}{{g.Upper, upperChars}, {g.Lower, lowerChars}, {g.Numeric, numericChars}, {g.Special, specialChars}} {
		if !c.on {
			continue
		}
		kept := strings.Map(func(r rune) rune {
			if strings.ContainsRune(g.ExcludeCharacters, r) {
				return -1
			}
			return r
		}, c.chars)
		if kept != "" {
			out = append(out, kept)
		}
	}
	return out
}

// charset is the union of the classes: every character a value may hold.
func (g Generator) charset() string { return strings.Join(g.classes(), "") }

// maxEncodedRuneLen is the most bytes one generated character takes inside
// a JSON string: '"' and '\' are escaped.
func (g Generator) maxEncodedRuneLen() int {
	if strings.ContainsAny(g.charset(), "\"\\") {
		return 2
	}
	return 1
}

// Generate draws a new value from r, which must be a cryptographic source
// such as crypto/rand.Reader. Every character is uniform over the allowed
// charset (rejection sampling, no modulo bias). When the length allows,
// the value holds at least one character of each enabled class: one
// character of each class is drawn first, the rest from the whole charset,
// and a uniform shuffle hides where the forced characters are.
func (g Generator) Generate(r io.Reader) (Sealed, error) {
	classes := g.classes()
	charset := strings.Join(classes, "")
	if charset == "" {
		return Sealed{}, errors.New("generate: no characters left after exclusions")
	}
	if g.Length < 1 || g.Length > maxGeneratorLength {
		return Sealed{}, fmt.Errorf("generate: length %d is outside 1–%d", g.Length, maxGeneratorLength)
	}
	src := &randSource{r: r}
	buf := make([]byte, g.Length)
	i := 0
	if g.Length >= len(classes) {
		for _, c := range classes {
			n, err := src.intn(len(c))
			if err != nil {
				return Sealed{}, err
			}
			buf[i] = c[n]
			i++
		}
	}
	for ; i < len(buf); i++ {
		n, err := src.intn(len(charset))
		if err != nil {
			return Sealed{}, err
		}
		buf[i] = charset[n]
	}
	for j := len(buf) - 1; j > 0; j-- { // Fisher–Yates
		k, err := src.intn(j + 1)
		if err != nil {
			return Sealed{}, err
		}
		buf[j], buf[k] = buf[k], buf[j]
	}
	s := Seal(buf)
	clear(buf)
	return s, nil
}

// randSource turns a byte stream into uniform integers.
type randSource struct {
	r   io.Reader
	buf [4]byte
}

// intn returns a uniform integer in [0, n) by rejecting the top of the
// 32-bit range that would bias a modulo.
func (s *randSource) intn(n int) (int, error) {
	limit := uint64(1<<32) - uint64(1<<32)%uint64(n)
	for {
		if _, err := io.ReadFull(s.r, s.buf[:]); err != nil {
			return 0, fmt.Errorf("generate: reading randomness: %w", err)
		}
		v := uint64(binary.BigEndian.Uint32(s.buf[:]))
		if v < limit {
			return int(v % uint64(n)), nil
		}
	}
}
