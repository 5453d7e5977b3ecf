package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/maphash"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/secretboot/secretboot/internal/escape"
)

// MinLength is the shortest secret that is masked. Shorter values occur in
// ordinary text by chance ("admin", "8080", "true") and masking them would
// mangle output without protecting much; validate warns about payloads this
// short (spec.MinMaskedLength mirrors it).
const MinLength = 8

// Replacement is what a masked occurrence becomes.
const Replacement = "(masked)"

// filterBits sizes the bit filter over pattern prefixes: 2^20 bits (128 KiB)
// keep the false-positive rate near 10% with 100,000 patterns, so most
// positions of a scan cost one multiply and one bit test.
const filterBits = 20

// Masker replaces registered secrets in bytes. It is safe for concurrent
// use; the zero value is not usable, call New.
//
// It keeps no copy of a secret or of its forms, only their hashes: a stage
// of 10,000 payloads registers about 250,000 forms, which as strings held
// more memory than the evaluated spec. An occurrence in output always
// hashes like the form it is, so none is missed; two different byte strings
// with one 64-bit hash would only mask text that is not a secret.
type Masker struct {
	mu sync.RWMutex
	// seed hashes forms; seed and seenSeed together give a secret a
	// 128-bit identity, so that no secret is ever skipped as one seen
	// before.
	seed, seenSeed maphash.Seed
	// lengths maps the first MinLength bytes of each form (little-endian)
	// to the lengths of the forms with that prefix, longest first. Payloads
	// of one shape share their first bytes (`{"host":`), but not many
	// lengths, so a scan tries a few lengths at a position, not every form.
	lengths map[uint64][]int
	forms   map[uint64]struct{} // maphash of each form's bytes
	filter  []uint64            // bit filter over hash(prefix)
	seen    map[[2]uint64]struct{}
	hits    atomic.Int64
}

// New returns a Masker that knows no secret yet.
func New() *Masker {
	return &Masker{
		seed:     maphash.MakeSeed(),
		seenSeed: maphash.MakeSeed(),
		lengths:  map[uint64][]int{},
		forms:    map[uint64]struct{}{},
		filter:   make([]uint64, 1<<filterBits/64),
		seen:     map[[2]uint64]struct{}{},
	}
}

// Add registers a secret: its raw bytes and every encoded form of them.
// Values shorter than MinLength are ignored. A multi-line secret also
// registers each of its lines of at least MinLength, since output is masked
// line by line.
func (m *Masker) Add(secret []byte) {
	if len(secret) < MinLength {
		return
	}
	secrets := [][]byte{secret}
	if bytes.ContainsAny(secret, "\r\n") {
		for _, line := range bytes.FieldsFunc(secret, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if len(line) >= MinLength {
				secrets = append(secrets, line)
			}
		}
	}
	// The forms are computed before the lock is taken: encoding is most
	// of Add's work, and spec evaluation registers from every core. A
	// secret seen before (one env value in several payloads) is not
	// encoded again; addLocked checks again under the lock.
	forms := make([][]string, len(secrets))
	for i, s := range secrets {
		m.mu.RLock()
		_, seen := m.seen[m.id(s)]
		m.mu.RUnlock()
		if !seen {
			forms[i] = Forms(s)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range secrets {
		m.addLocked(s, forms[i])
	}
}

// id is secret's 128-bit identity in seen.
func (m *Masker) id(secret []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(m.seed, secret), maphash.Bytes(m.seenSeed, secret)}
}

func (m *Masker) addLocked(secret []byte, forms []string) {
	id := m.id(secret)
	if _, ok := m.seen[id]; ok || forms == nil {
		return
	}
	m.seen[id] = struct{}{}
	for _, p := range forms {
		if len(p) < MinLength {
			continue
		}
		// Both sets are idempotent, so a form whose hash another form has
		// still gets its length and prefix registered: a collision can
		// only mask more, never less.
		m.forms[maphash.String(m.seed, p)] = struct{}{}
		key := binary.LittleEndian.Uint64([]byte(p[:MinLength]))
		ls := m.lengths[key]
		// Longest first, so Mask takes the longest match at a position.
		at, found := slices.BinarySearchFunc(ls, len(p), func(l, n int) int { return n - l })
		if !found {
			m.lengths[key] = slices.Insert(ls, at, len(p))
		}
		h := hash(key)
		m.filter[h/64] |= 1 << (h % 64)
	}
}

func hash(key uint64) uint64 { return (key * 0x9E3779B97F4A7C15) >> (64 - filterBits) }

// Forms returns the encodings of secret that the Masker looks for: raw;
// JSON-escaped (with and without HTML escaping) and Go-quoted, without the
// quotes; base64 standard and URL-safe at each of the three alignments the
// secret can have inside a longer encoded value (the characters that depend
// on the secret alone, and the tail forms, padded and unpadded, for a
// secret that ends the value); hex in lower and upper case; URL query and
// path escaping; the Markdown, HTML, Mermaid, DOT and HCL escapings of the
// views and the installers (internal/escape). Duplicates are removed.
func Forms(secret []byte) []string {
	s := string(secret)
	forms := make([]string, 0, 32)
	forms = append(forms, s)
	// Letters, digits, '-' and '.' pass every text escaping unchanged:
	// generated passwords and host names skip nine encoders.
	if !plain(secret) {
		forms = append(forms, jsonEscaped(s, true), jsonEscaped(s, false))
		for _, q := range []string{strconv.Quote(s), strconv.QuoteToASCII(s)} {
			forms = append(forms, q[1:len(q)-1])
		}
		forms = append(forms, url.QueryEscape(s), url.PathEscape(s))
		// The escapings the views and the installers write text in; an
		// HCL string is its JSON form with template sequences doubled.
		hcl := escape.HCLString(s)
		forms = append(forms, escape.Markdown(s), escape.HTML(s), escape.Mermaid(s), escape.DOT(s), hcl[1:len(hcl)-1], escape.HCLHeredoc(s))
	}
	buf := make([]byte, 2+len(secret))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		raw := enc.WithPadding(base64.NoPadding)
		for k := 0; k < 3; k++ {
			b := buf[2-k:]
			clear(b[:k])
			copy(b[k:], secret)
			start := (8*k + 5) / 6            // first character with no prefix bit
			full := 8 * (k + len(secret)) / 6 // characters with no zero-fill bit
			unpadded := raw.EncodeToString(b)
			forms = append(forms, unpadded[start:full], unpadded[start:], enc.EncodeToString(b)[start:])
		}
	}
	h := hex.EncodeToString(secret)
	forms = append(forms, h, strings.ToUpper(h))
	// Few enough to compare pairwise; a map cost more than the encoders.
	out := forms[:0]
	for _, f := range forms {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// plain reports whether every byte of b is an ASCII letter, digit, '-' or
// '.', which no escaping of Forms changes.
func plain(b []byte) bool {
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// jsonEscaped is s as encoding/json writes it in a string, quotes removed.
func jsonEscaped(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(s) // a string always encodes
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return string(out[1 : len(out)-1])
}

// Mask returns a copy of b in which every occurrence of a registered form
// is replaced by Replacement, and the number of replacements. Overlapping or
// nested occurrences (two secrets sharing text, a secret inside its own
// encoding) merge into one replacement, so no fragment of either survives.
func (m *Masker) Mask(b []byte) ([]byte, int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.forms) == 0 || len(b) < MinLength {
		return bytes.Clone(b), 0
	}
	var out []byte
	copied, n := 0, 0          // b[:copied] is in out
	regStart, regEnd := -1, -1 // the occurrence being merged
	for i := 0; i+MinLength <= len(b); i++ {
		key := binary.LittleEndian.Uint64(b[i:])
		h := hash(key)
		if m.filter[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		end := -1
		for _, n := range m.lengths[key] {
			if n > len(b)-i {
				continue
			}
			if _, ok := m.forms[maphash.Bytes(m.seed, b[i:i+n])]; ok {
				end = i + n
				break // longest first
			}
		}
		if end < 0 {
			continue
		}
		if regStart >= 0 && i < regEnd {
			regEnd = max(regEnd, end)
			continue
		}
		if regStart >= 0 {
			out = append(append(out, b[copied:regStart]...), Replacement...)
			copied, n = regEnd, n+1
		}
		regStart, regEnd = i, end
	}
	if regStart < 0 {
		return bytes.Clone(b), 0
	}
	out = append(append(out, b[copied:regStart]...), Replacement...)
	out = append(out, b[regEnd:]...)
	n++
	m.hits.Add(int64(n))
	return out, n
}

// Hits is the number of replacements made so far, by Mask and by every
// Writer of m.
func (m *Masker) Hits() int { return int(m.hits.Load()) }

// Writer returns a masking writer in front of w. It buffers each line and
// writes it masked when it ends ('\n', or '\r' so that a terminal's status
// line still redraws); Flush writes a pending partial line. It is safe for
// concurrent use.
func (m *Masker) Writer(w io.Writer) *Writer { return &Writer{m: m, w: w} }

// Writer masks what is written to it line by line; see Masker.Writer.
type Writer struct {
	m   *Masker
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

// Write buffers p and writes out every line it completes, masked. It
// reports len(p) unless the underlying writer fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	end := bytes.LastIndexAny(w.buf, "\r\n")
	if end < 0 {
		return len(p), nil
	}
	// Complete lines go out together, in one Mask call: a secret spanning
	// them (a multi-line payload) is then found whole, not only by its lines.
	err := w.writeMasked(w.buf[:end+1])
	w.buf = append(w.buf[:0], w.buf[end+1:]...)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes the pending partial line, masked: before a prompt reads an
// answer, or at exit.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return nil
	}
	err := w.writeMasked(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *Writer) writeMasked(line []byte) error {
	masked, _ := w.m.Mask(line)
	_, err := w.w.Write(masked)
	return err
}
